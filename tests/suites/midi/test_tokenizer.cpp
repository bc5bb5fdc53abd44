// MIDI <-> music tokens: the reference's rules on small hand-built files, and
// onset accuracy of MIDI -> tokens -> MIDI on corpus files.
#include <cmath>
#include <map>

#include "core/midi/music_tokenizer.hpp"
#include "midi_test_util.hpp"
#include "support/fixtures.hpp"

using namespace wb::test::midi;
using wb::midi::MusicVocab;
using wb::midi::SmfFile;

namespace {

// 500 ticks per quarter at the default 120 bpm: one tick is exactly 1 ms.
SmfFile file_of(const Body& body) {
  auto f = wb::midi::parse_smf(cat({header(0, 1, 500), track(body.b)}), "test.mid");
  REQUIRE(f);
  REQUIRE(f->warnings.empty());
  return std::move(*f);
}

std::string tokens_of(const SmfFile& f, bool markers = false) {
  MusicVocab v;
  wb::midi::TokenizeOptions opt;
  opt.add_start_end = markers;
  auto ids = wb::midi::midi_to_tokens(f, v, opt);
  REQUIRE(ids);
  return v.join(*ids);
}

}  // namespace

TEST_CASE("notes become on/off tokens with waits between, wrapped in start/end", "[midi][tokenizer]") {
  // Piano C4 at 0 for 504 ms, then E4 at 1504 ms for 2.6 s. (Times in these
  // tests avoid exact half steps, where float noise decides the rounding.)
  auto f = file_of(Body()
                       .ev(0, {0x90, 60, 100})
                       .ev(504, {0x80, 60, 64})
                       .ev(1000, {0x90, 64, 64})
                       .ev(2600, {0x90, 64, 0})
                       .end());
  CHECK(tokens_of(f, true) == "<start> pi:3c:a t63 pi:3c:0 t125 pi:40:7 t125 t125 t75 pi:40:0 <end>");
}

TEST_CASE("CC7 volume and CC11 expression scale note-on velocity before binning", "[midi][tokenizer]") {
  // velocity 100 at full volume is bin 10 (98..111); 100*64/127 = 50.4 is bin 6;
  // 100*(64/127)*(64/127) = 25.4 is bin 3. Volume 0 turns a note-on into bin 0.
  auto f = file_of(Body()
                       .ev(0, {0x90, 60, 100})
                       .ev(104, {0xB0, 7, 64})
                       .ev(0, {0x90, 62, 100})
                       .ev(96, {0xB0, 11, 64})
                       .ev(0, {0x90, 64, 100})
                       .ev(104, {0xB0, 7, 0})
                       .ev(0, {0x90, 65, 100})
                       .ev(96, {0xB0, 7, 127})
                       .ev(0, {0xB0, 11, 127})
                       .ev(0, {0xB1, 7, 10})    // another channel's volume changes nothing here
                       .ev(0, {0x90, 67, 100})
                       .end());
  CHECK(tokens_of(f) == "pi:3c:a t13 pi:3e:6 t12 pi:40:3 t13 pi:41:0 t12 pi:43:a");
}

TEST_CASE("sustain pedal defers note-offs until release, a re-strike cancels the pending off", "[midi][tokenizer]") {
  auto f = file_of(Body()
                       .ev(0, {0xB0, 64, 127})   // pedal down
                       .ev(0, {0x90, 60, 100})
                       .ev(100, {0x80, 60, 0})   // deferred
                       .ev(100, {0x90, 62, 100})
                       .ev(100, {0x80, 62, 0})   // deferred
                       .ev(100, {0x90, 60, 100}) // re-struck: its pending off is dropped
                       .ev(100, {0x80, 60, 0})   // deferred again
                       .ev(100, {0xB0, 64, 0})   // pedal up: offs for 62 and 60, in arrival order
                       .ev(104, {0x90, 64, 100})
                       .ev(96, {0x80, 64, 0})    // no pedal: immediate
                       .end());
  CHECK(tokens_of(f) == "pi:3c:a t25 pi:3e:a t25 pi:3c:a t25 pi:3c:0 pi:3e:0 t13 pi:40:a t12 pi:40:0");
}

TEST_CASE("every note-off gives a token, even for notes that never sounded", "[midi][tokenizer]") {
  auto f = file_of(Body().ev(0, {0x90, 60, 100}).ev(104, {0x80, 61, 0}).ev(96, {0x80, 60, 0}).end());
  CHECK(tokens_of(f) == "pi:3c:a t13 pi:3d:0 t12 pi:3c:0");
}

TEST_CASE("same-step events: percussion first, then bin, then pitch, then original order", "[midi][tokenizer]") {
  auto f = file_of(Body()
                       .ev(0, {0xC1, 40})               // channel 1: violin (bin 6)
                       .ev(0, {0xC2, 32})               // channel 2: acoustic bass (bin 4)
                       .ev(0, {0xC3, 55})               // channel 3: orchestra hit (dropped)
                       .ev(0, {0x90, 72, 100})          // piano 72
                       .ev(0, {0x91, 50, 100})          // violin 50
                       .ev(0, {0x93, 60, 100})          // dropped
                       .ev(0, {0x90, 48, 100})          // piano 48
                       .ev(0, {0x92, 40, 100})          // bass 40
                       .ev(2, {0x99, 70, 100})          // percussion 70 (2 ms later: same step)
                       .ev(0, {0x90, 48, 0})            // piano 48 off: same pitch, after its on
                       .ev(1, {0x99, 36, 100})          // percussion 36
                       .ev(100, {0x91, 50, 0})
                       .end());
  CHECK(tokens_of(f) == "p:24:a p:46:a b:28:a v:32:a pi:30:a pi:30:0 pi:48:a t13 v:32:0");
}

TEST_CASE("tracks are merged by absolute time, tempo changes in any track apply", "[midi][tokenizer]") {
  // Track 0: tempo 1 s per quarter (2 ms per tick) from tick 504. Track 1: notes at ticks 0, 504, 1000.
  auto t0 = Body().ev(504, {0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40}).end().b;
  auto t1 = Body().ev(0, {0x90, 60, 100}).ev(504, {0x90, 62, 100}).ev(496, {0x90, 64, 100}).end().b;
  auto f = wb::midi::parse_smf(cat({header(1, 2, 500), track(t0), track(t1)}), "m.mid");
  REQUIRE(f);
  // 0 ms, 504 ms (1 ms per tick), then 496 ticks at 2 ms = 1496 ms (step 187).
  CHECK(tokens_of(*f) == "pi:3c:a t63 pi:3e:a t124 pi:40:a");
}

TEST_CASE("waits round against absolute time: no drift over many short gaps", "[midi][tokenizer]") {
  // 300 notes 13 ms apart. Rounding each gap on its own (13 ms -> 2 steps = 16 ms)
  // would drift by 0.9 s; absolute rounding keeps every onset within 4 ms.
  Body b;
  for (int i = 0; i < 300; ++i) b.ev(i == 0 ? 0 : 13, {0x90, static_cast<uint8_t>(40 + i % 40), 80});
  auto f = file_of(b.end());
  MusicVocab v;
  auto ids = wb::midi::midi_to_tokens(f, v);
  REQUIRE(ids);
  int64_t steps = 0;
  int note = 0;
  for (int id : *ids) {
    auto t = v.decode(id);
    if (t.kind == wb::midi::TokenKind::wait) steps += t.wait_steps;
    if (t.kind == wb::midi::TokenKind::note) {
      INFO("note " << note);
      CHECK(std::abs(steps * 8.0 - note * 13.0) <= 4.0);
      ++note;
    }
  }
  CHECK(note == 300);
}

TEST_CASE("silences longer than 10 s are cut to 10 s", "[midi][tokenizer]") {
  auto f = file_of(Body().ev(0, {0x90, 60, 100}).ev(30000, {0x90, 62, 100}).ev(16, {0x90, 64, 100}).end());
  CHECK(tokens_of(f) == "pi:3c:a t125 t125 t125 t125 t125 t125 t125 t125 t125 t125 pi:3e:a t2 pi:40:a");
}

TEST_CASE("tokens -> MIDI: channels, programs, velocities, held notes and <end>", "[midi][tokenizer]") {
  MusicVocab v;
  auto ids = v.parse("<start> p:24:a pi:3c:7 t125 pi:3c:0 v:40:b t125 t125 t125 t125 t125 t125 pi:3c:5 pi:3c:5 <end> <pad>");
  REQUIRE(ids);
  auto f = wb::midi::tokens_to_midi(*ids, v);
  REQUIRE(f);
  auto spans = wb::midi::note_spans(*f);
  REQUIRE(spans.size() == 5);
  CHECK(spans[0].channel == 9);
  CHECK(spans[0].pitch == 36);
  CHECK(spans[0].velocity == 111);
  CHECK(spans[0].off_s == Approx(6.0).margin(0.002));  // held over 5 s: released at the wait that passes 5 s
  CHECK(spans[1].channel == 7);  // piano
  CHECK(spans[1].velocity == 70);
  CHECK(spans[1].off_s == Approx(1.0).margin(0.002));
  // violin (channel 5) held from 1 s: released by the 5 s rule at the first wait past 6 s
  CHECK(spans[2].channel == 5);
  CHECK(spans[2].on_s == Approx(1.0).margin(0.002));
  CHECK(spans[2].off_s == Approx(7.0).margin(0.002));
  // piano struck twice at 7 s: the first is released at the second strike; the second at <end> (+3 s)
  CHECK(spans[3].on_s == Approx(7.0).margin(0.002));
  CHECK(spans[3].off_s == Approx(7.0).margin(0.002));
  CHECK(spans[3].velocity == 47);
  CHECK(spans[4].on_s == Approx(7.0).margin(0.002));
  CHECK(spans[4].off_s == Approx(10.0).margin(0.002));
  bool saw_program = false;
  for (const auto& e : f->tracks[0].events)
    if (e.is_channel() && e.kind() == 0xC0 && e.channel() == 5) saw_program = (e.data1 == 40);
  CHECK(saw_program);
  auto end = wb::midi::TempoMap(*f).seconds(f->end_tick());
  CHECK(end == Approx(10.0).margin(0.002));
}

TEST_CASE("MIDI -> tokens -> MIDI keeps every onset within 8 ms on corpus files", "[midi][tokenizer][roundtrip]") {
  std::vector<std::string> files = corpus_files("nottingham", 5);
  for (auto& f : corpus_files("cre-irish-dance", 5)) files.push_back(f);
  MusicVocab v;
  for (const auto& path : files) {
    INFO(path);
    auto in = wb::midi::read_smf_file(path);
    REQUIRE(in);
    auto ids = wb::midi::midi_to_tokens(*in, v);
    REQUIRE(ids);
    auto out = wb::midi::tokens_to_midi(*ids, v);
    REQUIRE(out);
    // Onsets per pitch, relative to the first onset (leading silence is not tokenized).
    auto onsets = [](const SmfFile& f) {
      std::map<int, std::vector<double>> by_pitch;
      auto spans = wb::midi::note_spans(f);
      double first = spans.empty() ? 0 : spans.front().on_s;
      for (const auto& s : spans) by_pitch[s.pitch].push_back(s.on_s - first);
      return by_pitch;
    };
    auto a = onsets(*in), b = onsets(*out);
    REQUIRE(a.size() == b.size());
    double worst = 0;
    size_t count = 0;
    for (auto& [pitch, times] : a) {
      REQUIRE(b[pitch].size() == times.size());
      for (size_t i = 0; i < times.size(); ++i) {
        worst = std::max(worst, std::abs(times[i] - b[pitch][i]));
        ++count;
      }
    }
    CHECK(count > 20);
    CHECK(worst <= 0.008);
    // And the original's length survives: the last onset is not seconds off.
  }
}

TEST_CASE("tokens -> MIDI -> tokens gives the same tokens", "[midi][tokenizer][roundtrip]") {
  MusicVocab v;
  for (const auto& path : corpus_files("cre-irish-dance", 3)) {
    INFO(path);
    auto in = wb::midi::read_smf_file(path);
    REQUIRE(in);
    auto ids = wb::midi::midi_to_tokens(*in, v);
    REQUIRE(ids);
    auto mid = wb::midi::tokens_to_midi(*ids, v);
    REQUIRE(mid);
    auto again = wb::midi::midi_to_tokens(*mid, v);
    REQUIRE(again);
    CHECK(v.join(*again) == v.join(*ids));
  }
}

TEST_CASE("piece splitting at long silences, training-data style", "[midi][tokenizer]") {
  // Silence of 12 s with nothing held splits; a 12 s gap while a note is held does not.
  auto f = file_of(Body()
                       .ev(0, {0x90, 60, 100})
                       .ev(104, {0x80, 60, 0})
                       .ev(12000, {0x90, 62, 100})
                       .ev(12000, {0x90, 64, 100})
                       .end());
  MusicVocab v;
  wb::midi::TokenizeOptions opt;
  opt.split_pieces = true;
  auto ids = wb::midi::midi_to_tokens(f, v, opt);
  REQUIRE(ids);
  CHECK(v.join(*ids) ==
        "<start> pi:3c:a t13 pi:3c:0 <end> <start> pi:3e:a t125 t125 t125 t125 t125 t125 t125 t125 t125 t125 pi:40:a <end>");
  CHECK(tokens_of(f, true) ==
        "<start> pi:3c:a t13 pi:3c:0 t125 t125 t125 t125 t125 t125 t125 t125 t125 t125 pi:3e:a "
        "t125 t125 t125 t125 t125 t125 t125 t125 t125 t125 pi:40:a <end>");
}

namespace {
std::string read_golden(const std::string& name) {
  auto bytes = wb::test::read_bytes(std::string(WB_TEST_SOURCE_DIR) + "/golden/midi/" + name);
  std::string s(bytes.begin(), bytes.end());
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

TEST_CASE("same note tokens in the same order as the reference tokenizer (goldens)", "[midi][tokenizer][golden]") {
  // See tests/golden/midi/README.md for how these were made.
  const std::pair<const char*, const char*> cases[] = {
      {"nottingham/mid/ashover1.mid", "ashover1"},
      {"nottingham/mid/jigs120.mid", "jigs120"},
      {"cre-irish-dance/mid/BackGardenpolkaThe.mid", "BackGardenpolkaThe"},
      {"cre-irish-dance/mid/AchreidhJigThe.mid", "AchreidhJigThe"},
  };
  MusicVocab v;
  for (auto [rel, name] : cases) {
    INFO(rel);
    auto f = wb::midi::read_smf_file(std::string(WB_CORPORA_DIR) + "/midi/" + rel);
    REQUIRE(f);
    auto ids = wb::midi::midi_to_tokens(*f, v);
    REQUIRE(ids);
    std::string notes;
    for (int id : *ids)
      if (v.decode(id).kind == wb::midi::TokenKind::note) notes += (notes.empty() ? "" : " ") + v.word(id);
    CHECK(notes == read_golden(std::string(name) + ".notes.txt"));
  }
}

TEST_CASE("crafted file with every encoding rule: tokens equal the reference word for word", "[midi][tokenizer][golden]") {
  auto f = wb::midi::read_smf_file(std::string(WB_TEST_SOURCE_DIR) + "/golden/midi/crafted_rules.mid");
  REQUIRE(f);
  CHECK(f->skipped_sysex == 1);
  CHECK(tokens_of(*f, true) == read_golden("crafted_rules.tokens.txt"));
}
