#include "core/tokenizer/tokenizer.hpp"

#include <sentencepiece_processor.h>

#include <filesystem>

#include "core/midi/music_text.hpp"
#include "core/model/gguf_file.hpp"
#include "core/tokenizer/world_tokenizer.hpp"

namespace wb {

Result<std::string> Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    WB_TRY(b, token_bytes(id));
    out += b;
  }
  return out;
}

size_t utf8_incomplete_tail(std::string_view s) {
  // Walk back over at most three continuation bytes to the byte that starts
  // the last sequence; hold it back only if it announces more bytes than follow.
  const size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xc0) == 0x80) continue;  // continuation byte
    size_t need = 0;
    if ((c & 0xe0) == 0xc0 && c >= 0xc2) need = 2;
    else if ((c & 0xf0) == 0xe0) need = 3;
    else if ((c & 0xf8) == 0xf0 && c <= 0xf4) need = 4;
    if (need > back) {
      // The bytes so far must still be able to form a character (E0 needs A0..BF next, ...).
      if (back >= 2) {
        const unsigned char c1 = static_cast<unsigned char>(s[n - back + 1]);
        if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
            (c == 0xf4 && c1 >= 0x90))
          return 0;
      }
      return back;
    }
    return 0;
  }
  return 0;
}

Result<std::string> StreamDecoder::push(int32_t id) {
  WB_TRY(b, tok_.token_bytes(id));
  held_ += b;
  const size_t keep = utf8_incomplete_tail(held_);
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

namespace {

class ByteTokenizer final : public Tokenizer {
 public:
  std::string_view kind() const override { return "byte"; }
  int vocab_size() const override { return 256; }
  Result<std::vector<int32_t>> encode(std::string_view s) const override {
    std::vector<int32_t> ids(s.size());
    for (size_t i = 0; i < s.size(); ++i) ids[i] = static_cast<unsigned char>(s[i]);
    return ids;
  }
  Result<std::string> token_bytes(int32_t id) const override {
    if (id < 0 || id > 255) return make_error(Errc::out_of_range, "token id {} outside the byte vocab (0..255)", id);
    return std::string(1, static_cast<char>(id));
  }
};

class SentencePieceTokenizer final : public Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> load(const std::string& path) {
    auto t = std::make_unique<SentencePieceTokenizer>();
    const auto st = t->sp_.Load(path);
    if (!st.ok()) return make_error(Errc::format, "{}: not a SentencePiece model: {}", path, st.ToString());
    // Models trained with add_dummy_prefix put a space before the text they
    // encode; decoding a whole text takes that one space off again.
    std::vector<std::string> pieces;
    t->dummy_prefix_ = t->sp_.Encode("x", &pieces).ok() && !pieces.empty() && pieces[0].rfind("\xe2\x96\x81", 0) == 0;
    return std::unique_ptr<Tokenizer>(std::move(t));
  }
  std::string_view kind() const override { return "sentencepiece"; }
  int vocab_size() const override { return sp_.GetPieceSize(); }
  Result<std::vector<int32_t>> encode(std::string_view s) const override {
    std::vector<int> ids;
    const auto st = sp_.Encode(s, &ids);
    if (!st.ok()) return make_error(Errc::invalid_argument, "sentencepiece: {}", st.ToString());
    return std::vector<int32_t>(ids.begin(), ids.end());
  }
  Result<std::string> token_bytes(int32_t id) const override {
    if (id < 0 || id >= sp_.GetPieceSize())
      return make_error(Errc::out_of_range, "token id {} outside the vocab (0..{})", id, sp_.GetPieceSize() - 1);
    if (sp_.IsControl(id) || sp_.IsUnknown(id)) return std::string();
    const std::string& piece = sp_.IdToPiece(id);
    if (sp_.IsByte(id) && piece.size() == 6)  // "<0xAB>"
      return std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
    // "▁" (U+2581) marks a space in SentencePiece pieces.
    std::string out;
    for (size_t i = 0; i < piece.size(); ++i) {
      if (piece.compare(i, 3, "\xe2\x96\x81") == 0) {
        out += ' ';
        i += 2;
      } else {
        out += piece[i];
      }
    }
    return out;
  }
  // Concatenates the pieces' bytes rather than calling sp_.Decode, which drops
  // the space of any leading "▁" even in models without a dummy prefix (the
  // shipped prose model): there a text starting with a space must keep it.
  Result<std::string> decode(std::span<const int32_t> ids) const override {
    std::string out;
    for (int32_t id : ids) {
      WB_TRY(bytes, token_bytes(id));
      out += bytes;
    }
    if (dummy_prefix_ && !out.empty() && out[0] == ' ') out.erase(0, 1);
    return out;
  }
  int32_t eot_id() const override { return sp_.eos_id(); }

 private:
  sentencepiece::SentencePieceProcessor sp_;
  bool dummy_prefix_ = false;
};

Result<std::unique_ptr<Tokenizer>> from_gguf(const std::string& path) {
  WB_TRY(g, read_gguf(path, false));
  const GgufValue* model = g.find("tokenizer.ggml.model");
  const GgufValue* toks = g.find("tokenizer.ggml.tokens");
  if (!model || !toks || toks->array_type != 8)
    return make_error(Errc::format, "{}: no embedded tokenizer (tokenizer.ggml.model / tokens)", path);
  if (model->s != "rwkv")
    return make_error(Errc::unsupported, "{}: embedded tokenizer '{}' (only RWKV World, 'rwkv', is supported)", path,
                      model->s);
  const GgufValue* types = g.find("tokenizer.ggml.token_type");
  static const std::vector<double> none;
  WB_TRY(t, WorldTokenizer::from_gguf_tokens(toks->strs, types ? types->nums : none, path));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

bool ends_with(const std::string& s, const char* suf) {
  const size_t n = std::char_traits<char>::length(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() { return std::make_unique<ByteTokenizer>(); }

Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& spec) {
  if (spec == "byte") return make_byte_tokenizer();
  if (midi::is_music_tokenizer_spec(spec)) return midi::make_music_tokenizer();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(spec, ec))
    return make_error(Errc::io, "{}: tokenizer not found (give 'byte', 'midi', a World vocab .txt, a .model, a .gguf or tokenizer-midi.json)", spec);
  if (ends_with(spec, ".model")) return SentencePieceTokenizer::load(spec);
  if (ends_with(spec, ".gguf")) return from_gguf(spec);
  if (ends_with(spec, ".json")) return midi::load_music_tokenizer_json(spec);  // tokenizer-midi.json
  WB_TRY(t, WorldTokenizer::from_vocab_file(spec));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace wb
