// Shared machinery of the CPU models (one subclass per RWKV version in
// rwkv4.cpp ... rwkv7.cpp): weight extraction in either value convention,
// embedding, layer norms, token shift, chunked prefill, batched decode, head.
//
//   WB_TRY(model, wb::cpu::build_rwkv7(std::move(tf), opt));
//
// Activations are "columns": n vectors of C floats, each with a State*. A
// column whose state equals the previous column's continues that sequence
// (prefill chunk); otherwise it starts from its own state (decode batch). So one
// forward serves both, and each weight row is decoded once per call.
#pragma once
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/model/cpu/matmul.hpp"
#include "core/model/load.hpp"
#include "core/model/model.hpp"
#include "core/model/tensor_file.hpp"

namespace wb::cpu {

// Reads tensors by name and checks their sizes, turning them into matrices
// (views into the file where possible) and small f32 vectors.
class WeightReader {
 public:
  WeightReader(const TensorFile& tf, bool dequantize, std::vector<std::vector<float>>& store)
      : tf_(tf), dequantize_(dequantize), store_(store) {}

  bool has(const std::string& name) const { return tf_.find(name) != nullptr; }
  Result<const TensorView*> need(const std::string& name) const;
  // All elements as f32; `numel` must match (any shape).
  Result<std::vector<float>> vec(const std::string& name, int64_t numel) const;
  // A (rows, cols) matrix in PyTorch order (y = W x), used in place.
  Result<Mat> mat(const std::string& name, int64_t rows, int64_t cols);
  // A matrix stored as (cols, rows), i.e. used as x @ W in PyTorch: transposed
  // once into a copy (only small LoRA matrices take this path). F16 stays f16,
  // so decode reads the file's bytes, not twice as many; others become f32.
  Result<Mat> mat_transposed(const std::string& name, int64_t rows, int64_t cols);
  // Slice s of a 3-D tensor (k, rows, cols) as a matrix.
  Result<Mat> mat_slice(const std::string& name, int64_t k, int64_t s, int64_t rows, int64_t cols);
  // Like mat_slice for a (k, cols, rows) tensor, transposed into an f32 copy.
  Result<Mat> mat_slice_transposed(const std::string& name, int64_t k, int64_t s, int64_t rows, int64_t cols);

  const std::string& path() const { return tf_.path; }
  ValueConvention convention() const { return tf_.convention; }

 private:
  Result<std::vector<float>> all_f32(const TensorView& t) const;
  // A matrix whose elements (f32, or f16 packed two per float slot) live in `v`,
  // which store_ keeps.
  Mat own(std::vector<float> v, int64_t rows, int64_t cols, DType dtype = DType::f32);
  const TensorFile& tf_;
  bool dequantize_;
  std::vector<std::vector<float>>& store_;
};

class CpuModel : public Model {
 public:
  CpuModel(TensorFile tf, const LoadOptions& opt);
  const ModelInfo& info() const override { return info_; }
  std::string_view backend() const override { return "cpu"; }
  State new_state() const override;
  Status prefill(std::span<const int32_t> tokens, State& state, std::span<float> logits) override;
  Status decode(std::span<const int32_t> tokens, std::span<State* const> states, std::span<float> logits) override;

  // The v4/v5/v6 FFN: x += sigmoid(Wr xr) * (Wv relu(Wk xk)^2), with
  // xk = xf + (prev - xf) * shift_k (and likewise r), xf = LN2(x).
  struct RkvFfn {
    std::vector<float> ln_w, ln_b, shift_k, shift_r;
    Mat key, value, receptance;
  };

  // Tokens per prefill chunk (mat-mat products over this many columns). Each
  // chunk reads all weights once, so longer chunks cut memory traffic; 96 is
  // one GEMM pass (kGemmPassColumns), so no chunk ends in a short second pass,
  // and keeps a chunk's activations (96 x 4096 floats) inside L2. Measured on
  // the 0.45B shape: 96 ~152 tok/s, 128 ~136-156, 256 ~125.
  static constexpr int kChunk = 96;

 protected:
  void step_gate_changed(const StepGate* gate) override { pool_.set_gate(gate); }
  // Reads emb, ln0, ln_out, head and fills the common ModelInfo fields.
  Status read_common(WeightReader& wr);
  // Runs n columns (after ln0) through all blocks, updating their states.
  virtual void run_blocks(float* x, int n, State* const* st) = 0;
  virtual std::size_t state_floats() const = 0;
  virtual void init_state(State&) const {}

  void layer_norm(const float* x, float* y, int n, const std::vector<float>& w, const std::vector<float>& b) const;
  void group_norm(float* x, int n, int groups, const std::vector<float>& w, const std::vector<float>& b,
                  float eps) const;
  // prev[c] = the input vector before column c at this shift slot (the
  // previous column of the same sequence, else the state's saved vector);
  // then the state saves the last column of each sequence.
  void token_shift(const float* xa, int n, State* const* st, std::size_t off, float* prev) const;
  void mm(const Mat& w, const float* x, int n, float* y) { matmul(w, x, n, y, pool_); }
  Result<RkvFfn> read_rkv_ffn(WeightReader& wr, int layer, bool v6_names);
  void rkv_ffn(const RkvFfn& f, float* x, int n, State* const* st, std::size_t shift_off);
  // GGUF/HF-style checkpoints halve the residual stream after every n-th block
  // (their weights were divided to match): TensorFile::meta["rescale_every_n_layers"].
  void rescale_after_block(int layer, float* x, int n) const;
  // Reads meta["rescale_every_n_layers"] and meta["group_norm_eps"] if present.
  Status read_meta_overrides();
  int rescale_every_ = 0;

  ModelInfo info_;
  TensorFile tf_;
  std::vector<std::vector<float>> store_;  // owned f32 copies (transposed LoRA, dequantised matrices)
  ThreadPool pool_;
  bool dequantize_ = false;
  int C_ = 0;

 private:
  Status forward(std::span<const int32_t> tokens, State* const* st, float* logits, bool all_columns);
  Status check_state(const State& s) const;
  Mat emb_, head_;
  std::vector<float> ln0_w_, ln0_b_, lnout_w_, lnout_b_;
};

int count_layers(const TensorFile& tf);

Result<std::unique_ptr<Model>> build_rwkv4(TensorFile tf, const LoadOptions& opt);
Result<std::unique_ptr<Model>> build_rwkv5(TensorFile tf, const LoadOptions& opt, Arch arch);
Result<std::unique_ptr<Model>> build_rwkv6(TensorFile tf, const LoadOptions& opt);
Result<std::unique_ptr<Model>> build_rwkv7(TensorFile tf, const LoadOptions& opt);

// One step of the RWKV-5/6 WKV recurrence for one column, all heads. S is
// H x N x N with S[h][i][j], i the key index and j the value index:
//   y[j] = sum_i r[i] (u[i] k[i] v[j] + S[i][j]);  S[i][j] = S[i][j] w[i] + k[i] v[j].
void wkv5_step(float* S, const float* r, const float* k, const float* v, const float* w, const float* u, int H,
               int N, float* y);

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace wb::cpu
