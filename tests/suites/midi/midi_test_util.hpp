// Helpers for the MIDI tests: raw SMF bytes built by hand (independent of
// our writer), corpus file lists, and an independent reading through
// Debian's `midicsv`.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/midi/smf.hpp"

namespace wb::test::midi {

using Bytes = std::vector<uint8_t>;

inline void be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

inline Bytes vlq(uint32_t v) {
  Bytes tmp{static_cast<uint8_t>(v & 0x7F)};
  while ((v >>= 7) != 0) tmp.push_back(static_cast<uint8_t>(0x80 | (v & 0x7F)));
  return Bytes(tmp.rbegin(), tmp.rend());
}

inline Bytes header(uint16_t format, uint16_t ntracks, uint16_t division, uint32_t len = 6) {
  Bytes b{'M', 'T', 'h', 'd'};
  be32(b, len);
  for (uint16_t v : {format, ntracks, division}) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
  }
  return b;
}

// A track chunk around `body`; `claimed` overrides the length field.
inline Bytes track(const Bytes& body, int64_t claimed = -1) {
  Bytes b{'M', 'T', 'r', 'k'};
  be32(b, claimed < 0 ? static_cast<uint32_t>(body.size()) : static_cast<uint32_t>(claimed));
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

// Builds a track body: ev(delta, {bytes...}).
struct Body {
  Bytes b;
  Body& ev(uint32_t delta, std::initializer_list<uint8_t> bytes) {
    auto d = vlq(delta);
    b.insert(b.end(), d.begin(), d.end());
    b.insert(b.end(), bytes);
    return *this;
  }
  Body& end(uint32_t delta = 0) { return ev(delta, {0xFF, 0x2F, 0x00}); }
};

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline std::vector<std::string> corpus_files(const std::string& sub, size_t count) {
  auto dir = std::filesystem::path(WB_CORPORA_DIR) / "midi" / sub / "mid";
  INFO("corpus folder " << dir.string());
  REQUIRE(std::filesystem::is_directory(dir));
  std::vector<std::string> all;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".mid") all.push_back(e.path().string());
  std::sort(all.begin(), all.end());
  REQUIRE(all.size() >= count);
  // Spread the picks over the whole (sorted) list.
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) out.push_back(all[i * all.size() / count]);
  return out;
}

// One event as midicsv prints it, reduced to numbers: `kind` is the channel
// message kind (0x80..0xE0, with note-on velocity 0 kept as 0x90) or 0xFF51
// for a tempo. Pitch bend is one 14-bit value in `a`.
struct CsvEvent {
  int track;  // 0-based
  uint64_t tick;
  int kind, channel, a, b;
  bool operator==(const CsvEvent&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const CsvEvent& n) {
  return os << "{track " << n.track << " tick " << n.tick << " kind 0x" << std::hex << n.kind << std::dec << " ch "
            << n.channel << " " << n.a << " " << n.b << "}";
}

// Channel events and tempos as Debian's midicsv reports them.
inline std::vector<CsvEvent> midicsv_events(const std::string& path) {
  std::string cmd = "midicsv '" + path + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string text;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) text.append(buf.data(), n);
  int status = pclose(p);
  INFO("midicsv output: " << text.substr(0, 500));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::vector<CsvEvent> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string field;
    while (std::getline(ls, field, ',')) {
      size_t a = field.find_first_not_of(' ');
      f.push_back(a == std::string::npos ? "" : field.substr(a));
    }
    if (f.size() < 4) continue;
    auto num = [&](size_t i) { return i < f.size() ? std::stoi(f[i]) : 0; };
    CsvEvent e{std::stoi(f[0]) - 1, std::stoull(f[1]), 0, 0, 0, 0};
    const std::string& t = f[2];
    if (t == "Note_on_c") e = {e.track, e.tick, 0x90, num(3), num(4), num(5)};
    else if (t == "Note_off_c") e = {e.track, e.tick, 0x80, num(3), num(4), num(5)};
    else if (t == "Poly_aftertouch_c") e = {e.track, e.tick, 0xA0, num(3), num(4), num(5)};
    else if (t == "Control_c") e = {e.track, e.tick, 0xB0, num(3), num(4), num(5)};
    else if (t == "Program_c") e = {e.track, e.tick, 0xC0, num(3), num(4), 0};
    else if (t == "Channel_aftertouch_c") e = {e.track, e.tick, 0xD0, num(3), num(4), 0};
    else if (t == "Pitch_bend_c") e = {e.track, e.tick, 0xE0, num(3), num(4), 0};
    else if (t == "Tempo") e = {e.track, e.tick, 0xFF51, 0, num(3), 0};
    else continue;
    out.push_back(e);
  }
  return out;
}

// The same view of our own data.
inline std::vector<CsvEvent> our_events(const wb::midi::SmfFile& f) {
  std::vector<CsvEvent> out;
  for (size_t t = 0; t < f.tracks.size(); ++t)
    for (const auto& e : f.tracks[t].events) {
      int tr = static_cast<int>(t);
      if (e.is_channel()) {
        int k = e.kind();
        if (k == 0xE0) out.push_back({tr, e.tick, k, e.channel(), e.data1 | (e.data2 << 7), 0});
        else if (k == 0xC0 || k == 0xD0) out.push_back({tr, e.tick, k, e.channel(), e.data1, 0});
        else out.push_back({tr, e.tick, k, e.channel(), e.data1, e.data2});
      } else if (e.is_meta() && e.meta_type() == wb::midi::kMetaTempo && e.payload.size() == 3) {
        out.push_back({tr, e.tick, 0xFF51, 0, (e.payload[0] << 16) | (e.payload[1] << 8) | e.payload[2], 0});
      }
    }
  return out;
}

inline std::vector<CsvEvent> notes_only(std::vector<CsvEvent> v) {
  std::erase_if(v, [](const CsvEvent& e) { return e.kind != 0x80 && e.kind != 0x90; });
  return v;
}

}  // namespace wb::test::midi
