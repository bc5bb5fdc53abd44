// Shared helpers of the tree suite: the tiny fixture model and a wrapper that
// counts the tokens a model is asked to read (to prove "computes nothing").
#pragma once
#include <memory>
#include <string>

#include "core/model/load.hpp"
#include "core/model/model.hpp"
#include "support/fixtures.hpp"

namespace wb::test {

inline std::unique_ptr<Model> tiny_model(const std::string& name = "tiny-rwkv-7v0-834K-FP32.bin") {
  auto m = load_model(fixture("rwkv-cpp-tiny/" + name));
  INFO((m ? std::string() : m.error().message));
  REQUIRE(m.ok());
  return std::move(*m);
}

// Forwards to a real model; counts prefill and decode tokens. Can pretend to
// be another model (another model_key) to test key checks.
class CountingModel : public Model {
 public:
  explicit CountingModel(Model& inner, std::string key_override = {}) : inner_(inner), info_(inner.info()) {
    if (!key_override.empty()) info_.model_key = key_override;
  }
  const ModelInfo& info() const override { return info_; }
  std::string_view backend() const override { return inner_.backend(); }
  State new_state() const override { return inner_.new_state(); }
  Status prefill(std::span<const int32_t> t, State& s, std::span<float> l) override {
    prefill_tokens += t.size();
    return inner_.prefill(t, s, l);
  }
  Status decode(std::span<const int32_t> t, std::span<State* const> s, std::span<float> l) override {
    decode_tokens += t.size();
    return inner_.decode(t, s, l);
  }
  std::size_t prefill_tokens = 0, decode_tokens = 0;

 protected:
  void step_gate_changed(const StepGate* gate) override { inner_.set_step_gate(gate); }

 private:
  Model& inner_;
  ModelInfo info_;
};

inline std::vector<int32_t> bytes_of(std::string_view s) {
  std::vector<int32_t> v;
  for (unsigned char c : s) v.push_back(c);
  return v;
}

}  // namespace wb::test
