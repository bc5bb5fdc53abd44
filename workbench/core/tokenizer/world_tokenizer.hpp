// The RWKV World tokenizer: greedy longest match over bytes with a trie.
// Every byte b has a token (id b+1 in the World vocab), so any byte string,
// invalid UTF-8 and NUL included, encodes and decodes back to itself.
//
//   WB_TRY(tok, wb::WorldTokenizer::from_vocab_file("rwkv_vocab_v20230424.txt"));
//   WB_TRY(ids, tok->encode("Today is a beautiful day."));
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/tokenizer.hpp"

namespace wb {

class WorldTokenizer final : public Tokenizer {
 public:
  // ChatRWKV's vocab format: "<id> <python str or bytes literal> <byte length>" per line.
  static Result<std::unique_ptr<WorldTokenizer>> from_vocab_file(const std::string& path);
  static Result<std::unique_ptr<WorldTokenizer>> from_vocab_text(std::string_view text, const std::string& path);
  // The vocab as llama.cpp's converter stores it in GGUF: tokens[i] is the
  // Python repr of the bytes (\xhh, \t, \n, \r, \\, \' escapes); only NORMAL
  // (type 1) tokens are matched, the way the reference World tokenizer matches.
  static Result<std::unique_ptr<WorldTokenizer>> from_gguf_tokens(const std::vector<std::string>& tokens,
                                                                  const std::vector<double>& types,
                                                                  const std::string& path);

  std::string_view kind() const override { return kind_; }
  int vocab_size() const override { return static_cast<int>(tokens_.size()); }
  Result<std::vector<int32_t>> encode(std::string_view bytes) const override;
  Result<std::string> token_bytes(int32_t id) const override;
  int32_t eot_id() const override { return 0; }

 private:
  Status add(int32_t id, std::string bytes, bool matchable);
  std::string kind_ = "world";
  std::vector<std::string> tokens_;  // by id
  // Trie: node 0 is the root; edge key = node * 256 + byte.
  std::unordered_map<uint64_t, uint32_t> edges_;
  std::vector<int32_t> node_token_{-1};
};

// Parses one Python str/bytes literal as written in the World vocab file.
Result<std::string> parse_python_literal(std::string_view lit);
// Undoes Python's bytes repr as llama.cpp's converter writes GGUF tokens.
std::string unescape_gguf_rwkv_token(std::string_view s);

}  // namespace wb
