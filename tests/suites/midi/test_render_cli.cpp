// FluidSynth WAV render and the `wb midi` command line.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/midi/music_tokenizer.hpp"
#include "core/midi/render.hpp"
#include "midi_test_util.hpp"
#include "support/fixtures.hpp"

using namespace wb::test::midi;
using wb::test::run_wb;

namespace {

struct Wav {
  int channels = 0, rate = 0, bits = 0;
  std::vector<int16_t> samples;
};

// A minimal independent WAV reader for what the renderer promises (PCM 16).
Wav read_wav(const std::string& path) {
  auto b = wb::test::read_bytes(path);
  REQUIRE(b.size() >= 44);
  auto u32 = [&](size_t o) { return uint32_t(b[o]) | uint32_t(b[o + 1]) << 8 | uint32_t(b[o + 2]) << 16 | uint32_t(b[o + 3]) << 24; };
  auto u16 = [&](size_t o) { return uint16_t(b[o] | b[o + 1] << 8); };
  REQUIRE(std::string(b.begin(), b.begin() + 4) == "RIFF");
  REQUIRE(std::string(b.begin() + 8, b.begin() + 12) == "WAVE");
  REQUIRE(u32(4) == b.size() - 8);
  Wav w;
  size_t pos = 12;
  while (pos + 8 <= b.size()) {
    std::string id(b.begin() + static_cast<long>(pos), b.begin() + static_cast<long>(pos) + 4);
    uint32_t len = u32(pos + 4);
    REQUIRE(pos + 8 + len <= b.size());
    if (id == "fmt ") {
      REQUIRE(u16(pos + 8) == 1);
      w.channels = u16(pos + 10);
      w.rate = static_cast<int>(u32(pos + 12));
      w.bits = u16(pos + 22);
    } else if (id == "data") {
      w.samples.resize(len / 2);
      std::memcpy(w.samples.data(), b.data() + pos + 8, len / 2 * 2);
    }
    pos += 8 + len + (len & 1);
  }
  return w;
}

void require_soundfont() {
  INFO("soundfont " << wb::midi::kDefaultSoundfont << " is missing: install fluid-soundfont-gm (scripts/setup.sh)");
  REQUIRE(std::filesystem::exists(wb::midi::kDefaultSoundfont));
}

}  // namespace

TEST_CASE("render: WAV length matches the MIDI duration and it is not silent", "[midi][render]") {
  require_soundfont();
  // Two seconds of piano chords at 120 bpm, then silence to 3 s (end-of-track).
  auto body = Body()
                  .ev(0, {0xC0, 0})
                  .ev(0, {0x90, 60, 100}).ev(0, {0x90, 64, 100})
                  .ev(480, {0x80, 60, 0}).ev(0, {0x80, 64, 0})
                  .ev(0, {0x90, 67, 110})
                  .ev(1440, {0x80, 67, 0})
                  .end(960);
  auto f = wb::midi::parse_smf(cat({header(0, 1, 480), track(body.b)}), "chords.mid");
  REQUIRE(f);
  auto dir = wb::test::temp_dir("midi-render");
  auto wav_path = (dir / "out.wav").string();
  wb::Log log;
  wb::midi::RenderOptions opt;
  opt.sample_rate = 22050;
  opt.tail_seconds = 0.5;
  auto stats = wb::midi::render_wav(*f, wav_path, opt, log);
  REQUIRE(stats);
  Wav w = read_wav(wav_path);
  CHECK(w.channels == 2);
  CHECK(w.bits == 16);
  CHECK(w.rate == 22050);
  const double seconds = static_cast<double>(w.samples.size()) / 2 / w.rate;
  CHECK(seconds == Approx(3.0 + 0.5).margin(1.0 / 22050));
  // Loud while the notes play, near silent before the first onset would be
  // meaningless (it starts at 0), so compare the first second with the last
  // half second after all notes ended 1.5 s earlier.
  auto rms = [&](double from, double to) {
    size_t a = static_cast<size_t>(from * w.rate) * 2, b = static_cast<size_t>(to * w.rate) * 2;
    double sum = 0;
    for (size_t i = a; i < b; ++i) sum += double(w.samples[i]) * w.samples[i];
    return std::sqrt(sum / double(b - a)) / 32768.0;
  };
  double playing = rms(0.0, 1.0), after = rms(3.0, 3.5);
  INFO("rms playing " << playing << ", after " << after);
  CHECK(playing > 0.01);
  CHECK(after < playing / 10);
  CHECK(stats->peak > 0.05);
}

TEST_CASE("render refuses a missing soundfont and absurd durations", "[midi][render][bad-input]") {
  auto body = Body().ev(0, {0x90, 60, 100}).ev(0x0FFFFFFF, {0x80, 60, 0}).end().b;
  auto f = wb::midi::parse_smf(cat({header(0, 1, 24), track(body)}), "long.mid");
  REQUIRE(f);
  auto dir = wb::test::temp_dir("midi-render-bad");
  wb::Log log;
  wb::midi::RenderOptions opt;
  opt.soundfont = "/nonexistent/none.sf2";
  auto r = wb::midi::render_wav(*f, (dir / "a.wav").string(), opt, log);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("none.sf2") != std::string::npos);
  require_soundfont();
  opt = {};
  auto r2 = wb::midi::render_wav(*f, (dir / "b.wav").string(), opt, log);  // ~5.6 million seconds
  REQUIRE_FALSE(r2);
  CHECK(r2.error().code == wb::Errc::limit);
}

TEST_CASE("wb midi tokenize / detokenize / info on a corpus file", "[midi][cli]") {
  auto file = corpus_files("nottingham", 1)[0];
  auto dir = wb::test::temp_dir("midi-cli");

  auto tok = run_wb("midi tokenize '" + file + "'");
  REQUIRE(tok.exit_code == 0);
  CHECK(tok.out.rfind("<start> ", 0) == 0);
  CHECK(tok.out.find(" <end>\n") != std::string::npos);
  wb::midi::MusicVocab v;
  auto words = v.parse(tok.out);
  REQUIRE(words);

  auto ids = run_wb("midi tokenize --ids '" + file + "'");
  REQUIRE(ids.exit_code == 0);
  std::string joined;
  for (size_t i = 0; i < words->size(); ++i) joined += (i ? " " : "") + std::to_string((*words)[i]);
  CHECK(ids.out == joined + "\n");

  auto txt = dir / "tokens.txt";
  std::ofstream(txt) << tok.out;
  auto mid = (dir / "out.mid").string();
  auto det = run_wb("midi detokenize '" + txt.string() + "' '" + mid + "'");
  REQUIRE(det.exit_code == 0);
  auto back = run_wb("midi tokenize '" + mid + "'");
  REQUIRE(back.exit_code == 0);
  CHECK(back.out == tok.out);

  auto ids_txt = dir / "ids.txt";
  std::ofstream(ids_txt) << ids.out;
  auto mid2 = (dir / "out2.mid").string();
  REQUIRE(run_wb("midi detokenize --ids '" + ids_txt.string() + "' '" + mid2 + "'").exit_code == 0);
  CHECK(wb::test::read_bytes(mid2) == wb::test::read_bytes(mid));

  auto info = run_wb("midi info '" + file + "'");
  REQUIRE(info.exit_code == 0);
  auto j = nlohmann::json::parse(info.out);
  auto f = wb::midi::read_smf_file(file);
  REQUIRE(f);
  CHECK(j.at("tracks").get<size_t>() == f->tracks.size());
  CHECK(j.at("format").get<int>() == f->format);
  size_t csv_ons = 0;
  for (const auto& n : midicsv_events(file)) csv_ons += (n.kind == 0x90 && n.b > 0);
  CHECK(j.at("notes").get<size_t>() == csv_ons);
  CHECK(j.at("duration_seconds").get<double>() == Approx(wb::midi::TempoMap(*f).seconds(f->end_tick())));
}

TEST_CASE("wb midi fails cleanly on bad input", "[midi][cli][bad-input]") {
  auto dir = wb::test::temp_dir("midi-cli-bad");
  auto bad = dir / "bad.mid";
  std::ofstream(bad, std::ios::binary) << std::string("MThd\0\0\0\6\0\0\0\1\0\x60MTrk\0\0\0\3\0\x3c\x64", 25);
  for (const char* sub : {"tokenize", "info"}) {
    auto r = run_wb(std::string("midi ") + sub + " '" + bad.string() + "'");
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("bad.mid") != std::string::npos);
    CHECK(r.out.find("running status") != std::string::npos);
  }
  auto txt = dir / "t.txt";
  std::ofstream(txt) << "<start> pi:3c:7 t5 zz:1:1";
  auto r = run_wb("midi detokenize '" + txt.string() + "' '" + (dir / "o.mid").string() + "'");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("'zz:1:1'") != std::string::npos);
  CHECK(run_wb("midi tokenize /nonexistent.mid").exit_code == 1);
  CHECK(run_wb("midi frobnicate").exit_code == 1);
  CHECK(run_wb("midi tokenize --bogus x.mid").exit_code == 1);
}

TEST_CASE("wb midi render writes a WAV", "[midi][cli][render]") {
  require_soundfont();
  auto dir = wb::test::temp_dir("midi-cli-render");
  auto txt = dir / "t.txt";
  std::ofstream(txt) << "<start> pi:3c:9 pi:40:9 t125 pi:3c:0 pi:40:0 <end>";
  auto mid = (dir / "t.mid").string();
  REQUIRE(run_wb("midi detokenize '" + txt.string() + "' '" + mid + "'").exit_code == 0);
  auto wav = (dir / "t.wav").string();
  auto r = run_wb("midi render '" + mid + "' '" + wav + "' --rate 16000 --tail 0.25");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  Wav w = read_wav(wav);
  // 1 s of notes + 3 s <end> pause + 0.25 s tail.
  CHECK(static_cast<double>(w.samples.size()) / 2 / w.rate == Approx(4.25).margin(1.0 / 16000));
}
