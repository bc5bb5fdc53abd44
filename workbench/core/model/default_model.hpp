// The shipped default prose model, used when no model is given.
//
//   if (auto d = wb::find_default_model()) load_model(d->model, {}), load_codec(d->tokenizer);
//   if (auto m = wb::find_default_model("midi")) ...   // the composer's music model
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace wb {

struct DefaultModel {
  std::string model;      // assets/models/prose-rwkv7.pth
  std::string tokenizer;  // assets/models/prose.model
};

// Looks in $WB_ASSETS_DIR/models, the source tree's assets/models, then
// /usr/share/rwkv-workbench/models; nullopt when none holds both files.
std::optional<DefaultModel> find_default_model();

// A default model of one kind: "prose" (as above) or "midi"
// (midi-rwkv7.pth, an RWKV-7 with the built-in music vocabulary: no tokenizer
// file, `tokenizer` is "midi"). Same folders, same order; nullopt when absent
// or the kind is unknown.
std::optional<DefaultModel> find_default_model(std::string_view kind);

}  // namespace wb
