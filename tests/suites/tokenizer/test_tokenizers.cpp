// Tokenizers: RWKV World against the upstream test vectors, byte round trips
// of arbitrary (invalid UTF-8, NUL) strings, streaming decode that never
// splits a character, SentencePiece through libsentencepiece, the GGUF vocab,
// and `wb tokenize`.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>

#include "core/model/format_util.hpp"
#include "core/tokenizer/tokenizer.hpp"
#include "core/tokenizer/world_tokenizer.hpp"
#include "support/converted.hpp"
#include "support/fixtures.hpp"

using wb::test::converted;
using wb::test::fixture;

namespace {

std::unique_ptr<wb::Tokenizer> load(const std::string& spec) {
  auto t = wb::load_tokenizer(spec);
  INFO((t ? std::string() : t.error().message));
  REQUIRE(t.ok());
  return std::move(*t);
}

const wb::Tokenizer& world() {
  static auto t = load(fixture("tokenizers/rwkv_vocab_v20230424.txt"));
  return *t;
}

std::string random_bytes(std::mt19937& rng, size_t n, bool textish) {
  std::string s(n, '\0');
  // Mix plain bytes with pieces of real text so multi-byte tokens get matched.
  static const std::string pieces[] = {" the", "\n\n", "今天", "é", "\xff", "\x00", " beautiful", "\xe4\xbb"};
  for (size_t i = 0; i < n; ++i) {
    if (textish && rng() % 4 == 0) {
      s.replace(i, 1, pieces[rng() % 8]);
      continue;
    }
    s[i] = static_cast<char>(rng() & 0xff);
  }
  return s;
}

}  // namespace

TEST_CASE("World tokenizer reproduces world-vectors.json", "[tokenizer]") {
  std::ifstream f(fixture("tokenizers/world-vectors.json"));
  auto j = nlohmann::json::parse(f);
  REQUIRE(j.size() >= 3);
  for (const auto& v : j) {
    const std::string text = v.at("text");
    const std::vector<int32_t> want = v.at("ids").get<std::vector<int32_t>>();
    INFO(text);
    auto ids = world().encode(text);
    REQUIRE(ids.ok());
    CHECK(*ids == want);
    auto back = world().decode(*ids);
    REQUIRE(back.ok());
    CHECK(*back == text);
  }
  auto nn = world().encode("\n\n");
  REQUIRE(nn.ok());
  CHECK(*nn == std::vector<int32_t>{261});
  CHECK(world().vocab_size() == 65530);
  CHECK(world().token_bytes(250).value() == "\xf9");      // b'\xf9'
  CHECK(world().token_bytes(2423).value() == "\xc2\x80");  // '\x80' in a str literal = U+0080
}

TEST_CASE("World tokenizer round-trips any byte string", "[tokenizer]") {
  std::mt19937 rng(1234);
  for (int k = 0; k < 300; ++k) {
    const std::string s = random_bytes(rng, rng() % 200, k % 2 == 0);
    auto ids = world().encode(s);
    REQUIRE(ids.ok());
    for (int32_t id : *ids) REQUIRE((id > 0 && id < 65530));
    auto back = world().decode(*ids);
    REQUIRE(back.ok());
    REQUIRE(*back == s);
  }
  // Every single byte is its own token, id = byte + 1.
  for (int b = 0; b < 256; ++b) {
    auto ids = world().encode(std::string(1, static_cast<char>(b)));
    REQUIRE(ids.ok());
    CHECK(*ids == std::vector<int32_t>{b + 1});
  }
  auto bad = world().token_bytes(70000);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == wb::Errc::out_of_range);
}

TEST_CASE("streaming decode never emits part of a UTF-8 character", "[tokenizer]") {
  std::mt19937 rng(99);
  const std::string text = "Ein Bär 今天天气不错 😀 naïve – \xf0\x9f\x8e\xb5 done";
  // Byte-level ids split every multi-byte character across pushes.
  auto bytes = wb::make_byte_tokenizer();
  for (const wb::Tokenizer* t : {static_cast<const wb::Tokenizer*>(bytes.get()), &world()}) {
    auto ids = t->encode(text);
    REQUIRE(ids.ok());
    wb::StreamDecoder dec(*t);
    std::string all;
    for (int32_t id : *ids) {
      auto chunk = dec.push(id);
      REQUIRE(chunk.ok());
      INFO("chunk after id " << id);
      CHECK(wb::fmt_util::valid_utf8(*chunk));
      all += *chunk;
    }
    all += dec.flush();
    CHECK(all == text);
  }
  // Invalid bytes are passed through, never held forever: concatenation is exact.
  for (int k = 0; k < 200; ++k) {
    const std::string s = random_bytes(rng, rng() % 64, true);
    auto ids = bytes->encode(s);
    REQUIRE(ids.ok());
    wb::StreamDecoder dec(*bytes);
    std::string all;
    for (int32_t id : *ids) {
      auto c = dec.push(id);
      REQUIRE(c.ok());
      all += *c;
    }
    all += dec.flush();
    REQUIRE(all == s);
  }
  CHECK(wb::utf8_incomplete_tail("ab\xe4\xbb") == 2);
  CHECK(wb::utf8_incomplete_tail("ab\xe4\xbb\x8a") == 0);
  CHECK(wb::utf8_incomplete_tail("ab\xff") == 0);
  CHECK(wb::utf8_incomplete_tail("\xe0\x80") == 0);  // can never complete (overlong)
}

TEST_CASE("the World vocab parser refuses malformed lines with the line number", "[tokenizer]") {
  auto r = wb::WorldTokenizer::from_vocab_text("1 'a' 2\n", "v.txt");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("v.txt:1"));
  r = wb::WorldTokenizer::from_vocab_text("1 'a 1\n", "v.txt");
  REQUIRE_FALSE(r.ok());
  r = wb::WorldTokenizer::from_vocab_text("1 'a' 1\n", "v.txt");  // not every byte covered
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("byte 0x00"));
  CHECK(wb::parse_python_literal("b'\\x82\\xac'").value() == "\x82\xac");
  CHECK(wb::parse_python_literal("'\\u2002'").value() == "\xe2\x80\x82");
  CHECK(wb::parse_python_literal("\"'\"").value() == "'");
  CHECK(wb::unescape_gguf_rwkv_token("\\xff\\n\\\\\\'") == "\xff\n\\'");
}

TEST_CASE("byte tokenizer: id = byte", "[tokenizer]") {
  auto t = load("byte");
  auto ids = t->encode(std::string("in\0\xff", 4));
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<int32_t>{105, 110, 0, 255});
  CHECK_FALSE(t->token_bytes(256).ok());
}

TEST_CASE("the World vocab embedded in a GGUF file encodes like the .txt", "[tokenizer][gguf]") {
  auto g = load(converted("world-vocab.gguf"));
  CHECK(g->kind() == "gguf-world");
  CHECK(g->vocab_size() == 65536);
  std::mt19937 rng(7);
  for (int k = 0; k < 100; ++k) {
    const std::string s = random_bytes(rng, rng() % 150, true);
    auto a = g->encode(s);
    auto b = world().encode(s);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(*a == *b);
    REQUIRE(g->decode(*a).value() == s);
  }
  CHECK(g->token_bytes(0).value().empty());  // "<s>" control token = end-of-text
  // The tiny models' GGUF carries a byte-level "rwkv" vocab: id = byte.
  auto tiny = load(converted("7v0-q8_0.gguf"));
  CHECK(tiny->encode("in").value() == std::vector<int32_t>{105, 110});
}

TEST_CASE("SentencePiece model trained here round-trips text", "[tokenizer][sentencepiece]") {
  auto dir = wb::test::temp_dir("spm");
  {
    std::ofstream f(dir / "corpus.txt");
    std::mt19937 rng(5);
    const char* words[] = {"the", "quiet", "river", "ran", "under", "old", "bridges", "while", "lanterns",
                           "glowed", "and", "a", "writer", "watched", "über", "Straße", "今天", "天气"};
    for (int line = 0; line < 400; ++line) {
      for (int w = 0; w < 12; ++w) f << words[rng() % 18] << (w == 11 ? "\n" : " ");
    }
  }
  const std::string cmd = "spm_train --input='" + (dir / "corpus.txt").string() + "' --model_prefix='" +
                          (dir / "m").string() +
                          "' --vocab_size=300 --hard_vocab_limit=false --character_coverage=1.0 --byte_fallback=true --minloglevel=2 "
                          ">/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto t = load((dir / "m.model").string());
  CHECK(t->kind() == "sentencepiece");
  CHECK((t->vocab_size() > 256 && t->vocab_size() <= 300));
  for (const std::string s : {"the quiet river ran under old bridges", "über die Straße 今天天气", "unseen words: zebra!"}) {
    auto ids = t->encode(s);
    REQUIRE(ids.ok());
    CHECK_FALSE(ids->empty());
    auto back = t->decode(*ids);
    REQUIRE(back.ok());
    CHECK(*back == s);
    // Streaming through token_bytes gives the same text, bar the dummy-prefix space.
    wb::StreamDecoder dec(*t);
    std::string all;
    for (int32_t id : *ids) all += dec.push(id).value();
    all += dec.flush();
    CHECK(all == " " + s);
  }
  auto bad = wb::load_tokenizer((dir / "corpus.txt").string().replace((dir / "corpus.txt").string().size() - 4, 4, ".model"));
  CHECK_FALSE(bad.ok());
}

TEST_CASE("load_tokenizer names a missing or wrong file", "[tokenizer]") {
  auto r = wb::load_tokenizer("/nonexistent/vocab.txt");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("/nonexistent/vocab.txt"));
  auto dir = wb::test::temp_dir("tok-bad");
  std::ofstream(dir / "x.model") << "not a model";
  r = wb::load_tokenizer((dir / "x.model").string());
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("x.model"));
  r = wb::load_tokenizer(converted("bad-int64.pth"));  // not a vocab file
  REQUIRE_FALSE(r.ok());
}

TEST_CASE("wb tokenize prints ids separated by single spaces", "[tokenizer][cli]") {
  const std::string vocab = fixture("tokenizers/rwkv_vocab_v20230424.txt");
  auto r = wb::test::run_wb("tokenize --tokenizer '" + vocab + "' --text 'Today is a beautiful day. 今天是美好的一天。'");
  CHECK(r.exit_code == 0);
  CHECK(r.out == "33520 4600 332 59219 21509 47 33 10381 11639 13091 15597 11685 14734 10250 11639 10080\n");
  // A file's raw bytes (NUL, invalid UTF-8) are encoded as they are.
  auto dir = wb::test::temp_dir("tok-cli");
  {
    std::ofstream f(dir / "raw.bin", std::ios::binary);
    f.write("a\0\xff\n\n", 5);
  }
  r = wb::test::run_wb("tokenize --tokenizer '" + vocab + "' --text-file '" + (dir / "raw.bin").string() + "'");
  CHECK(r.exit_code == 0);
  CHECK(r.out == "98 1 256 261\n");
  r = wb::test::run_wb("tokenize --tokenizer byte --text in");
  CHECK(r.out == "105 110\n");
  r = wb::test::run_wb("tokenize --tokenizer byte");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.out, Catch::Contains("--text"));
  r = wb::test::run_wb("tokenize --tokenizer /nonexistent.txt --text x");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.out, Catch::Contains("/nonexistent.txt"));
}
