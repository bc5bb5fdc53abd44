// The shipped default prose model, used when no model is given.
//
//   if (auto d = wb::find_default_model()) load_model(d->model, {}), load_codec(d->tokenizer);
#pragma once
#include <optional>
#include <string>

namespace wb {

struct DefaultModel {
  std::string model;      // assets/models/prose-rwkv7.pth
  std::string tokenizer;  // assets/models/prose.model
};

// Looks in $WB_ASSETS_DIR/models, the source tree's assets/models, then
// /usr/share/rwkv-workbench/models; nullopt when none holds both files.
std::optional<DefaultModel> find_default_model();

}  // namespace wb
