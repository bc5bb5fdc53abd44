// Tokenizers: bytes -> token ids -> bytes. Text is raw bytes throughout (no
// UTF-8 requirement); the streaming decoder holds back an incomplete UTF-8
// sequence so a caller never shows half a character.
//
//   WB_TRY(tok, wb::load_tokenizer("assets/rwkv_vocab_v20230424.txt"));  // or "byte", x.model, x.gguf
//   WB_TRY(ids, tok->encode("Hello"));
//   wb::StreamDecoder dec(*tok);
//   for (int32_t id : ids) { WB_TRY(text, dec.push(id)); show(text); }
//   show(dec.flush());
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace wb {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string_view kind() const = 0;  // "world", "byte", "sentencepiece", "gguf-world"
  // Number of ids the tokenizer defines (ids are 0 .. vocab_size()-1).
  virtual int vocab_size() const = 0;
  virtual Result<std::vector<int32_t>> encode(std::string_view bytes) const = 0;
  // The bytes one id stands for; empty for specials (World's end-of-text 0).
  virtual Result<std::string> token_bytes(int32_t id) const = 0;
  // Joined token bytes (SentencePiece overrides it to drop its dummy prefix).
  virtual Result<std::string> decode(std::span<const int32_t> ids) const;
  // The end-of-text / document-separator id, or -1.
  virtual int32_t eot_id() const { return -1; }
};

// Turns ids into displayable chunks that never end inside a UTF-8 character.
// Bytes that can never form a valid character (e.g. a lone 0xFF) are passed
// through as they are, so the concatenation of all chunks plus flush() always
// equals decode(ids).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok) : tok_(tok) {}
  Result<std::string> push(int32_t id);
  std::string flush();

 private:
  const Tokenizer& tok_;
  std::string held_;
};

// Length of an incomplete UTF-8 sequence at the end of s (0 when s ends on a
// character boundary or on bytes that cannot start a character).
size_t utf8_incomplete_tail(std::string_view s);

// spec: "byte" | "midi" / "music" (the RWKV music vocabulary, core/midi/music_text.hpp)
// | path to a World vocab .txt | a SentencePiece .model | a .gguf holding a
// tokenizer (tokenizer.ggml.model = "rwkv") | tokenizer-midi.json (checked
// against the music vocabulary).
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& spec);

// Byte-level tokenizer of the tiny models: id = byte value, 256 ids.
std::unique_ptr<Tokenizer> make_byte_tokenizer();

}  // namespace wb
