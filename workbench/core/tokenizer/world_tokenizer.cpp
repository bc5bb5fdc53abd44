#include "core/tokenizer/world_tokenizer.hpp"

#include <fstream>
#include <sstream>

#include "core/util/mapped_file.hpp"

namespace wb {

namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> parse_python_literal(std::string_view lit) {
  bool bytes = false;
  if (!lit.empty() && lit[0] == 'b') {
    bytes = true;
    lit.remove_prefix(1);
  }
  if (lit.size() < 2 || (lit[0] != '\'' && lit[0] != '"') || lit.back() != lit[0])
    return make_error(Errc::format, "not a quoted Python literal");
  lit = lit.substr(1, lit.size() - 2);
  std::string out;
  for (size_t i = 0; i < lit.size(); ++i) {
    const char c = lit[i];
    if (c != '\\') {
      if (bytes && static_cast<unsigned char>(c) >= 0x80) return make_error(Errc::format, "non-ASCII byte in a bytes literal");
      out += c;
      continue;
    }
    if (++i >= lit.size()) return make_error(Errc::format, "literal ends in a backslash");
    const char e = lit[i];
    auto hex = [&](size_t n) -> Result<uint32_t> {
      uint32_t v = 0;
      for (size_t k = 1; k <= n; ++k) {
        const int h = i + k < lit.size() ? hexval(lit[i + k]) : -1;
        if (h < 0) return make_error(Errc::format, "bad hex digit in \\{} escape", e);
        v = v * 16 + static_cast<uint32_t>(h);
      }
      i += n;
      return v;
    };
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'x': {
        WB_TRY(v, hex(2));
        // In a str literal \xhh is the code point U+00hh; in bytes it is the raw byte.
        if (bytes)
          out += static_cast<char>(v);
        else
          append_utf8(out, v);
        break;
      }
      case 'u':
      case 'U': {
        if (bytes) return make_error(Errc::format, "\\{} in a bytes literal", e);
        WB_TRY(v, hex(e == 'u' ? 4 : 8));
        if (v > 0x10ffff) return make_error(Errc::format, "code point {:x} out of range", v);
        append_utf8(out, v);
        break;
      }
      default:  // Python keeps unknown escapes verbatim
        out += '\\';
        out += e;
    }
  }
  return out;
}

std::string unescape_gguf_rwkv_token(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[++i];
    if (e == 'n') out += '\n';
    else if (e == 't') out += '\t';
    else if (e == 'r') out += '\r';
    else if (e == 'x' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      out += e;
    }
  }
  return out;
}

Status WorldTokenizer::add(int32_t id, std::string bytes, bool matchable) {
  if (id < 0 || id > (1 << 24)) return make_error(Errc::format, "token id {} out of range", id);
  if (static_cast<size_t>(id) >= tokens_.size()) tokens_.resize(static_cast<size_t>(id) + 1);
  if (!tokens_[static_cast<size_t>(id)].empty()) return make_error(Errc::format, "token id {} defined twice", id);
  tokens_[static_cast<size_t>(id)] = bytes;
  if (!matchable || bytes.empty()) return {};
  uint32_t node = 0;
  for (unsigned char b : bytes) {
    const uint64_t key = static_cast<uint64_t>(node) * 256 + b;
    auto it = edges_.find(key);
    if (it == edges_.end()) {
      const uint32_t child = static_cast<uint32_t>(node_token_.size());
      node_token_.push_back(-1);
      edges_.emplace(key, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  if (node_token_[node] >= 0)
    return make_error(Errc::format, "tokens {} and {} have the same bytes", node_token_[node], id);
  node_token_[node] = id;
  return {};
}

Result<std::unique_ptr<WorldTokenizer>> WorldTokenizer::from_vocab_text(std::string_view text, const std::string& path) {
  auto tok = std::unique_ptr<WorldTokenizer>(new WorldTokenizer());
  tok->tokens_.assign(1, std::string());  // id 0: end-of-text, no bytes
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    // "<id> <literal> <length>": the literal is between the first and the last space.
    const size_t a = line.find(' '), b = line.rfind(' ');
    if (a == std::string_view::npos || b <= a)
      return make_error(Errc::format, "{}:{}: expected '<id> <literal> <length>'", path, line_no);
    int64_t id = 0, len = 0;
    auto num = [](std::string_view s, int64_t& v) {
      if (s.empty() || s.size() > 9) return false;
      v = 0;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
      }
      return true;
    };
    if (!num(line.substr(0, a), id) || !num(line.substr(b + 1), len) || id == 0)
      return make_error(Errc::format, "{}:{}: bad id or length", path, line_no);
    auto bytes = parse_python_literal(line.substr(a + 1, b - a - 1));
    if (!bytes) return make_error(Errc::format, "{}:{}: {}", path, line_no, bytes.error().message);
    if (static_cast<int64_t>(bytes->size()) != len)
      return make_error(Errc::format, "{}:{}: token has {} bytes, line says {}", path, line_no, bytes->size(), len);
    auto st = tok->add(static_cast<int32_t>(id), std::move(*bytes), true);
    if (!st) return make_error(Errc::format, "{}:{}: {}", path, line_no, st.error().message);
  }
  for (int b = 0; b < 256; ++b)
    if (!tok->edges_.count(static_cast<uint64_t>(b)))
      return make_error(Errc::format, "{}: no token for byte 0x{:02x}; not a World vocab", path, b);
  return tok;
}

Result<std::unique_ptr<WorldTokenizer>> WorldTokenizer::from_vocab_file(const std::string& path) {
  WB_TRY(map, MappedFile::open(path));
  auto b = map->bytes();
  return from_vocab_text(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), path);
}

Result<std::unique_ptr<WorldTokenizer>> WorldTokenizer::from_gguf_tokens(const std::vector<std::string>& tokens,
                                                                         const std::vector<double>& types,
                                                                         const std::string& path) {
  auto tok = std::unique_ptr<WorldTokenizer>(new WorldTokenizer());
  tok->kind_ = "gguf-world";
  if (!types.empty() && types.size() != tokens.size())
    return make_error(Errc::format, "{}: {} tokens but {} token types", path, tokens.size(), types.size());
  tok->tokens_.resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int type = types.empty() ? 1 : static_cast<int>(types[i]);
    if (type != 1) continue;  // control ("<s>" = end-of-text) and unused padding have no bytes
    auto st = tok->add(static_cast<int32_t>(i), unescape_gguf_rwkv_token(tokens[i]), true);
    if (!st) return make_error(Errc::format, "{}: {}", path, st.error().message);
  }
  for (int b = 0; b < 256; ++b)
    if (!tok->edges_.count(static_cast<uint64_t>(b)))
      return make_error(Errc::format, "{}: embedded vocab has no token for byte 0x{:02x}", path, b);
  return tok;
}

Result<std::vector<int32_t>> WorldTokenizer::encode(std::string_view s) const {
  std::vector<int32_t> ids;
  ids.reserve(s.size() / 3 + 1);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t node = 0;
    int32_t best = -1;
    size_t best_len = 0;
    for (size_t j = pos; j < s.size(); ++j) {
      auto it = edges_.find(static_cast<uint64_t>(node) * 256 + p[j]);
      if (it == edges_.end()) break;
      node = it->second;
      if (node_token_[node] >= 0) {
        best = node_token_[node];
        best_len = j - pos + 1;
      }
    }
    if (best < 0) return make_error(Errc::internal, "byte 0x{:02x} has no token", p[pos]);  // checked at load
    ids.push_back(best);
    pos += best_len;
  }
  return ids;
}

Result<std::string> WorldTokenizer::token_bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size())
    return make_error(Errc::out_of_range, "token id {} outside the vocab (0..{})", id, tokens_.size() - 1);
  return tokens_[static_cast<size_t>(id)];
}

}  // namespace wb
