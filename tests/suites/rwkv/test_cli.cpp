// `wb info` and `wb logits` on the tiny fixtures.
#include <nlohmann/json.hpp>

#include "rwkv_helpers.hpp"

using namespace wb;
using namespace wb::test;

TEST_CASE("wb logits --out writes the expected float32 logits", "[rwkv][cli]") {
  for (const TinyModel& tm : {tiny_models()[0], tiny_models()[4]}) {
    const auto out = temp_dir(std::string("rwkv-cli-") + tm.id) / "logits.bin";
    const std::string model = tiny_path(tm, "FP32");
    auto r = run_wb("logits '" + model + "' --tokens 34,105,110 --threads 2 --out '" + out.string() + "'");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    const auto got = read_f32(out.string());
    REQUIRE(got.size() == 256);
    CHECK(max_abs_diff(got, expected_logits(tm)) <= 1e-4);
    // Same numbers as the library call.
    auto m = must_load(model);
    CHECK(max_abs_diff(got, run_sequence(*m, kPrompt)) == 0.0);
  }
}

TEST_CASE("wb logits without --out prints one value per line", "[rwkv][cli]") {
  auto r = run_wb("logits '" + tiny_path(tiny_models()[1], "Q5_0") + "' --tokens 34,105,110");
  REQUIRE(r.exit_code == 0);
  size_t lines = 0;
  for (char c : r.out) lines += c == '\n';
  CHECK(lines == 256);
}

TEST_CASE("wb info prints one JSON object with the model's facts", "[rwkv][cli]") {
  auto r = run_wb("info '" + tiny_path(tiny_models()[3], "FP16") + "'");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"arch", "n_layer", "n_embd", "n_vocab", "format", "dtype", "params", "n_head", "head_size",
                          "n_ffn", "state_bytes", "path"})
    CHECK(j.contains(key));
  CHECK(j["arch"] == "rwkv6");
  CHECK(j["n_layer"] == 12);
  CHECK(j["n_embd"] == 64);
  CHECK(j["n_vocab"] == 256);
  CHECK(j["format"] == "rwkv.cpp");
  CHECK(j["dtype"] == "f16");
  CHECK(j["params"] == 1028352);
  CHECK(j["state_bytes"] == 12 * (2 + 8) * 64 * 4);
}

TEST_CASE("wb logits and info fail cleanly on bad input", "[rwkv][cli]") {
  const std::string model = tiny_path(tiny_models()[4], "FP32");
  auto a = run_wb("logits '" + model + "' --tokens 34,x");
  CHECK(a.exit_code != 0);
  CHECK(a.out.find("--tokens") != std::string::npos);
  auto b = run_wb("logits '" + model + "' --tokens 999");
  CHECK(b.exit_code != 0);
  CHECK(b.out.find("outside the vocabulary") != std::string::npos);
  auto c = run_wb("info /nonexistent/model.bin");
  CHECK(c.exit_code != 0);
  CHECK(c.out.find("/nonexistent/model.bin") != std::string::npos);
  auto d = run_wb("logits '" + model + "' --tokens 1 --backend nosuch");
  CHECK(d.exit_code != 0);
  auto e = run_wb("info '" + std::string(WB_FIXTURES_DIR) + "/rwkv-cpp-tiny/README.md'");
  CHECK(e.exit_code != 0);
  CHECK(e.out.find("unrecognised") != std::string::npos);
}
