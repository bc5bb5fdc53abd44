// Where the workbench's shared, read-only data lives (presets/, models/):
// one list so the CLI, the GUI, the host and the default-model lookup agree.
//
//   for (const auto& dir : wb::shared_data_dirs())
//     if (exists(dir / "presets/sampling/default.txt")) ...
//
// Order: $WB_DATA_DIR (tests, relocated installs), the source tree (running
// from a build), the installed data folder (CMAKE_INSTALL_FULL_DATADIR/
// rwkv-workbench, where `cmake --install` puts presets/ and models/).
#pragma once
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace wb {

std::vector<std::filesystem::path> shared_data_dirs();

// The first `dir / relative` that exists, if any.
std::optional<std::filesystem::path> find_shared_data(std::string_view relative);

}  // namespace wb
