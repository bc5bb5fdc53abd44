#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/verbs.hpp"
#include "core/backend/vulkan/vulkan_backend.hpp"
#include "core/model/load.hpp"

namespace wb::cli {

// wb info MODEL: one JSON object describing the model (see ARCHITECTURE.md).
int cmd_info(Args& args) {
  auto backend = args.value("--backend");
  if (!backend) return fail(backend.error());
  auto threads = args.integer("--threads");
  if (!threads) return fail(threads.error());
  auto device = device_option(args);
  if (!device) return fail(device.error());
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  const auto pos = args.positionals();
  if (pos.size() != 1) return fail(make_error(Errc::invalid_argument, "usage: wb info MODEL"));
  LoadOptions opt;
  if (*backend) opt.backend = **backend;
  opt.device = *device;
  opt.threads = *threads ? static_cast<int>(**threads) : 1;
  auto model = load_model(pos[0], opt);
  if (!model) return fail(model.error());
  const ModelInfo& mi = (*model)->info();
  nlohmann::ordered_json j;
  j["arch"] = arch_name(mi.arch);
  j["n_layer"] = mi.n_layer;
  j["n_embd"] = mi.n_embd;
  j["n_vocab"] = mi.n_vocab;
  j["n_head"] = mi.n_head;
  j["head_size"] = mi.head_size;
  j["n_ffn"] = mi.n_ffn;
  j["format"] = mi.format;
  j["dtype"] = mi.dtype;
  j["params"] = mi.params;
  j["state_bytes"] = (*model)->new_state().byte_size();
  j["group_norm_eps"] = mi.group_norm_eps;
  j["backend"] = std::string((*model)->backend());
  j["model_key"] = mi.model_key;
  if (const vk::VulkanModel* vm = vk::as_vulkan(**model)) {
    const vk::VulkanMemory mem = vm->memory();
    j["device"] = mem.device;
    j["memory"] = {{"weights", mem.weights}, {"states", mem.states}, {"scratch", mem.scratch}};
    j["decode_variant"] = vm->decode_variant();
    if (const vk::DecodeTuning* t = vm->decode_tuning()) {
      nlohmann::ordered_json vs = nlohmann::ordered_json::array();
      for (const vk::DecodeVariantResult& v : t->variants)
        vs.push_back({{"variant", v.name}, {"outcome", vk::outcome_name(v.outcome)}, {"step_ms", v.step_ms},
                      {"max_abs_diff", v.max_abs_diff}});
      j["decode_tuning"] = std::move(vs);
      j["decode_tuning_ms"] = t->took_ms;
    }
  }
  j["path"] = mi.path;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace wb::cli
