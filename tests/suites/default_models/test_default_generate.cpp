// The default model is what `wb generate` uses when no model is given, and its
// tokenizer decodes continuations without losing their leading spaces.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>

#include "core/model/default_model.hpp"
#include "core/tokenizer/tokenizer.hpp"
#include "support/fixtures.hpp"

TEST_CASE("the shipped default model is found", "[default_models]") {
  auto d = wb::find_default_model();
  REQUIRE(d.has_value());
  CHECK(d->model.find("prose-rwkv7.pth") != std::string::npos);
}

TEST_CASE("default tokenizer keeps a leading space and decodes pieces the same way as wholes",
          "[default_models][tokenizer]") {
  auto d = wb::find_default_model();
  REQUIRE(d.has_value());
  auto tok = wb::load_tokenizer(d->tokenizer);
  REQUIRE(tok.ok());
  for (const std::string& text : {std::string(" and then she said"), std::string("\nCHAPTER I.\n\nIt was"),
                                 std::string("ROMEO: But soft!")}) {
    auto ids = (*tok)->encode(text);
    REQUIRE(ids.ok());
    auto whole = (*tok)->decode(*ids);
    REQUIRE(whole.ok());
    CHECK(*whole == text);
    std::string pieces;
    for (int32_t id : *ids) pieces += (*tok)->token_bytes(id).value();
    CHECK(pieces == text);
  }
}

TEST_CASE("wb generate without a model continues prose with the default model", "[default_models][cli]") {
  auto r = wb::test::run_wb("generate --prompt 'It was a dark and stormy night' -n 12 --seed 7");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("generated 12 tokens") != std::string::npos);
  auto again = wb::test::run_wb("generate --prompt 'It was a dark and stormy night' -n 12 --seed 7");
  REQUIRE(again.exit_code == 0);
  // Same seed, same settings: the same text (the speed line after it differs).
  CHECK(again.out.substr(0, again.out.find("prompt ")) == r.out.substr(0, r.out.find("prompt ")));
}

TEST_CASE("the composer continues a held-out tune with the shipped default MIDI model", "[default_models][midi]") {
  auto d = wb::find_default_model("midi");
  REQUIRE(d.has_value());
  CHECK(d->model.find("midi-rwkv7.pth") != std::string::npos);
  const auto dir = wb::test::temp_dir("default-midi-" + std::to_string(::getpid()));
  const std::string tune = std::string(WB_CORPORA_DIR) + "/midi/cre-irish-dance/mid/AchreidhJigThe.mid";
  // No --model: the composer picks the default music model and its built-in vocabulary.
  auto r = wb::test::run_wb("plugin run org.rwkv.workbench.composer --project '" + (dir / "tune.wbstory").string() +
                            "' --create --midi '" + tune + "' --continue --seconds 4 --alternatives 1 --seed 3 --out '" +
                            (dir / "out").string() + "'");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  // A trained model writes notes (a random one almost never closes a wait-token bar in 4 s).
  auto pos = r.out.find("alt0.new_notes ");
  REQUIRE(pos != std::string::npos);
  CHECK(std::stoi(r.out.substr(pos + 15)) > 0);
}
