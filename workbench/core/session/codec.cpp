#include "core/session/codec.hpp"

#include "core/midi/music_text.hpp"

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

TextCodec tokenizer_codec(std::shared_ptr<const Tokenizer> tok) {
  TextCodec c;
  c.name = std::string(tok->kind());
  c.encode = [tok](std::string_view s) { return tok->encode(s); };
  c.piece = [tok](int32_t t) -> std::string {
    auto b = tok->token_bytes(t);
    return b ? *b : std::string();
  };
  return c;
}

Result<TextCodec> load_codec(const std::string& spec) {
  if (spec == "byte") return byte_codec();
  WB_TRY(tok, load_tokenizer(spec));
  TextCodec c = tokenizer_codec(std::shared_ptr<const Tokenizer>(std::move(tok)));
  c.name = spec;
  return c;
}

std::string implicit_codec_spec(int n_vocab) {
  if (n_vocab == 256) return "byte";
  if (n_vocab == midi::kMusicVocabSize) return "midi";
  return {};
}

}  // namespace wb::session
