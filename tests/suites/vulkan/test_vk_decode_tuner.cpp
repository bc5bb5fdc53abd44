// The decode tuner (decode_tuner.hpp): its rule, and real measurements of
// RWKV-7's decode variants on this device (lavapipe in CI: one persistent
// workgroup there, so every variant runs, if slowly).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <nlohmann/json.hpp>

#include "core/backend/vulkan/decode_tuner.hpp"
#include "core/backend/vulkan/rwkv7_vulkan.hpp"
#include "core/model/load.hpp"
#include "core/util/log.hpp"
#include "synth_rwkv7.hpp"
#include "vk_test_util.hpp"

using namespace wb;
using namespace wb::test;
using vk::DecodeVariantResult;
using vk::VariantOutcome;

namespace {

DecodeVariantResult variant(const char* name, VariantOutcome o, double ms) {
  return {.name = name, .outcome = o, .step_ms = ms, .max_abs_diff = 0, .error = {}};
}

// 2 layers of 128 channels (2 heads of 64) with the 0.1B LoRA widths: small
// enough for one lavapipe thread to run a persistent layer quickly.
SynthShape small_shape() {
  SynthShape s;
  s.n_embd = 128;
  s.n_ffn = 512;
  s.n_vocab = 512;
  return s;
}

// What a GPU gets: the storage-buffer kernels and the fused step (the
// persistent layer needs both), with the variants offered for measuring.
vk::VulkanModelOptions gpu_like_options() {
  vk::VulkanModelOptions o;
  o.kernels = vk::KernelPath::storage;
  o.fused_decode = vk::Fusion::full;
  o.tune_decode = vk::Switch::on;
  return o;
}

std::unique_ptr<vk::VulkanModel> load_vk(const TensorFile& tf, const vk::VulkanModelOptions& o) {
  auto m = vk::load_rwkv7_vulkan(tf, o);
  INFO((m ? std::string() : m.error().message));
  REQUIRE(m.ok());
  return std::move(*m);
}

// Sets an environment variable for one scope (wb runs as a child process).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* v = std::getenv(name)) saved_ = v;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (saved_) ::setenv(name_, saved_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

// What a model offers here with gpu_like_options(): every variant, but the
// persistent ones only where the device says how many multiprocessors it has
// (CPU devices run one workgroup).
std::vector<std::string> offered_here() {
  const vk::DeviceInfo& d = vk_ctx().device();
  if (d.type != "cpu" && d.compute_units == 0) return {"chain", "ln_tails"};
  return {"chain", "ln_tails", "persistent", "persistent_split_up"};
}

}  // namespace

TEST_CASE("decode tuner: the reference stays unless a variant that agreed is faster by more than the margin",
          "[vulkan]") {
  using O = VariantOutcome;
  std::vector<DecodeVariantResult> v = {variant("chain", O::ok, 10), variant("ln_tails", O::ok, 9.8)};
  CHECK(vk::choose_decode_variant(v) == 0);  // 2% faster: within the noise margin
  v.push_back(variant("persistent", O::ok, 5));
  CHECK(vk::choose_decode_variant(v) == 2);
  v[1].step_ms = 9;
  CHECK(vk::choose_decode_variant(v) == 2);  // the fastest of those past the margin
  v[2].outcome = O::mismatch;  // fast and wrong
  CHECK(vk::choose_decode_variant(v) == 1);
  v[1].outcome = O::gave_up;
  CHECK(vk::choose_decode_variant(v) == 0);
  v[1] = variant("ln_tails", O::ok, 0);  // no timed step
  CHECK(vk::choose_decode_variant(v) == 0);
  v[0].outcome = O::failed;  // nothing to hold the others to
  v[1].step_ms = 1;
  CHECK(vk::choose_decode_variant(v) == 0);
  CHECK(vk::choose_decode_variant(std::vector<DecodeVariantResult>{}) == 0);

  vk::DecodeTuning t;
  t.variants = {variant("chain", O::ok, 0.77), variant("persistent", O::gave_up, 0)};
  CHECK(vk::summarize(t) == "chain 0.770 ms, persistent gave_up");

  const std::vector<float> logits = {1.0f, -20.0f, 3.0f};
  CHECK(vk::logit_tolerance(logits) == Approx(0.03));
}

TEST_CASE("vulkan rwkv7: each decode variant offered decodes as the CPU runtime does, and the measured one is in use",
          "[gpu][vulkan][rwkv]") {
  const SynthShape shape = small_shape();
  TensorFile tf = synth_rwkv7(shape);
  LoadOptions co;
  co.threads = 2;
  auto cpu = build_model(tf, co);
  REQUIRE(cpu.ok());
  auto m = load_vk(tf, gpu_like_options());
  const std::vector<std::string> offered = offered_here();
  REQUIRE(m->decode_variants() == offered);
  CHECK(m->decode_variant() == "chain");  // the reference until something is chosen

  vk::TuneOptions quick;
  quick.warm_steps = 1;
  quick.timed_steps = 3;
  auto tuning = vk::tune_decode(*m, quick);
  WB_REQUIRE_OK(tuning);
  REQUIRE(tuning->variants.size() == offered.size());
  for (const DecodeVariantResult& v : tuning->variants) {
    INFO(v.name << " " << vk::outcome_name(v.outcome) << " " << v.error << " " << v.step_ms << " ms, diff "
                << v.max_abs_diff);
    CHECK(v.outcome == VariantOutcome::ok);
    CHECK(v.step_ms > 0);
    CHECK(v.max_abs_diff <= 1e-3);  // f32 weights, f32 sums in another order
  }
  CHECK(tuning->chosen == offered[vk::choose_decode_variant(tuning->variants)]);
  CHECK(m->decode_variant() == tuning->chosen);
  double steps_ms = 0;
  for (const DecodeVariantResult& v : tuning->variants) steps_ms += v.step_ms * quick.timed_steps * quick.rounds;
  CHECK(tuning->took_ms > steps_ms);
  CHECK(m->use_decode_variant("no_such_way").error().code == Errc::unsupported);
  CHECK(m->decode_variant() == tuning->chosen);

  // Each variant by hand, from the same prefilled state: its recording has the
  // shape it claims, and its logits are the CPU runtime's.
  const int V = shape.n_vocab, layers = shape.n_layer;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> tok(0, V - 1);
  std::vector<int32_t> prompt(6), steps(6);
  for (auto& t : prompt) t = tok(rng);
  for (auto& t : steps) t = tok(rng);
  State c0 = (*cpu)->new_state(), g0 = m->new_state();
  std::vector<float> lc(V), lg(V);
  WB_REQUIRE_OK((*cpu)->prefill(prompt, c0, lc));
  WB_REQUIRE_OK(m->prefill(prompt, g0, lg));
  std::map<std::string, uint32_t> barriers;
  for (const std::string& name : offered) {
    INFO("variant " << name);
    WB_REQUIRE_OK(m->use_decode_variant(name));
    CHECK(m->decode_variant() == name);
    State c = c0, g = g0;
    State *cp = &c, *gp = &g;
    double worst = 0;
    for (int32_t t : steps) {
      WB_REQUIRE_OK((*cpu)->decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&cp, 1), lc));
      WB_REQUIRE_OK(m->decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&gp, 1), lg));
      worst = std::max(worst, double(max_abs_diff(lc, lg)));
    }
    CHECK(worst <= 1e-3);
    barriers[name] = m->last_recording().barriers;
  }
  INFO("barriers chain " << barriers["chain"] << ", ln_tails " << barriers["ln_tails"]);
  CHECK(barriers["ln_tails"] + 2 * layers - 1 == barriers["chain"]);  // the norms inside the residual matmuls
  if (offered.size() == 4) {
    CHECK(barriers["persistent"] == layers + 2u);  // one dispatch per layer
    CHECK(barriers["persistent_split_up"] == layers + 2u);
  }
}

TEST_CASE("vulkan rwkv7: variants that give up or disagree while measured are left out, and decoding goes on",
          "[gpu][vulkan][rwkv]") {
  // As on a device that does not run the persistent workgroups at once, and one
  // where a variant computes wrong logits: the measurement must choose neither,
  // must not fail, and must leave a model whose decode agrees with the CPU runtime.
  const SynthShape shape = small_shape();
  TensorFile tf = synth_rwkv7(shape);
  vk::VulkanModelOptions o = gpu_like_options();
  WarningLog wl;
  o.log = &wl.log;
  auto m = load_vk(tf, o);
  if (offered_here().size() < 4) {
    SUCCEED("this GPU does not say how many multiprocessors it has: no persistent variant to give up");
    return;
  }
  vk::TuneOptions quick;
  quick.warm_steps = 1;
  quick.timed_steps = 2;
  quick.inject_give_up_into = "persistent";
  quick.perturb_logits_of = "ln_tails";  // and one that agrees no more
  auto tuning = vk::tune_decode(*m, quick);
  WB_REQUIRE_OK(tuning);
  REQUIRE(tuning->variants.size() == 4);
  CHECK(tuning->variants[0].outcome == VariantOutcome::ok);
  CHECK(tuning->variants[1].outcome == VariantOutcome::mismatch);
  CHECK(tuning->variants[1].max_abs_diff == Approx(1.0).margin(1e-3));
  CHECK(tuning->variants[2].outcome == VariantOutcome::gave_up);
  CHECK(tuning->variants[3].outcome == VariantOutcome::failed);  // no longer offered
  CHECK(tuning->variants[3].error.find("not offered") != std::string::npos);
  CHECK(tuning->chosen == "chain");
  CHECK(m->decode_variant() == tuning->chosen);
  CHECK(m->decode_variants() == std::vector<std::string>{"chain", "ln_tails"});
  CHECK(wl.warnings.size() == 1);

  LoadOptions co;
  co.threads = 2;
  auto cpu = build_model(tf, co);
  REQUIRE(cpu.ok());
  State c = (*cpu)->new_state(), g = m->new_state();
  State *cp = &c, *gp = &g;
  std::vector<float> lc(shape.n_vocab), lg(shape.n_vocab);
  double worst = 0;
  for (int32_t t : {5, 77, 301, 12}) {
    WB_REQUIRE_OK((*cpu)->decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&cp, 1), lc));
    WB_REQUIRE_OK(m->decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&gp, 1), lg));
    worst = std::max(worst, double(max_abs_diff(lc, lg)));
  }
  CHECK(worst <= 1e-3);
}

TEST_CASE("vulkan rwkv7: a device lost while the variants are measured is an error, with the chain in use",
          "[gpu][vulkan][rwkv]") {
  TensorFile tf = synth_rwkv7(small_shape());
  auto m = load_vk(tf, gpu_like_options());
  WB_REQUIRE_OK(m->use_decode_variant("persistent"));
  m->inject_device_loss();
  auto tuning = vk::tune_decode(*m);
  REQUIRE(!tuning.ok());
  CHECK(tuning.error().code == Errc::device);
  CHECK(m->decode_variant() == "chain");
}

TEST_CASE("vulkan rwkv7: decode variants are offered on GPUs by default, never over a choice made by hand",
          "[gpu][vulkan][rwkv]") {
  bool env_choice = false;  // the device script's parity runs set these
  for (const char* e : {"WB_VK_TUNE", "WB_VK_PERSIST", "WB_VK_PERSIST_UP", "WB_VK_LN_TAIL"}) env_choice |= !!std::getenv(e);
  vk::VulkanModelOptions o;
  if (!env_choice) {
    CHECK(vk::offers_decode_variants(o, true));
    CHECK(!vk::offers_decode_variants(o, false));  // lavapipe: the CPU backend's job (auto)
  }
  for (int hand = 0; hand < 3 && !env_choice; ++hand) {
    INFO("choice by hand " << hand);
    vk::VulkanModelOptions h;
    if (hand == 0) h.persistent_groups = 8;
    if (hand == 1) h.persistent_split_up = true;
    if (hand == 2) h.layer_norm_tails = vk::Switch::off;
    CHECK(!vk::offers_decode_variants(h, true));
    h.tune_decode = vk::Switch::on;  // asked for all the same
    CHECK(vk::offers_decode_variants(h, false));
  }
  o.tune_decode = vk::Switch::off;
  CHECK(!vk::offers_decode_variants(o, true));

  // A model loaded so keeps the hand's choice and offers nothing.
  TensorFile tf = synth_rwkv7(small_shape());
  o = gpu_like_options();
  o.tune_decode = vk::Switch::automatic;
  o.layer_norm_tails = vk::Switch::on;
  auto tails = load_vk(tf, o);
  CHECK(tails->decode_variants().empty());
  CHECK(tails->decode_variant() == "ln_tails");
  CHECK(tails->use_decode_variant("chain").error().code == Errc::unsupported);
}

TEST_CASE("wb bench and info --backend vulkan report the decode variant measured at load", "[gpu][vulkan][cli]") {
  const std::string dir = temp_dir("vk_cli_tune").string();
  auto r = run_wb("synth --arch rwkv7 --layers 1 --embd 64 --vocab 256 --dtype f16 --out " + dir + "/m.gguf");
  REQUIRE(r.exit_code == 0);
  // lavapipe takes the variants only when asked; on a GPU they are the default.
  ScopedEnv tune("WB_VK_TUNE", "1"), kernels("WB_VK_KERNELS", "storage"), fused("WB_VK_FUSED", "1");
  r = run_wb("bench " + dir + "/m.gguf --backend vulkan -p 0 -n 4 -r 1 --bw-mib 0");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> offered = offered_here();  // (wb takes the same device)
  for (const std::string& v : offered) CHECK(r.out.find("decode_tune_" + v + "_ms ") != std::string::npos);
  CHECK(r.out.find("decode_tune_took_ms ") != std::string::npos);
  const size_t at = r.out.find("decode_variant ");
  REQUIRE(at != std::string::npos);
  const std::string chosen = r.out.substr(at + 15, r.out.find('\n', at) - at - 15);
  CHECK(std::find(offered.begin(), offered.end(), chosen) != offered.end());

  r = run_wb("info " + dir + "/m.gguf --backend vulkan");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["decode_tuning"].size() == offered.size());
  for (size_t i = 0; i < offered.size(); ++i) {
    CHECK(j["decode_tuning"][i]["variant"] == offered[i]);
    CHECK(j["decode_tuning"][i]["outcome"] == "ok");
    CHECK(j["decode_tuning"][i]["step_ms"].get<double>() > 0);
  }
  CHECK(j["decode_variant"].is_string());
  CHECK(j["decode_tuning_ms"].get<double>() > 0);
}
