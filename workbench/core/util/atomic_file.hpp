// Writing user files so that a failure never leaves half a file behind.
//
//   WB_CHECK(wb::write_file_atomically("alice.png", bytes));
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace wb {

// Writes through a temporary file in the same folder, synced, then renamed
// into place (mode 0644): a reader never sees a partial file, and on failure
// the target is untouched and no temporary file remains.
Status write_file_atomically(const std::string& path, std::span<const uint8_t> bytes);
Status write_file_atomically(const std::string& path, std::string_view bytes);

// The file name's extension, lower-cased, with its dot (".png"), or "".
std::string lower_extension(const std::string& path);

}  // namespace wb
