#include "core/card/base64.hpp"

#include <array>
#include <cstdint>

namespace wb::card {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters, -1 otherwise.
constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kTable = make_table();

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = byte(i) << 16;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int have = 0;      // sextets in acc
  int padding = 0;   // '=' seen
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_space(c)) continue;
    if (c == '=') {
      // Padding may only finish a quantum of 2 or 3 sextets.
      if (have < 2 || have + padding >= 4)
        return make_error(Errc::format, "not valid base64: misplaced '=' at offset {}", i);
      ++padding;
      continue;
    }
    int v = kTable[static_cast<unsigned char>(c)];
    if (v < 0) {
      unsigned code = static_cast<unsigned char>(c);
      return make_error(Errc::format, "not valid base64: byte 0x{:02x} at offset {}", code, i);
    }
    if (padding > 0)
      return make_error(Errc::format, "not valid base64: data after '=' padding at offset {}", i);
    acc = acc << 6 | static_cast<uint32_t>(v);
    if (++have == 4) {
      out += static_cast<char>(acc >> 16 & 0xff);
      out += static_cast<char>(acc >> 8 & 0xff);
      out += static_cast<char>(acc & 0xff);
      acc = 0;
      have = 0;
    }
  }
  if (padding > 0 && have + padding != 4)
    return make_error(Errc::format, "not valid base64: incomplete padding at the end");
  // Unpadded input is accepted (some writers drop '='), but a lone sextet
  // cannot encode a byte.
  if (have == 1) return make_error(Errc::format, "not valid base64: truncated (one stray character at the end)");
  if (have == 2) {
    out += static_cast<char>(acc >> 4 & 0xff);
  } else if (have == 3) {
    out += static_cast<char>(acc >> 10 & 0xff);
    out += static_cast<char>(acc >> 2 & 0xff);
  }
  return out;
}

}  // namespace wb::card
