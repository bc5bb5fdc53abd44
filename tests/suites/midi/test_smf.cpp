// Standard MIDI File reader and writer: corpus files against midicsv, our
// files read back by midicsv, tempo map, and hostile input.
#include <chrono>
#include <fstream>
#include <set>

#include "core/midi/music_tokenizer.hpp"
#include "core/midi/smf.hpp"
#include "midi_test_util.hpp"
#include "support/fixtures.hpp"

using namespace wb::test::midi;
using wb::Errc;
using wb::midi::Event;
using wb::midi::parse_smf;
using wb::midi::SmfFile;

namespace {

void write_bytes(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  REQUIRE(out.good());
}

bool has_warning(const SmfFile& f, const std::string& needle) {
  for (const auto& w : f.warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("corpus files read like midicsv reads them (formats 0 and 1)", "[midi][smf]") {
  std::vector<std::string> files = corpus_files("nottingham", 6);
  for (auto& f : corpus_files("cre-irish-dance", 6)) files.push_back(f);
  std::set<int> formats;
  for (const auto& path : files) {
    INFO(path);
    auto f = wb::midi::read_smf_file(path);
    REQUIRE(f);
    CHECK(f->warnings.empty());
    formats.insert(f->format);
    auto ours = our_events(*f);
    auto theirs = midicsv_events(path);
    CHECK(notes_only(ours).size() > 20);  // a tune has tens of notes at least
    CHECK(ours.size() < 20000);
    REQUIRE(ours.size() == theirs.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      if (!(ours[i] == theirs[i])) {
        FAIL("event " << i << ": ours " << ours[i] << ", midicsv " << theirs[i]);
      }
    }
    wb::midi::TempoMap tempo(*f);
    double dur = tempo.seconds(f->end_tick());
    CHECK(dur > 5.0);
    CHECK(dur < 1200.0);
  }
  CHECK(formats.count(0) == 1);
  CHECK(formats.count(1) == 1);
}

TEST_CASE("files we write are read back identically by midicsv and by us", "[midi][smf]") {
  // Every channel message kind, tempos, multi-byte deltas, two tracks.
  SmfFile f;
  f.format = 1;
  f.ticks_per_quarter = 96;
  f.tracks.resize(2);
  auto& t0 = f.tracks[0].events;
  t0.push_back(Event::tempo(0, 400000));
  t0.push_back(Event::meta(0, wb::midi::kMetaTimeSignature, {6, 3, 24, 8}));
  t0.push_back(Event::tempo(384, 600000));
  auto& t1 = f.tracks[1].events;
  t1.push_back(Event::channel_msg(0, 0xC0, 3, 40));
  t1.push_back(Event::channel_msg(0, 0xB0, 3, 7, 100));
  uint64_t tick = 0;
  for (int i = 0; i < 40; ++i) {
    t1.push_back(Event::channel_msg(tick, 0x90, static_cast<uint8_t>(i % 3 == 0 ? 9 : 3), static_cast<uint8_t>(40 + i), static_cast<uint8_t>(1 + 3 * i)));
    tick += static_cast<uint64_t>(1 + (i * 37) % 200);  // includes multi-byte deltas
    t1.push_back(Event::channel_msg(tick, i % 2 ? 0x80 : 0x90, static_cast<uint8_t>(i % 3 == 0 ? 9 : 3), static_cast<uint8_t>(40 + i), 0));
  }
  t1.push_back(Event::channel_msg(tick + 100000, 0xE0, 3, 0x12, 0x40));  // a delta of 3 VLQ bytes
  t1.push_back(Event::channel_msg(tick + 100000, 0xA0, 3, 60, 33));
  t1.push_back(Event::channel_msg(tick + 100001, 0xD0, 3, 77));
  t1.push_back(Event::channel_msg(tick + 200000000, 0xB0, 15, 64, 0));  // 4-byte delta

  auto dir = wb::test::temp_dir("midi-write");
  auto path = (dir / "ours.mid").string();
  REQUIRE(wb::midi::write_smf_file(f, path));
  auto theirs = midicsv_events(path);
  auto ours = our_events(f);
  REQUIRE(theirs.size() == ours.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO("event " << i);
    CHECK(ours[i] == theirs[i]);
  }
  auto back = wb::midi::read_smf_file(path);
  REQUIRE(back);
  CHECK(back->warnings.empty());
  CHECK(back->format == 1);
  CHECK(back->ticks_per_quarter == 96);
  REQUIRE(back->tracks.size() == 2);
  // Same events, plus the end-of-track the writer adds.
  for (size_t t = 0; t < 2; ++t) {
    const auto& a = f.tracks[t].events;
    const auto& b = back->tracks[t].events;
    REQUIRE(b.size() == a.size() + 1);
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].tick == b[i].tick);
      CHECK(a[i].status == b[i].status);
      CHECK(a[i].data1 == b[i].data1);
      CHECK(a[i].data2 == b[i].data2);
      CHECK(a[i].payload == b[i].payload);
    }
    CHECK(b.back().is_meta());
    CHECK(b.back().meta_type() == wb::midi::kMetaEndOfTrack);
  }
}

TEST_CASE("tempo map turns ticks into seconds through tempo changes", "[midi][smf]") {
  // 480 tpq: 0.5 s per quarter, then at tick 960 0.25 s per quarter (track 2's change).
  auto t0 = Body().ev(0, {0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20}).end(2000).b;
  auto t1 = Body().ev(960, {0xFF, 0x51, 0x03, 0x03, 0xD0, 0x90}).ev(0, {0x90, 60, 100}).ev(480, {0x80, 60, 0}).end().b;
  auto f = parse_smf(cat({header(1, 2, 480), track(t0), track(t1)}), "tempo.mid");
  REQUIRE(f);
  wb::midi::TempoMap tm(*f);
  CHECK(tm.seconds(0) == Approx(0.0));
  CHECK(tm.seconds(480) == Approx(0.5));
  CHECK(tm.seconds(960) == Approx(1.0));
  CHECK(tm.seconds(1440) == Approx(1.25));
  CHECK(tm.seconds(2000) == Approx(1.0 + 1040 / 480.0 * 0.25));
}

TEST_CASE("running status, sysex and meta events are handled", "[midi][smf]") {
  auto body = Body()
                  .ev(0, {0xF0, 0x03, 0x43, 0x12, 0xF7})        // sysex, skipped
                  .ev(0, {0x90, 60, 100})
                  .ev(10, {62, 90})                             // running status
                  .ev(0, {0xFF, 0x01, 0x02, 'h', 'i'})          // meta keeps running status (as readers do)
                  .ev(10, {60, 0})
                  .ev(0, {0xC1, 5})
                  .ev(5, {6})                                   // running status, 1 data byte
                  .ev(0, {0xF7, 0x01, 0x00})                    // escape sysex, skipped
                  .end().b;
  auto f = parse_smf(cat({header(0, 1, 96), track(body)}), "rs.mid");
  REQUIRE(f);
  CHECK(f->warnings.empty());
  CHECK(f->skipped_sysex == 2);
  const auto& e = f->tracks[0].events;
  REQUIRE(e.size() == 7);
  CHECK(e[1].status == 0x90);
  CHECK(e[1].data1 == 62);
  CHECK(e[1].tick == 10);
  CHECK(e[3].status == 0x90);
  CHECK(e[3].data2 == 0);
  CHECK(e[5].status == 0xC1);
  CHECK(e[5].data1 == 6);
  CHECK(e[5].tick == 25);
}

TEST_CASE("hostile and broken files: clear errors or documented best effort", "[midi][smf][bad-input]") {
  auto good_body = Body().ev(0, {0x90, 60, 100}).ev(96, {0x80, 60, 0}).end().b;
  const Bytes good = cat({header(0, 1, 96), track(good_body)});
  REQUIRE(parse_smf(good, "good.mid"));

  SECTION("not a MIDI file / empty") {
    auto r = parse_smf(Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0}, "x.mid");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("x.mid") != std::string::npos);
    CHECK(r.error().message.find("MThd") != std::string::npos);
    CHECK_FALSE(parse_smf(Bytes{}, "empty.mid"));
  }
  SECTION("every truncation of a good file: error or a partial read, never a crash") {
    for (size_t n = 0; n < good.size(); ++n) {
      Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
      auto r = parse_smf(cut, "cut.mid");
      if (n < 22) {  // header and chunk head incomplete: no track chunk
        CHECK_FALSE(r);
      } else {
        REQUIRE(r);
        CHECK(!r->warnings.empty());
      }
    }
  }
  SECTION("track chunk length past the end of the file") {
    auto r = parse_smf(cat({header(0, 1, 96), track(good_body, 1000000)}), "long.mid");
    REQUIRE(r);
    CHECK(has_warning(*r, "runs past the end"));
    CHECK(r->tracks[0].events.size() == 3);
  }
  SECTION("track chunk length shorter than its events") {
    auto r = parse_smf(cat({header(0, 1, 96), track(good_body, 5)}), "short.mid");
    REQUIRE(r);
    CHECK(has_warning(*r, "cut off"));
    CHECK(r->tracks[0].events.size() == 1);
  }
  SECTION("header length field too small or too large") {
    CHECK_FALSE(parse_smf(cat({header(0, 1, 96, 2), track(good_body)}), "h.mid"));
    CHECK_FALSE(parse_smf(cat({header(0, 1, 96, 0xFFFFFFF0u), track(good_body)}), "h.mid"));
    auto longer = parse_smf(cat({header(0, 1, 96, 8), Bytes{0, 0}, track(good_body)}), "h8.mid");
    REQUIRE(longer);  // extra header bytes are allowed and skipped
    CHECK(longer->tracks[0].events.size() == 3);
  }
  SECTION("absurd delta times") {
    // Largest legal delta (0x0FFFFFFF) is read; a 5-byte number is an error.
    auto big = Body().ev(0x0FFFFFFF, {0x90, 60, 100}).ev(0x0FFFFFFF, {0x80, 60, 0}).end().b;
    auto r = parse_smf(cat({header(0, 1, 96), track(big)}), "big.mid");
    REQUIRE(r);
    CHECK(r->end_tick() == 2ull * 0x0FFFFFFF);
    Bytes five = {0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 100};
    auto bad = parse_smf(cat({header(0, 1, 96), track(five)}), "five.mid");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("five.mid") != std::string::npos);
    CHECK(bad.error().message.find("longer than 4 bytes") != std::string::npos);
  }
  SECTION("running status without a status byte") {
    Bytes body = {0x00, 60, 100, 0x00, 0xFF, 0x2F, 0x00};
    auto r = parse_smf(cat({header(0, 1, 96), track(body)}), "rs.mid");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::format);
    CHECK(r.error().message.find("rs.mid: track 0 at byte 0x17") != std::string::npos);
    CHECK(r.error().message.find("running status") != std::string::npos);
  }
  SECTION("channel data byte with the high bit set") {
    Bytes body = {0x00, 0x90, 60, 0xC8, 0x00, 0xFF, 0x2F, 0x00};
    CHECK_FALSE(parse_smf(cat({header(0, 1, 96), track(body)}), "d.mid"));
  }
  SECTION("zero tracks") {
    auto r = parse_smf(header(1, 0, 96), "zero.mid");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("no track chunk") != std::string::npos);
  }
  SECTION("header claiming 10,000 tracks with two present: those present are read") {
    auto r = parse_smf(cat({header(1, 10000, 96), track(good_body), track(good_body)}), "many.mid");
    REQUIRE(r);
    CHECK(r->tracks.size() == 2);
    CHECK(has_warning(*r, "claims 10000 tracks"));
  }
  SECTION("10,000 real tracks: read quickly, and refused above the limit") {
    Bytes b = header(1, 10000, 96);
    for (int i = 0; i < 10000; ++i) {
      auto t = track(good_body);
      b.insert(b.end(), t.begin(), t.end());
    }
    auto start = std::chrono::steady_clock::now();
    auto r = parse_smf(b, "tenk.mid");
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(r);
    CHECK(r->tracks.size() == 10000);
    CHECK(s < 2.0);
    wb::midi::ReadLimits lim;
    lim.max_tracks = 100;
    auto refused = parse_smf(b, "tenk.mid", lim);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == Errc::limit);
  }
  SECTION("event and size limits") {
    wb::midi::ReadLimits lim;
    lim.max_events = 2;
    auto r = parse_smf(good, "ev.mid", lim);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::limit);
    lim = {};
    lim.max_file_bytes = 10;
    CHECK_FALSE(parse_smf(good, "size.mid", lim));
  }
  SECTION("meta length past its chunk, format 3, division 0, bad SMPTE") {
    Bytes body = {0x00, 0xFF, 0x01, 0x8F, 0xFF, 0xFF, 0x7F, 'x'};
    auto r = parse_smf(cat({header(0, 1, 96), track(body)}), "meta.mid");
    REQUIRE(r);
    CHECK(r->tracks[0].events.empty());
    CHECK(has_warning(*r, "cut off"));
    CHECK_FALSE(parse_smf(cat({header(3, 1, 96), track(good_body)}), "f3.mid"));
    CHECK_FALSE(parse_smf(cat({header(0, 1, 0), track(good_body)}), "div0.mid"));
    CHECK_FALSE(parse_smf(cat({header(0, 1, 0x8501), track(good_body)}), "smpte.mid"));
    auto smpte = parse_smf(cat({header(0, 1, 0xE728), track(good_body)}), "smpte25.mid");  // 25 fps, 40 ticks
    REQUIRE(smpte);
    CHECK(wb::midi::TempoMap(*smpte).seconds(96) == Approx(96.0 / 1000.0));
  }
  SECTION("unknown chunks are skipped, junk after the tracks is ignored") {
    Bytes alien = {'X', 'F', 'I', 'H', 0, 0, 0, 3, 1, 2, 3};
    Bytes junk = {0x00, 0x01, 0x02};
    auto r = parse_smf(cat({header(1, 1, 96), alien, track(good_body), junk}), "alien.mid");
    REQUIRE(r);
    CHECK(r->tracks.size() == 1);
    CHECK(has_warning(*r, "unknown chunk 'XFIH'"));
  }
  SECTION("RIFF RMID wrapper") {
    Bytes riff = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'R', 'M', 'I', 'D', 'd', 'a', 't', 'a'};
    uint32_t n = static_cast<uint32_t>(good.size());
    for (int i = 0; i < 4; ++i) riff.push_back(static_cast<uint8_t>(n >> (8 * i)));
    riff.insert(riff.end(), good.begin(), good.end());
    auto r = parse_smf(riff, "rmid.mid");
    REQUIRE(r);
    CHECK(r->tracks[0].events.size() == 3);
    Bytes no_data = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'R', 'M', 'I', 'D', 'L', 'I', 'S', 'T', 0xFF, 0xFF, 0, 0};
    CHECK_FALSE(parse_smf(no_data, "rmid.mid"));
    Bytes nested = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'R', 'M', 'I', 'D', 'd', 'a', 't', 'a', 0xFF, 0xFF, 0, 0};
    for (int i = 0; i < 1000; ++i) nested.insert(nested.end(), riff.begin(), riff.begin() + 20);
    auto deep = parse_smf(nested, "nested.mid");
    REQUIRE_FALSE(deep);
    CHECK(deep.error().message.find("nested") != std::string::npos);
  }
  SECTION("a missing file names the path") {
    auto r = wb::midi::read_smf_file("/nonexistent/dir/none.mid");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::io);
    CHECK(r.error().message.find("none.mid") != std::string::npos);
  }
  SECTION("written then read: files on disk behave the same") {
    auto dir = wb::test::temp_dir("midi-bad");
    write_bytes(dir / "rs.mid", cat({header(0, 1, 96), track(Bytes{0x00, 60, 100})}));
    auto r = wb::midi::read_smf_file((dir / "rs.mid").string());
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("rs.mid") != std::string::npos);
  }
}

TEST_CASE("MIDI made from tokens is read back identically by midicsv", "[midi][smf]") {
  wb::midi::MusicVocab v;
  auto ids = v.parse("<start> p:24:a pi:3c:7 b:28:5 t125 t3 pi:3c:0 v:40:b t77 v:40:0 t125 t125 b:28:0 p:24:0 <end>");
  REQUIRE(ids);
  auto f = wb::midi::tokens_to_midi(*ids, v);
  REQUIRE(f);
  auto dir = wb::test::temp_dir("midi-write-tokens");
  auto path = (dir / "tokens.mid").string();
  REQUIRE(wb::midi::write_smf_file(*f, path));
  auto ours = our_events(*f);
  auto theirs = midicsv_events(path);
  CHECK(ours.size() == 1 + 13 + 8);  // tempo, program changes, 4 notes on and off
  REQUIRE(theirs.size() == ours.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO("event " << i);
    CHECK(ours[i] == theirs[i]);
  }
}
