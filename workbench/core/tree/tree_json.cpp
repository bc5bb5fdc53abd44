#include "core/tree/tree_json.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace wb::tree {
namespace {

using nlohmann::json;

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    uint32_t cp;
    if ((c >> 5) == 0x6) n = 1, cp = c & 0x1F;
    else if ((c >> 4) == 0xE) n = 2, cp = c & 0x0F;
    else if ((c >> 3) == 0x1E) n = 3, cp = c & 0x07;
    else return false;
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

std::string to_hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  o.reserve(s.size() * 2);
  for (unsigned char c : s) {
    o += d[c >> 4];
    o += d[c & 15];
  }
  return o;
}

Result<std::string> from_hex(std::string_view h) {
  if (h.size() % 2) return make_error(Errc::format, "text_hex has an odd length");
  std::string o(h.size() / 2, '\0');
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < o.size(); ++i) {
    int a = val(h[2 * i]), b = val(h[2 * i + 1]);
    if (a < 0 || b < 0) return make_error(Errc::format, "text_hex has a non-hex character");
    o[i] = static_cast<char>(a * 16 + b);
  }
  return o;
}

// Typed field access that reports the node and the field instead of throwing.
struct Reader {
  const json& j;
  std::size_t index;
  Error err(std::string_view field, std::string_view want) const {
    return make_error(Errc::format, "tree JSON: node #{}: field '{}' {}", index, field, want);
  }
  Result<std::string> str(const char* f, bool required = false) const {
    auto it = j.find(f);
    if (it == j.end()) {
      if (required) return err(f, "is missing");
      return std::string();
    }
    if (!it->is_string()) return err(f, "must be a string");
    return it->get<std::string>();
  }
  Result<uint64_t> u64(const char* f, bool required = false) const {
    auto it = j.find(f);
    if (it == j.end()) {
      if (required) return err(f, "is missing");
      return uint64_t{0};
    }
    if (!it->is_number_unsigned()) return err(f, "must be a non-negative integer");
    return it->get<uint64_t>();
  }
};

}  // namespace

std::string to_json(const Tree& t) {
  json nodes = json::array();
  for (NodeId id : t.ids()) {
    const Node& n = *t.find(id);
    json o;
    o["id"] = n.id;
    o["parent"] = n.parent;
    if (valid_utf8(n.text)) o["text"] = n.text;
    else o["text_hex"] = to_hex(n.text);
    o["tokens"] = n.tokens;
    o["origin"] = valid_utf8(n.origin) ? n.origin : to_hex(n.origin);
    o["sampler"] = valid_utf8(n.sampler) ? n.sampler : std::string();
    o["seed"] = n.seed;
    json alts = json::array();
    for (const auto& a : n.alternatives) {
      json row = json::array();
      for (const auto& tp : a) row.push_back(json::array({tp.token, tp.prob}));
      alts.push_back(std::move(row));
    }
    o["alternatives"] = std::move(alts);
    o["created_ms"] = n.created_ms;
    o["label"] = valid_utf8(n.label) ? n.label : to_hex(n.label);
    o["bookmark"] = n.bookmark;
    o["metadata"] = valid_utf8(n.metadata) ? n.metadata : std::string();
    nodes.push_back(std::move(o));
  }
  json doc;
  doc["format"] = "wb-tree";
  doc["version"] = 1;
  doc["nodes"] = std::move(nodes);
  return doc.dump(1);
}

Result<Tree> from_json(std::string_view text) {
  if (text.size() > (1ull << 31)) return make_error(Errc::limit, "tree JSON is over 2 GiB");
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(Errc::format, "tree JSON: not valid JSON");
  if (!doc.is_object()) return make_error(Errc::format, "tree JSON: the top level must be an object");
  auto fmt_it = doc.find("format");
  if (fmt_it == doc.end() || !fmt_it->is_string() || fmt_it->get<std::string>() != "wb-tree")
    return make_error(Errc::format, "tree JSON: \"format\" must be \"wb-tree\"");
  auto ver = doc.find("version");
  if (ver == doc.end() || !ver->is_number_integer() || ver->get<int64_t>() != 1)
    return make_error(Errc::unsupported, "tree JSON: only version 1 is understood");
  auto arr = doc.find("nodes");
  if (arr == doc.end() || !arr->is_array()) return make_error(Errc::format, "tree JSON: \"nodes\" must be an array");

  std::vector<Node> nodes;
  nodes.reserve(arr->size());
  std::unordered_map<NodeId, std::size_t> where;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const json& o = (*arr)[i];
    if (!o.is_object()) return make_error(Errc::format, "tree JSON: node #{} is not an object", i);
    Reader r{o, i};
    Node n;
    WB_TRY(id, r.u64("id", true));
    WB_TRY(parent, r.u64("parent", true));
    n.id = id;
    n.parent = parent;
    if (o.contains("text_hex")) {
      WB_TRY(h, r.str("text_hex"));
      WB_TRY(t, from_hex(h));
      n.text = std::move(t);
    } else {
      WB_TRY(t, r.str("text"));
      n.text = std::move(t);
    }
    if (auto it = o.find("tokens"); it != o.end()) {
      if (!it->is_array()) return r.err("tokens", "must be an array");
      n.tokens.reserve(it->size());
      for (const json& t : *it) {
        if (!t.is_number_integer()) return r.err("tokens", "must hold integers");
        int64_t v = t.get<int64_t>();
        if (v < 0 || v > std::numeric_limits<int32_t>::max()) return r.err("tokens", "holds an id out of range");
        n.tokens.push_back(static_cast<int32_t>(v));
      }
    }
    WB_TRY(origin, r.str("origin"));
    n.origin = origin.empty() ? "user" : origin;
    WB_TRY(sampler, r.str("sampler"));
    n.sampler = std::move(sampler);
    WB_TRY(seed, r.u64("seed"));
    n.seed = seed;
    if (auto it = o.find("alternatives"); it != o.end()) {
      if (!it->is_array()) return r.err("alternatives", "must be an array");
      for (const json& row : *it) {
        if (!row.is_array()) return r.err("alternatives", "must hold arrays");
        std::vector<sampling::TokenProb> a;
        for (const json& p : row) {
          if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number())
            return r.err("alternatives", "entries must be [token, probability]");
          int64_t tok = p[0].get<int64_t>();
          if (tok < 0 || tok > std::numeric_limits<int32_t>::max()) return r.err("alternatives", "holds a token out of range");
          a.push_back({static_cast<int32_t>(tok), p[1].get<float>()});
        }
        n.alternatives.push_back(std::move(a));
      }
    }
    if (auto it = o.find("created_ms"); it != o.end()) {
      if (!it->is_number_integer()) return r.err("created_ms", "must be an integer");
      n.created_ms = it->get<int64_t>();
    }
    WB_TRY(label, r.str("label"));
    n.label = std::move(label);
    if (auto it = o.find("bookmark"); it != o.end()) {
      if (!it->is_boolean()) return r.err("bookmark", "must be true or false");
      n.bookmark = it->get<bool>();
    }
    WB_TRY(meta, r.str("metadata"));
    n.metadata = std::move(meta);
    if (!where.emplace(n.id, nodes.size()).second)
      return make_error(Errc::format, "tree JSON: node id {} appears twice", n.id);
    nodes.push_back(std::move(n));
  }
  // Children in the order the nodes are listed.
  for (const Node& n : nodes) {
    if (n.parent == kNoNode) continue;
    auto it = where.find(n.parent);
    if (it == where.end()) return make_error(Errc::format, "tree JSON: node {} names parent {} that is not listed", n.id, n.parent);
    nodes[it->second].children.push_back(n.id);
  }
  auto t = Tree::from_nodes(std::move(nodes));
  if (!t) return make_error(Errc::format, "tree JSON: {}", t.error().message);
  return std::move(*t);
}

}  // namespace wb::tree
