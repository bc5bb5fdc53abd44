// Parity of the shipped default models with the PyTorch training code.
//
// scripts/train/export.py stores, for three held-out prompts, the token ids and the full logits after the
// last token that scripts/train/rwkv7.py computes (float32) from the exported f16 weights. Here the C++
// runtime opens the same file through the normal loader (load_model, .pth reader) and must reproduce them
// within 1e-3 max absolute error, in sequence mode and token by token, on the CPU and (when a Vulkan
// device and backend exist) on Vulkan. The SentencePiece tokenizer shipped beside the model must also
// turn each prompt into the stored ids.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/load.hpp"
#include "core/tokenizer/tokenizer.hpp"

namespace {

const std::string kModels = std::string(WB_TEST_SOURCE_DIR) + "/../assets/models/";

nlohmann::json read_parity(const std::string& name) {
  std::ifstream in(kModels + name + "-parity.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float worst = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

void check_model_parity(const std::string& name, const std::string& backend) {
  const nlohmann::json parity = read_parity(name);
  wb::LoadOptions opt;
  opt.backend = backend;
  auto model = wb::load_model(kModels + parity.at("model").get<std::string>(), opt);
  if (!model.ok() && backend != "cpu" &&
      (model.error().code == wb::Errc::unsupported || model.error().code == wb::Errc::device)) {
    WARN("backend " << backend << " not available here, parity not checked: " << model.error().message);
    return;
  }
  INFO("load: " << (model.ok() ? std::string("ok") : model.error().message));
  REQUIRE(model.ok());
  auto& m = *model.value();
  REQUIRE(m.info().arch == wb::Arch::v7);
  const auto& cfg = parity.at("config");
  REQUIRE(m.info().n_vocab == cfg.at("vocab_size").get<int>());
  REQUIRE(m.info().n_layer == cfg.at("n_layer").get<int>());

  // The MIDI model has no tokenizer file: the runtime builds the music vocabulary in code.
  const auto tok_name = parity.at("tokenizer").get<std::string>();
  auto tok = wb::load_tokenizer(tok_name == "midi" ? tok_name : kModels + tok_name);
  REQUIRE(tok.ok());
  REQUIRE(tok.value()->vocab_size() == cfg.at("vocab_size").get<int>());

  for (const auto& p : parity.at("prompts")) {
    const auto text = p.at("text").get<std::string>();
    const auto tokens = p.at("tokens").get<std::vector<int32_t>>();
    const auto expected = p.at("logits").get<std::vector<float>>();
    INFO(name << " on " << backend << ", prompt: " << text);
    REQUIRE(expected.size() == size_t(m.info().n_vocab));

    auto ids = tok.value()->encode(text);
    REQUIRE(ids.ok());
    CHECK(ids.value() == tokens);

    // Sequence mode.
    std::vector<float> logits(expected.size());
    wb::State s = m.new_state();
    REQUIRE(m.prefill(tokens, s, logits).ok());
    CHECK(max_abs_diff(logits, expected) <= 1e-3f);
    CHECK(std::max_element(logits.begin(), logits.end()) - logits.begin() == p.at("argmax").get<int>());

    // Token by token from a fresh state.
    wb::State s2 = m.new_state();
    for (int32_t t : tokens) REQUIRE(m.prefill(std::span<const int32_t>(&t, 1), s2, logits).ok());
    CHECK(max_abs_diff(logits, expected) <= 1e-3f);
  }
}

}  // namespace

TEST_CASE("default prose model reproduces the training code's logits on the CPU", "[default_models][rwkv]") {
  check_model_parity("prose", "cpu");
}

TEST_CASE("default prose model reproduces the training code's logits on Vulkan when present",
          "[default_models][rwkv][vulkan]") {
  check_model_parity("prose", "vulkan");
}

TEST_CASE("default MIDI model reproduces the training code's logits on the CPU", "[default_models][rwkv][midi]") {
  check_model_parity("midi", "cpu");
}

TEST_CASE("default MIDI model reproduces the training code's logits on Vulkan when present",
          "[default_models][rwkv][midi][vulkan]") {
  check_model_parity("midi", "vulkan");
}
