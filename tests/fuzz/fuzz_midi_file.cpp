// Fuzz target for the Standard MIDI File reader, and for everything that
// consumes a file it accepts: tempo map, note spans, tokenizer, writer.
#include <cstdint>
#include <span>

#include "core/midi/music_tokenizer.hpp"
#include "core/midi/smf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wb::midi::ReadLimits limits;
  limits.max_events = 1u << 16;  // keep each run fast; the limit path is exercised too
  auto f = wb::midi::parse_smf(std::span<const uint8_t>(data, size), "fuzz.mid", limits);
  if (!f) return 0;
  wb::midi::TempoMap tempo(*f);
  (void)tempo.seconds(f->end_tick());
  (void)wb::midi::note_spans(*f);
  static const wb::midi::MusicVocab vocab;
  auto ids = wb::midi::midi_to_tokens(*f, vocab);
  if (ids) {
    auto back = wb::midi::tokens_to_midi(*ids, vocab);
    if (back) (void)wb::midi::serialize_smf(*back);
  }
  (void)wb::midi::serialize_smf(*f);
  return 0;
}
