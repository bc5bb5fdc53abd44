// SHA-256 of a file, hex encoded: how the host recognises that a plugin
// library changed since the user enabled it.
//
//   WB_TRY(hex, wb::host::sha256_file("/path/libplugin.so"));
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace wb::host {

Result<std::string> sha256_file(const std::filesystem::path& path);
std::string sha256_hex(std::string_view bytes);

}  // namespace wb::host
