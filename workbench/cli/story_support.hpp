// What `wb generate`, `wb story` and `wb bench-tree` share: loading a model
// with its tokenizer, sampler options from flags and presets, node lookup.
//
//   WB_TRY(mc, load_model_and_codec(path, tokenizer_spec, backend));
//   WB_TRY(settings, sampler_from_args(args));   // --preset, --temp, --top-p, ...
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "cli/args.hpp"
#include "core/model/model.hpp"
#include "core/sampling/sampler.hpp"
#include "core/session/codec.hpp"
#include "core/session/story.hpp"

namespace wb::cli {

struct ModelAndCodec {
  std::unique_ptr<Model> model;
  session::TextCodec codec;
  std::string tokenizer_spec;  // what was used ("byte" by default for 256-token vocabularies)
};

// `tokenizer`: empty means the default (byte for a 256-entry vocabulary).
Result<ModelAndCodec> load_model_and_codec(const std::string& model_path, const std::string& tokenizer,
                                           const std::string& backend);

// Reads --preset NAME|FILE (NAME: presets/sampling/NAME.txt), then the single
// flags on top: --temp --top-p --top-k --min-p --typical --rep-penalty
// --presence --frequency --decay --seed --stop S (repeatable via commas) --bias.
Result<sampling::Settings> sampler_from_args(Args& args);

// A node by id, or by label when it is not a number.
Result<tree::NodeId> resolve_node(const session::Story& story, const std::string& word);

// Escapes newlines and tabs so one node prints on one line.
std::string one_line(std::string_view s);

}  // namespace wb::cli
