#include "core/backend/vulkan/vk_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "core/backend/vulkan/half.hpp"

namespace wb::vk {
namespace {

// Storage-buffer matmul tile: ROWS rows per workgroup (specialisation
// constant) and at most NB vectors per workgroup; one row per workgroup for a
// single vector (decode), where more workgroups hide more memory latency
// (H200: 475 against 400 tokens/s with 4 rows). WB_VK_STORAGE_TILE=RxB and
// WB_VK_DECODE_ROWS=R override them (tuning on new GPUs; 1, 2, 4 or 8).
struct StorageTile {
  uint32_t rows = 4, max_nb = 8, decode_rows = 1;
};
const StorageTile& storage_tile() {
  static const StorageTile t = [] {
    StorageTile d;
    unsigned r = 0, b = 0;
    auto pow2 = [](unsigned x) { return x == 1 || x == 2 || x == 4 || x == 8; };
    const char* e = std::getenv("WB_VK_STORAGE_TILE");
    if (e && std::sscanf(e, "%ux%u", &r, &b) == 2 && pow2(r) && pow2(b)) d.rows = r, d.max_nb = b;
    e = std::getenv("WB_VK_DECODE_ROWS");
    if (e && std::sscanf(e, "%u", &r) == 1 && pow2(r)) d.decode_rows = r;
    return d;
  }();
  return t;
}
// The per-row kernels' tile for n_vec vectors: {vectors, rows} per workgroup.
struct RowTile {
  uint32_t vecs, rows;
};
RowTile row_tile(uint32_t n_vec) {
  const StorageTile& t = storage_tile();
  return {std::min(t.max_nb, n_vec <= 1 ? 1u : n_vec <= 2 ? 2u : n_vec <= 4 ? 4u : 8u),
          n_vec == 1 ? t.decode_rows : t.rows};
}
// WB_VK_ROW_WG: the per-row kernels' workgroup width (64, 128, 256; 0 = auto).
std::optional<uint32_t> row_wg_env() {
  static const std::optional<uint32_t> v = []() -> std::optional<uint32_t> {
    const char* e = std::getenv("WB_VK_ROW_WG");
    if (!e) return std::nullopt;
    if (std::strcmp(e, "auto") == 0) return 0u;
    unsigned n = 0;
    if (std::sscanf(e, "%u", &n) == 1 && (n == 64 || n == 128 || n == 256)) return n;
    return std::nullopt;
  }();
  return v;
}
// From this many vectors on, storage-path matmuls use the tiled product
// (gemm_*.comp, 64x64 tiles); WB_VK_GEMM=0 keeps the per-row kernels (tuning).
constexpr uint32_t kGemmMinVectors = 16, kGemmTile = 64;
bool gemm_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("WB_VK_GEMM");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return on;
}
// Rows per matrix part: within the 65535 workgroups per dimension that Vulkan
// guarantees at one row per workgroup, and a power of two so a 65536-row head
// splits evenly.
constexpr uint32_t kMaxPartRows = 32768;

uint32_t groups(uint64_t n, uint32_t per) { return static_cast<uint32_t>((n + per - 1) / per); }

// ggml's block layouts (see the rwkv.cpp fixture README §3.3).
float block_d(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return half_to_float(h);
}

void dequant_block(DType t, const uint8_t* b, float* out) {
  switch (t) {
    case DType::q8_0: {
      float d = block_d(b);
      for (int j = 0; j < 32; ++j) out[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
      break;
    }
    case DType::q4_0: {
      float d = block_d(b);
      for (int j = 0; j < 16; ++j) {
        out[j] = static_cast<float>((b[2 + j] & 0x0F) - 8) * d;
        out[j + 16] = static_cast<float>((b[2 + j] >> 4) - 8) * d;
      }
      break;
    }
    case DType::q4_1: {
      float d = block_d(b), m = block_d(b + 2);
      for (int j = 0; j < 16; ++j) {
        out[j] = static_cast<float>(b[4 + j] & 0x0F) * d + m;
        out[j + 16] = static_cast<float>(b[4 + j] >> 4) * d + m;
      }
      break;
    }
    case DType::q5_0:
    case DType::q5_1: {
      const bool one = t == DType::q5_1;
      float d = block_d(b), m = one ? block_d(b + 2) : 0.0f;
      uint32_t qh;
      std::memcpy(&qh, b + (one ? 4 : 2), 4);
      const uint8_t* qs = b + (one ? 8 : 6);
      const int bias = one ? 0 : 16;
      for (int j = 0; j < 16; ++j) {
        int lo = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
        int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
        out[j] = static_cast<float>(lo - bias) * d + m;
        out[j + 16] = static_cast<float>(hi - bias) * d + m;
      }
      break;
    }
    default: break;
  }
}

Status check_matrix_shape(uint32_t rows, uint32_t cols, WeightType type, const std::string& name) {
  if (rows == 0 || cols == 0) return make_error(Errc::format, "vulkan: tensor '{}' is empty", name);
  uint32_t mult = type == WeightType::q8_0 ? 32 : 8;
  if (cols % mult != 0)
    return make_error(Errc::unsupported, "vulkan: tensor '{}' has {} columns; the kernels need a multiple of {}", name,
                      cols, mult);
  return {};
}

uint32_t rows_per_part(Context& ctx, const UploadOptions& opt, uint64_t row_bytes) {
  uint64_t limit = opt.max_part_bytes ? opt.max_part_bytes : ctx.device().max_storage_buffer_range;
  uint64_t r = std::max<uint64_t>(1, limit / row_bytes);
  return static_cast<uint32_t>(std::min<uint64_t>(r, uint64_t{kMaxPartRows}));
}

// Uploads rows [row0, row0+n) of a matrix given by a callback that fills the
// part's bytes.
template <class Fill>
Status add_part(Context& ctx, DeviceMatrix& m, uint32_t row0, uint32_t n, uint64_t bytes, Fill fill) {
  MatrixPart part;
  part.row0 = row0;
  part.rows = n;
  WB_TRY(buf, ctx.make_buffer(bytes, Memory::device));
  std::vector<uint8_t> host;
  uint8_t* dst = static_cast<uint8_t*>(buf.mapped());
  if (!dst) {
    host.resize(bytes);
    dst = host.data();
  }
  fill(dst);
  if (!host.empty()) WB_CHECK(ctx.upload(buf, 0, host.data(), bytes));
  part.w = std::move(buf);
  m.parts.push_back(std::move(part));
  return {};
}

}  // namespace

uint64_t DeviceMatrix::bytes() const {
  uint64_t n = 0;
  for (const auto& p : parts) n += p.w.size() + p.scales.size();
  return n;
}

Result<std::vector<float>> tensor_to_f32(const TensorView& t) {
  const uint64_t n = t.numel();
  WB_TRY(need, dtype_bytes_for(t.dtype, n));
  if (need != t.nbytes || (n && !t.data))
    return make_error(Errc::format, "tensor '{}': {} bytes of data for {} {} elements", t.name, t.nbytes, n,
                      dtype_name(t.dtype));
  std::vector<float> out(n);
  switch (t.dtype) {
    case DType::f32: std::memcpy(out.data(), t.data, n * 4); break;
    case DType::f16:
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        out[i] = half_to_float(h);
      }
      break;
    case DType::bf16:
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        uint32_t u = static_cast<uint32_t>(h) << 16;
        std::memcpy(&out[i], &u, 4);
      }
      break;
    default: {
      const int be = dtype_block_elems(t.dtype), bb = dtype_block_bytes(t.dtype);
      for (uint64_t b = 0; b < n / be; ++b) dequant_block(t.dtype, t.data + b * bb, out.data() + b * be);
    }
  }
  return out;
}

Result<Buffer> upload_floats(Context& ctx, std::span<const float> v) {
  WB_TRY(buf, ctx.make_buffer(std::max<uint64_t>(16, v.size_bytes()), Memory::device));
  WB_CHECK(ctx.upload(buf, 0, v.data(), v.size_bytes()));
  return buf;
}

Result<DeviceMatrix> upload_matrix_f32(Context& ctx, std::span<const float> data, uint32_t rows, uint32_t cols,
                                       WeightType type, const UploadOptions& opt) {
  WB_CHECK(check_matrix_shape(rows, cols, type, "(host)"));
  if (data.size() != uint64_t{rows} * cols) return make_error(Errc::internal, "upload_matrix_f32: size mismatch");
  DeviceMatrix m;
  m.type = type;
  m.rows = rows;
  m.cols = cols;
  const uint64_t elem = type == WeightType::f32 ? 4 : type == WeightType::f16 ? 2 : 1;
  const uint32_t per = rows_per_part(ctx, opt, cols * elem);
  for (uint32_t r0 = 0; r0 < rows; r0 += per) {
    const uint32_t n = std::min(per, rows - r0);
    const float* src = data.data() + uint64_t{r0} * cols;
    const uint64_t count = uint64_t{n} * cols;
    if (type == WeightType::f32) {
      WB_CHECK(add_part(ctx, m, r0, n, count * 4, [&](uint8_t* d) { std::memcpy(d, src, count * 4); }));
    } else if (type == WeightType::f16) {
      WB_CHECK(add_part(ctx, m, r0, n, count * 2, [&](uint8_t* d) {
        for (uint64_t i = 0; i < count; ++i) {
          uint16_t h = float_to_half(src[i]);
          std::memcpy(d + 2 * i, &h, 2);
        }
      }));
    } else {
      // ggml's Q8_0 rule: d = max|x| / 127, code = round(x / d).
      std::vector<float> scales(count / 32);
      WB_CHECK(add_part(ctx, m, r0, n, count, [&](uint8_t* d) {
        for (uint64_t b = 0; b < count / 32; ++b) {
          float amax = 0.0f;
          for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(src[b * 32 + j]));
          float s = half_to_float(float_to_half(amax / 127.0f));  // stored as f16 in the format
          float inv = s != 0.0f ? 1.0f / s : 0.0f;
          scales[b] = s;
          for (int j = 0; j < 32; ++j) {
            long q = std::lround(src[b * 32 + j] * inv);
            d[b * 32 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -127L, 127L)));
          }
        }
      }));
      WB_TRY(sb, upload_floats(ctx, scales));
      m.parts.back().scales = std::move(sb);
    }
  }
  return m;
}

Result<DeviceMatrix> upload_matrix(Context& ctx, const TensorView& t, const UploadOptions& opt) {
  if (t.shape.size() != 2)
    return make_error(Errc::format, "vulkan: tensor '{}' should be a matrix but has {} dimensions", t.name,
                      t.shape.size());
  if (t.shape[0] <= 0 || t.shape[1] <= 0 || t.shape[0] > (1 << 30) || t.shape[1] > (1 << 30))
    return make_error(Errc::limit, "vulkan: tensor '{}' has an absurd shape", t.name);
  const uint32_t rows = static_cast<uint32_t>(t.shape[0]), cols = static_cast<uint32_t>(t.shape[1]);
  WB_TRY(need, dtype_bytes_for(t.dtype, uint64_t{rows} * cols));
  if (need != t.nbytes || !t.data)
    return make_error(Errc::format, "tensor '{}': {} bytes of data, {} expected", t.name, t.nbytes, need);

  if (t.dtype == DType::f16 || t.dtype == DType::q8_0) {
    const WeightType type = t.dtype == DType::f16 ? WeightType::f16 : WeightType::q8_0;
    WB_CHECK(check_matrix_shape(rows, cols, type, t.name));
    DeviceMatrix m;
    m.type = type;
    m.rows = rows;
    m.cols = cols;
    const uint32_t per = rows_per_part(ctx, opt, type == WeightType::f16 ? cols * 2ull : cols);
    for (uint32_t r0 = 0; r0 < rows; r0 += per) {
      const uint32_t n = std::min(per, rows - r0);
      const uint64_t count = uint64_t{n} * cols;
      if (type == WeightType::f16) {
        const uint8_t* src = t.data + uint64_t{r0} * cols * 2;
        WB_CHECK(add_part(ctx, m, r0, n, count * 2, [&](uint8_t* d) { std::memcpy(d, src, count * 2); }));
      } else {
        const uint8_t* src = t.data + uint64_t{r0} * cols / 32 * 34;
        std::vector<float> scales(count / 32);
        WB_CHECK(add_part(ctx, m, r0, n, count, [&](uint8_t* d) {
          for (uint64_t b = 0; b < count / 32; ++b) {
            scales[b] = block_d(src + b * 34);
            std::memcpy(d + b * 32, src + b * 34 + 2, 32);
          }
        }));
        WB_TRY(sb, upload_floats(ctx, scales));
        m.parts.back().scales = std::move(sb);
      }
    }
    return m;
  }
  WB_TRY(f, tensor_to_f32(t));
  return upload_matrix_f32(ctx, f, rows, cols, opt.f16 ? WeightType::f16 : WeightType::f32, opt);
}

// ---- Ops ------------------------------------------------------------------

Status Ops::fill(CommandStream& cs, const Buffer& dst, uint32_t n, float value) {
  WB_TRY(p, ctx_->pipeline("fill_f32", 1, sizeof(FillPush)));
  FillPush push{n, value};
  return cs.dispatch(*p, {&dst}, &push, sizeof push, groups(n, 64));
}

Status Ops::copy_unless(CommandStream& cs, const Buffer& src, uint32_t src_off, const Buffer& dst, uint32_t dst_off,
                        uint32_t n, const Buffer& flag, uint32_t flag_index) {
  WB_TRY(p, ctx_->pipeline("copy_unless", 3, sizeof(CopyUnlessPush)));
  CopyUnlessPush push{src_off, dst_off, n, flag_index};
  // A grid-stride loop: a few thousand workgroups cover any state size.
  return cs.dispatch(*p, {&src, &dst, &flag}, &push, sizeof push, std::clamp(groups(n, 256), 1u, 4096u));
}

// 128 by default: on an H100 (session 9, RWKV-7 F16 tg128, alternated rounds) it
// beat 64 in 13 of 15 pairs; in the 3-round confirmation, medians 1,295 against
// 1,293 tokens/s (0.19B), 673 against 666 (0.45B), 424 against 414 (1.5B). 256
// and auto were mostly between the two.
uint32_t Ops::row_threads(uint32_t cols) const {
  uint32_t n = row_threads_;
  if (n == 0) n = row_wg_env().value_or(128);
  if (n == 0) {  // auto: one step per row (8 columns an invocation), 64-256
    n = 64;
    while (n < 256 && n * 8 < cols) n *= 2;
  }
  return n;
}

Status Ops::matmul(CommandStream& cs, const DeviceMatrix& W, const Buffer& x, uint32_t x_off, uint32_t x_stride,
                   const Buffer& y, uint32_t y_off, uint32_t y_stride, uint32_t n_vec, Act act, bool accumulate) {
  if ((x_off | x_stride) % 4 != 0) return make_error(Errc::internal, "vulkan matmul: x offsets must be multiples of 4");
  if (ctx_->prefers_texel_kernels()) return matmul_texel(cs, W, x, x_off, x_stride, y, y_off, y_stride, n_vec, act,
                                                        accumulate);
  const int t = W.type == WeightType::f32 ? 0 : W.type == WeightType::f16 ? 1 : 2;
  static constexpr const char* kGemm[3] = {"gemm_f32", "gemm_f16", "gemm_q8_0"};
  static constexpr const char* kMatmul[3] = {"matmul_f32", "matmul_f16", "matmul_q8_0"};
  const uint32_t nbind = W.type == WeightType::q8_0 ? 4 : 3;
  // Prefill chunks: the shared-memory tiled product (gemm_body.glsl), 64 x 64
  // per workgroup; fewer vectors: the per-row kernels, ROWS x NB per workgroup.
  const Pipeline* pipe = nullptr;
  uint32_t group_rows = kGemmTile, group_vecs = kGemmTile;
  if (n_vec >= kGemmMinVectors && gemm_enabled()) {
    WB_TRY(g, ctx_->pipeline(kGemm[t], nbind, sizeof(MatmulPush)));
    pipe = g;
  } else {
    const RowTile tile = row_tile(n_vec);
    group_rows = tile.rows, group_vecs = tile.vecs;
    WB_TRY(p, ctx_->pipeline(kMatmul[t], nbind, sizeof(MatmulPush), {group_vecs, group_rows, row_threads(W.cols)}));
    pipe = p;
  }
  for (const MatrixPart& part : W.parts) {
    MatmulPush push{part.rows, W.cols, n_vec, x_off, x_stride, y_off + part.row0, y_stride,
                    static_cast<uint32_t>(act), accumulate ? 1u : 0u};
    const Buffer* bufs[4] = {&part.w, &x, &y, &part.scales};
    WB_CHECK(cs.dispatch(*pipe, std::span<const Buffer* const>(bufs, nbind), &push, sizeof push,
                         groups(part.rows, group_rows), groups(n_vec, group_vecs)));
  }
  return {};
}

Status Ops::matmul_tail(CommandStream& cs, const DeviceMatrix& W, const Buffer& x, uint32_t x_off, uint32_t x_stride,
                        const Buffer& y, uint32_t y_off, uint32_t y_stride, uint32_t n_vec, bool accumulate,
                        const LnTail& tail) {
  if (ctx_->prefers_texel_kernels())
    return make_error(Errc::unsupported, "vulkan matmul_tail: only on the storage-buffer kernel path");
  if (n_vec == 0 || n_vec > 8)
    return make_error(Errc::unsupported, "vulkan matmul_tail: {} vectors (decode steps of 1-8 only)", n_vec);
  if ((x_off | x_stride) % 4 != 0)
    return make_error(Errc::internal, "vulkan matmul_tail: x offsets must be multiples of 4");
  if (!tail.w || !tail.b || !tail.mix || !tail.state || !tail.out || !tail.counter || tail.n_mix == 0)
    return make_error(Errc::internal, "vulkan matmul_tail: missing input");
  const int t = W.type == WeightType::f32 ? 0 : W.type == WeightType::f16 ? 1 : 2;
  static constexpr const char* kNames[3] = {"matmul_tail_f32", "matmul_tail_f16", "matmul_tail_q8_0"};
  const RowTile tile = row_tile(n_vec);
  WB_TRY(pipe, ctx_->pipeline(kNames[t], 10, sizeof(MatmulTailPush), {tile.vecs, tile.rows, row_threads(W.cols)}));
  uint32_t total = 0;  // every workgroup of every part counts towards the tail
  for (const MatrixPart& part : W.parts) total += groups(part.rows, tile.rows) * groups(n_vec, tile.vecs);
  for (const MatrixPart& part : W.parts) {
    const MatmulTailPush push{part.rows, W.cols, n_vec, x_off, x_stride, y_off + part.row0, y_stride,
                              static_cast<uint32_t>(Act::none), accumulate ? 1u : 0u,
                              // the tail: the whole vectors (all parts), where they start
                              total, y_off, W.rows, tail.n_mix, tail.state_off, tail.state_stride, tail.eps};
    // Float weights have no scales (binding 3): any buffer, never read.
    const Buffer* scales = part.scales ? &part.scales : &x;
    const Buffer* bufs[10] = {&part.w, &x,     &y,       scales,     tail.counter,
                              tail.w,  tail.b, tail.mix, tail.state, tail.out};
    WB_CHECK(cs.dispatch(*pipe, std::span<const Buffer* const>(bufs, 10), &push, sizeof push,
                         groups(part.rows, tile.rows), groups(n_vec, tile.vecs)));
  }
  return {};
}

Status Ops::matmul_texel(CommandStream& cs, const DeviceMatrix& W, const Buffer& x, uint32_t x_off, uint32_t x_stride,
                         const Buffer& y, uint32_t y_off, uint32_t y_stride, uint32_t n_vec, Act act,
                         bool accumulate) {
  const char* tname = W.type == WeightType::f32   ? "matmul_tex_f32"
                      : W.type == WeightType::f16 ? "matmul_tex_f16"
                                                  : "matmul_tex_q8_0";
  const Binding wkind = W.type == WeightType::f32   ? Binding::texel_f32
                        : W.type == WeightType::f16 ? Binding::texel_u32
                                                    : Binding::texel_i8;
  const Binding kinds[4] = {wkind, Binding::texel_f32, Binding::storage, Binding::texel_f32};
  const uint32_t nk = W.type == WeightType::q8_0 ? 4 : 3;
  // Tile (rows R x vectors NB per invocation). On lavapipe a texel fetch costs
  // far more than a multiply-add, and a tile needs R + 2*NB fetches per 8*R*NB
  // of them: 8x1 for one vector (decode), 4x4 for more (prefill, batches).
  // Larger tiles spill registers and measured slower (CPU time per op, 2-core
  // Xeon, llvmpipe/LLVM 15; see README "Vulkan backend").
  uint32_t R = 4, nb = 4;
  if (n_vec == 1) R = 8, nb = 1;
  else if (n_vec == 2) nb = 2;
  // WB_VK_TILE=RxNB overrides the tile (tuning on other CPU devices; 1..16 each).
  static const std::pair<uint32_t, uint32_t> forced = [] {
    unsigned r = 0, b = 0;
    const char* t = std::getenv("WB_VK_TILE");
    if (!t || std::sscanf(t, "%ux%u", &r, &b) != 2 || r < 1 || r > 16 || b < 1 || b > 16) r = b = 0;
    return std::pair<uint32_t, uint32_t>{r, b};
  }();
  if (forced.first) R = forced.first, nb = forced.second;
  constexpr uint32_t LX = 8;
  WB_TRY(tp, ctx_->pipeline(tname, std::span<const Binding>(kinds, nk), sizeof(MatmulPush), {nb, R, LX}));
  for (const MatrixPart& part : W.parts) {
    MatmulPush push{part.rows, W.cols, n_vec, x_off, x_stride, y_off + part.row0, y_stride,
                    static_cast<uint32_t>(act), accumulate ? 1u : 0u};
    const Buffer* bufs[4] = {&part.w, &x, &y, &part.scales};
    WB_CHECK(cs.dispatch(*tp, std::span<const Buffer* const>(bufs, nk), &push, sizeof push,
                         groups(part.rows, LX * R), groups(n_vec, nb)));
  }
  return {};
}

Status Ops::layer_norm(CommandStream& cs, const Buffer& x, uint32_t x_off, uint32_t x_stride, const Buffer& y,
                       uint32_t y_off, uint32_t y_stride, const Buffer& w, const Buffer& b, uint32_t C,
                       uint32_t n_vec, float eps) {
  if ((C | x_off | x_stride | y_off | y_stride) % 4 != 0)
    return make_error(Errc::internal, "vulkan layer_norm: C, offsets and strides must be multiples of 4");
  WB_TRY(p, ctx_->pipeline("layer_norm", 4, sizeof(LayerNormPush)));
  LayerNormPush push{C, x_off, x_stride, y_off, y_stride, eps};
  return cs.dispatch(*p, {&x, &y, &w, &b}, &push, sizeof push, n_vec);
}

Status Ops::group_norm(CommandStream& cs, const Buffer& x, const Buffer& y, const Buffer& w, const Buffer& b,
                       uint32_t C, uint32_t G, uint32_t n_vec, float eps) {
  if (G == 0 || C % G != 0) return make_error(Errc::internal, "vulkan group_norm: C % G != 0");
  WB_TRY(p, ctx_->pipeline("group_norm", 4, sizeof(GroupNormPush)));
  GroupNormPush push{C, G, eps, 0};
  return cs.dispatch(*p, {&x, &y, &w, &b}, &push, sizeof push, n_vec, C / G);
}

Status Ops::ln_mix_shift(CommandStream& cs, const Buffer& x, const Buffer& state, const Buffer& w, const Buffer& b,
                         const Buffer& mix, const Buffer& out, const LnMixShiftPush& push) {
  if (push.C % 4 != 0) return make_error(Errc::internal, "vulkan ln_mix_shift: C {} is not a multiple of 4", push.C);
  const uint32_t wg = ctx_->prefers_texel_kernels() ? 64 : 256;  // see ln_mix_shift.comp
  WB_TRY(p, ctx_->pipeline("ln_mix_shift", 6, sizeof(LnMixShiftPush), {wg}));
  return cs.dispatch(*p, {&x, &state, &w, &b, &mix, &out}, &push, sizeof push, push.n_vec);
}

Status Ops::token_mix(CommandStream& cs, const Buffer& x, const Buffer& state, const Buffer& mix, const Buffer& out,
                      const TokenMixPush& push) {
  if (push.C % 4 != 0) return make_error(Errc::internal, "vulkan token_mix: C {} is not a multiple of 4", push.C);
  WB_TRY(p, ctx_->pipeline("token_mix", 4, sizeof(TokenMixPush)));
  return cs.dispatch(*p, {&x, &state, &mix, &out}, &push, sizeof push,
                     groups(uint64_t{push.n_vec} * push.C / 4, 64));
}

Status Ops::eltwise(CommandStream& cs, const Buffer& a, const Buffer& b, const Buffer& y, uint32_t n, EltOp op) {
  WB_TRY(p, ctx_->pipeline("eltwise", 3, sizeof(EltwisePush)));
  EltwisePush push{n, static_cast<uint32_t>(op)};
  return cs.dispatch(*p, {&a, &b, &y}, &push, sizeof push, groups(n, 64));
}

Status Ops::rwkv7_prep(CommandStream& cs, const Buffer& k, const Buffer& v, const Buffer& w, const Buffer& a,
                       const Buffer& vl, const Buffer& v_first, const Buffer& kk, const Buffer& params, uint32_t C,
                       uint32_t n_vec, bool layer0) {
  if (C % 4 != 0) return make_error(Errc::internal, "vulkan rwkv7_prep: C {} is not a multiple of 4", C);
  WB_TRY(p, ctx_->pipeline("rwkv7_prep", 8, sizeof(Rwkv7PrepPush)));
  Rwkv7PrepPush push{C, n_vec, layer0 ? 1u : 0u, 0};
  return cs.dispatch(*p, {&k, &v, &w, &a, &vl, &v_first, &kk, &params}, &push, sizeof push,
                     groups(uint64_t{n_vec} * C / 4, 64));
}

Status Ops::wkv7(CommandStream& cs, std::span<const Buffer* const> bufs, const Wkv7Push& push, uint32_t n_seq) {
  if (push.N == 0 || push.N > 64 || push.C % push.N != 0)
    return make_error(Errc::unsupported, "vulkan wkv7: head size {} (C {}) is not supported (1..64)", push.N, push.C);
  if (bufs.size() != 10) return make_error(Errc::internal, "vulkan wkv7: 10 buffers expected");
  // The recurrence writes the raw output; wkv7_out then applies the output
  // norm in parallel over every vector. CPU devices (head size 64): wkv7_tex,
  // without barriers or shared memory; GPUs: wkv7_sg, one subgroup per state row.
  const Pipeline* rec = nullptr;
  Wkv7Push rp = push;
  uint32_t rec_groups = 0;
  if (ctx_->prefers_texel_kernels() && push.N == 64) {
    const Binding kinds[8] = {Binding::texel_f32, Binding::texel_f32, Binding::texel_f32, Binding::texel_f32,
                              Binding::texel_f32, Binding::storage,   Binding::storage,   Binding::storage};
    WB_TRY(pt, ctx_->pipeline("wkv7_tex", std::span<const Binding>(kinds, 8), sizeof(Wkv7Push)));
    rec = pt;
    rec_groups = push.C / 64;
  } else {
    const uint32_t sg = ctx_->device().subgroup_size;
    if (sg < 8 || sg > 256)
      return make_error(Errc::unsupported, "vulkan wkv7: subgroup size {} is not supported (8..256)", sg);
    WB_TRY(ps, ctx_->pipeline("wkv7_sg", 8, sizeof(Wkv7Push)));
    rec = ps;
    rp.pad = 256 / sg;  // rows per workgroup
    rec_groups = (push.C + rp.pad - 1) / rp.pad;
  }
  WB_TRY(po, ctx_->pipeline("wkv7_out", 6, sizeof(Wkv7Push)));
  // bufs: r w k v kk a g state params out
  WB_CHECK(cs.dispatch(*rec, {bufs[0], bufs[1], bufs[2], bufs[4], bufs[5], bufs[3], bufs[7], bufs[9]}, &rp,
                       sizeof rp, rec_groups, n_seq));
  return cs.dispatch(*po, {bufs[9], bufs[0], bufs[2], bufs[3], bufs[6], bufs[8]}, &push, sizeof push,
                     push.C / push.N, push.n_vec);
}

// Both wkv7_step entry points: checks the head shape and dispatches with
// bindings 8..11 = `up` (the f32 matrices, or the up-projections' outputs).
Status Ops::dispatch_wkv7_step(CommandStream& cs, std::span<const Buffer* const> bufs, const Buffer* const (&up)[4],
                               const Wkv7StepPush& push) {
  if (push.N == 0 || push.N > 64 || push.C % push.N != 0)
    return make_error(Errc::unsupported, "vulkan wkv7_step: head size {} (C {}) is not supported (1..64)", push.N,
                      push.C);
  if (bufs.size() != 9) return make_error(Errc::internal, "vulkan wkv7_step: 9 buffers expected");
  WB_TRY(p, ctx_->pipeline("wkv7_step", 13, sizeof(Wkv7StepPush)));
  // bufs: r k v lora v_first state p q out
  return cs.dispatch(*p, {bufs[0], bufs[1], bufs[2], bufs[3], bufs[4], bufs[5], bufs[6], bufs[7], up[0], up[1], up[2],
                          up[3], bufs[8]},
                     &push, sizeof push, push.C / push.N, push.n_vec);
}

Status Ops::wkv7_step(CommandStream& cs, std::span<const Buffer* const> bufs, std::span<const DeviceMatrix* const> up,
                      const Wkv7StepPush& push) {
  if (up.size() != 4 || bufs.empty()) return make_error(Errc::internal, "vulkan wkv7_step: 4 LoRAs expected");
  if (push.up_given) return make_error(Errc::internal, "vulkan wkv7_step: up_given set (use wkv7_step_given)");
  const Buffer* up_bufs[4] = {};
  for (int m = 0; m < 4; ++m) {
    if (push.d[m] % 4 != 0 || push.lora_off[m] % 4 != 0)
      return make_error(Errc::internal, "vulkan wkv7_step: LoRA {} width {} / offset {} not a multiple of 4", m,
                        push.d[m], push.lora_off[m]);
    const DeviceMatrix* W = up[m];
    if (!W) {
      if (push.d[m] != 0) return make_error(Errc::internal, "vulkan wkv7_step: LoRA {} missing", m);
      up_bufs[m] = bufs[0];  // never read (d = 0)
      continue;
    }
    if (W->type != WeightType::f32 || W->parts.size() != 1 || W->rows != push.C || W->cols != push.d[m])
      return make_error(Errc::internal, "vulkan wkv7_step: LoRA {} must be one f32 part of {}x{}", m, push.C,
                        push.d[m]);
    up_bufs[m] = &W->parts[0].w;
  }
  return dispatch_wkv7_step(cs, bufs, up_bufs, push);
}

Status Ops::wkv7_step_given(CommandStream& cs, std::span<const Buffer* const> bufs,
                            std::span<const Buffer* const> up_out, Wkv7StepPush push) {
  if (up_out.size() != 4) return make_error(Errc::internal, "vulkan wkv7_step: 4 up-projection outputs expected");
  push.up_given = 1;
  const Buffer* const outs[4] = {up_out[0], up_out[1], up_out[2], up_out[3] ? up_out[3] : up_out[0]};  // layer 0 reads no vl
  return dispatch_wkv7_step(cs, bufs, outs, push);
}

Status Ops::rwkv7_layer(CommandStream& cs, std::span<const Buffer* const> bufs,
                        std::span<const DeviceMatrix* const> mats, std::span<const DeviceMatrix* const> up,
                        const Rwkv7LayerPush& push, uint32_t groups, uint32_t spin_limit, bool up_split) {
  if (bufs.size() != 12 || mats.size() != 10 || up.size() != 4 || groups == 0)
    return make_error(Errc::internal, "vulkan rwkv7_layer: 12 buffers, 10 matrices, 4 LoRAs and a group count expected");
  if (up_split && (push.d[0] % 8 || push.d[1] % 8 || push.d[2] % 8 || push.d[3] % 8))
    return make_error(Errc::unsupported, "vulkan rwkv7_layer: split up-projections need LoRA widths % 8 == 0");
  if (push.N == 0 || push.N > 64 || push.C % push.N != 0 || push.C % 8 != 0 || push.F % 8 != 0)
    return make_error(Errc::unsupported, "vulkan rwkv7_layer: C {} / F {} / head size {} not supported", push.C,
                      push.F, push.N);
  const WeightType type = mats[0]->type;
  if (type == WeightType::q8_0) return make_error(Errc::unsupported, "vulkan rwkv7_layer: no Q8_0 kernel");
  const Buffer* b[26] = {};
  for (size_t i = 0; i < 11; ++i) b[i] = bufs[i];
  b[25] = bufs[11];
  for (size_t i = 0; i < 10; ++i) {
    const DeviceMatrix* W = mats[i] ? mats[i] : mats[0];  // layer 0's V1: bound, never read (d[3] = 0)
    if (W->type != type || W->parts.size() != 1)
      return make_error(Errc::unsupported, "vulkan rwkv7_layer: matrix {} is not one part of the same type", i);
    b[11 + i] = &W->parts[0].w;
  }
  for (size_t i = 0; i < 4; ++i) {
    const DeviceMatrix* W = up[i] ? up[i] : up[0];
    if (W->type != WeightType::f32 || W->parts.size() != 1 || push.d[i] % 4 != 0 || push.lora_off[i] % 4 != 0)
      return make_error(Errc::unsupported, "vulkan rwkv7_layer: LoRA {} is not one f32 part of a width % 4", i);
    b[21 + i] = &W->parts[0].w;
  }
  const uint32_t max_it = (std::max(push.C, push.F) + 2047) / 2048;  // passes of 256 invocations x 8 columns
  // Rows per block: each invocation has ROWS x passes weight loads in flight
  // (WB_VK_PERSIST_ROWS=1..16 to tune; 4 by default).
  static const uint32_t rows = [] {
    const char* e = std::getenv("WB_VK_PERSIST_ROWS");
    const long n = e ? std::atol(e) : 4;
    return static_cast<uint32_t>(n >= 1 && n <= 16 ? n : 4);
  }();
  WB_TRY(p, ctx_->pipeline(type == WeightType::f16 ? "rwkv7_layer_f16" : "rwkv7_layer_f32", 26, sizeof push,
                           {max_it, spin_limit, rows, up_split ? 1u : 0u}));
  return cs.dispatch(*p, std::span<const Buffer* const>(b), &push, sizeof push, groups);
}

Status Ops::token_mix_dd(CommandStream& cs, const Buffer& x, const Buffer& state, const Buffer& mix,
                         const Buffer& delta, const Buffer& out, const TokenMixPush& push) {
  WB_TRY(p, ctx_->pipeline("token_mix_dd", 5, sizeof(TokenMixPush)));
  return cs.dispatch(*p, {&x, &state, &mix, &delta, &out}, &push, sizeof push,
                     groups(uint64_t{push.n_vec} * push.C, 64));
}

Status Ops::wkv4(CommandStream& cs, std::span<const Buffer* const> bufs, const Wkv4Push& push, uint32_t n_seq) {
  if (bufs.size() != 6) return make_error(Errc::internal, "vulkan wkv4: 6 buffers expected");
  WB_TRY(p, ctx_->pipeline("wkv4", 6, sizeof(Wkv4Push)));
  return cs.dispatch(*p, bufs, &push, sizeof push, groups(push.C, 64), n_seq);
}

Status Ops::wkv5(CommandStream& cs, std::span<const Buffer* const> bufs, const Wkv5Push& push, uint32_t n_seq) {
  if (push.N == 0 || push.N > 64 || push.C % push.N != 0)
    return make_error(Errc::unsupported, "vulkan wkv5: head size {} (C {}) is not supported (1..64)", push.N, push.C);
  if (bufs.size() != 8) return make_error(Errc::internal, "vulkan wkv5: 8 buffers expected");
  WB_TRY(p, ctx_->pipeline("wkv5", 8, sizeof(Wkv5Push)));
  return cs.dispatch(*p, bufs, &push, sizeof push, push.C / push.N, n_seq);
}

}  // namespace wb::vk
