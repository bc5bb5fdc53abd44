// The command-line contract's shape: verbs listed, versions, clear errors.
#include "support/fixtures.hpp"

using wb::test::run_wb;

TEST_CASE("wb --help lists every verb of the command-line contract", "[cli]") {
  auto r = run_wb("--help");
  CHECK(r.exit_code == 0);
  for (const char* verb : {"info", "logits", "generate", "tokenize", "bench"}) {
    INFO(verb);
    CHECK(r.out.find(std::string("  ") + verb + " ") != std::string::npos);
  }
}

TEST_CASE("wb --version prints the project version", "[cli]") {
  auto r = run_wb("--version");
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string("wb ") + WB_VERSION + "\n");
}

TEST_CASE("wb rejects an unknown verb with a non-zero exit", "[cli]") {
  auto r = run_wb("frobnicate");
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("unknown verb 'frobnicate'") != std::string::npos);
}

TEST_CASE("the fixtures folder is reachable", "[fixtures]") {
  CHECK_FALSE(wb::test::fixture("rwkv-cpp-tiny/README.md").empty());
}
