// The JSON manifest that sits next to each plugin library. The host reads it
// to list a plugin without running any of its code (consent before code).
//
//   WB_TRY(m, wb::host::read_manifest("/usr/lib/.../text_stats.wbplugin.json"));
//   // m.id, m.version, m.abi_version, m.description, m.library (a file name)
//
// Format (unknown keys are ignored so manifests can grow):
//   {"id": "org.rwkv.workbench.text-stats", "name": "Text statistics",
//    "version": "1.0.0", "abi_version": "0.1.0",
//    "description": "...", "library": "libwb_text_stats.so"}
#pragma once
#include <wb/plugin.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace wb::host {

// File names ending in this are manifests.
inline constexpr std::string_view kManifestSuffix = ".wbplugin.json";
// Manifests larger than this are refused unread (they are a few hundred bytes).
inline constexpr std::size_t kMaxManifestBytes = 64 * 1024;

struct Manifest {
  std::string id;
  std::string name;
  std::string version;
  wb_version abi_version{};
  std::string description;
  std::string library;  // file name in the manifest's folder, no path separators
};

// Parses manifest text; `source` names the file in error messages.
Result<Manifest> parse_manifest(std::string_view json, const std::string& source);
Result<Manifest> read_manifest(const std::filesystem::path& path);

// "1.2.3" -> {1,2,3}; exactly three decimal parts, each below 2^31.
Result<wb_version> parse_version(std::string_view text);
std::string version_string(wb_version v);

// Reverse-DNS plugin id: 3..WB_MAX_ID_LENGTH bytes of [a-z0-9._-], at least one
// dot, no empty label.
bool valid_plugin_id(std::string_view id);

}  // namespace wb::host
