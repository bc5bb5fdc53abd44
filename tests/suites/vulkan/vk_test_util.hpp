// Shared helpers of the Vulkan test suite: one Context per process (a missing
// Vulkan device FAILS the test: CI has lavapipe), random data, buffer access.
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/backend/vulkan/vk_context.hpp"
#include "core/backend/vulkan/vk_ops.hpp"
#include "core/util/log.hpp"
#include "support/compare.hpp"
#include "support/fixtures.hpp"

namespace wb::test {

inline std::unique_ptr<vk::Context> make_ctx(vk::KernelPath path) {
  vk::ContextOptions o;
  o.kernels = path;
  auto c = vk::Context::create(o);
  INFO("no usable Vulkan device: " << (c ? std::string() : c.error().message));
  REQUIRE(c.ok());
  return std::move(*c);
}

// The default context (texel-buffer matmuls on lavapipe, storage ones on GPUs).
inline vk::Context& vk_ctx() {
  static std::unique_ptr<vk::Context> ctx = make_ctx(vk::KernelPath::automatic);
  return *ctx;
}

// Forced onto the other matmul path, so CI on lavapipe tests the GPU kernels too.
inline vk::Context& vk_ctx_other() {
  static std::unique_ptr<vk::Context> ctx =
      make_ctx(vk_ctx().prefers_texel_kernels() ? vk::KernelPath::storage : vk::KernelPath::texel);
  return *ctx;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline vk::Buffer to_device(const std::vector<float>& v, vk::Context& ctx = vk_ctx()) {
  auto b = vk::upload_floats(ctx, v);
  REQUIRE(b.ok());
  return std::move(*b);
}

inline vk::Buffer device_zeros(size_t n, vk::Context& ctx = vk_ctx()) {
  return to_device(std::vector<float>(n, 0.0f), ctx);
}

inline std::vector<float> from_device(const vk::Buffer& b, size_t n, vk::Context& ctx = vk_ctx()) {
  std::vector<float> v(n);
  auto st = ctx.download(b, 0, v.data(), n * 4);
  REQUIRE(st.ok());
  return v;
}

// A Log that keeps its warnings (for the models' `log` option).
struct WarningLog {
  Log log;
  std::vector<std::string> warnings;
  WarningLog() {
    log.set_sink([this](LogLevel l, std::string_view msg) {
      if (l == LogLevel::warn) warnings.emplace_back(msg);
    });
  }
};

#define WB_REQUIRE_OK(expr)                                             \
  do {                                                                  \
    const auto& wb_req_r = (expr);                                      \
    INFO((wb_req_r.ok() ? std::string() : wb_req_r.error().message));   \
    REQUIRE(wb_req_r.ok());                                             \
  } while (0)

}  // namespace wb::test
