// The music vocabulary generated in code against the published files.
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/midi/music_vocab.hpp"
#include "support/fixtures.hpp"

using wb::midi::MusicScheme;
using wb::midi::MusicVocab;
using wb::midi::TokenKind;

TEST_CASE("generated vocabulary equals tokenizer-midi.json id for id", "[midi][tokenizer]") {
  std::ifstream in(wb::test::fixture("tokenizers/tokenizer-midi.json"));
  auto j = nlohmann::json::parse(in);
  const auto& vocab_json = j.at("model").at("vocab");
  MusicVocab vocab;
  REQUIRE(vocab.size() == 20096);
  REQUIRE(vocab_json.size() == static_cast<size_t>(vocab.size()));
  size_t mismatches = 0;
  for (auto it = vocab_json.begin(); it != vocab_json.end(); ++it) {
    int id = it.value().get<int>();
    REQUIRE(id >= 0);
    REQUIRE(id < vocab.size());
    if (vocab.word(id) != it.key()) {
      if (++mismatches < 5) FAIL_CHECK("id " << id << ": json '" << it.key() << "', ours '" << vocab.word(id) << "'");
    }
    auto back = vocab.find(it.key());
    REQUIRE(back);
    CHECK(*back == id);
  }
  CHECK(mismatches == 0);
  // The special tokens are the ones the JSON marks as added.
  for (const auto& t : j.at("added_tokens")) CHECK(vocab.word(t.at("id").get<int>()) == t.at("content").get<std::string>());
}

TEST_CASE("built-in scheme equals midi-vocab_config.json", "[midi][tokenizer]") {
  auto from_file = MusicScheme::from_config_json(wb::test::fixture("tokenizers/midi-vocab_config.json"));
  REQUIRE(from_file);
  MusicScheme s = MusicScheme::standard();
  CHECK(s.bin_names == from_file->bin_names);
  CHECK(s.bin_prefixes == from_file->bin_prefixes);
  CHECK(s.program_to_bin == from_file->program_to_bin);
  CHECK(s.bin_program == from_file->bin_program);
  CHECK(s.bin_channel == from_file->bin_channel);
  CHECK(s.percussion_bin == from_file->percussion_bin);
  CHECK(s.wait_events == from_file->wait_events);
  CHECK(s.max_wait_ms == from_file->max_wait_ms);
  CHECK(s.velocity_bins == from_file->velocity_bins);
  CHECK(s.velocity_exp == from_file->velocity_exp);
}

TEST_CASE("bins, prefixes, channels and drops follow the documented scheme", "[midi][tokenizer]") {
  MusicScheme s = MusicScheme::standard();
  CHECK(s.bin_prefixes == std::vector<std::string>{"p", "d", "t", "m", "b", "g", "v", "tr", "pi", "s", "f", "l", "pa"});
  CHECK(s.bin_channel == std::vector<int>{9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12});
  CHECK(s.program_to_bin[0] == 8);    // grand piano -> piano
  CHECK(s.program_to_bin[55] == -1);  // orchestra hit dropped
  CHECK(s.program_to_bin[47] == 1);   // timpani -> drum
  for (int p = 96; p < 104; ++p) CHECK(s.program_to_bin[p] == -1);  // synth effects
  for (int p = 120; p < 128; ++p) CHECK(s.program_to_bin[p] == -1);  // sound effects
}

TEST_CASE("velocity bins match the documented ranges and decode values", "[midi][tokenizer]") {
  MusicScheme s = MusicScheme::standard();
  // From the fixture README: upper velocity of bins 1..11 and the written value per bin.
  const int upper[] = {0, 8, 17, 27, 37, 47, 58, 70, 83, 97, 111, 127};
  int bin = 0;
  for (int v = 0; v < 128; ++v) {
    while (v > upper[bin]) ++bin;
    INFO("velocity " << v);
    CHECK(s.velocity_to_bin(v) == bin);
  }
  for (int b = 0; b < 12; ++b) CHECK(s.bin_to_velocity(b) == upper[b]);
}

TEST_CASE("documented token examples decode to their meaning", "[midi][tokenizer]") {
  MusicVocab v;
  CHECK(*v.find("pi:3c:7") == 13143);
  CHECK(*v.find("pi:3c:0") == 13136);
  CHECK(*v.find("p:24:a") == 570);
  CHECK(*v.find("v:5b:3") == 10439);
  CHECK(*v.find("tr:40:b") == 11659);
  CHECK(*v.find("pa:7f:b") == 20095);
  CHECK(*v.find("t1") == 3);
  CHECK(*v.find("t125") == 127);
  auto t = v.decode(13143);
  CHECK(t.kind == TokenKind::note);
  CHECK(t.bin == 8);
  CHECK(t.pitch == 60);
  CHECK(t.velocity_bin == 7);
  CHECK(v.decode(127).kind == TokenKind::wait);
  CHECK(v.decode(127).wait_steps == 125);
  CHECK(v.decode(0).kind == TokenKind::pad);
  CHECK(v.decode(2).kind == TokenKind::end);
}

TEST_CASE("token text parsing lowercases, splits on whitespace and names unknown words", "[midi][tokenizer]") {
  MusicVocab v;
  auto ids = v.parse("  <START>\tPI:3C:7 t12\n\nt125 <end> ");
  REQUIRE(ids);
  CHECK(*ids == std::vector<int>{1, 13143, 14, 127, 2});
  CHECK(v.join(*ids) == "<start> pi:3c:7 t12 t125 <end>");
  auto bad = v.parse("pi:3c:7 pi:3c:c t5");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("'pi:3c:c'") != std::string::npos);
  CHECK(bad.error().message.find("word 2") != std::string::npos);
  auto lenient = v.parse("pi:3c:7 bogus", true);
  REQUIRE(lenient);
  CHECK(*lenient == std::vector<int>{13143, 0});
}
