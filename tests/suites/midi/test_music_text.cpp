// The music vocabulary as a story tokenizer ("midi"), the implicit tokenizer
// of 20096-token models, and live playback through FluidSynth's file driver.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/midi/music_text.hpp"
#include "core/midi/music_tokenizer.hpp"
#include "core/midi/player.hpp"
#include "core/session/codec.hpp"
#include "midi_test_util.hpp"
#include "support/fixtures.hpp"

using namespace wb;

TEST_CASE("the 'midi' tokenizer: every id round-trips through its text, canonical text round-trips exactly",
          "[midi][tokenizer]") {
  for (const char* spec : {"midi", "music"}) {
    auto tok = load_tokenizer(spec);
    REQUIRE(tok);
    CHECK((*tok)->kind() == "midi");
    CHECK((*tok)->vocab_size() == 20096);
    CHECK((*tok)->eot_id() == 0);
  }
  auto codec = session::load_codec("midi");
  REQUIRE(codec);
  midi::MusicVocab vocab;
  // Each id alone, and all ids in one text.
  std::vector<int32_t> all;
  std::string text;
  for (int id = 0; id < vocab.size(); ++id) {
    std::string piece = codec->piece(id);
    REQUIRE(piece == vocab.word(id) + " ");
    auto back = codec->encode(piece);
    REQUIRE(back);
    REQUIRE(*back == std::vector<int32_t>{id});
    all.push_back(id);
    text += piece;
  }
  auto enc = codec->encode(text);
  REQUIRE(enc);
  CHECK(*enc == all);
  CHECK(codec->decode(*enc) == text);
  // A real piece: MIDI -> ids -> canonical text -> ids -> the same text.
  auto smf = midi::read_smf_file(test::midi::corpus_files("nottingham", 1).front());
  REQUIRE(smf);
  auto ids = midi::midi_to_tokens(*smf, vocab);
  REQUIRE(ids);
  std::string piece = midi::music_text(vocab, *ids);
  auto again = codec->encode(piece);
  REQUIRE(again);
  CHECK(std::vector<int>(again->begin(), again->end()) == *ids);
  CHECK(codec->decode(*again) == piece);
  // Leniency: other whitespace and case are read, unknown words named.
  auto messy = codec->encode("<START>\n T12\tPI:3C:7");
  REQUIRE(messy);
  CHECK(codec->decode(*messy) == "<start> t12 pi:3c:7 ");
  auto bad = codec->encode("t12 pi:3c:7 tuba:1:1");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("tuba:1:1") != std::string::npos);
}

TEST_CASE("tokenizer-midi.json loads as the music tokenizer, a different vocabulary is refused", "[midi][tokenizer]") {
  const std::string path = test::fixture("tokenizers/tokenizer-midi.json");
  auto tok = load_tokenizer(path);
  INFO((tok ? std::string() : tok.error().message));
  REQUIRE(tok);
  CHECK((*tok)->kind() == "midi");
  // Swap two ids: no longer the vocabulary the models were trained on.
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in);
  auto& v = j["model"]["vocab"];
  std::swap(v["t1"], v["t2"]);
  auto tampered = test::temp_dir("music-json") / "tampered.json";
  std::ofstream(tampered) << j.dump();
  auto refused = load_tokenizer(tampered.string());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("tampered.json") != std::string::npos);
  CHECK(refused.error().message.find("does not match") != std::string::npos);
}

TEST_CASE("models of 20096 tokens get the music tokenizer, 256 the byte one, others none", "[midi][tokenizer]") {
  CHECK(session::implicit_codec_spec(20096) == "midi");
  CHECK(session::implicit_codec_spec(256) == "byte");
  CHECK(session::implicit_codec_spec(65536).empty());
  // `wb generate` on a random 20096-token RWKV-7 needs no --tokenizer and writes music tokens.
  auto dir = test::temp_dir("music-implicit");
  auto model = (dir / "m.gguf").string();
  auto synth = test::run_wb("synth --arch rwkv7 --layers 1 --embd 64 --vocab 20096 --dtype f32 --out '" + model + "'");
  REQUIRE(synth.exit_code == 0);
  auto gen = test::run_wb("generate '" + model + "' --prompt '<start> t20' -n 5 --seed 2");
  INFO(gen.out);
  REQUIRE(gen.exit_code == 0);
  midi::MusicVocab vocab;
  auto ids = vocab.parse(gen.out.substr(0, gen.out.find('\n')));
  REQUIRE(ids);
  CHECK(ids->size() == 5);
}

TEST_CASE("live playback plays through FluidSynth's audio driver and stops, no driver is a clear error",
          "[midi][render]") {
  Log log;
  midi::MusicVocab vocab;
  auto ids = vocab.parse("<start> pi:3c:b t125 t125 pi:3c:0 pi:40:b t60 pi:40:0");
  REQUIRE(ids);
  auto smf = midi::tokens_to_midi(*ids, vocab);
  REQUIRE(smf);
  auto dir = test::temp_dir("music-play");
  midi::PlayerOptions opt;
  opt.driver = "file";  // FluidSynth renders to a file as fast as it can
  opt.file_name = (dir / "played.wav").string();
  {
    auto p = midi::Player::start(*smf, opt, log);
    INFO((p ? std::string() : p.error().message));
    REQUIRE(p);
    CHECK((*p)->length() > 2.0);
    auto t0 = std::chrono::steady_clock::now();
    while ((*p)->playing() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK_FALSE((*p)->playing());
  }
  // The driver wrote the audio: about 2.6 s of 16-bit stereo at 44.1 kHz, not silence.
  auto bytes = test::read_bytes(opt.file_name);
  CHECK(bytes.size() > 44100 * 4 * 2);
  bool sound = false;
  for (size_t i = 44; i + 1 < bytes.size() && !sound; i += 2)
    sound = std::abs(static_cast<int16_t>(bytes[i] | (bytes[i + 1] << 8))) > 500;
  CHECK(sound);

  opt.driver = "no-such-driver";
  auto none = midi::Player::start(*smf, opt, log);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::unsupported);
  CHECK(none.error().message.find("audio driver") != std::string::npos);
  opt.driver = "file";
  opt.soundfont = (dir / "missing.sf2").string();
  auto nosf = midi::Player::start(*smf, opt, log);
  REQUIRE_FALSE(nosf);
  CHECK(nosf.error().message.find("missing.sf2") != std::string::npos);
}
