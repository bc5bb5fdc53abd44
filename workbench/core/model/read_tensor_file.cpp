#include "core/model/read_tensor_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/model/rwkv_cpp_file.hpp"

namespace wb {

// One branch per container. Keep this a small, obvious dispatch: the parsers
// live in their own files and do all validation themselves.
Result<TensorFile> read_tensor_file(const std::string& path) {
  uint8_t head[8] = {};
  std::size_t got = 0;
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return make_error(Errc::io, "{}: cannot open: {}", path, std::strerror(errno));
    got = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
  }
  if (got >= 4) {
    const uint32_t magic = uint32_t(head[0]) | uint32_t(head[1]) << 8 | uint32_t(head[2]) << 16 | uint32_t(head[3]) << 24;
    if (magic == kRwkvCppMagic) return read_rwkv_cpp_file(path);
  }
  return make_error(Errc::unsupported, "{}: unrecognised model file (first bytes {:02x} {:02x} {:02x} {:02x})", path,
                    head[0], head[1], head[2], head[3]);
}

}  // namespace wb
