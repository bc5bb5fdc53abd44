#include "core/midi/smf.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace wb::midi {

Event Event::channel_msg(uint64_t tick, uint8_t kind, uint8_t channel, uint8_t d1, uint8_t d2) {
  Event e;
  e.tick = tick;
  e.status = static_cast<uint8_t>((kind & 0xF0) | (channel & 0x0F));
  e.data1 = d1 & 0x7F;
  e.data2 = d2 & 0x7F;
  return e;
}

Event Event::meta(uint64_t tick, uint8_t type, std::vector<uint8_t> data) {
  Event e;
  e.tick = tick;
  e.status = 0xFF;
  e.data1 = type;
  e.payload = std::move(data);
  return e;
}

Event Event::tempo(uint64_t tick, uint32_t us) {
  return meta(tick, kMetaTempo,
              {static_cast<uint8_t>(us >> 16), static_cast<uint8_t>(us >> 8), static_cast<uint8_t>(us)});
}

uint64_t SmfFile::end_tick() const {
  uint64_t t = 0;
  for (const auto& tr : tracks)
    if (!tr.events.empty()) t = std::max(t, tr.events.back().tick);
  return t;
}

size_t SmfFile::event_count() const {
  size_t n = 0;
  for (const auto& tr : tracks) n += tr.events.size();
  return n;
}

namespace {

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// Data bytes each channel message kind carries.
int channel_data_len(uint8_t status) {
  uint8_t k = status & 0xF0;
  return (k == 0xC0 || k == 0xD0) ? 1 : 2;
}

// Data bytes after a system common / real-time status (F1..FE, not F0/F7/FF).
int system_data_len(uint8_t status) {
  switch (status) {
    case 0xF1: case 0xF3: return 1;
    case 0xF2: return 2;
    default: return 0;
  }
}

class TrackParser {
 public:
  TrackParser(std::span<const uint8_t> data, size_t file_offset, size_t track_index,
              const std::string& name, const ReadLimits& limits, SmfFile& out, size_t& total_events)
      : d_(data), base_(file_offset), track_(track_index), name_(name), limits_(limits),
        out_(out), total_(total_events) {}

  Result<Track> parse() {
    Track tr;
    uint64_t tick = 0;
    int running = -1;  // last channel status, kept across meta/sysex like most readers
    bool ended = false;
    while (pos_ < d_.size() && !ended) {
      size_t ev_start = pos_;
      uint32_t delta = 0;
      auto vr = read_vlq(delta);
      if (!vr) return vr.take_error();
      if (!*vr) return truncated(tr, ev_start);
      tick += delta;
      if (pos_ >= d_.size()) return truncated(tr, ev_start);
      uint8_t b = d_[pos_];
      Event ev;
      ev.tick = tick;
      if (b < 0x80) {
        if (running < 0)
          return fault(pos_, "data byte 0x{:02x} where a status byte is needed (running status with no earlier status)", b);
        ev.status = static_cast<uint8_t>(running);
      } else {
        ++pos_;
        ev.status = b;
      }
      if (ev.status < 0xF0) {
        running = ev.status;
        int n = channel_data_len(ev.status);
        if (pos_ + n > d_.size()) return truncated(tr, ev_start);
        for (int i = 0; i < n; ++i) {
          uint8_t v = d_[pos_ + i];
          if (v >= 0x80) return fault(pos_ + i, "channel data byte 0x{:02x} is >= 0x80", v);
        }
        ev.data1 = d_[pos_];
        ev.data2 = n == 2 ? d_[pos_ + 1] : 0;
        pos_ += n;
      } else if (ev.status == 0xFF) {
        if (pos_ >= d_.size()) return truncated(tr, ev_start);
        ev.data1 = d_[pos_++];
        uint32_t len = 0;
        auto lr = read_vlq(len);
        if (!lr) return lr.take_error();
        if (!*lr || len > d_.size() - pos_) return truncated(tr, ev_start);
        if (len > limits_.max_meta_bytes)
          return make_error(Errc::limit, "{}: track {} at byte 0x{:x}: meta event of {} bytes exceeds the limit of {}",
                            name_, track_, base_ + ev_start, len, limits_.max_meta_bytes);
        ev.payload.assign(d_.begin() + pos_, d_.begin() + pos_ + len);
        pos_ += len;
        if (ev.data1 == kMetaEndOfTrack) ended = true;
      } else if (ev.status == 0xF0 || ev.status == 0xF7) {
        uint32_t len = 0;
        auto lr = read_vlq(len);
        if (!lr) return lr.take_error();
        if (!*lr || len > d_.size() - pos_) return truncated(tr, ev_start);
        pos_ += len;
        ++out_.skipped_sysex;
        continue;
      } else {
        // System common / real-time bytes do not belong in a file; skip them
        // with their data so the rest of the track still reads.
        int n = system_data_len(ev.status);
        if (pos_ + n > d_.size()) return truncated(tr, ev_start);
        pos_ += n;
        ++out_.skipped_sysex;
        continue;
      }
      if (++total_ > limits_.max_events)
        return make_error(Errc::limit, "{}: more than {} events (limit)", name_, limits_.max_events);
      tr.events.push_back(std::move(ev));
    }
    if (!ended) out_.warnings.push_back(fmt::format("track {}: no end-of-track event", track_));
    else if (pos_ < d_.size())
      out_.warnings.push_back(fmt::format("track {}: {} bytes after end-of-track ignored", track_, d_.size() - pos_));
    return tr;
  }

 private:
  // Reads a variable-length quantity. ok(false) = ran out of data.
  Result<bool> read_vlq(uint32_t& v) {
    v = 0;
    for (int i = 0; i < 4; ++i) {
      if (pos_ >= d_.size()) return false;
      uint8_t b = d_[pos_++];
      v = (v << 7) | (b & 0x7F);
      if (!(b & 0x80)) return true;
    }
    return fault(pos_ - 4, "variable-length number longer than 4 bytes");
  }

  Result<Track> truncated(Track& tr, size_t ev_start) {
    out_.warnings.push_back(fmt::format("track {}: event at byte 0x{:x} cut off by the end of the chunk; dropped",
                                        track_, base_ + ev_start));
    pos_ = d_.size();
    return std::move(tr);
  }

  template <class... A>
  Error fault(size_t at, fmt::format_string<A...> f, A&&... a) {
    return make_error(Errc::format, "{}: track {} at byte 0x{:x}: {}", name_, track_, base_ + at,
                      fmt::format(f, std::forward<A>(a)...));
  }

  std::span<const uint8_t> d_;
  size_t base_;
  size_t track_;
  const std::string& name_;
  const ReadLimits& limits_;
  SmfFile& out_;
  size_t& total_;
  size_t pos_ = 0;
};

}  // namespace

Result<SmfFile> parse_smf(std::span<const uint8_t> bytes, const std::string& name, const ReadLimits& limits) {
  if (bytes.size() > limits.max_file_bytes)
    return make_error(Errc::limit, "{}: {} bytes is over the {} byte limit for a MIDI file", name, bytes.size(),
                      limits.max_file_bytes);
  // RIFF "RMID" files wrap an SMF in a "data" chunk; unwrap and read that.
  if (bytes.size() >= 12 && std::memcmp(bytes.data(), "RIFF", 4) == 0 && std::memcmp(bytes.data() + 8, "RMID", 4) == 0) {
    size_t pos = 12;
    while (pos + 8 <= bytes.size()) {
      uint32_t len = uint32_t(bytes[pos + 4]) | uint32_t(bytes[pos + 5]) << 8 | uint32_t(bytes[pos + 6]) << 16 |
                     uint32_t(bytes[pos + 7]) << 24;
      size_t avail = bytes.size() - pos - 8;
      if (std::memcmp(bytes.data() + pos, "data", 4) == 0) {
        auto inner = bytes.subspan(pos + 8, std::min<size_t>(len, avail));
        // One level only: a nested wrapper would let a file recurse without bound.
        if (inner.size() >= 4 && std::memcmp(inner.data(), "RIFF", 4) == 0)
          return make_error(Errc::format, "{}: nested RIFF wrapper", name);
        return parse_smf(inner, name, limits);
      }
      if (len > avail) break;
      pos += 8 + len + (len & 1);
    }
    return make_error(Errc::format, "{}: RIFF RMID file without a data chunk", name);
  }
  if (bytes.size() < 14 || std::memcmp(bytes.data(), "MThd", 4) != 0)
    return make_error(Errc::format, "{}: not a Standard MIDI File (no MThd header)", name);
  uint32_t hlen = be32(bytes.data() + 4);
  if (hlen < 6) return make_error(Errc::format, "{}: MThd length {} is shorter than 6", name, hlen);
  if (hlen > bytes.size() - 8)
    return make_error(Errc::format, "{}: MThd length {} runs past the end of the file", name, hlen);
  SmfFile f;
  f.format = be16(bytes.data() + 8);
  uint16_t ntracks = be16(bytes.data() + 10);
  uint16_t division = be16(bytes.data() + 12);
  if (f.format > 2) return make_error(Errc::unsupported, "{}: SMF format {} (only 0, 1 and 2 exist)", name, f.format);
  if (division & 0x8000) {
    int fps = -static_cast<int8_t>(division >> 8);
    int tpf = division & 0xFF;
    if ((fps != 24 && fps != 25 && fps != 29 && fps != 30) || tpf == 0)
      return make_error(Errc::format, "{}: invalid SMPTE division 0x{:04x}", name, division);
    f.ticks_per_quarter = 0;
    f.smpte_division = division;
  } else {
    if (division == 0) return make_error(Errc::format, "{}: division of 0 ticks per quarter note", name);
    f.ticks_per_quarter = division;
  }
  if (f.format == 2) f.warnings.push_back("format 2 (independent sequences) is read as if format 1");

  size_t pos = 8 + hlen;
  size_t total_events = 0;
  while (pos + 8 <= bytes.size()) {
    const uint8_t* h = bytes.data() + pos;
    uint32_t clen = be32(h + 4);
    size_t body = pos + 8;
    size_t avail = bytes.size() - body;
    bool is_track = std::memcmp(h, "MTrk", 4) == 0;
    if (!is_track) {
      // Unknown chunks are skipped; junk that is not a chunk at all ends the read.
      bool printable = std::all_of(h, h + 4, [](uint8_t c) { return c >= 0x20 && c < 0x7F; });
      if (!printable || clen > avail) {
        f.warnings.push_back(fmt::format("{} bytes of non-chunk data at byte 0x{:x} ignored", bytes.size() - pos, pos));
        break;
      }
      f.warnings.push_back(fmt::format("unknown chunk '{}' at byte 0x{:x} skipped", std::string(h, h + 4), pos));
      pos = body + clen;
      continue;
    }
    if (f.tracks.size() >= limits.max_tracks)
      return make_error(Errc::limit, "{}: more than {} tracks (limit)", name, limits.max_tracks);
    size_t len = clen;
    if (clen > avail) {
      f.warnings.push_back(fmt::format("track {}: chunk length {} runs past the end of the file; read the {} bytes present",
                                       f.tracks.size(), clen, avail));
      len = avail;
    }
    TrackParser tp(bytes.subspan(body, len), body, f.tracks.size(), name, limits, f, total_events);
    WB_TRY(track, tp.parse());
    f.tracks.push_back(std::move(track));
    pos = body + len;
  }
  if (f.tracks.empty()) return make_error(Errc::format, "{}: no track chunk (header claims {})", name, ntracks);
  if (f.tracks.size() != ntracks)
    f.warnings.push_back(fmt::format("header claims {} tracks, file has {}; read those present", ntracks, f.tracks.size()));
  if (f.format == 0 && f.tracks.size() != 1)
    f.warnings.push_back(fmt::format("format 0 file with {} tracks; all are read", f.tracks.size()));
  return f;
}

Result<SmfFile> read_smf_file(const std::string& path, const ReadLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, "{}: cannot open", path);
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::streamoff>(in.tellg());
  if (size < 0) return make_error(Errc::io, "{}: cannot read", path);
  if (static_cast<uint64_t>(size) > limits.max_file_bytes)
    return make_error(Errc::limit, "{}: {} bytes is over the {} byte limit for a MIDI file", path, size,
                      limits.max_file_bytes);
  in.seekg(0);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    return make_error(Errc::io, "{}: read failed", path);
  return parse_smf(bytes, path, limits);
}

namespace {

void put_vlq(std::vector<uint8_t>& out, uint64_t v) {
  uint8_t tmp[5];
  int n = 0;
  tmp[n++] = v & 0x7F;
  while ((v >>= 7) != 0) tmp[n++] = static_cast<uint8_t>(0x80 | (v & 0x7F));
  while (n > 0) out.push_back(tmp[--n]);
}

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

}  // namespace

Result<std::vector<uint8_t>> serialize_smf(const SmfFile& file) {
  if (file.format > 2) return make_error(Errc::invalid_argument, "cannot write SMF format {}", file.format);
  if (file.tracks.empty()) return make_error(Errc::invalid_argument, "cannot write a MIDI file with no tracks");
  if (file.format == 0 && file.tracks.size() != 1)
    return make_error(Errc::invalid_argument, "format 0 needs exactly one track, have {}", file.tracks.size());
  if (file.tracks.size() > 65535)
    return make_error(Errc::invalid_argument, "{} tracks do not fit a MIDI header", file.tracks.size());
  uint16_t division = file.ticks_per_quarter ? file.ticks_per_quarter : file.smpte_division;
  if (division == 0) return make_error(Errc::invalid_argument, "cannot write a division of 0");
  std::vector<uint8_t> out = {'M', 'T', 'h', 'd', 0, 0, 0, 6};
  auto put16 = [&](uint16_t v) { out.push_back(static_cast<uint8_t>(v >> 8)); out.push_back(static_cast<uint8_t>(v)); };
  put16(file.format);
  put16(static_cast<uint16_t>(file.tracks.size()));
  put16(division);
  for (size_t ti = 0; ti < file.tracks.size(); ++ti) {
    const auto& tr = file.tracks[ti];
    std::vector<uint8_t> body;
    uint64_t prev = 0;
    bool ended = false;
    for (const auto& e : tr.events) {
      if (ended) break;  // nothing may follow end-of-track
      if (e.tick < prev)
        return make_error(Errc::invalid_argument, "track {}: events out of tick order ({} after {})", ti, e.tick, prev);
      uint64_t delta = e.tick - prev;
      if (delta > 0x0FFFFFFF)
        return make_error(Errc::invalid_argument, "track {}: delta time {} exceeds the SMF maximum", ti, delta);
      if (e.is_channel()) {
        put_vlq(body, delta);
        body.push_back(e.status);
        body.push_back(e.data1 & 0x7F);
        if (channel_data_len(e.status) == 2) body.push_back(e.data2 & 0x7F);
      } else if (e.is_meta()) {
        put_vlq(body, delta);
        body.push_back(0xFF);
        body.push_back(e.data1);
        put_vlq(body, e.payload.size());
        body.insert(body.end(), e.payload.begin(), e.payload.end());
        if (e.data1 == kMetaEndOfTrack) ended = true;
      } else {
        continue;  // nothing else is stored
      }
      prev = e.tick;
    }
    if (!ended) {
      put_vlq(body, 0);
      body.insert(body.end(), {0xFF, kMetaEndOfTrack, 0x00});
    }
    if (body.size() > 0xFFFFFFFFu) return make_error(Errc::limit, "track {} is too large for a chunk", ti);
    out.insert(out.end(), {'M', 'T', 'r', 'k'});
    put_be32(out, static_cast<uint32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

Status write_smf_file(const SmfFile& file, const std::string& path) {
  auto bytes = serialize_smf(file);
  if (!bytes) return make_error(Errc::invalid_argument, "{}: {}", path, bytes.error().message);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(Errc::io, "{}: cannot open for writing", path);
  out.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
  if (!out) return make_error(Errc::io, "{}: write failed", path);
  return {};
}

TempoMap::TempoMap(const SmfFile& file) {
  if (file.ticks_per_quarter == 0) {
    int fps = -static_cast<int8_t>(file.smpte_division >> 8);
    int tpf = file.smpte_division & 0xFF;
    double frames = fps == 29 ? 29.97 : fps;
    segments_.push_back({0, 0.0, 1.0 / (frames * std::max(tpf, 1))});
    return;
  }
  const double tpq = file.ticks_per_quarter;
  std::vector<std::pair<uint64_t, uint32_t>> changes;
  for (const auto& tr : file.tracks)
    for (const auto& e : tr.events)
      if (e.is_meta() && e.meta_type() == kMetaTempo && e.payload.size() >= 3) {
        uint32_t us = (uint32_t(e.payload[0]) << 16) | (uint32_t(e.payload[1]) << 8) | e.payload[2];
        if (us == 0) continue;  // a zero tempo would stop time; ignore it
        changes.emplace_back(e.tick, us);
      }
  // Same tick: the later one (in track order) wins, as in a merged playback.
  std::stable_sort(changes.begin(), changes.end(), [](auto& a, auto& b) { return a.first < b.first; });
  segments_.push_back({0, 0.0, 500000.0 / 1e6 / tpq});
  for (auto [tick, us] : changes) {
    Segment& last = segments_.back();
    double spt = us / 1e6 / tpq;
    if (tick == last.tick) {
      last.sec_per_tick = spt;
      continue;
    }
    double s = last.seconds + static_cast<double>(tick - last.tick) * last.sec_per_tick;
    segments_.push_back({tick, s, spt});
  }
}

double TempoMap::seconds(uint64_t tick) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), tick,
                             [](uint64_t t, const Segment& s) { return t < s.tick; });
  const Segment& s = *(it - 1);  // segments_[0].tick == 0 <= tick
  return s.seconds + static_cast<double>(tick - s.tick) * s.sec_per_tick;
}

std::vector<MergedEvent> merge_tracks(const SmfFile& file) {
  std::vector<MergedEvent> all;
  all.reserve(file.event_count());
  for (uint32_t t = 0; t < file.tracks.size(); ++t)
    for (const auto& e : file.tracks[t].events) all.push_back({&e, t});
  std::stable_sort(all.begin(), all.end(),
                   [](const MergedEvent& a, const MergedEvent& b) { return a.event->tick < b.event->tick; });
  return all;
}

}  // namespace wb::midi
