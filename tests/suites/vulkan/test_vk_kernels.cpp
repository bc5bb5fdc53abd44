// Parity of every Vulkan kernel with its CPU reference (core/backend/vulkan/kernel_ref).
// Tolerances: f32 kernels 1e-4 relative to the output scale (float vs double
// accumulation); f16 / Q8_0 weights are compared with the reference run on the
// same rounded weights, so the same tolerance applies.
#include <catch2/catch.hpp>

#include <cstring>

#include "core/backend/vulkan/half.hpp"
#include "core/backend/vulkan/kernel_ref.hpp"
#include "core/backend/vulkan/read_bandwidth.hpp"
#include "vk_test_util.hpp"

using namespace wb;
using namespace wb::test;

namespace {

float scale_of(const std::vector<float>& v) {
  float m = 1e-3f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

// Builds a Q8_0 tensor from random codes and scales, ggml's 34-byte blocks.
struct Q8Tensor {
  std::vector<uint8_t> bytes;
  TensorView view;
};
Q8Tensor make_q8(uint32_t rows, uint32_t cols, uint32_t seed) {
  Q8Tensor q;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(-127, 127);
  std::uniform_real_distribution<float> sc(0.001f, 0.02f);
  const uint64_t blocks = uint64_t{rows} * cols / 32;
  q.bytes.resize(blocks * 34);
  for (uint64_t b = 0; b < blocks; ++b) {
    uint16_t d = vk::float_to_half(sc(rng));
    std::memcpy(&q.bytes[b * 34], &d, 2);
    for (int j = 0; j < 32; ++j) q.bytes[b * 34 + 2 + j] = static_cast<uint8_t>(static_cast<int8_t>(code(rng)));
  }
  q.view.name = "test.q8";
  q.view.dtype = DType::q8_0;
  q.view.shape = {rows, cols};
  q.view.data = q.bytes.data();
  q.view.nbytes = q.bytes.size();
  return q;
}

// A random rows x cols matrix of `type` on the device (split into parts of at
// most max_part_bytes when not 0), and the float values the device holds.
struct TestMatrix {
  std::vector<float> values;
  vk::DeviceMatrix device;
};
TestMatrix upload_test_matrix(vk::Context& ctx, vk::WeightType type, uint32_t rows, uint32_t cols,
                              uint64_t max_part_bytes) {
  vk::UploadOptions opt;
  opt.max_part_bytes = max_part_bytes;
  std::vector<float> W = random_floats(size_t{rows} * cols, 11 + rows, -0.2f, 0.2f);
  Result<vk::DeviceMatrix> dm = make_error(Errc::internal, "unset");
  if (type == vk::WeightType::q8_0) {
    Q8Tensor q = make_q8(rows, cols, 5 + cols);
    auto f = vk::tensor_to_f32(q.view);
    REQUIRE(f.ok());
    W = *f;
    dm = vk::upload_matrix(ctx, q.view, opt);
  } else {
    if (type == vk::WeightType::f16)
      for (float& w : W) w = vk::half_to_float(vk::float_to_half(w));
    dm = vk::upload_matrix_f32(ctx, W, rows, cols, type, opt);
  }
  WB_REQUIRE_OK(dm);
  if (max_part_bytes) REQUIRE(dm->parts.size() > 1);
  return {std::move(W), std::move(*dm)};
}

void check_matmul_on(vk::Context& ctx, vk::WeightType type, uint32_t rows, uint32_t cols, uint32_t n_vec,
                     vk::Act act, bool accumulate, uint64_t max_part_bytes, uint32_t row_threads = 0) {
  INFO("texel kernels: " << ctx.prefers_texel_kernels() << ", row threads " << row_threads);
  TestMatrix m = upload_test_matrix(ctx, type, rows, cols, max_part_bytes);
  const std::vector<float>& W = m.values;
  const vk::DeviceMatrix* dm = &m.device;

  // x with an offset and a stride larger than cols, y likewise, to test addressing.
  const uint32_t x_off = 8, x_stride = cols + 4, y_off = 3, y_stride = rows + 5;
  std::vector<float> xs = random_floats(x_off + size_t{n_vec} * x_stride, 99 + n_vec);
  std::vector<float> x(size_t{n_vec} * cols);
  for (uint32_t v = 0; v < n_vec; ++v)
    std::memcpy(&x[size_t{v} * cols], &xs[x_off + size_t{v} * x_stride], cols * 4);
  std::vector<float> y0 = random_floats(y_off + size_t{n_vec} * y_stride, 7);
  auto want = vk::ref::matmul(W, rows, cols, x, n_vec, act);
  vk::Buffer xb = to_device(xs, ctx), yb = to_device(y0, ctx);
  vk::CommandStream cs(ctx);
  vk::Ops ops(ctx);
  ops.set_row_threads(row_threads);
  WB_REQUIRE_OK(cs.begin());
  WB_REQUIRE_OK(ops.matmul(cs, *dm, xb, x_off, x_stride, yb, y_off, y_stride, n_vec, act, accumulate));
  WB_REQUIRE_OK(cs.submit_and_wait());
  auto y = from_device(yb, y0.size(), ctx);
  std::vector<float> got(want.size());
  for (uint32_t v = 0; v < n_vec; ++v)
    for (uint32_t r = 0; r < rows; ++r) {
      size_t i = y_off + size_t{v} * y_stride + r;
      got[size_t{v} * rows + r] = accumulate ? y[i] - y0[i] : y[i];
    }
  // Untouched padding stays as it was.
  CHECK(y[0] == y0[0]);
  CHECK(y[y_off + rows] == y0[y_off + rows]);
  REQUIRE(max_abs_diff(got, want) <= 1e-4f * scale_of(want));
}

// Both matmul paths: texel-buffer kernels (CPU devices) and storage-buffer ones (GPUs).
void check_matmul(vk::WeightType type, uint32_t rows, uint32_t cols, uint32_t n_vec, vk::Act act, bool accumulate,
                  uint64_t max_part_bytes) {
  check_matmul_on(vk_ctx(), type, rows, cols, n_vec, act, accumulate, max_part_bytes);
  check_matmul_on(vk_ctx_other(), type, rows, cols, n_vec, act, accumulate, max_part_bytes);
}

}  // namespace

TEST_CASE("vulkan: a device is present and described", "[gpu][vulkan]") {
  auto devs = vk::list_devices();
  INFO((devs ? std::string() : devs.error().message));
  REQUIRE(devs.ok());
  REQUIRE(!devs->empty());
  for (const auto& d : *devs) {
    CHECK(!d.name.empty());
    CHECK(d.max_storage_buffer_range > 0);
    CHECK(d.subgroup_size > 0);
    CHECK(vk::describe(d).find(d.name) != std::string::npos);
  }
  auto out = run_wb("devices");
  CHECK(out.exit_code == 0);
  CHECK(out.out.find((*devs)[0].name) != std::string::npos);
}

TEST_CASE("vulkan: bad device index and absurd buffers are errors, not aborts", "[gpu][vulkan]") {
  auto c = vk::Context::create({.device_index = 999});
  REQUIRE(!c.ok());
  CHECK(c.error().code == Errc::invalid_argument);
  auto& ctx = vk_ctx();
  auto b = ctx.make_buffer(ctx.device().max_storage_buffer_range + 1, vk::Memory::device);
  REQUIRE(!b.ok());
  CHECK(b.error().code == Errc::limit);
  CHECK(run_wb("devices --bogus").exit_code != 0);
}

// Model loads create and destroy contexts; on an H200 the 26th create-destroy
// cycle of a Vulkan instance in one process failed until the instance was
// shared (vk_context.cpp, shared_instance). 40 cycles here.
TEST_CASE("vulkan: contexts can be created and destroyed many times in one process", "[gpu][vulkan]") {
  for (int i = 0; i < 40; ++i) {
    auto c = vk::Context::create({});
    INFO("cycle " << i << ": " << (c ? std::string() : c.error().message));
    REQUIRE(c.ok());
  }
}

TEST_CASE("vulkan: fill", "[gpu][vulkan]") {
  auto& ctx = vk_ctx();
  vk::Buffer b = device_zeros(1000);
  vk::CommandStream cs(ctx);
  vk::Ops ops(ctx);
  WB_REQUIRE_OK(cs.begin());
  WB_REQUIRE_OK(ops.fill(cs, b, 999, 2.5f));
  WB_REQUIRE_OK(cs.submit_and_wait());
  auto v = from_device(b, 1000);
  CHECK(v[0] == 2.5f);
  CHECK(v[998] == 2.5f);
  CHECK(v[999] == 0.0f);
}

TEST_CASE("vulkan: copy_unless copies only while its flag is clear", "[gpu][vulkan]") {
  // The persistent decode layer's states go back to their slots through it: a
  // call whose grid barrier gave up must leave them as they were.
  auto& ctx = vk_ctx();
  const uint32_t n = 70000, src_off = 5, dst_off = 9;  // more words than one workgroup per 256
  const std::vector<float> src = random_floats(src_off + n + 3, 21), dst0 = random_floats(dst_off + n + 7, 22);
  for (uint32_t flag_value : {0u, 1u, 0x80000000u}) {
    INFO("flag " << flag_value);
    float flag_words[4] = {};
    std::memcpy(&flag_words[2], &flag_value, 4);
    vk::Buffer sb = to_device(src, ctx), db = to_device(dst0, ctx);
    vk::Buffer fb = to_device(std::vector<float>(flag_words, flag_words + 4), ctx);
    vk::CommandStream cs(ctx);
    vk::Ops ops(ctx);
    WB_REQUIRE_OK(cs.begin());
    WB_REQUIRE_OK(ops.copy_unless(cs, sb, src_off, db, dst_off, n, fb, 2));
    WB_REQUIRE_OK(cs.submit_and_wait());
    std::vector<uint32_t> want(dst0.size()), src_bits(src.size());
    std::memcpy(want.data(), dst0.data(), dst0.size() * 4);
    std::memcpy(src_bits.data(), src.data(), src.size() * 4);
    vk::ref::copy_unless(src_bits, src_off, want, dst_off, n, flag_value);
    const std::vector<float> got = from_device(db, dst0.size(), ctx);
    REQUIRE(std::memcmp(got.data(), want.data(), got.size() * 4) == 0);
    if (flag_value == 0) CHECK(got[dst_off + n - 1] == src[src_off + n - 1]);
    else CHECK(got == dst0);
  }
}

TEST_CASE("vulkan: read_sum's partial sums match the CPU reference", "[gpu][vulkan]") {
  // The read kernel behind the device's read bandwidth (wb bench): every word
  // read once, by the workgroup the grid-stride order gives it, with the tail
  // after the four-load steps too.
  auto& ctx = vk_ctx();
  const uint32_t n4 = 70001;  // not a multiple of 4 * 256 * groups: the tail loop runs
  std::vector<uint32_t> words(size_t{n4} * 4);
  std::mt19937 rng(7);
  for (auto& w : words) w = rng();
  auto data = ctx.make_buffer(words.size() * 4, vk::Memory::device);
  WB_REQUIRE_OK(data);
  WB_REQUIRE_OK(ctx.upload(*data, 0, words.data(), words.size() * 4));
  auto p = ctx.pipeline("read_sum", 2, sizeof(vk::ReadSumPush));
  WB_REQUIRE_OK(p);
  for (uint32_t groups : {1u, 3u, 64u}) {
    INFO("groups " << groups);
    const uint32_t part_off = 5;
    vk::Buffer partial = device_zeros(part_off + groups);
    vk::CommandStream cs(ctx);
    const vk::ReadSumPush push{n4, part_off};
    WB_REQUIRE_OK(cs.begin());
    WB_REQUIRE_OK(cs.dispatch(**p, {&*data, &partial}, &push, sizeof push, groups));
    WB_REQUIRE_OK(cs.submit_and_wait());
    std::vector<uint32_t> got(part_off + groups);
    WB_REQUIRE_OK(ctx.download(partial, 0, got.data(), got.size() * 4));
    const std::vector<uint32_t> want = vk::ref::read_sum(words, groups);
    CHECK(std::vector<uint32_t>(got.begin() + part_off, got.end()) == want);
    CHECK(got[0] == 0);  // nothing before part_off
  }
}

TEST_CASE("vulkan: the read-bandwidth measurement times reads that happened", "[gpu][vulkan]") {
  // measure_read_bandwidth checks the sums of its first read (a buffer of ones)
  // before it times anything; on lavapipe it measures storage-buffer reads, and
  // a model on a CPU device leaves the bound to the host's memory.
  auto& ctx = vk_ctx();
  auto gbs = vk::measure_read_bandwidth(ctx, (1u << 20) + 4096);  // a tail for the last workgroups
  WB_REQUIRE_OK(gbs);
  CHECK(*gbs > 0.0);
  CHECK(std::isfinite(*gbs));
  auto small = vk::measure_read_bandwidth(ctx, 4096);
  CHECK(!small.ok());
}

TEST_CASE("vulkan: matmul f32 matches the CPU reference", "[gpu][vulkan]") {
  check_matmul(vk::WeightType::f32, 37, 96, 1, vk::Act::none, false, 0);
  check_matmul(vk::WeightType::f32, 64, 200, 3, vk::Act::tanh, false, 0);
  check_matmul(vk::WeightType::f32, 33, 1040, 17, vk::Act::sigmoid, true, 0);
  check_matmul(vk::WeightType::f32, 50, 64, 9, vk::Act::relu_sq, false, 0);
}

TEST_CASE("vulkan: matmul f16 matches the CPU reference", "[gpu][vulkan]") {
  check_matmul(vk::WeightType::f16, 37, 96, 1, vk::Act::none, false, 0);
  check_matmul(vk::WeightType::f16, 70, 520, 5, vk::Act::none, true, 0);
}

TEST_CASE("vulkan: matmul Q8_0 matches the CPU reference", "[gpu][vulkan]") {
  check_matmul(vk::WeightType::q8_0, 37, 96, 1, vk::Act::none, false, 0);
  check_matmul(vk::WeightType::q8_0, 41, 640, 12, vk::Act::tanh, false, 0);
}

// From 16 vectors on, the storage path runs the tiled product (gemm_*.comp):
// shapes with partial 64x64 tiles and a half 16-wide k step (cols % 16 == 8).
TEST_CASE("vulkan: tiled matmul for prefill chunks matches the CPU reference", "[gpu][vulkan]") {
  check_matmul(vk::WeightType::f32, 130, 200, 70, vk::Act::relu_sq, true, 0);
  check_matmul(vk::WeightType::f32, 64, 64, 16, vk::Act::none, false, 0);
  check_matmul(vk::WeightType::f16, 70, 520, 65, vk::Act::none, true, 0);
  check_matmul(vk::WeightType::f16, 200, 96, 129, vk::Act::sigmoid, false, 0);
  check_matmul(vk::WeightType::q8_0, 100, 640, 33, vk::Act::tanh, false, 0);
  check_matmul(vk::WeightType::q8_0, 45, 64, 20, vk::Act::none, true, 64 * 8);  // split into parts
}

// The per-row kernels at the workgroup widths besides the default 128 (64, 256):
// rows shorter than one pass, one pass and a bit, several passes; split matrices.
TEST_CASE("vulkan: matmul at other workgroup widths matches the CPU reference", "[gpu][vulkan]") {
  vk::Context& ctx = vk_ctx().prefers_texel_kernels() ? vk_ctx_other() : vk_ctx();
  for (uint32_t threads : {64u, 256u}) {
    check_matmul_on(ctx, vk::WeightType::f32, 37, 96, 1, vk::Act::none, false, 0, threads);
    check_matmul_on(ctx, vk::WeightType::f16, 70, 1040, 1, vk::Act::tanh, true, 0, threads);
    check_matmul_on(ctx, vk::WeightType::q8_0, 41, 2112, 3, vk::Act::none, false, 0, threads);
    check_matmul_on(ctx, vk::WeightType::f16, 45, 4160, 1, vk::Act::relu_sq, false, 4160 * 2 * 8, threads);
  }
}

TEST_CASE("vulkan: matrices beyond the buffer limit are split by rows", "[gpu][vulkan]") {
  // Parts of at most ~10 rows force 4-7 dispatches writing disjoint row ranges.
  check_matmul(vk::WeightType::f32, 45, 64, 3, vk::Act::none, false, 64 * 4 * 10);
  check_matmul(vk::WeightType::f16, 45, 64, 1, vk::Act::none, true, 64 * 2 * 7);
  check_matmul(vk::WeightType::q8_0, 45, 64, 2, vk::Act::none, false, 64 * 8);
}

TEST_CASE("vulkan: layer norm and group norm", "[gpu][vulkan]") {
  auto& ctx = vk_ctx();
  const uint32_t C = 96, n = 5;
  auto x = random_floats(C * n, 1, -3, 5);
  auto w = random_floats(C, 2), b = random_floats(C, 3);
  vk::Buffer xb = to_device(x), yb = device_zeros(C * n), wb_ = to_device(w), bb = to_device(b);
  vk::Buffer gb = device_zeros(C * n);
  vk::CommandStream cs(ctx);
  vk::Ops ops(ctx);
  WB_REQUIRE_OK(cs.begin());
  WB_REQUIRE_OK(ops.layer_norm(cs, xb, 0, C, yb, 0, C, wb_, bb, C, n, 1e-5f));
  WB_REQUIRE_OK(ops.group_norm(cs, xb, gb, wb_, bb, C, 8, n, 64e-5f));
  WB_REQUIRE_OK(cs.submit_and_wait());
  CHECK(max_abs_diff(from_device(yb, C * n), vk::ref::layer_norm(x, w, b, C, 1e-5f)) <= 2e-5f);
  CHECK(max_abs_diff(from_device(gb, C * n), vk::ref::group_norm(x, w, b, C, 8, 64e-5f)) <= 2e-5f);
}

TEST_CASE("vulkan: token-shift mix over sequences", "[gpu][vulkan]") {
  auto& ctx = vk_ctx();
  vk::TokenMixPush p{48, 6, 3, 4, 48, 200};  // 2 sequences of 3 tokens, 4 mixes; prev at slot offset 48
  auto x = random_floats(p.n_vec * p.C, 4);
  auto state = random_floats(2 * p.state_stride, 5);
  auto mix = random_floats(p.n_mix * p.C, 6, 0, 1);
  vk::Buffer xb = to_device(x), sb = to_device(state), mb = to_device(mix), ob = device_zeros(p.n_mix * p.n_vec * p.C);
  vk::CommandStream cs(ctx);
  vk::Ops ops(ctx);
  WB_REQUIRE_OK(cs.begin());
  WB_REQUIRE_OK(ops.token_mix(cs, xb, sb, mb, ob, p));
  WB_REQUIRE_OK(cs.submit_and_wait());
  CHECK(max_abs_diff(from_device(ob, p.n_mix * p.n_vec * p.C), vk::ref::token_mix(x, state, mix, p)) <= 1e-6f);
}

TEST_CASE("vulkan: fused layer norm, token shift and shift update for single tokens", "[gpu][vulkan]") {
  for (vk::Context* cp : {&vk_ctx(), &vk_ctx_other()}) {
    auto& ctx = *cp;
    vk::LnMixShiftPush p{296, 3, 6, 37, 401, 1e-5f};  // 3 states, 6 mixes; odd slot offset and stride
    auto x = random_floats(p.n_vec * p.C, 21, -3, 5);
    auto w = random_floats(p.C, 22), b = random_floats(p.C, 23);
    auto state = random_floats(p.n_vec * p.state_stride, 24);
    auto mix = random_floats(p.n_mix * p.C, 25, 0, 1);
    vk::Buffer xb = to_device(x), sb = to_device(state), wb_ = to_device(w), bb = to_device(b), mb = to_device(mix);
    vk::Buffer ob = device_zeros(p.n_mix * p.n_vec * p.C);
    vk::CommandStream cs(ctx);
    vk::Ops ops(ctx);
    WB_REQUIRE_OK(cs.begin());
    WB_REQUIRE_OK(ops.ln_mix_shift(cs, xb, sb, wb_, bb, mb, ob, p));
    WB_REQUIRE_OK(cs.submit_and_wait());
    auto want = vk::ref::ln_mix_shift(x, state, w, b, mix, p);
    CHECK(max_abs_diff(from_device(ob, p.n_mix * p.n_vec * p.C), want) <= 2e-5f);
    CHECK(max_abs_diff(from_device(sb, p.n_vec * p.state_stride), state) <= 2e-5f);  // shift slots advanced
  }
}

// matmul_tail_*: a residual matmul whose last workgroup also does the following
// ln_mix_shift. Twice in one recording (the counter must be back at 0), split
// matrices (the count spans every part), every weight type, 1-8 vectors.
TEST_CASE("vulkan: matmul with a layer-norm tail equals matmul, then ln_mix_shift", "[gpu][vulkan]") {
  vk::Context& ctx = vk_ctx().prefers_texel_kernels() ? vk_ctx_other() : vk_ctx();
  struct Case {
    vk::WeightType type;
    uint32_t C, cols, n_vec, n_mix;
    uint64_t max_part_bytes;
    uint32_t row_threads;
  };
  for (const Case& k : {Case{vk::WeightType::f32, 96, 64, 1, 1, 0, 0}, Case{vk::WeightType::f16, 520, 200, 3, 6, 0, 0},
                        Case{vk::WeightType::q8_0, 640, 64, 8, 2, 0, 256},
                        Case{vk::WeightType::f32, 96, 64, 2, 1, 64 * 4 * 40, 64}}) {
    INFO("type " << static_cast<int>(k.type) << " C " << k.C << " n " << k.n_vec << " mixes " << k.n_mix);
    TestMatrix m = upload_test_matrix(ctx, k.type, k.C, k.cols, k.max_part_bytes);
    const uint32_t y_off = 5, y_stride = k.C + 3, state_off = 7, state_stride = k.C + 11;
    auto x = random_floats(size_t{k.n_vec} * k.cols, 61 + k.C, -1, 1);
    auto y0 = random_floats(y_off + size_t{k.n_vec} * y_stride, 62, -2, 3);
    auto w = random_floats(k.C, 63), b = random_floats(k.C, 64);
    auto mix = random_floats(size_t{k.n_mix} * k.C, 65, 0, 1);
    auto state = random_floats(size_t{k.n_vec} * state_stride, 66);
    vk::Buffer xb = to_device(x, ctx), yb = to_device(y0, ctx), wb_ = to_device(w, ctx), bb = to_device(b, ctx);
    vk::Buffer mb = to_device(mix, ctx), sb = to_device(state, ctx), cb = device_zeros(1, ctx);
    vk::Buffer ob = device_zeros(size_t{k.n_mix} * k.n_vec * k.C, ctx);
    vk::CommandStream cs(ctx);
    vk::Ops ops(ctx);
    ops.set_row_threads(k.row_threads);
    const vk::Ops::LnTail tail{&wb_, &bb, &mb, k.n_mix, &sb, state_off, state_stride, &ob, 1e-5f, &cb};
    WB_REQUIRE_OK(cs.begin());
    for (int rep = 0; rep < 2; ++rep)
      WB_REQUIRE_OK(ops.matmul_tail(cs, m.device, xb, 0, k.cols, yb, y_off, y_stride, k.n_vec, true, tail));
    WB_REQUIRE_OK(cs.submit_and_wait());

    // The reference: y += W x, then ln_mix_shift of y; twice.
    std::vector<float> y = y0, out;
    const auto prod = vk::ref::matmul(m.values, k.C, k.cols, x, k.n_vec, vk::Act::none);
    for (int rep = 0; rep < 2; ++rep) {
      std::vector<float> vecs(size_t{k.n_vec} * k.C);
      for (uint32_t v = 0; v < k.n_vec; ++v)
        for (uint32_t c = 0; c < k.C; ++c) {
          float& yv = y[y_off + size_t{v} * y_stride + c];
          yv += prod[size_t{v} * k.C + c];
          vecs[size_t{v} * k.C + c] = yv;
        }
      out = vk::ref::ln_mix_shift(vecs, state, w, b, mix, {k.C, k.n_vec, k.n_mix, state_off, state_stride, 1e-5f});
    }
    CHECK(max_abs_diff(from_device(yb, y.size(), ctx), y) <= 1e-4f * scale_of(y));
    CHECK(max_abs_diff(from_device(ob, out.size(), ctx), out) <= 1e-4f);
    CHECK(max_abs_diff(from_device(sb, state.size(), ctx), state) <= 1e-4f);  // shift slots advanced
    CHECK(from_device(cb, 1, ctx)[0] == 0.0f);  // the counter is back at 0 (as bits: 0u)
  }
  // Refused, not wrong: more than 8 vectors, and the texel path.
  auto refused = [](vk::Context& c, uint32_t n_vec) {
    TestMatrix m = upload_test_matrix(c, vk::WeightType::f32, 64, 64, 0);
    vk::Buffer any = device_zeros(64 * 9, c);
    vk::CommandStream cs(c);
    vk::Ops ops(c);
    const vk::Ops::LnTail tail{&any, &any, &any, 1, &any, 0, 64, &any, 1e-5f, &any};
    WB_REQUIRE_OK(cs.begin());
    auto st = ops.matmul_tail(cs, m.device, any, 0, 64, any, 0, 64, n_vec, true, tail);
    REQUIRE(!st.ok());
    CHECK(st.error().code == Errc::unsupported);
  };
  refused(ctx, 9);
  refused(vk_ctx().prefers_texel_kernels() ? vk_ctx() : vk_ctx_other(), 1);
}

TEST_CASE("vulkan: elementwise ops", "[gpu][vulkan]") {
  auto& ctx = vk_ctx();
  const uint32_t n = 333;
  auto a = random_floats(n, 7, -4, 4), b = random_floats(n, 8, -4, 4);
  vk::Buffer ab = to_device(a), bb = to_device(b), yb = device_zeros(n);
  vk::Ops ops(ctx);
  for (auto op : {vk::EltOp::add, vk::EltOp::mul, vk::EltOp::sigmoid, vk::EltOp::tanh, vk::EltOp::relu_sq,
                  vk::EltOp::mul_sigmoid}) {
    vk::CommandStream cs(ctx);
    WB_REQUIRE_OK(cs.begin());
    WB_REQUIRE_OK(ops.eltwise(cs, ab, bb, yb, n, op));
    WB_REQUIRE_OK(cs.submit_and_wait());
    INFO("op " << static_cast<int>(op));
    CHECK(max_abs_diff(from_device(yb, n), vk::ref::eltwise(a, b, op)) <= 2e-5f);
  }
}

TEST_CASE("vulkan: RWKV-7 prep and WKV recurrence", "[gpu][vulkan][rwkv]") {
  // Both kernel families: head size 64 on a CPU device runs wkv7_tex + wkv7_out,
  // everything else wkv7_sg + wkv7_out (one subgroup per state row).
  for (vk::Context* cp : {&vk_ctx(), &vk_ctx_other()})
  for (uint32_t N : {64u, 16u}) {
    auto& ctx = *cp;
    const uint32_t C = 128, T = 5, n_seq = 2, n_vec = T * n_seq;
    const uint32_t state_off = 2 * C, stride = state_off + C * N + 7;
    vk::ref::Rwkv7Vectors in;
    in.r = random_floats(n_vec * C, 10);
    in.w = random_floats(n_vec * C, 11, -2, 2);
    in.k = random_floats(n_vec * C, 12);
    in.v = random_floats(n_vec * C, 13);
    in.a = random_floats(n_vec * C, 14, -2, 2);
    in.g = random_floats(n_vec * C, 15);
    auto vl = random_floats(n_vec * C, 16);
    auto prep_p = random_floats(5 * C, 17);
    auto wkv_p = random_floats(3 * C, 18);
    auto state = random_floats(n_seq * stride, 19, -0.5f, 0.5f);
    for (bool layer0 : {true, false}) {
      INFO("N " << N << " layer0 " << layer0 << " texel " << ctx.prefers_texel_kernels());
      auto vfirst = random_floats(n_vec * C, 20);
      vk::Buffer rb = to_device(in.r, ctx), wb_ = to_device(in.w, ctx), kb = to_device(in.k, ctx), vb = to_device(in.v, ctx),
                 ab = to_device(in.a, ctx), gb = to_device(in.g, ctx), vlb = to_device(vl, ctx), vfb = to_device(vfirst, ctx),
                 kkb = device_zeros(n_vec * C, ctx), ppb = to_device(prep_p, ctx), wpb = to_device(wkv_p, ctx),
                 sb = to_device(state, ctx), ob = device_zeros(n_vec * C, ctx);
      vk::Wkv7Push p{C, N, T, n_vec, state_off, stride, 64e-5f, 0};
      vk::CommandStream cs(ctx);
      vk::Ops ops(ctx);
      WB_REQUIRE_OK(cs.begin());
      WB_REQUIRE_OK(ops.rwkv7_prep(cs, kb, vb, wb_, ab, vlb, vfb, kkb, ppb, C, n_vec, layer0));
      const vk::Buffer* bufs[10] = {&rb, &wb_, &kb, &vb, &kkb, &ab, &gb, &sb, &wpb, &ob};
      WB_REQUIRE_OK(ops.wkv7(cs, bufs, p, n_seq));
      WB_REQUIRE_OK(cs.submit_and_wait());

      vk::ref::Rwkv7Vectors ref = in;
      std::vector<float> vf_ref = vfirst, st_ref = state;
      vk::ref::rwkv7_prep(ref, vl, vf_ref, prep_p, C, layer0);
      CHECK(max_abs_diff(from_device(kb, n_vec * C, ctx), ref.k) <= 1e-5f);
      CHECK(max_abs_diff(from_device(vb, n_vec * C, ctx), ref.v) <= 1e-5f);
      CHECK(max_abs_diff(from_device(vfb, n_vec * C, ctx), vf_ref) <= 1e-5f);
      CHECK(max_abs_diff(from_device(kkb, n_vec * C, ctx), ref.kk) <= 1e-5f);
      auto out_ref = vk::ref::wkv7(ref, st_ref, wkv_p, p, n_seq);
      CHECK(max_abs_diff(from_device(ob, n_vec * C, ctx), out_ref) <= 1e-4f * scale_of(out_ref));
      CHECK(max_abs_diff(from_device(sb, n_seq * stride, ctx), st_ref) <= 1e-4f * scale_of(st_ref));
    }
  }
}

TEST_CASE("vulkan: fused RWKV-7 decode step equals up-projections, prep and WKV", "[gpu][vulkan][rwkv]") {
  // Both variants: the full step (up-projections in the kernel) and the partial one.
  // wkv7_step.comp against the unfused chain's references, both head sizes,
  // LoRA widths that are not multiples of 8 and a state stride that is not a multiple of 4.
  for (vk::Context* cp : {&vk_ctx(), &vk_ctx_other()})
  for (uint32_t N : {64u, 16u}) {
    auto& ctx = *cp;
    const uint32_t C = 128, n = 3;
    const uint32_t state_off = 2 * C, stride = state_off + C * N + 7;
    // LoRA widths: multiples of 4 (vec4 rows), one over 64 (two passes of the kernel's loop).
    const uint32_t d[4] = {16, 12, 72, 8};
    const uint32_t lora_off[4] = {0, 16 * n + 4, 16 * n + 4 + 12 * n, 16 * n + 4 + 12 * n + 72 * n + 8};
    auto lora = random_floats(lora_off[3] + d[3] * n, 30);
    std::vector<float> up[4];
    for (int m = 0; m < 4; ++m) up[m] = random_floats(C * d[m], 31 + m, -0.5f, 0.5f);
    vk::ref::Rwkv7Vectors in;
    in.r = random_floats(n * C, 40);
    in.k = random_floats(n * C, 41);
    in.v = random_floats(n * C, 42);
    auto p = random_floats(5 * C, 43), q = random_floats(3 * C, 44);
    auto state = random_floats(n * stride, 45, -0.5f, 0.5f);
    for (bool layer0 : {true, false}) {
      INFO("N " << N << " layer0 " << layer0 << " texel " << ctx.prefers_texel_kernels());
      auto vfirst = random_floats(n * C, 46);
      vk::Wkv7StepPush push{C, N, n, state_off, stride, 64e-5f, layer0 ? 1u : 0u, 0, {}, {}};
      for (int m = 0; m < 4; ++m) {
        push.d[m] = layer0 && m == 3 ? 0 : d[m];
        push.lora_off[m] = lora_off[m];
      }
      vk::Buffer rb = to_device(in.r, ctx), kb = to_device(in.k, ctx), vb = to_device(in.v, ctx),
                 lb = to_device(lora, ctx), vfb = to_device(vfirst, ctx), sb = to_device(state, ctx),
                 pb = to_device(p, ctx), qb = to_device(q, ctx), ob = device_zeros(n * C, ctx);
      vk::DeviceMatrix mats[4];  // one f32 part each, as the model uploads them
      for (int m = 0; m < 4; ++m) {
        mats[m].type = vk::WeightType::f32;
        mats[m].rows = C;
        mats[m].cols = d[m];
        mats[m].parts.push_back({0, C, to_device(up[m], ctx), {}});
      }
      const vk::DeviceMatrix* ups[4] = {&mats[0], &mats[1], &mats[2], layer0 ? nullptr : &mats[3]};
      const vk::Buffer* bufs[9] = {&rb, &kb, &vb, &lb, &vfb, &sb, &pb, &qb, &ob};
      vk::CommandStream cs(ctx);
      vk::Ops ops(ctx);
      WB_REQUIRE_OK(cs.begin());
      WB_REQUIRE_OK(ops.wkv7_step(cs, bufs, ups, push));
      WB_REQUIRE_OK(cs.submit_and_wait());

      vk::ref::Rwkv7Vectors ref = in;
      std::vector<float> vf_ref = vfirst, st_ref = state;
      auto out_ref = vk::ref::wkv7_step(ref, lora, up, vf_ref, st_ref, p, q, push);
      CHECK(max_abs_diff(from_device(vfb, n * C, ctx), vf_ref) <= 1e-5f);
      CHECK(max_abs_diff(from_device(ob, n * C, ctx), out_ref) <= 1e-4f * scale_of(out_ref));
      CHECK(max_abs_diff(from_device(sb, n * stride, ctx), st_ref) <= 1e-4f * scale_of(st_ref));
      // The partial variant: the up-projections' outputs given (as the unfused
      // matmuls leave them), the rest in the kernel.
      {
        vk::Buffer vfb2 = to_device(vfirst, ctx), sb2 = to_device(state, ctx), ob2 = device_zeros(n * C, ctx);
        std::vector<float> lv[4];
        for (int m = 0; m < 4; ++m) {
          std::vector<float> x(size_t{n} * d[m]);
          for (uint32_t sq = 0; sq < n; ++sq)
            std::copy_n(lora.begin() + lora_off[m] + size_t{sq} * d[m], d[m], x.begin() + size_t{sq} * d[m]);
          lv[m] = vk::ref::matmul(up[m], C, d[m], x, n, vk::Act::none);
        }
        vk::Buffer ub[4] = {to_device(lv[0], ctx), to_device(lv[1], ctx), to_device(lv[2], ctx), to_device(lv[3], ctx)};
        const vk::Buffer* outs[4] = {&ub[0], &ub[1], &ub[2], layer0 ? nullptr : &ub[3]};
        const vk::Buffer* bufs2[9] = {&rb, &kb, &vb, &lb, &vfb2, &sb2, &pb, &qb, &ob2};
        vk::CommandStream cs2(ctx);
        WB_REQUIRE_OK(cs2.begin());
        WB_REQUIRE_OK(ops.wkv7_step_given(cs2, bufs2, outs, push));
        WB_REQUIRE_OK(cs2.submit_and_wait());
        CHECK(max_abs_diff(from_device(vfb2, n * C, ctx), vf_ref) <= 1e-5f);
        CHECK(max_abs_diff(from_device(ob2, n * C, ctx), out_ref) <= 1e-4f * scale_of(out_ref));
        CHECK(max_abs_diff(from_device(sb2, n * stride, ctx), st_ref) <= 1e-4f * scale_of(st_ref));
      }
      // The test is not vacuous: the step changed the state and wrote an output.
      const float moved = max_abs_diff(st_ref, state);
      CHECK(moved > 1e-3f);
      CHECK(scale_of(out_ref) > 1e-3f);
    }
  }
}

TEST_CASE("vulkan: kernels raise no validation-layer errors", "[gpu][vulkan][validation]") {
  auto c = vk::Context::create({.validation = true});
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c.ok());
  auto& ctx = **c;
  auto w = random_floats(64 * 64, 1);
  auto dm = vk::upload_matrix_f32(ctx, w, 64, 64, vk::WeightType::f16, {});
  WB_REQUIRE_OK(dm);
  auto xb = vk::upload_floats(ctx, random_floats(64 * 2, 2));
  auto yb = vk::upload_floats(ctx, std::vector<float>(64 * 2));
  WB_REQUIRE_OK(xb);
  WB_REQUIRE_OK(yb);
  vk::CommandStream cs(ctx);
  vk::Ops ops(ctx);
  WB_REQUIRE_OK(cs.begin());
  WB_REQUIRE_OK(ops.matmul(cs, *dm, *xb, 0, 64, *yb, 0, 64, 2, vk::Act::tanh));
  WB_REQUIRE_OK(ops.eltwise(cs, *yb, *xb, *yb, 128, vk::EltOp::add));
  WB_REQUIRE_OK(cs.submit_and_wait());
  CHECK(ctx.validation_errors() == 0);
}

TEST_CASE("vulkan: the validation messenger does count errors", "[gpu][vulkan][validation]") {
  // Makes the zero-error checks meaningful: a deliberate misuse must be seen.
  auto c = vk::Context::create({.validation = true});
  REQUIRE(c.ok());
  VkBufferCreateInfo bci{};
  bci.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  bci.size = 0;  // VUID-VkBufferCreateInfo-size-00912
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  VkBuffer b = VK_NULL_HANDLE;
  VkResult r = vkCreateBuffer((*c)->vk_device(), &bci, nullptr, &b);
  if (r == VK_SUCCESS && b != VK_NULL_HANDLE) vkDestroyBuffer((*c)->vk_device(), b, nullptr);
  CHECK((*c)->validation_errors() > 0);
}

TEST_CASE("vulkan: a grid barrier orders the writes of every workgroup", "[gpu][vulkan]") {
  // grid_sync.glsl, which the whole-layer decode kernel (rwkv7_layer_*.comp)
  // meets at between its phases: after it, every workgroup reads what every other
  // one wrote before it, round after round.
  // A CPU device runs one workgroup per thread and cannot wait at it (see
  // grid_sync.glsl): there only the single-workgroup case runs; a GPU run
  // (scripts/device_run.sh) checks the others.
  auto& ctx = vk_ctx();
  const uint32_t groups = GENERATE(1u, 2u, 8u, 64u);
  if (groups > 1 && ctx.device().type == "cpu") return;
  INFO("groups " << groups);
  vk::Buffer data = device_zeros(groups * 64), errors = device_zeros(1), sync = device_zeros(4);
  auto p = ctx.pipeline("grid_sync_check", 3, 4, {1u << 22});
  WB_REQUIRE_OK(p);
  vk::CommandStream cs(ctx);
  const uint32_t rounds = 200;
  WB_REQUIRE_OK(cs.begin());
  WB_REQUIRE_OK(cs.dispatch(**p, {&data, &errors, &sync}, &rounds, 4, groups));
  WB_REQUIRE_OK(cs.submit_and_wait());
  uint32_t e = 0, s[4] = {};
  WB_REQUIRE_OK(ctx.download(errors, 0, &e, 4));
  WB_REQUIRE_OK(ctx.download(sync, 0, s, sizeof s));
  INFO("count " << s[0] << " fail " << s[1]);
  CHECK(s[1] == 0);                      // no workgroup gave up waiting
  CHECK(s[0] == 2 * rounds * groups);    // every workgroup arrived at every barrier
  CHECK(e == 0);
}
