// `wb logits / info --backend vulkan` end to end on lavapipe.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>

#include "core/backend/vulkan/vk_context.hpp"
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

TEST_CASE("wb with a Vulkan device that does not exist fails cleanly, or falls back with --backend auto",
          "[gpu][vulkan][cli]") {
  const std::string v7 = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  auto r = run_wb("logits '" + v7 + "' --tokens 1 --backend vulkan --device 63");
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("device 63") != std::string::npos);
  // With no Vulkan driver at all (the loader pointed at a file that does not
  // exist), "vulkan" says so and "auto" falls back to the CPU.
  // The caller's own settings come back afterwards (a GPU machine may need
  // VK_DRIVER_FILES to find its driver at all).
  const char* names[2] = {"VK_DRIVER_FILES", "VK_ICD_FILENAMES"};
  std::optional<std::string> saved[2];
  for (int i = 0; i < 2; ++i) {
    if (const char* v = std::getenv(names[i])) saved[i] = v;
    ::setenv(names[i], "/nonexistent-wb-test-icd.json", 1);
  }
  r = run_wb("info '" + v7 + "' --backend vulkan");
  auto r_auto = run_wb("info '" + v7 + "' --backend auto");
  for (int i = 0; i < 2; ++i) {
    if (saved[i]) ::setenv(names[i], saved[i]->c_str(), 1);
    else ::unsetenv(names[i]);
  }
  INFO(r.out);
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("no Vulkan driver") != std::string::npos);
  INFO(r_auto.out);
  CHECK(r_auto.exit_code == 0);
  CHECK(r_auto.out.find("\"backend\":\"cpu\"") != std::string::npos);
}

TEST_CASE("wb --backend auto takes a GPU when there is one and the CPU backend where lavapipe is all there is",
          "[gpu][vulkan][cli]") {
  const std::string v7 = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  auto devs = wb::vk::list_devices();
  REQUIRE(devs);
  REQUIRE(!devs->empty());
  bool gpu = false;
  for (const auto& d : *devs) gpu = gpu || d.type != "cpu";
  auto r = run_wb("info '" + v7 + "' --backend auto");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(gpu ? "\"backend\":\"vulkan\"" : "\"backend\":\"cpu\"") != std::string::npos);
  // A device named on purpose is used, a CPU device too.
  auto named = run_wb("info '" + v7 + "' --backend auto --device 0");
  INFO(named.out);
  REQUIRE(named.exit_code == 0);
  CHECK(named.out.find("\"backend\":\"vulkan\"") != std::string::npos);
}

TEST_CASE("wb bench --backend vulkan sets decode against the memory its device reads", "[gpu][vulkan][cli]") {
  // A GPU's own memory, measured by a read kernel on the device; a CPU device's
  // (lavapipe) is the host's, measured as for the CPU backend.
  const std::string dir = temp_dir("vk_cli_bench").string();
  auto r = run_wb("synth --arch rwkv7 --layers 1 --embd 64 --vocab 256 --dtype f16 --out " + dir + "/m.gguf");
  REQUIRE(r.exit_code == 0);
  r = run_wb("bench " + dir + "/m.gguf --backend vulkan --device 0 -p 0 -n 4 -r 1 --bw-mib 16");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  auto devs = wb::vk::list_devices();
  REQUIRE(devs);
  const bool cpu_device = devs->front().type == "cpu";
  CHECK(r.out.find(cpu_device ? "read_bandwidth_of host\n" : "read_bandwidth_of device\n") != std::string::npos);
  for (const char* key : {"tg4 ", "read_bandwidth_gbs ", "decode_bound_tps ", "bandwidth_fraction "})
    CHECK(r.out.find(key) != std::string::npos);
}

TEST_CASE("wb logits and info --backend vulkan on RWKV-4, 5.1, 5.2 and 6", "[gpu][vulkan][cli]") {
  for (const char* id : {"4v0-660K", "5v1-730K", "5v2-730K", "6v0-1m"}) {
    INFO(id);
    const std::string dir = std::string(id) == "6v0-1m" ? "rwkv-cpp-tiny/history-6v0-1m/" : "rwkv-cpp-tiny/";
    const std::string model = fixture(dir + "tiny-rwkv-" + id + "-FP32.bin");
    const auto tmp = temp_dir("vk_cli_archs");
    const std::string out = (tmp / "l.bin").string();
    auto r = run_wb("logits '" + model + "' --tokens 34,105,110 --backend vulkan --out '" + out + "'");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    auto got = read_bytes(out), want = read_bytes(fixture(dir + "expected-logits-" + id + ".bin"));
    REQUIRE(got.size() == 1024);
    REQUIRE(want.size() == 1024);
    float g[256], w[256];
    std::memcpy(g, got.data(), 1024);
    std::memcpy(w, want.data(), 1024);
    float worst = 0;
    for (int i = 0; i < 256; ++i) worst = std::max(worst, std::fabs(g[i] - w[i]));
    CHECK(worst <= 1e-4f);
    r = run_wb("info '" + model + "' --backend vulkan");
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["backend"] == "vulkan");
    CHECK(j["memory"]["weights"].get<uint64_t>() > 1000000);
    CHECK(j["memory"]["states"].get<uint64_t>() == j["state_bytes"].get<uint64_t>() * 16);  // max_batch slots
  }
}
