#include "core/util/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wb {

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return make_error(Errc::io, "{}: cannot stat: {}", path, std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(Errc::io, "{}: not a regular file", path);
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<std::size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return make_error(Errc::io, "{}: cannot map: {}", path, std::strerror(e));
    }
    f->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return f;
}

Status MappedFile::make_resident() {
  if (resident_ || size_ == 0) return {};
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  constexpr std::size_t kHuge = std::size_t(2) << 20;
  const std::size_t len = (size_ + page - 1) / page * page;
  // An anonymous region at the same offset within a 2 MiB page as the map, so
  // that moving it over the map moves whole huge pages.
  void* raw = ::mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return make_error(Errc::io, "{}: cannot reserve {} bytes: {}", path_, len, std::strerror(errno));
  const uintptr_t a = reinterpret_cast<uintptr_t>(raw);
  uintptr_t start = a - a % kHuge + reinterpret_cast<uintptr_t>(data_) % kHuge;
  if (start < a) start += kHuge;
  if (start > a) ::munmap(raw, start - a);
  if (a + len + kHuge > start + len) ::munmap(reinterpret_cast<void*>(start + len), a + len + kHuge - (start + len));
  void* copy = reinterpret_cast<void*>(start);
  ::madvise(copy, len, MADV_HUGEPAGE);  // advice only: without THP this is a plain copy
  std::memcpy(copy, data_, size_);
  ::mprotect(copy, len, PROT_READ);
  void* moved = ::mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, const_cast<uint8_t*>(data_));
  if (moved == MAP_FAILED) {
    const int e = errno;
    ::munmap(copy, len);
    return make_error(Errc::io, "{}: cannot move the weights copy over the file map: {}", path_, std::strerror(e));
  }
  resident_ = true;
  return {};
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace wb
