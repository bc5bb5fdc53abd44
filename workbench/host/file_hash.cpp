#include "host/file_hash.hpp"

#include <nettle/sha2.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace wb::host {
namespace {

std::string to_hex(const uint8_t* d, std::size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[d[i] >> 4];
    s[2 * i + 1] = kDigits[d[i] & 15];
  }
  return s;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()));
  std::array<uint8_t, SHA256_DIGEST_SIZE> d{};
  sha256_digest(&ctx, d.size(), d.data());
  return to_hex(d.data(), d.size());
}

Result<std::string> sha256_file(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return make_error(Errc::io, "{}: cannot open: {}", path.string(), std::strerror(errno));
  sha256_ctx ctx;
  sha256_init(&ctx);
  std::array<uint8_t, 1 << 16> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) sha256_update(&ctx, n, buf.data());
  bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return make_error(Errc::io, "{}: read error while hashing", path.string());
  std::array<uint8_t, SHA256_DIGEST_SIZE> d{};
  sha256_digest(&ctx, d.size(), d.data());
  return to_hex(d.data(), d.size());
}

}  // namespace wb::host
