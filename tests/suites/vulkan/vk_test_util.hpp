// Shared helpers of the Vulkan test suite: one Context per process (a missing
// Vulkan device FAILS the test: CI has lavapipe), random data, buffer access.
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "core/backend/vulkan/vk_context.hpp"
#include "core/backend/vulkan/vk_ops.hpp"
#include "support/fixtures.hpp"

namespace wb::test {

inline vk::Context& vk_ctx() {
  static std::unique_ptr<vk::Context> ctx = [] {
    auto c = vk::Context::create({});
    INFO("no usable Vulkan device: " << (c ? std::string() : c.error().message));
    REQUIRE(c.ok());
    return std::move(*c);
  }();
  return *ctx;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline vk::Buffer to_device(const std::vector<float>& v) {
  auto b = vk::upload_floats(vk_ctx(), v);
  REQUIRE(b.ok());
  return std::move(*b);
}

inline vk::Buffer device_zeros(size_t n) { return to_device(std::vector<float>(n, 0.0f)); }

inline std::vector<float> from_device(const vk::Buffer& b, size_t n) {
  std::vector<float> v(n);
  auto st = vk_ctx().download(b, 0, v.data(), n * 4);
  REQUIRE(st.ok());
  return v;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(std::isfinite(a[i]));
    m = std::max(m, std::fabs(a[i] - b[i]));
  }
  return m;
}

#define WB_REQUIRE_OK(expr)                                             \
  do {                                                                  \
    const auto& wb_req_r = (expr);                                      \
    INFO((wb_req_r.ok() ? std::string() : wb_req_r.error().message));   \
    REQUIRE(wb_req_r.ok());                                             \
  } while (0)

}  // namespace wb::test
