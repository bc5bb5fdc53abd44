// The model interface every backend implements (cpu, vulkan).
//
//   WB_TRY(model, wb::load_model(path, {}));          // core/model/load.hpp
//   wb::State s = model->new_state();
//   std::vector<float> logits(model->info().n_vocab);
//   WB_CHECK(model->prefill(tokens, s, logits));       // whole prompt, chunked
//   wb::State fork = s;                                // forking = copying a value
//   WB_CHECK(model->decode(next_tokens, states, batch_logits));  // B states, one token each
//
// The model never hides state inside itself: a State is an explicit value with
// a known byte size, so the state tree can snapshot, compare and store it.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace wb {

enum class Arch : uint8_t { v4, v5_1, v5_2, v6, v7 };
const char* arch_name(Arch a);  // "rwkv4", "rwkv5.1", "rwkv5.2", "rwkv6", "rwkv7"

struct ModelInfo {
  Arch arch = Arch::v7;
  int n_layer = 0;
  int n_embd = 0;
  int n_vocab = 0;
  int n_head = 0;      // 0 for v4
  int head_size = 0;   // 0 for v4
  int n_ffn = 0;
  std::string format;  // "rwkv.cpp", "pth", "safetensors", "gguf", "synthetic"
  std::string dtype;   // the main weight type: "f32", "f16", "bf16", "q5_0", ...
  uint64_t params = 0;
  float group_norm_eps = 64e-5f;  // v5.x: 1e-5 for rwkv.cpp files (see fixtures README §7)
  std::string path;
  // Identifies the weights as a file (content hash, format, quantisation), so
  // saved snapshots are never used with another model. Backend-independent.
  std::string model_key;
};

// The recurrent state after some text: per layer, token-shift vectors and the
// WKV state. Layout is fixed by the architecture (see the arch sources).
class State {
 public:
  State() = default;
  explicit State(std::size_t n_floats, float fill = 0.0f) : data_(n_floats, fill) {}

  std::span<float> data() { return data_; }
  std::span<const float> data() const { return data_; }
  std::size_t byte_size() const { return data_.size() * sizeof(float); }
  bool operator==(const State& o) const { return data_ == o.data_; }

 private:
  std::vector<float> data_;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;
  virtual std::string_view backend() const = 0;  // "cpu", "vulkan"

  // The initial state (zeros; v4's max-exponent vectors start at -1e30).
  virtual State new_state() const = 0;

  // Reads tokens (one or many; long inputs are processed in chunks with
  // matrix-matrix products) into `state`. Writes the logits after the last
  // token into `logits` (n_vocab floats) unless it is empty.
  virtual Status prefill(std::span<const int32_t> tokens, State& state, std::span<float> logits) = 0;

  // Advances B independent states by one token each (tokens.size() == B ==
  // states.size()), reading the weights once. Writes B * n_vocab logits unless
  // `logits` is empty. Same logits as B separate calls.
  virtual Status decode(std::span<const int32_t> tokens, std::span<State* const> states,
                        std::span<float> logits) = 0;
};

}  // namespace wb
