// A read-only memory map of a whole file. Model weights are used straight from
// the map where the format allows, so loading a model needs no second copy.
//
//   WB_TRY(map, wb::MappedFile::open(path));
//   std::span<const uint8_t> bytes = map->bytes();
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/util/result.hpp"

namespace wb {

class MappedFile {
 public:
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::string path_;
};

}  // namespace wb
