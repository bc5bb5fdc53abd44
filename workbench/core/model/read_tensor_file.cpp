#include "core/model/read_tensor_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/model/gguf_file.hpp"
#include "core/model/pth_file.hpp"
#include "core/model/rwkv_cpp_file.hpp"
#include "core/model/safetensors_file.hpp"

namespace wb {

// One branch per container. Keep this a small, obvious dispatch: the parsers
// live in their own files and do all validation themselves.
Result<TensorFile> read_tensor_file(const std::string& path) {
  uint8_t head[16] = {};
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
  const std::span<const uint8_t> h(head, got);
  if (looks_like_pth(h)) return read_pth_file(path);           // zip "PK\3\4"
  if (looks_like_gguf(h)) return read_gguf_file(path);         // "GGUF"
  if (looks_like_safetensors(h)) return read_safetensors_file(path);  // u64 length, then '{'
  if (got >= 2 && head[0] == 0x80 && head[1] <= 5)
    return make_error(Errc::unsupported, "{}: legacy (pre-1.6, non-zip) torch.save file; re-save it with torch >= 1.6",
                      path);
  return make_error(Errc::unsupported, "{}: unrecognised model file (first bytes {:02x} {:02x} {:02x} {:02x})", path,
                    head[0], head[1], head[2], head[3]);
}

}  // namespace wb
