// Story::score: likelihood of several continuations of a node in one batch.
// Used by wb.score/1 (e.g. the dialogue plugin's model-chosen speaker).
#include <algorithm>
#include <cmath>

#include "core/session/story.hpp"

namespace wb::session {
namespace {

// log softmax(logits)[token], computed stably.
double log_prob(std::span<const float> logits, int32_t token) {
  float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v - mx));
  return static_cast<double>(logits[static_cast<std::size_t>(token)] - mx) - std::log(sum);
}

}  // namespace

Result<std::vector<double>> Story::score(NodeId id, const std::vector<std::vector<int32_t>>& continuations) {
  if (!model_) return make_error(Errc::invalid_argument, "no model is loaded");
  const auto V = static_cast<std::size_t>(model_->info().n_vocab);
  for (const auto& c : continuations)
    for (int32_t t : c)
      if (t < 0 || static_cast<std::size_t>(t) >= V)
        return make_error(Errc::invalid_argument, "token {} is outside the vocabulary of {}", t, V);
  std::lock_guard ck(compute_mu_);
  tree::Restored start;
  {
    std::lock_guard lk(mu_);
    if (!tree_.contains(id)) return make_error(Errc::out_of_range, "no node {} to score from", id);
    WB_TRY(r, restore_locked(id, std::nullopt));
    start = std::move(r);
  }
  if (start.logits.size() != V)
    return make_error(Errc::invalid_argument, "node {} has no text to score a continuation of", id);

  const std::size_t B = continuations.size();
  std::vector<double> out(B, 0.0);
  std::size_t longest = 0;
  for (std::size_t i = 0; i < B; ++i) {
    longest = std::max(longest, continuations[i].size());
    if (!continuations[i].empty()) out[i] = log_prob(start.logits, continuations[i][0]);
  }
  // Every sequence starts from the node's state; token t's likelihood comes
  // from the logits after tokens 0..t-1, so the last token is never fed.
  std::vector<State> states(B, start.state);
  std::vector<int32_t> step_tokens;
  std::vector<State*> step_states;
  std::vector<std::size_t> step_index;
  std::vector<float> logits;
  for (std::size_t t = 0; t + 1 < longest; ++t) {
    step_tokens.clear();
    step_states.clear();
    step_index.clear();
    for (std::size_t i = 0; i < B; ++i) {
      if (t + 1 >= continuations[i].size()) continue;
      step_tokens.push_back(continuations[i][t]);
      step_states.push_back(&states[i]);
      step_index.push_back(i);
    }
    logits.assign(step_tokens.size() * V, 0.0f);
    WB_CHECK(model_->decode(step_tokens, step_states, logits));
    for (std::size_t k = 0; k < step_index.size(); ++k) {
      std::size_t i = step_index[k];
      out[i] += log_prob(std::span<const float>(logits.data() + k * V, V), continuations[i][t + 1]);
    }
  }
  return out;
}

}  // namespace wb::session
