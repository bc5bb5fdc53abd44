// Token samplers: turn a model's logits into the next token, deterministically
// for a given seed and settings.
//
//   WB_TRY(settings, wb::sampling::load_preset("presets/sampling/creative.txt"));
//   settings.seed = 42;
//   wb::sampling::Sampler sampler(settings, n_vocab);
//   int32_t tok = sampler.sample(logits);   // logits: n_vocab floats (copied, not changed)
//   sampler.accept(tok);                    // updates the repetition penalties
//
// Order of the steps (each off at its neutral value): logit bias, banned tokens,
// repetition penalty (multiplicative), presence + frequency penalties over
// decayed occurrence counts (the RWKV pipeline's rule), temperature, top-k,
// typical, top-p, min-p, then a draw from the remaining distribution.
// temperature <= 0 means greedy (the most likely token, lowest id on ties).
//
// The random source is our own (splitmix64), not <random>'s distributions,
// so the same seed gives the same text on every platform and compiler.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/util/result.hpp"

namespace wb::sampling {

struct Settings {
  // Defaults follow the rwkv pip package's PIPELINE_ARGS (RWKV's usual values).
  float temperature = 1.0f;
  int top_k = 0;                    // 0: off
  float top_p = 0.85f;              // 1: off
  float min_p = 0.0f;               // 0: off
  float typical_p = 1.0f;           // 1: off
  float repetition_penalty = 1.0f;  // 1: off
  float presence_penalty = 0.2f;    // alpha_presence
  float frequency_penalty = 0.2f;   // alpha_frequency
  float penalty_decay = 0.996f;     // occurrence counts are multiplied by this each token
  std::vector<std::pair<int32_t, float>> logit_bias;
  std::vector<int32_t> banned_tokens;
  std::vector<std::string> stop;    // generation ends once the text ends with one of these
  int max_tokens = 200;
  uint64_t seed = 0;
  int top_alternatives = 5;         // how many alternatives each generated token records

  bool operator==(const Settings&) const = default;
};

// "key = value" lines; '#' starts a comment. Lists are comma separated;
// logit_bias is "id:bias, id:bias"; stop strings use C escapes (\n, \t, \\, \,).
Result<Settings> parse_preset(std::string_view text, std::string_view origin = "preset");
Result<Settings> load_preset(const std::string& path);
// Applies one key = value to `s` (used by the preset parser and by CLI flags).
Status set_option(Settings& s, std::string_view key, std::string_view value);
// The preset text form (round-trips through parse_preset).
std::string to_preset(const Settings& s);

struct TokenProb {
  int32_t token = 0;
  float prob = 0.0f;
  bool operator==(const TokenProb&) const = default;
};

// The `k` most likely tokens of softmax(logits), most likely first.
std::vector<TokenProb> top_probs(std::span<const float> logits, int k);

// splitmix64: small, fast and fully specified.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next();
  double uniform();  // [0, 1) with 53 random bits
 private:
  uint64_t s_;
};

class Sampler {
 public:
  Sampler(Settings settings, int n_vocab);

  // Picks the next token from `logits` (n_vocab floats).
  int32_t sample(std::span<const float> logits);
  // Records `token` as generated (or read: call it for prompt tokens too if
  // the penalties should see them).
  void accept(int32_t token);

  const Settings& settings() const { return settings_; }
  // The processed distribution of the last sample() call (probabilities over
  // the surviving candidates), for tests and for the UI.
  const std::vector<TokenProb>& last_candidates() const { return cand_; }

 private:
  Settings settings_;
  int n_vocab_;
  Rng rng_;
  std::unordered_map<int32_t, float> occurrence_;
  std::vector<float> work_;
  std::vector<TokenProb> cand_;
};

}  // namespace wb::sampling
