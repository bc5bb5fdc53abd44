// Containers converted from the rwkv.cpp tiny fixtures by
// tests/tools/convert_fixture.py (.pth, safetensors, GGUF, hostile files).
// ctest runs the converter first (fixture "wb_converted"); a test binary run by
// hand runs it on first use. Nothing generated is committed.
#pragma once
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace wb::test {

inline std::string converted(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(WB_BUILD_DIR) / "converted";
  if (!fs::exists(dir / "STAMP")) {
    const std::string cmd = std::string("/usr/bin/python3 '") + WB_TEST_SOURCE_DIR + "/tools/convert_fixture.py' '" +
                            WB_FIXTURES_DIR + "' '" + dir.string() + "' >/dev/null";
    INFO("running " << cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  const fs::path p = dir / name;
  INFO("converted file " << p.string());
  REQUIRE(fs::exists(p));
  return p.string();
}

// A tensor of the reference dump (<model>.ref): official name, shape, f32 values.
struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

inline std::map<std::string, RefTensor> read_ref(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  auto rd = [&](void* p, size_t n) {
    f.read(static_cast<char*>(p), static_cast<std::streamsize>(n));
    REQUIRE(f.good());
  };
  uint32_t count = 0;
  rd(&count, 4);
  std::map<std::string, RefTensor> out;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t nl = 0, nd = 0;
    rd(&nl, 4);
    rd(&nd, 4);
    std::string name(nl, '\0');
    rd(name.data(), nl);
    RefTensor t;
    t.shape.resize(nd);
    rd(t.shape.data(), 8 * nd);
    size_t n = 1;
    for (auto d : t.shape) n *= static_cast<size_t>(d);
    t.values.resize(n);
    rd(t.values.data(), 4 * n);
    out[name] = std::move(t);
  }
  return out;
}

}  // namespace wb::test
