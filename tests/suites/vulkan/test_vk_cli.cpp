// `wb logits / info --backend vulkan` end to end on lavapipe.
#include <catch2/catch.hpp>

#include <cstring>
#include <nlohmann/json.hpp>

#include "support/fixtures.hpp"

using namespace wb::test;

TEST_CASE("wb logits --backend vulkan writes rwkv.cpp's expected logits", "[gpu][vulkan][cli]") {
  const std::string model = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  const auto dir = temp_dir("vk_cli_logits");
  const std::string out = (dir / "l.bin").string();
  auto r = run_wb("logits '" + model + "' --tokens 34,105,110 --backend vulkan --device 0 --out '" + out + "'");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  auto got = read_bytes(out), want = read_bytes(fixture("rwkv-cpp-tiny/expected-logits-7v0-834K.bin"));
  REQUIRE(got.size() == 1024);
  REQUIRE(want.size() == 1024);
  float g[256], w[256];
  std::memcpy(g, got.data(), 1024);
  std::memcpy(w, want.data(), 1024);
  float worst = 0;
  for (int i = 0; i < 256; ++i) worst = std::max(worst, std::fabs(g[i] - w[i]));
  CHECK(worst <= 1e-4f);
}

TEST_CASE("wb info --backend vulkan reports device memory", "[gpu][vulkan][cli]") {
  auto r = run_wb("info '" + fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP16.bin") + "' --backend vulkan");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["backend"] == "vulkan");
  CHECK(j["arch"] == "rwkv7");
  CHECK(j["memory"]["weights"].get<uint64_t>() > 1000000);  // ~830K f16 parameters minus the host-side embedding
  CHECK(j["memory"]["states"].get<uint64_t>() > 0);
  CHECK(j["memory"]["scratch"].get<uint64_t>() > 0);
  CHECK(!j["device"].get<std::string>().empty());
}

TEST_CASE("wb with a Vulkan device that does not exist, or an architecture it lacks, fails cleanly",
          "[gpu][vulkan][cli]") {
  const std::string v7 = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  auto r = run_wb("logits '" + v7 + "' --tokens 1 --backend vulkan --device 63");
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("device 63") != std::string::npos);
  const std::string v5 = fixture("rwkv-cpp-tiny/tiny-rwkv-5v2-730K-FP32.bin");
  r = run_wb("logits '" + v5 + "' --tokens 1 --backend vulkan");
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("--backend cpu") != std::string::npos);
  // "auto" falls back to the CPU for what Vulkan cannot run.
  r = run_wb("info '" + v5 + "' --backend auto");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("\"backend\":\"cpu\"") != std::string::npos);
}
