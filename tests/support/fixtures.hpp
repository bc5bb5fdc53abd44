// Test access to external fixtures (../shared/fixtures through WB_FIXTURES_DIR)
// and to the built `wb` tool. A missing fixture fails the test loudly: it
// never passes silently.
#pragma once
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace wb::test {

inline std::string fixture(const std::string& rel) {
  std::filesystem::path p = std::filesystem::path(WB_FIXTURES_DIR) / rel;
  INFO("fixture " << p.string() << " (set WB_FIXTURES_DIR)");
  REQUIRE(std::filesystem::exists(p));
  return p.string();
}

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A fresh empty folder under the build tree for one test.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::path(WB_BUILD_DIR) / "test-tmp" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs `wb ARGS` through the shell, capturing its output.
inline CommandResult run_wb(const std::string& args) {
  CommandResult r;
  std::string cmd = std::string("'") + WB_CLI_PATH + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace wb::test
