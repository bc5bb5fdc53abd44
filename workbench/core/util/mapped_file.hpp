// A read-only memory map of a whole file. Model weights are used straight from
// the map where the format allows, so loading a model needs no second copy.
//
//   WB_TRY(map, wb::MappedFile::open(path));
//   std::span<const uint8_t> bytes = map->bytes();
//   WB_CHECK(map->make_resident());   // optional: same address, huge-page RAM
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

  // Replaces the file map by a private copy in anonymous memory asking for
  // transparent huge pages, at the same address, so every pointer into
  // bytes() stays valid. Decode reads every weight once per token: with 4 KiB
  // page-cache pages a third of a gigabyte per token means ~80,000 TLB
  // misses, and on this kind of VM huge pages read ~20% faster. Costs a copy
  // at load and the memory is no longer shared with the page cache. On
  // failure the file map is left as it was.
  Status make_resident();
  bool resident() const { return resident_; }

 private:
  MappedFile() = default;
  bool resident_ = false;
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::string path_;
};

}  // namespace wb
