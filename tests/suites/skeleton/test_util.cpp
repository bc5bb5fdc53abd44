#include <catch2/catch.hpp>

#include "core/model/tensor_file.hpp"
#include "core/util/log.hpp"
#include "core/util/mapped_file.hpp"
#include "core/util/result.hpp"
#include "support/fixtures.hpp"
#include "wb/kernels.hpp"

namespace {
wb::Result<int> parse_positive(int x) {
  if (x <= 0) return wb::make_error(wb::Errc::invalid_argument, "{} is not positive", x);
  return x;
}
wb::Result<int> doubled(int x) {
  WB_TRY(v, parse_positive(x));
  return v * 2;
}
}  // namespace

TEST_CASE("Result carries a value or an error through WB_TRY", "[util]") {
  auto ok = doubled(21);
  REQUIRE(ok);
  CHECK(*ok == 42);
  auto bad = doubled(-1);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == wb::Errc::invalid_argument);
  CHECK(bad.error().message == "-1 is not positive");
}

TEST_CASE("Log delivers messages at or above its level to the sink", "[util]") {
  wb::Log log;
  std::vector<std::string> seen;
  log.set_sink([&](wb::LogLevel, std::string_view m) { seen.emplace_back(m); });
  log.debug("hidden {}", 1);
  log.warn("shown {}", 2);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == "shown 2");
}

TEST_CASE("MappedFile maps a file and reports missing ones clearly", "[util]") {
  auto path = wb::test::fixture("rwkv-cpp-tiny/expected-logits-7v0-834K.bin");
  auto m = wb::MappedFile::open(path);
  REQUIRE(m);
  CHECK((*m)->bytes().size() == 1024);
  auto missing = wb::MappedFile::open("/nonexistent/model.bin");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("/nonexistent/model.bin") != std::string::npos);
}

TEST_CASE("dtype sizes follow ggml's block layouts", "[util]") {
  CHECK(*wb::dtype_bytes_for(wb::DType::q5_0, 64) == 44);
  CHECK(*wb::dtype_bytes_for(wb::DType::f16, 3) == 6);
  CHECK_FALSE(wb::dtype_bytes_for(wb::DType::q8_0, 33));
}

TEST_CASE("compute kernels are embedded as SPIR-V", "[kernels]") {
  const auto* k = wb::kernels::find("fill_f32");
  REQUIRE(k != nullptr);
  CHECK(k->size_bytes % 4 == 0);
  CHECK(k->words[0] == 0x07230203u);  // SPIR-V magic
}
