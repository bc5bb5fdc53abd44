#include "cli/story_support.hpp"

#include <cctype>
#include <filesystem>

#include "cli/verbs.hpp"
#include "core/model/load.hpp"
#include "core/util/data_dirs.hpp"

namespace wb::cli {

Result<ModelAndCodec> load_model_and_codec(const std::string& model_path, const std::string& tokenizer,
                                           const std::string& backend) {
  LoadOptions opt;
  if (!backend.empty()) opt.backend = backend;
  opt.log = &stderr_log();
  WB_TRY(model, load_model(model_path, opt));
  ModelAndCodec mc;
  std::string spec = tokenizer;
  if (spec.empty()) {
    spec = session::implicit_codec_spec(model->info().n_vocab);
    if (spec.empty())
      return make_error(Errc::invalid_argument,
                        "'{}' has a {}-token vocabulary: name its tokenizer with --tokenizer (a World vocab .txt, "
                        "a .gguf, 'midi' or 'byte')",
                        model_path, model->info().n_vocab);
  }
  WB_TRY(codec, session::load_codec(spec));
  mc.model = std::move(model);
  mc.codec = std::move(codec);
  mc.tokenizer_spec = spec;
  return mc;
}

Result<sampling::Settings> sampler_from_args(Args& args) {
  sampling::Settings s;
  WB_TRY(preset, args.value("--preset"));
  if (preset) {
    std::string path = *preset;
    if (path.find('/') == std::string::npos && path.find('.') == std::string::npos)
      path = find_shared_data("presets/sampling/" + path + ".txt").value_or(path + ".txt").string();
    WB_TRY(p, sampling::load_preset(path));
    s = std::move(p);
  }
  const std::pair<const char*, const char*> flags[] = {
      {"--temp", "temperature"},          {"--top-p", "top_p"},
      {"--top-k", "top_k"},               {"--min-p", "min_p"},
      {"--typical", "typical_p"},         {"--rep-penalty", "repetition_penalty"},
      {"--presence", "presence_penalty"}, {"--frequency", "frequency_penalty"},
      {"--decay", "penalty_decay"},       {"--seed", "seed"},
      {"--stop", "stop"},                 {"--bias", "logit_bias"},
      {"--ban", "banned_tokens"},
  };
  for (auto [flag, key] : flags) {
    WB_TRY(v, args.value(flag));
    if (!v) continue;
    auto st = sampling::set_option(s, key, *v);
    if (!st) return make_error(Errc::invalid_argument, "{}: {}", flag, st.error().message);
  }
  return s;
}

Result<tree::NodeId> resolve_node(const session::Story& story, const std::string& word) {
  bool digits = !word.empty();
  for (char c : word) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    tree::NodeId id = std::strtoull(word.c_str(), nullptr, 10);
    if (!story.node(id)) return make_error(Errc::out_of_range, "no node {} in this story", word);
    return id;
  }
  auto found = story.tree_copy().find_by_label(word);
  if (found.empty()) return make_error(Errc::out_of_range, "no node labelled '{}'", word);
  if (found.size() > 1) return make_error(Errc::invalid_argument, "{} nodes are labelled '{}'; use an id", found.size(), word);
  return found.front();
}

std::string one_line(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '\n') o += "\\n";
    else if (c == '\t') o += "\\t";
    else if (c == '\r') o += "\\r";
    else o += c;
  }
  return o;
}

}  // namespace wb::cli
