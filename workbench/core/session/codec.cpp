#include "core/session/codec.hpp"

namespace wb::session {

TextCodec byte_codec() {
  TextCodec c;
  c.name = "byte";
  c.encode = [](std::string_view s) -> Result<std::vector<int32_t>> {
    std::vector<int32_t> out(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<unsigned char>(s[i]);
    return out;
  };
  c.piece = [](int32_t t) -> std::string {
    if (t < 0 || t > 255) return {};
    return std::string(1, static_cast<char>(static_cast<unsigned char>(t)));
  };
  return c;
}

}  // namespace wb::session
