#include "core/backend/vulkan/decode_tuner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/backend/vulkan/rwkv7_vulkan.hpp"
#include "core/util/stats.hpp"

namespace wb::vk {
namespace {

// NaN on either side is a disagreement, whatever the other side holds.
double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    d = std::max(d, std::fabs(double{a[i]} - b[i]));
  }
  return d;
}

}  // namespace

std::string_view outcome_name(VariantOutcome o) {
  switch (o) {
    case VariantOutcome::ok: return "ok";
    case VariantOutcome::gave_up: return "gave_up";
    case VariantOutcome::mismatch: return "mismatch";
    case VariantOutcome::failed: return "failed";
  }
  return "?";
}

std::string summarize(const DecodeTuning& t) {
  std::string s;
  for (const DecodeVariantResult& v : t.variants) {
    if (!s.empty()) s += ", ";
    s += v.outcome == VariantOutcome::ok ? fmt::format("{} {:.3f} ms", v.name, v.step_ms)
                                         : fmt::format("{} {}", v.name, outcome_name(v.outcome));
  }
  return s;
}

size_t choose_decode_variant(std::span<const DecodeVariantResult> variants, double margin) {
  if (variants.empty() || variants[0].outcome != VariantOutcome::ok) return 0;
  size_t best = 0;
  const double bar = variants[0].step_ms * (1.0 - margin);
  for (size_t i = 1; i < variants.size(); ++i) {
    const DecodeVariantResult& v = variants[i];
    if (v.outcome != VariantOutcome::ok || !(v.step_ms > 0) || v.step_ms >= bar) continue;
    if (best == 0 || v.step_ms < variants[best].step_ms) best = i;
  }
  return best;
}

double logit_tolerance(std::span<const float> reference) {
  double top = 0;
  for (float x : reference) top = std::max(top, std::fabs(double{x}));
  return 1e-2 + 1e-3 * top;
}

Result<DecodeTuning> tune_decode(VulkanModel& m, const TuneOptions& opt) {
  const std::vector<std::string> names = m.decode_variants();
  if (names.size() < 2) return make_error(Errc::unsupported, "this model has no decode variants to choose from");
  if (opt.warm_steps < 0 || opt.timed_steps < 1 || opt.rounds < 1)
    return make_error(Errc::invalid_argument, "tune_decode: warm_steps >= 0, timed_steps >= 1, rounds >= 1");
  const int V = m.info().n_vocab;
  const int steps = opt.warm_steps + opt.timed_steps;
  std::vector<int32_t> tokens(static_cast<size_t>(steps));
  for (int i = 0; i < steps; ++i) tokens[size_t(i)] = static_cast<int32_t>((int64_t{i} * 7919 + 13) % V);

  const auto start = std::chrono::steady_clock::now();
  DecodeTuning tuning;
  for (const std::string& n : names) tuning.variants.push_back({.name = n, .error = {}});
  std::vector<std::vector<double>> times(names.size());
  std::vector<std::vector<float>> reference(static_cast<size_t>(steps));  // the reference's logits per step
  std::vector<double> tolerance(static_cast<size_t>(steps));              // and how far others may be from them
  std::vector<float> logits(static_cast<size_t>(V));
  const State fresh = m.new_state();
  auto fail = [](DecodeVariantResult& r, const Error& e) {
    r.outcome = VariantOutcome::failed;
    r.error = e.message;
  };

  for (int round = 0; round < opt.rounds; ++round) {
    for (size_t j = 0; j < names.size(); ++j) {
      // The reference first in the first round (the others are held to its
      // logits), then the order turns each round, so that a GPU still raising
      // its clocks does not favour whichever runs last.
      const size_t i = round % 2 ? names.size() - 1 - j : j;
      DecodeVariantResult& r = tuning.variants[i];
      if (r.outcome != VariantOutcome::ok) continue;
      if (Status st = m.use_decode_variant(names[i]); !st) {
        if (i == 0) return st.error();
        fail(r, st.error());
        continue;
      }
      if (round == 0 && names[i] == opt.inject_give_up_into) m.inject_give_up();
      State s = fresh;
      State* sp = &s;
      for (int k = 0; k < steps && r.outcome == VariantOutcome::ok; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        const Status st = m.decode(std::span<const int32_t>(&tokens[size_t(k)], 1), std::span<State* const>(&sp, 1),
                                   logits);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!st) {
          if (i == 0) return st.error();
          fail(r, st.error());
          break;
        }
        if (m.decode_variant() != names[i]) {  // the model turned it off midway (and ran the step again without it)
          if (i == 0) return make_error(Errc::internal, "the reference decode variant '{}' turned itself off", names[i]);
          r.outcome = VariantOutcome::gave_up;
          break;
        }
        if (k >= opt.warm_steps) times[i].push_back(ms);
        if (names[i] == opt.perturb_logits_of) logits[0] += 1.0f;
        if (round > 0) continue;
        if (i == 0) {
          reference[size_t(k)] = logits;
          tolerance[size_t(k)] = logit_tolerance(logits);
          continue;
        }
        const double d = max_abs_diff(reference[size_t(k)], logits);
        r.max_abs_diff = std::max(r.max_abs_diff, d);
        if (!(d <= tolerance[size_t(k)])) r.outcome = VariantOutcome::mismatch;
      }
    }
  }
  for (size_t i = 0; i < names.size(); ++i) tuning.variants[i].step_ms = median(times[i]);
  tuning.chosen = names[choose_decode_variant(tuning.variants)];
  WB_CHECK(m.use_decode_variant(tuning.chosen));
  tuning.took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return tuning;
}

}  // namespace wb::vk
