// Fuzz target for music token text, the form a MIDI story's text takes: the
// "midi" tokenizer, canonical text, tokens -> MIDI, and the wb.midi/1 calls
// that parse text a plugin hands the host (normalize, notes, seconds).
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/midi/music_text.hpp"
#include "core/midi/music_tokenizer.hpp"
#include "host/midi_service.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const auto tok = wb::midi::make_music_tokenizer();
  static const wb::midi::MusicVocab vocab;
  auto ids = tok->encode(text);
  if (ids) {
    std::vector<int> v(ids->begin(), ids->end());
    std::string canon = wb::midi::music_text(vocab, v);
    auto again = tok->encode(canon);
    if (!again || *again != *ids) __builtin_trap();  // canonical text must round-trip
    auto smf = wb::midi::tokens_to_midi(v, vocab);
    if (smf) (void)wb::midi::note_spans(*smf);
  }
  static wb::Log log;
  static wb::host::HostServices services(log, {}, {});
  static auto ctx = wb::host::make_host_context(services, "org.fuzz.midi", true);
  const wb_host* host = &ctx->table;
  const wb_host_midi& m = wb::host::midi_table();
  char buf[256];
  size_t len = 0, n = 0;
  double s = 0;
  wb_midi_note notes[64];
  (void)m.normalize_text(host, text.data(), text.size(), buf, sizeof buf, &len);
  (void)m.text_notes(host, text.data(), text.size(), notes, 64, &n);
  (void)m.text_seconds(host, text.data(), text.size(), &s);
  return 0;
}
