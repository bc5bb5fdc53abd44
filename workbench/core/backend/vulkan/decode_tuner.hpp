// Chooses, by measuring on the device a model runs on, how it records a
// one-state decode step (a "decode variant"): RWKV-7 can run a layer as a chain
// of dependent dispatches ("chain"), with the layer norms inside the residual
// matmuls ("ln_tails"), or as one dispatch of persistent workgroups meeting at
// grid barriers ("persistent", "persistent_split_up"). Which is fastest depends
// on the GPU (its dispatch latency, its multiprocessors, whether it runs them all
// at once), so no fixed default is right everywhere; a few decode steps of each at
// load time tell.
//
// Each variant decodes the same tokens from the same fresh state. A variant is a
// candidate only if its logits agree with the first variant's (the reference,
// "chain") at every step and it did not give up midway (a device that does not
// run the persistent workgroups at once); the fastest candidate wins, but only by
// more than a margin, so noise does not move the choice off the reference.
//
//   WB_TRY(tuning, tune_decode(model));   // leaves tuning.chosen in use
//
// build_vulkan_model runs it when the model offers two or more variants (RWKV-7
// on a GPU by default; VulkanModelOptions::tune_decode, WB_VK_TUNE=0|1).
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace wb::vk {

class VulkanModel;

enum class VariantOutcome {
  ok,        // agreed with the reference; step_ms is its median step time
  gave_up,   // the model turned it off midway (grid barriers that waited too long)
  mismatch,  // its logits disagreed with the reference's beyond the tolerance
  failed,    // it could not be selected or a decode returned an error
};
std::string_view outcome_name(VariantOutcome o);

struct DecodeVariantResult {
  std::string name;
  VariantOutcome outcome = VariantOutcome::ok;
  double step_ms = 0;       // median host time of one decode step with full logits
  double max_abs_diff = 0;  // largest logit difference from the reference over every step
  std::string error;        // why, when failed
};

struct DecodeTuning {
  std::vector<DecodeVariantResult> variants;  // [0] is the reference
  std::string chosen;
  double took_ms = 0;  // the whole measurement, pipelines and recordings included
};

// One line for people: "chain 0.770 ms, persistent 0.310 ms, persistent_split_up gave_up".
std::string summarize(const DecodeTuning& t);

// The rule: the reference (index 0) unless a variant whose outcome is ok takes
// less than (1 - margin) of the reference's step time; then the fastest such.
size_t choose_decode_variant(std::span<const DecodeVariantResult> variants, double margin = 0.03);

// How far a variant's logits may be from the reference's: every variant computes
// in f32 from the same weights and differs only in the order of its sums, while a
// race between workgroups gives differences of the logits' own size.
double logit_tolerance(std::span<const float> reference);

struct TuneOptions {
  int warm_steps = 2;    // untimed first steps (pipelines, recordings, state upload)
  int timed_steps = 16;  // per round
  int rounds = 2;        // each runs every variant once, in turn; the order turns each round
  // Tests: the model's inject_give_up() before this variant's first step, as on
  // a device that does not run its persistent workgroups at once.
  std::string inject_give_up_into;
  // Tests: this variant's logits come out off by one in their first entry, as
  // from a kernel whose workgroups raced.
  std::string perturb_logits_of;
};

// Measures every variant of decode_variants() (two at least, else
// Errc::unsupported), selects the chosen one and returns the measurements. An
// error of the reference variant itself is returned as the error (the reference
// is in use then: it is selected before its steps run).
Result<DecodeTuning> tune_decode(VulkanModel& m, const TuneOptions& opt = {});

}  // namespace wb::vk
