// Recording of the compute kernels (kernels/*.comp) and upload of weight
// matrices, with the push-constant structs that mirror each kernel's header.
//
//   wb::vk::Ops ops(ctx);
//   WB_TRY(W, wb::vk::upload_matrix(ctx, tensor_view, {}));    // splits big tensors
//   WB_CHECK(cs.begin());
//   WB_CHECK(ops.matmul(cs, W, x, 0, C, y, 0, rows, n_vec));  // y = W x for n_vec vectors
//   WB_CHECK(cs.submit_and_wait());
//
// Binding scheme for tensors larger than the device's storage-buffer range
// (lavapipe: 128 MiB): a matrix is cut along its rows into parts that each fit
// in one buffer; a matmul records one dispatch per part, each writing its rows
// at y_off + row0. Kernels only ever bind whole buffers and take element
// offsets as push constants, so no binding depends on offset alignment.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/backend/vulkan/vk_context.hpp"
#include "core/model/tensor_file.hpp"

namespace wb::vk {

struct FillPush { uint32_t n; float value; };
static_assert(sizeof(FillPush) == 8);

struct CopyUnlessPush { uint32_t src_off, dst_off, n, flag_index; };
static_assert(sizeof(CopyUnlessPush) == 16);

struct ReadSumPush { uint32_t n4, part_off; };
static_assert(sizeof(ReadSumPush) == 8);

struct MatmulPush {
  uint32_t rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate;
};
static_assert(sizeof(MatmulPush) == 36);

// matmul_tail_*.comp: MatmulPush, then the layer-norm tail's fields.
struct MatmulTailPush {
  uint32_t rows, cols, n_vec, x_off, x_stride, y_off, y_stride, act, accumulate;
  uint32_t tail_groups, tail_y_off, tail_C, n_mix, state_off, state_stride;
  float eps;
};
static_assert(sizeof(MatmulTailPush) == 64);

struct LayerNormPush { uint32_t C, x_off, x_stride, y_off, y_stride; float eps; };
static_assert(sizeof(LayerNormPush) == 24);

struct GroupNormPush { uint32_t C, G; float eps; uint32_t pad; };
static_assert(sizeof(GroupNormPush) == 16);

struct TokenMixPush { uint32_t C, n_vec, T, n_mix, state_off, state_stride; };
static_assert(sizeof(TokenMixPush) == 24);

struct LnMixShiftPush { uint32_t C, n_vec, n_mix, state_off, state_stride; float eps; };
static_assert(sizeof(LnMixShiftPush) == 24);

struct EltwisePush { uint32_t n, op; };
static_assert(sizeof(EltwisePush) == 8);

struct Rwkv7PrepPush { uint32_t C, n_vec, layer0, pad; };
static_assert(sizeof(Rwkv7PrepPush) == 16);

struct Wkv7Push { uint32_t C, N, T, n_vec, state_off, state_stride; float eps; uint32_t pad; };
static_assert(sizeof(Wkv7Push) == 32);

// wkv7_step.comp (fused decode step); d / lora_off: w, a, g, v LoRAs.
struct Wkv7StepPush {
  uint32_t C, N, n_vec, state_off, state_stride;
  float eps;
  uint32_t layer0, up_given;
  uint32_t d[4], lora_off[4];
};
static_assert(sizeof(Wkv7StepPush) == 64);

// rwkv7_layer_*.comp (a whole decode layer in one dispatch); d / lora_off: w, a, g, v LoRAs.
struct Rwkv7LayerPush {
  uint32_t C, F, N, layer0;
  uint32_t d[4], lora_off[4];
  uint32_t att_shift, ffn_shift, wkv_off, pad;
  float ln_eps, gn_eps;
};
static_assert(sizeof(Rwkv7LayerPush) == 72);

struct Wkv4Push { uint32_t C, T, state_off, state_stride; };
static_assert(sizeof(Wkv4Push) == 16);

// mode bit 0: data-dependent decay (RWKV-6); bit 1: silu gate (5.2 and 6).
struct Wkv5Push { uint32_t C, N, T, state_off, state_stride; float eps; uint32_t mode, pad; };
static_assert(sizeof(Wkv5Push) == 32);
enum : uint32_t { kWkv5DataDecay = 1, kWkv5Gate = 2 };

enum class Act : uint32_t { none = 0, tanh = 1, sigmoid = 2, relu_sq = 3 };
// add_sigmoid_mul: y += sigmoid(a) * b (reads y); half: y = a / 2.
enum class EltOp : uint32_t { add = 0, mul = 1, sigmoid = 2, tanh = 3, relu_sq = 4, mul_sigmoid = 5,
                              add_sigmoid_mul = 6, half = 7 };

// Weight storage on the device. f16 stays f16, q8_0 stays Q8_0 (split into
// codes + scales); f32, bf16 and the other quantised types become f32, or f16
// when `UploadOptions::f16` asks for it.
enum class WeightType { f32, f16, q8_0 };

struct MatrixPart {
  uint32_t row0 = 0, rows = 0;
  Buffer w;
  Buffer scales;  // q8_0 only
};

struct DeviceMatrix {
  WeightType type = WeightType::f32;
  uint32_t rows = 0, cols = 0;
  std::vector<MatrixPart> parts;
  uint64_t bytes() const;
};

struct UploadOptions {
  bool f16 = false;             // store f32/bf16/quantised (not q8_0) weights as f16
  uint64_t max_part_bytes = 0;  // 0: the device's storage-buffer range (tests force splits)
};

// Converts one 2-D tensor (rows = shape[0], cols = shape[1]) and uploads it.
// cols must be a multiple of 8 (32 for q8_0).
Result<DeviceMatrix> upload_matrix(Context& ctx, const TensorView& t, const UploadOptions& opt);
// Same from host float32 data, stored as `type` (q8_0 quantises with ggml's rule).
Result<DeviceMatrix> upload_matrix_f32(Context& ctx, std::span<const float> data, uint32_t rows, uint32_t cols,
                                       WeightType type, const UploadOptions& opt);

// Float32 values of any tensor (dequantising), for vectors and host-side use.
Result<std::vector<float>> tensor_to_f32(const TensorView& t);
// Host buffer of floats on the device.
Result<Buffer> upload_floats(Context& ctx, std::span<const float> v);

// Records kernels into a CommandStream. Pipelines are created on first use.
class Ops {
 public:
  explicit Ops(Context& ctx) : ctx_(&ctx) {}

  // Invocations per workgroup of the per-row matmul kernels (matmul_*.comp):
  // 64, 128 or 256, or 0 for the default (128; WB_VK_ROW_WG
  // = 64|128|256|auto overrides it, auto: enough to take a row in one step).
  void set_row_threads(uint32_t n) { row_threads_ = n; }

  Status fill(CommandStream& cs, const Buffer& dst, uint32_t n, float value);
  // dst[dst_off + i] = src[src_off + i] for i < n 32-bit words, unless word
  // flag_index of `flag` is not 0 when the kernel runs (copy_unless.comp).
  Status copy_unless(CommandStream& cs, const Buffer& src, uint32_t src_off, const Buffer& dst, uint32_t dst_off,
                     uint32_t n, const Buffer& flag, uint32_t flag_index);
  // y[y_off + v*y_stride + row] (+)= act(W[row] . x[x_off + v*x_stride ...]) for v < n_vec.
  Status matmul(CommandStream& cs, const DeviceMatrix& W, const Buffer& x, uint32_t x_off, uint32_t x_stride,
                const Buffer& y, uint32_t y_off, uint32_t y_stride, uint32_t n_vec, Act act = Act::none,
                bool accumulate = false);
  // What follows a residual matmul in a decode step: the layer norm of the
  // finished vectors (w, b, eps) and their token-shift mixes with the shift
  // slots of `state` (ln_mix_shift's work) into `out`, n_mix slots. `counter`:
  // one uint, 0 (a buffer only such dispatches use; each leaves it 0).
  struct LnTail {
    const Buffer* w = nullptr;
    const Buffer* b = nullptr;
    const Buffer* mix = nullptr;
    uint32_t n_mix = 0;
    const Buffer* state = nullptr;
    uint32_t state_off = 0, state_stride = 0;
    const Buffer* out = nullptr;
    float eps = 1e-5f;
    const Buffer* counter = nullptr;
  };
  // matmul, then the tail in the dispatch's last workgroup (matmul_tail_*.comp):
  // one dependent step instead of two. y's vectors are W.rows floats at y_off +
  // v*y_stride; up to 8 vectors, storage-buffer path only (else Errc::unsupported).
  Status matmul_tail(CommandStream& cs, const DeviceMatrix& W, const Buffer& x, uint32_t x_off, uint32_t x_stride,
                     const Buffer& y, uint32_t y_off, uint32_t y_stride, uint32_t n_vec, bool accumulate,
                     const LnTail& tail);
  Status layer_norm(CommandStream& cs, const Buffer& x, uint32_t x_off, uint32_t x_stride, const Buffer& y,
                    uint32_t y_off, uint32_t y_stride, const Buffer& w, const Buffer& b, uint32_t C, uint32_t n_vec,
                    float eps);
  Status group_norm(CommandStream& cs, const Buffer& x, const Buffer& y, const Buffer& w, const Buffer& b, uint32_t C,
                    uint32_t G, uint32_t n_vec, float eps);
  Status token_mix(CommandStream& cs, const Buffer& x, const Buffer& state, const Buffer& mix, const Buffer& out,
                   const TokenMixPush& p);
  // Single-token steps: layer norm, token-shift mix and the shift-state update
  // in one dispatch (ln_mix_shift.comp); x holds n_vec vectors of C floats.
  Status ln_mix_shift(CommandStream& cs, const Buffer& x, const Buffer& state, const Buffer& w, const Buffer& b,
                      const Buffer& mix, const Buffer& out, const LnMixShiftPush& p);
  Status eltwise(CommandStream& cs, const Buffer& a, const Buffer& b, const Buffer& y, uint32_t n, EltOp op);
  Status rwkv7_prep(CommandStream& cs, const Buffer& k, const Buffer& v, const Buffer& w, const Buffer& a,
                    const Buffer& vl, const Buffer& v_first, const Buffer& kk, const Buffer& params, uint32_t C,
                    uint32_t n_vec, bool layer0);
  Status wkv7(CommandStream& cs, std::span<const Buffer* const> bufs /* r w k v kk a g state params out */,
              const Wkv7Push& p, uint32_t n_seq);
  // One fused RWKV-7 decode step (T == 1) per head and state: LoRA up-projections,
  // prep, state update and output norm (wkv7_step.comp). up: W2, A2, G2, V2 as f32
  // matrices of one part each (V2 may be null in layer 0).
  Status wkv7_step(CommandStream& cs, std::span<const Buffer* const> bufs /* r k v lora v_first state p q out */,
                   std::span<const DeviceMatrix* const> up, const Wkv7StepPush& p);
  // The same step after separate up-projection matmuls: up_out holds their outputs
  // w, a, g, vl (n_vec*C floats each; vl unused in layer 0). p.up_given is set here.
  Status wkv7_step_given(CommandStream& cs, std::span<const Buffer* const> bufs,
                         std::span<const Buffer* const> up_out, Wkv7StepPush p);
  // One RWKV-7 decode layer of one state in one dispatch of `groups` persistent
  // workgroups meeting at grid barriers (rwkv7_layer_*.comp; every workgroup must
  // be resident at once). bufs: x state r k v lora v_first att ffk params sync
  // up_out (12, see the kernel); mats: Wr Wk Wv W1 A1 G1 V1 Wo Wk' Wv' of type f16
  // or f32, one part each (V1 null in layer 0); up: W2 A2 G2 V2 f32, one part each
  // (V2 null in layer 0). `spin_limit`: polls before a waiting workgroup gives up.
  // `up_split`: the up-projections as a phase of their own over every workgroup
  // (needs every LoRA width % 8 == 0).
  Status rwkv7_layer(CommandStream& cs, std::span<const Buffer* const> bufs,
                     std::span<const DeviceMatrix* const> mats, std::span<const DeviceMatrix* const> up,
                     const Rwkv7LayerPush& p, uint32_t groups, uint32_t spin_limit, bool up_split);
  // RWKV-6 token shift with per-token mix offsets (token_mix_dd.comp).
  Status token_mix_dd(CommandStream& cs, const Buffer& x, const Buffer& state, const Buffer& mix, const Buffer& delta,
                      const Buffer& out, const TokenMixPush& p);
  Status wkv4(CommandStream& cs, std::span<const Buffer* const> bufs /* k v r state params out */,
              const Wkv4Push& p, uint32_t n_seq);
  Status wkv5(CommandStream& cs, std::span<const Buffer* const> bufs /* r k v wd g state params out */,
              const Wkv5Push& p, uint32_t n_seq);

 private:
  Status dispatch_wkv7_step(CommandStream& cs, std::span<const Buffer* const> bufs, const Buffer* const (&up)[4],
                            const Wkv7StepPush& push);
  // The texel-buffer matmul (CPU devices), tiled for llvmpipe.
  Status matmul_texel(CommandStream& cs, const DeviceMatrix& W, const Buffer& x, uint32_t x_off, uint32_t x_stride,
                      const Buffer& y, uint32_t y_off, uint32_t y_stride, uint32_t n_vec, Act act, bool accumulate);
  uint32_t row_threads(uint32_t cols) const;

  Context* ctx_;
  uint32_t row_threads_ = 0;
};

}  // namespace wb::vk
