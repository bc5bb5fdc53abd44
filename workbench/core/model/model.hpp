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
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"
#include "core/util/step_gate.hpp"

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
  // CPU backend: "resident" (weights copied into huge-page memory), "mapped"
  // (read from the file map, with the reason when a copy failed) or "owned"
  // (built in memory); empty for other backends.
  std::string weight_memory;
};

// Where a backend keeps a State's numbers between its calls (a Vulkan device
// buffer), so decoding step after step never moves them through host memory.
// Implemented by backends; a State owns at most one.
class StateStore {
 public:
  virtual ~StateStore() = default;
  // The same numbers in new storage (a fork copies device memory), or nullptr
  // when that fails (out of device memory): the State then copies via the host.
  virtual std::unique_ptr<StateStore> clone() const = 0;
  // Copies the stored numbers to host memory (out.size() floats).
  virtual Status read(std::span<float> out) const = 0;
};

// The recurrent state after some text: per layer, token-shift vectors and the
// WKV state. Layout is fixed by the architecture (see the arch sources).
//
// A State may live on a device (store() != nullptr): the backend that ran it
// keeps it there, forks (copies) copy device memory, and the host copy is
// filled only when data() is asked for (the state tree's snapshots, saving,
// another backend). data() through a non-const State hands the numbers back to
// the host for good (the caller may change them; the next Vulkan call uploads
// them again). Like any value, one State must not be used from two threads at once.
class State {
 public:
  State() = default;
  explicit State(std::size_t n_floats, float fill = 0.0f) : data_(n_floats, fill) {}
  State(const State& o);
  State& operator=(const State& o);
  State(State&&) noexcept = default;
  State& operator=(State&&) noexcept = default;

  std::span<float> data();
  std::span<const float> data() const;
  std::size_t byte_size() const { return data_.size() * sizeof(float); }
  bool operator==(const State& o) const;

  // ---- for backends
  StateStore* store() const { return store_.get(); }
  // The store now holds exactly the host numbers (just uploaded).
  void attach_store(std::unique_ptr<StateStore> s) {
    store_ = std::move(s);
    host_stale_ = false;
  }
  // The backend changed the stored numbers; the host copy is out of date.
  void mark_store_newer() { host_stale_ = store_ != nullptr; }
  bool host_stale() const { return host_stale_; }

 private:
  // Fills the host copy from the store when it is out of date. A failed read
  // (device lost) leaves NaNs, which every consumer can see.
  void sync() const;
  mutable std::vector<float> data_;
  std::unique_ptr<StateStore> store_;
  mutable bool host_stale_ = false;
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

  // From now on the model's work waits at `gate` while it is closed, checked
  // between steps: the CPU backend before each parallel job (tens of
  // microseconds apart), Vulkan before each submit; its users may pass it too
  // (a generation does before writing its drafts). nullptr: no gate. The gate
  // must outlive the model or be unset first. See core/util/step_gate.hpp.
  void set_step_gate(const StepGate* gate) {
    step_gate_.store(gate, std::memory_order_release);
    step_gate_changed(gate);
  }
  const StepGate* step_gate() const { return step_gate_.load(std::memory_order_acquire); }

 protected:
  virtual void step_gate_changed(const StepGate*) {}

 private:
  std::atomic<const StepGate*> step_gate_{nullptr};
};

}  // namespace wb
