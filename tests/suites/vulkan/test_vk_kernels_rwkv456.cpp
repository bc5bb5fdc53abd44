// Parity of the RWKV-4/5/6 kernels (wkv4, wkv5 in its v5/v6 modes, token_mix_dd,
// the FFN's gated add) with their CPU references (core/backend/vulkan/kernel_ref).
// Tolerance: f32 kernels vs double references, 1e-4 relative to the output scale.
#include <catch2/catch.hpp>

#include "core/backend/vulkan/kernel_ref.hpp"
#include "vk_test_util.hpp"

using namespace wb;
using namespace wb::test;

namespace {
float scale_of(const std::vector<float>& v) {
  float m = 1e-3f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}
}  // namespace

TEST_CASE("vulkan: gated residual add and halving", "[gpu][vulkan]") {
  auto& ctx = vk_ctx();
  const uint32_t n = 517;
  auto a = random_floats(n, 31, -4, 4), b = random_floats(n, 32, -4, 4), y0 = random_floats(n, 33);
  vk::Ops ops(ctx);
  for (auto op : {vk::EltOp::add_sigmoid_mul, vk::EltOp::half}) {
    vk::Buffer ab = to_device(a), bb = to_device(b), yb = to_device(y0);
    vk::CommandStream cs(ctx);
    WB_REQUIRE_OK(cs.begin());
    WB_REQUIRE_OK(ops.eltwise(cs, ab, bb, yb, n, op));
    WB_REQUIRE_OK(cs.submit_and_wait());
    INFO("op " << static_cast<int>(op));
    const auto want = vk::ref::eltwise(a, b, op, y0);
    CHECK(max_abs_diff(from_device(yb, n), want) <= 2e-5f);
    CHECK(max_abs_diff(want, y0) > 0.1f);  // the op did change y
  }
}

TEST_CASE("vulkan: data-dependent token-shift mix (RWKV-6)", "[gpu][vulkan][rwkv]") {
  auto& ctx = vk_ctx();
  vk::TokenMixPush p{40, 6, 2, 5, 40, 160};  // 3 sequences of 2 tokens, 5 mixes; prev at offset 40
  const uint32_t nC = p.n_vec * p.C;
  auto x = random_floats(nC, 41);
  auto state = random_floats(3 * p.state_stride, 42);
  auto mix = random_floats(p.n_mix * p.C, 43, 0, 1);
  auto delta = random_floats(p.n_mix * nC, 44, -0.5f, 0.5f);
  vk::Buffer xb = to_device(x), sb = to_device(state), mb = to_device(mix), db = to_device(delta),
             ob = device_zeros(p.n_mix * nC);
  vk::CommandStream cs(ctx);
  vk::Ops ops(ctx);
  WB_REQUIRE_OK(cs.begin());
  WB_REQUIRE_OK(ops.token_mix_dd(cs, xb, sb, mb, db, ob, p));
  WB_REQUIRE_OK(cs.submit_and_wait());
  const auto want = vk::ref::token_mix_dd(x, state, mix, delta, p);
  CHECK(max_abs_diff(from_device(ob, p.n_mix * nC), want) <= 1e-5f);
  // The per-token offsets matter: without them the answer differs.
  CHECK(max_abs_diff(want, vk::ref::token_mix(x, state, mix, p)) > 0.01f);
}

TEST_CASE("vulkan: RWKV-4 WKV recurrence", "[gpu][vulkan][rwkv]") {
  auto& ctx = vk_ctx();
  const uint32_t C = 96, T = 7, n_seq = 2, n_vec = T * n_seq;
  const uint32_t off = 2 * C, stride = 5 * C + 3;
  auto k = random_floats(n_vec * C, 51, -3, 3), v = random_floats(n_vec * C, 52), r = random_floats(n_vec * C, 53);
  auto params = random_floats(2 * C, 54, -1, 1);
  for (uint32_t c = 0; c < C; ++c) params[c] = -std::exp(params[c]);  // decay as rwkv.cpp stores it
  auto state = random_floats(n_seq * stride, 55, 0.1f, 1.0f);
  for (uint32_t s = 0; s < n_seq; ++s)  // pp: one fresh state (-1e30) and one with history
    for (uint32_t c = 0; c < C; ++c) state[s * stride + off + 2 * C + c] = s == 0 ? -1e30f : 0.5f;
  vk::Buffer kb = to_device(k), vb = to_device(v), rb = to_device(r), sb = to_device(state), pb = to_device(params),
             ob = device_zeros(n_vec * C);
  vk::Wkv4Push p{C, T, off, stride};
  vk::CommandStream cs(ctx);
  vk::Ops ops(ctx);
  WB_REQUIRE_OK(cs.begin());
  const vk::Buffer* bufs[6] = {&kb, &vb, &rb, &sb, &pb, &ob};
  WB_REQUIRE_OK(ops.wkv4(cs, bufs, p, n_seq));
  WB_REQUIRE_OK(cs.submit_and_wait());
  auto st_ref = state;
  auto out_ref = vk::ref::wkv4(k, v, r, st_ref, params, p, n_seq);
  CHECK(max_abs_diff(from_device(ob, n_vec * C), out_ref) <= 1e-4f * scale_of(out_ref));
  CHECK(max_abs_diff(from_device(sb, n_seq * stride), st_ref) <= 1e-4f * scale_of(st_ref));
}

TEST_CASE("vulkan: RWKV-5/6 WKV recurrence with group norm and gate", "[gpu][vulkan][rwkv]") {
  auto& ctx = vk_ctx();
  for (uint32_t N : {64u, 8u}) {
    for (uint32_t mode : {0u, uint32_t{vk::kWkv5Gate}, uint32_t{vk::kWkv5DataDecay | vk::kWkv5Gate}}) {
      INFO("N " << N << " mode " << mode);
      const uint32_t C = 128, T = 4, n_seq = 2, n_vec = T * n_seq;
      const uint32_t off = 2 * C, stride = off + C * N + 5;
      vk::ref::Wkv5Vectors in;
      in.r = random_floats(n_vec * C, 61);
      in.k = random_floats(n_vec * C, 62);
      in.v = random_floats(n_vec * C, 63);
      in.wd = random_floats(n_vec * C, 64, -1, 1);
      in.g = random_floats(n_vec * C, 65, -2, 2);
      auto params = random_floats(4 * C, 66);
      if (!(mode & vk::kWkv5DataDecay))
        for (uint32_t c = 0; c < C; ++c) params[c] = 0.5f + 0.45f * params[c];  // exp(-exp(w)) in (0, 1)
      auto state = random_floats(n_seq * stride, 67, -0.5f, 0.5f);
      vk::Buffer rb = to_device(in.r), kb = to_device(in.k), vb = to_device(in.v), wdb = to_device(in.wd),
                 gb = to_device(in.g), sb = to_device(state), pb = to_device(params), ob = device_zeros(n_vec * C);
      vk::Wkv5Push p{C, N, T, off, stride, 1e-5f, mode, 0};
      vk::CommandStream cs(ctx);
      vk::Ops ops(ctx);
      WB_REQUIRE_OK(cs.begin());
      const vk::Buffer* bufs[8] = {&rb, &kb, &vb, &wdb, &gb, &sb, &pb, &ob};
      WB_REQUIRE_OK(ops.wkv5(cs, bufs, p, n_seq));
      WB_REQUIRE_OK(cs.submit_and_wait());
      auto st_ref = state;
      auto out_ref = vk::ref::wkv5(in, st_ref, params, p, n_seq);
      CHECK(max_abs_diff(from_device(ob, n_vec * C), out_ref) <= 1e-4f * scale_of(out_ref));
      CHECK(max_abs_diff(from_device(sb, n_seq * stride), st_ref) <= 1e-4f * scale_of(st_ref));
    }
  }
}
