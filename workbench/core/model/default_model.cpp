#include "core/model/default_model.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace wb {

namespace {

std::vector<std::filesystem::path> model_folders() {
  namespace fs = std::filesystem;
  std::vector<fs::path> bases;
  if (const char* env = std::getenv("WB_ASSETS_DIR"); env && *env) bases.push_back(fs::path(env) / "models");
  bases.push_back(fs::path(WB_SOURCE_DIR) / "assets/models");
  bases.push_back("/usr/share/rwkv-workbench/models");
  return bases;
}

}  // namespace

std::optional<DefaultModel> find_default_model() {
  namespace fs = std::filesystem;
  const std::vector<fs::path> bases = model_folders();
  for (const fs::path& base : bases) {
    std::error_code ec;
    if (fs::exists(base / "prose-rwkv7.pth", ec) && fs::exists(base / "prose.model", ec))
      return DefaultModel{(base / "prose-rwkv7.pth").string(), (base / "prose.model").string()};
  }
  return std::nullopt;
}

std::optional<DefaultModel> find_default_model(std::string_view kind) {
  if (kind == "prose") return find_default_model();
  if (kind != "midi") return std::nullopt;
  for (const auto& base : model_folders()) {
    std::error_code ec;
    if (std::filesystem::exists(base / "midi-rwkv7.pth", ec)) return DefaultModel{(base / "midi-rwkv7.pth").string(), "midi"};
  }
  return std::nullopt;
}

}  // namespace wb
