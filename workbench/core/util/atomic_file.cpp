#include "core/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace wb {

Status write_file_atomically(const std::string& path, std::span<const uint8_t> bytes) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  std::string tmpl = (dir.empty() ? std::filesystem::path(".") : dir).string() + "/." +
                     target.filename().string() + ".tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) return make_error(Errc::io, "{}: cannot create a temporary file: {}", path, std::strerror(errno));
  const uint8_t* p = bytes.data();
  std::size_t left = bytes.size();
  int err = 0;
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0) {
    // mkstemp makes the file 0600; what we write are ordinary documents.
    ::chmod(name.data(), 0644);
    if (::rename(name.data(), path.c_str()) != 0) err = errno;
  }
  if (err != 0) {
    ::unlink(name.data());
    return make_error(Errc::io, "{}: cannot write: {}", path, std::strerror(err));
  }
  return {};
}

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  return write_file_atomically(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext;
}

}  // namespace wb
