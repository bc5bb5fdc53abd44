// Standard MIDI File (SMF) reading and writing, and the tempo map that turns
// ticks into seconds.
//
//   WB_TRY(file, wb::midi::read_smf_file("song.mid"));       // formats 0, 1 (2 best effort)
//   for (const auto& w : file.warnings) log.warn("{}", w);   // best-effort repairs
//   wb::midi::TempoMap tempo(file);
//   double end_s = tempo.seconds(file.end_tick());
//   WB_CHECK(wb::midi::write_smf_file(file, "copy.mid"));
//
// Events are stored with ABSOLUTE ticks, per track, in file order. Channel
// messages and meta events are kept; system-exclusive and stray system
// messages are skipped (counted in `skipped_sysex`). Hostile input never
// crashes or allocates without bound; see ReadLimits and the comment on
// parse_smf for what is an error and what is repaired with a warning.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace wb::midi {

// Meta event types the rest of the code cares about.
enum MetaType : uint8_t {
  kMetaText = 0x01,
  kMetaTrackName = 0x03,
  kMetaEndOfTrack = 0x2F,
  kMetaTempo = 0x51,
  kMetaTimeSignature = 0x58,
};

struct Event {
  uint64_t tick = 0;     // absolute, in the file's division
  uint8_t status = 0;    // 0x80..0xEF channel message (with channel), 0xFF meta
  uint8_t data1 = 0;     // channel message: first data byte; meta: the meta type
  uint8_t data2 = 0;     // channel message: second data byte (0 if none)
  std::vector<uint8_t> payload;  // meta only: its data bytes

  bool is_meta() const { return status == 0xFF; }
  bool is_channel() const { return status >= 0x80 && status < 0xF0; }
  uint8_t kind() const { return status & 0xF0; }     // 0x90 = note on, ...
  uint8_t channel() const { return status & 0x0F; }
  uint8_t meta_type() const { return data1; }

  static Event channel_msg(uint64_t tick, uint8_t kind, uint8_t channel, uint8_t d1, uint8_t d2 = 0);
  static Event meta(uint64_t tick, uint8_t type, std::vector<uint8_t> data);
  static Event tempo(uint64_t tick, uint32_t us_per_quarter);
};

struct Track {
  std::vector<Event> events;  // ascending ticks
};

struct SmfFile {
  uint16_t format = 1;
  // Positive: ticks per quarter note. Negative SMPTE divisions are kept as
  // the raw 16-bit header word in `smpte_division` with `ticks_per_quarter`=0.
  uint16_t ticks_per_quarter = 480;
  uint16_t smpte_division = 0;
  std::vector<Track> tracks;
  std::vector<std::string> warnings;  // best-effort repairs made while reading
  uint64_t skipped_sysex = 0;         // sysex / system messages dropped

  uint64_t end_tick() const;     // largest tick of any event
  size_t event_count() const;
};

// Bounds against hostile files. Breaking one is an Errc::limit error.
struct ReadLimits {
  size_t max_file_bytes = 64u << 20;
  size_t max_tracks = 65535;          // the header field's own range
  size_t max_events = 4u << 20;       // all tracks together
  size_t max_meta_bytes = 1u << 20;   // one meta payload kept in memory
};

// Parses SMF bytes. `name` is used in messages ("song.mid: track 2 at byte
// 0x1a3: ..."). Errors: not an SMF (no MThd), header shorter than 6 bytes,
// format > 2, division 0, no track chunk, a data byte where a status byte is
// needed with no running status, a variable-length number over 4 bytes, a
// channel data byte >= 0x80, limits. Best effort with a warning: a header that
// claims more (or fewer) tracks than there are chunks (the chunks present
// are read), a track chunk longer than the file (read to the end), an event
// cut off by the end of its chunk (dropped), a missing end-of-track. Unknown
// chunk types are skipped as the standard says. A RIFF "RMID" wrapper is
// unwrapped.
Result<SmfFile> parse_smf(std::span<const uint8_t> bytes, const std::string& name,
                          const ReadLimits& limits = {});
Result<SmfFile> read_smf_file(const std::string& path, const ReadLimits& limits = {});

// Serialises with running status off, meta events as stored, an end-of-track
// added where a track lacks one. Format 0 requires exactly one track.
Result<std::vector<uint8_t>> serialize_smf(const SmfFile& file);
Status write_smf_file(const SmfFile& file, const std::string& path);

// Tick -> seconds through every tempo change in the file (all tracks, as
// players do for formats 0 and 1). SMPTE divisions use a fixed tick length.
class TempoMap {
 public:
  explicit TempoMap(const SmfFile& file);
  double seconds(uint64_t tick) const;

 private:
  struct Segment {
    uint64_t tick;
    double seconds;       // time at `tick`
    double sec_per_tick;  // from `tick` on
  };
  std::vector<Segment> segments_;
};

// All events of all tracks in one list ordered by tick; equal ticks keep
// track order, then file order (what mido.merge_tracks does).
struct MergedEvent {
  const Event* event;
  uint32_t track;
};
std::vector<MergedEvent> merge_tracks(const SmfFile& file);

}  // namespace wb::midi
