// The text <-> token mapping a story uses, as two functions, so the tree and
// sessions work with any tokenizer (the byte-level one here, or an adapter
// over core/tokenizer/ for world / SentencePiece vocabularies).
//
//   wb::session::TextCodec codec = wb::session::byte_codec();
//   WB_TRY(tokens, codec.encode("Once upon"));
//   std::string piece = codec.piece(tokens[0]);   // "O"
//
// Contract: concatenating piece(t) over encode(s) gives back s exactly, so a
// node's text and tokens always agree and can be split at token boundaries.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <memory>

#include "core/tokenizer/tokenizer.hpp"
#include "core/util/result.hpp"

namespace wb::session {

struct TextCodec {
  std::string name;
  std::function<Result<std::vector<int32_t>>(std::string_view)> encode;
  std::function<std::string(int32_t)> piece;  // the bytes of one token ("" for unknown ids)

  std::string decode(std::span<const int32_t> tokens) const {
    std::string s;
    for (int32_t t : tokens) s += piece(t);
    return s;
  }
};

// Token = byte (the tiny rwkv.cpp fixture models, 256-entry vocabularies).
TextCodec byte_codec();

// Any core/tokenizer Tokenizer (World, byte, GGUF-embedded). The codec shares
// ownership. SentencePiece's decode drops a dummy prefix, so its pieces do not
// concatenate to the text exactly; prefer World/byte vocabularies for stories.
TextCodec tokenizer_codec(std::shared_ptr<const Tokenizer> tok);

// "byte" or a tokenizer spec load_tokenizer understands.
Result<TextCodec> load_codec(const std::string& spec);

// The tokenizer a model of `n_vocab` ids gets when none is named: "byte" for
// 256 (the tiny fixtures), "midi" for 20096 (the RWKV music vocabulary of
// BlinkDL's MIDI models and ours); empty when it cannot be known.
std::string implicit_codec_spec(int n_vocab);

}  // namespace wb::session
