// Character card model: JSON reading with normalisation and limits, writing by
// overlaying the normalised fields onto the original object, file I/O.
#include "core/card/card.hpp"
#include "core/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/card/base64.hpp"
#include "core/card/card_png.hpp"

namespace wb::card {
namespace {

using Json = nlohmann::ordered_json;

struct DepthExceeded {};

// Parses JSON text with a nesting limit (deep nesting would otherwise cost
// stack in our own walks and in nlohmann's serializer).
Result<Json> parse_json(std::string_view text, const std::string& origin, const Limits& limits) {
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF)
    text.remove_prefix(3);  // UTF-8 byte order mark, written by some editors
  const int max_depth = limits.max_json_depth;
  try {
    return Json::parse(text, [max_depth](int depth, Json::parse_event_t, Json&) {
      if (depth > max_depth) throw DepthExceeded{};
      return true;
    });
  } catch (const DepthExceeded&) {
    return make_error(Errc::limit, "{}: JSON nested deeper than {} levels", origin, max_depth);
  } catch (const Json::exception& e) {
    return make_error(Errc::format, "{}: not valid JSON: {}", origin, e.what());
  }
}

// Every string (and key) anywhere in the card is held to the per-field limit.
Status check_sizes(const Json& j, std::string& path, const std::string& origin, const Limits& limits) {
  if (j.is_string()) {
    std::size_t n = j.get_ref<const std::string&>().size();
    if (n > limits.max_field_bytes)
      return make_error(Errc::limit, "{}: field '{}' is {} bytes, over the limit of {} bytes", origin, path, n,
                        limits.max_field_bytes);
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key().size() > limits.max_field_bytes)
        return make_error(Errc::limit, "{}: a key under '{}' is over the limit of {} bytes", origin, path,
                          limits.max_field_bytes);
      std::size_t keep = path.size();
      path += path.empty() ? "" : ".";
      path += it.key().size() > 64 ? it.key().substr(0, 64) + "..." : it.key();
      Status s = check_sizes(it.value(), path, origin, limits);
      path.resize(keep);
      if (!s) return s;
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::size_t keep = path.size();
      path += "[" + std::to_string(i) + "]";
      Status s = check_sizes(j[i], path, origin, limits);
      path.resize(keep);
      if (!s) return s;
    }
  }
  return {};
}

std::string field_path(const std::string& prefix, const char* key) {
  return prefix.empty() ? std::string(key) : prefix + "." + key;
}

Error wrong_type(const std::string& origin, const std::string& path, const char* want, const Json& got) {
  return make_error(Errc::format, "{}: field '{}' must be {}, not {}", origin, path, want, got.type_name());
}

// Absent and null read as "not given" for optional fields.
const Json* find(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status read_string(const Json& obj, const char* key, const std::string& prefix, const std::string& origin,
                   std::string& out) {
  const Json* v = find(obj, key);
  if (!v) return {};
  if (!v->is_string()) return wrong_type(origin, field_path(prefix, key), "a string", *v);
  out = v->get<std::string>();
  return {};
}

Status read_strings(const Json& obj, const char* key, const std::string& prefix, const std::string& origin,
                    std::vector<std::string>& out) {
  const Json* v = find(obj, key);
  if (!v) return {};
  if (!v->is_array()) return wrong_type(origin, field_path(prefix, key), "an array of strings", *v);
  out.clear();
  for (std::size_t i = 0; i < v->size(); ++i) {
    const Json& e = (*v)[i];
    if (!e.is_string())
      return wrong_type(origin, field_path(prefix, key) + "[" + std::to_string(i) + "]", "a string", e);
    out.push_back(e.get<std::string>());
  }
  return {};
}

// JSON-valued fields kept as text; `want_object` false means an array.
Status read_json_text(const Json& obj, const char* key, const std::string& prefix, const std::string& origin,
                      bool want_object, std::string& out) {
  const Json* v = find(obj, key);
  if (!v) return {};
  if (want_object ? !v->is_object() : !v->is_array())
    return wrong_type(origin, field_path(prefix, key), want_object ? "an object" : "an array", *v);
  out = v->dump();
  return {};
}

Status read_date(const Json& obj, const char* key, const std::string& prefix, const std::string& origin,
                 std::optional<int64_t>& out) {
  const Json* v = find(obj, key);
  if (!v) return {};
  if (v->is_number_integer()) {
    out = v->get<int64_t>();
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 9.0e15)
      return make_error(Errc::format, "{}: field '{}' is not a usable date", origin, field_path(prefix, key));
    out = static_cast<int64_t>(d);
  } else {
    return wrong_type(origin, field_path(prefix, key), "a number (unix seconds)", *v);
  }
  return {};
}

// Reads the normalised fields of `data` (the `data` object of V2/V3, the root of V1).
Status read_fields(const Json& data, const std::string& p, const std::string& origin, Card& c) {
  const Json* name = find(data, "name");
  if (!name) return make_error(Errc::format, "{}: missing required field '{}'", origin, field_path(p, "name"));
  WB_CHECK(read_string(data, "name", p, origin, c.name));
  WB_CHECK(read_string(data, "description", p, origin, c.description));
  WB_CHECK(read_string(data, "personality", p, origin, c.personality));
  WB_CHECK(read_string(data, "scenario", p, origin, c.scenario));
  WB_CHECK(read_string(data, "first_mes", p, origin, c.first_mes));
  WB_CHECK(read_string(data, "mes_example", p, origin, c.mes_example));
  if (c.spec == Spec::v1) {
    // V1 exports from SillyTavern carry the creator's notes as creatorcomment.
    WB_CHECK(read_string(data, "creatorcomment", p, origin, c.creator_notes));
  }
  WB_CHECK(read_string(data, "creator_notes", p, origin, c.creator_notes));
  WB_CHECK(read_string(data, "system_prompt", p, origin, c.system_prompt));
  WB_CHECK(read_string(data, "post_history_instructions", p, origin, c.post_history_instructions));
  WB_CHECK(read_strings(data, "alternate_greetings", p, origin, c.alternate_greetings));
  WB_CHECK(read_strings(data, "tags", p, origin, c.tags));
  WB_CHECK(read_string(data, "creator", p, origin, c.creator));
  WB_CHECK(read_string(data, "character_version", p, origin, c.character_version));
  WB_CHECK(read_json_text(data, "extensions", p, origin, true, c.extensions_json));
  WB_CHECK(read_json_text(data, "character_book", p, origin, true, c.character_book_json));
  if (const Json* book = find(data, "character_book")) {
    const Json* entries = find(*book, "entries");
    if (entries && !entries->is_array())
      return wrong_type(origin, field_path(p, "character_book.entries"), "an array", *entries);
  }
  WB_CHECK(read_string(data, "nickname", p, origin, c.nickname));
  WB_CHECK(read_strings(data, "group_only_greetings", p, origin, c.group_only_greetings));
  WB_CHECK(read_strings(data, "source", p, origin, c.source));
  WB_CHECK(read_json_text(data, "creator_notes_multilingual", p, origin, true, c.creator_notes_multilingual_json));
  if (const Json* notes = find(data, "creator_notes_multilingual")) {
    for (auto it = notes->begin(); it != notes->end(); ++it)
      if (!it->is_string())
        return wrong_type(origin, field_path(p, "creator_notes_multilingual.") + it.key(), "a string", *it);
  }
  WB_CHECK(read_json_text(data, "assets", p, origin, false, c.assets_json));
  if (const Json* assets = find(data, "assets")) {
    for (std::size_t i = 0; i < assets->size(); ++i)
      if (!(*assets)[i].is_object())
        return wrong_type(origin, field_path(p, "assets") + "[" + std::to_string(i) + "]", "an object",
                          (*assets)[i]);
  }
  WB_CHECK(read_date(data, "creation_date", p, origin, c.creation_date));
  WB_CHECK(read_date(data, "modification_date", p, origin, c.modification_date));
  return {};
}


Result<Json> parse_embedded(const std::string& text, const char* what, const std::string& origin,
                            const Limits& limits, bool want_object) {
  WB_TRY(j, parse_json(text, origin + ": field '" + what + "'", limits));
  if (want_object ? !j.is_object() : !j.is_array())
    return make_error(Errc::invalid_argument, "{}: field '{}' must hold a JSON {}", origin, what,
                      want_object ? "object" : "array");
  return j;
}



// Picks the card chunk of a PNG: ccv3 first, chara as fallback.
Result<Card> parse_png_card(std::span<const uint8_t> bytes, const std::string& origin, const Limits& limits) {
  WB_TRY(png, read_png_texts(bytes, origin, limits));
  const PngText* v3 = nullptr;
  const PngText* v2 = nullptr;
  for (const PngText& t : png.texts) {
    if (t.key == "ccv3" && !v3) v3 = &t;
    if (t.key == "chara" && !v2) v2 = &t;
  }
  if (!v3 && !v2) {
    std::string why;
    for (const std::string& w : png.warnings) why += "; libpng: " + w;
    return make_error(Errc::format, "{}: PNG has no character card (no 'ccv3' or 'chara' text chunk){}", origin,
                      why);
  }
  auto decode = [&](const PngText& t) -> Result<Card> {
    std::string where = origin + ": chunk '" + t.key + "'";
    if (t.text.size() > limits.max_card_bytes / 3 * 4 + 4096)
      return make_error(Errc::limit, "{}: {} bytes, over the card limit", where, t.text.size());
    auto json = base64_decode(t.text);
    if (!json) return make_error(Errc::format, "{}: {}", where, json.error().message);
    return parse_card_json(*json, where, limits);
  };
  std::vector<std::string> notes;
  for (const std::string& w : png.warnings) notes.push_back("libpng: " + w);
  if (v3) {
    auto card = decode(*v3);
    if (card) {
      card->warnings = std::move(notes);
      card->container = Container::png;
      card->png_chunk = "ccv3";
      card->avatar_png.assign(bytes.begin(), bytes.end());
      return card;
    }
    if (!v2) return card;
    notes.push_back(card.error().message + "; falling back to the 'chara' chunk");
  }
  auto card = decode(*v2);
  if (!card) {
    if (v3) return make_error(card.error().code, "{} (and {})", card.error().message, notes.back());
    return card;
  }
  card->warnings = std::move(notes);
  card->container = Container::png;
  card->png_chunk = "chara";
  card->avatar_png.assign(bytes.begin(), bytes.end());
  return card;
}

}  // namespace

const char* spec_name(Spec s) {
  switch (s) {
    case Spec::v1: return "v1";
    case Spec::v2: return "v2";
    case Spec::v3: return "v3";
  }
  return "?";
}

Result<Card> parse_card_json(std::string_view json_text, const std::string& origin, const Limits& limits) {
  if (json_text.size() > limits.max_card_bytes)
    return make_error(Errc::limit, "{}: card is {} bytes, over the limit of {} bytes", origin, json_text.size(),
                      limits.max_card_bytes);
  WB_TRY(root, parse_json(json_text, origin, limits));
  if (!root.is_object())
    return make_error(Errc::format, "{}: not a character card (top level is {}, not an object)", origin,
                      root.type_name());
  std::string path;
  WB_CHECK(check_sizes(root, path, origin, limits));

  Card c;
  c.container = Container::json;
  const Json* data = &root;
  std::string prefix;
  if (const Json* spec = find(root, "spec")) {
    if (!spec->is_string()) return wrong_type(origin, "spec", "a string", *spec);
    const std::string& s = spec->get_ref<const std::string&>();
    if (s == "chara_card_v2") c.spec = Spec::v2;
    else if (s == "chara_card_v3") c.spec = Spec::v3;
    else return make_error(Errc::unsupported, "{}: unknown card spec '{}'", origin, s.substr(0, 64));
  } else if (find(root, "data")) {
    c.spec = Spec::v2;  // some writers drop `spec`; the shape is still V2
  } else if (find(root, "name")) {
    c.spec = Spec::v1;
  } else {
    return make_error(Errc::format, "{}: not a character card (no 'spec', 'data' or 'name' field)", origin);
  }
  if (c.spec != Spec::v1) {
    if (const Json* v = find(root, "spec_version")) {
      if (v->is_string()) c.spec_version = v->get<std::string>();
      else if (v->is_number()) c.spec_version = v->dump();
      else return wrong_type(origin, "spec_version", "a string", *v);
    }
    data = find(root, "data");
    if (!data) return make_error(Errc::format, "{}: missing required field 'data'", origin);
    if (!data->is_object()) return wrong_type(origin, "data", "an object", *data);
    prefix = "data";
  }
  WB_CHECK(read_fields(*data, prefix, origin, c));
  c.original_json = root.dump();
  return c;
}

Result<Card> parse_card_bytes(std::span<const uint8_t> bytes, const std::string& origin, const Limits& limits) {
  if (bytes.size() > limits.max_file_bytes)
    return make_error(Errc::limit, "{}: file is {} bytes, over the limit of {} bytes", origin, bytes.size(),
                      limits.max_file_bytes);
  if (looks_like_png(bytes)) return parse_png_card(bytes, origin, limits);
  std::size_t i = 0;
  if (bytes.size() >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) i = 3;
  while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) ++i;
  if (i < bytes.size() && bytes[i] == '{')
    return parse_card_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), origin,
                           limits);
  if (bytes.size() >= 4 && bytes[0] == 0x89 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G')
    return make_error(Errc::format, "{}: broken PNG signature", origin);
  return make_error(Errc::format, "{}: not a character card (neither a PNG nor a JSON object)", origin);
}

Result<Card> load_card(const std::string& path, const Limits& limits) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error(Errc::io, "{}: no such file", path);
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(Errc::io, "{}: cannot read: {}", path, ec.message());
  if (size > limits.max_file_bytes)
    return make_error(Errc::limit, "{}: file is {} bytes, over the limit of {} bytes", path, size,
                      limits.max_file_bytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, "{}: cannot open: {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<std::size_t>(in.gcount()) != bytes.size())
    return make_error(Errc::io, "{}: cannot read (file changed while reading?)", path);
  return parse_card_bytes(bytes, path, limits);
}

Result<std::string> card_to_json(const Card& c, Spec target, int indent, const Limits& limits) {
  const std::string origin = c.name.empty() ? std::string("card") : "card '" + c.name.substr(0, 64) + "'";
  if (target == Spec::v1)
    return make_error(Errc::unsupported, "{}: writing V1 cards is not supported (use V2 or V3)", origin);
  Json root = Json::object();
  if (!c.original_json.empty()) {
    WB_TRY(orig, parse_json(c.original_json, origin, limits));
    if (orig.is_object()) root = std::move(orig);
  }
  const bool from_v1 = !c.original_json.empty() && c.spec == Spec::v1;
  // A V1 original keeps its flat fields at the root (many readers still look
  // there); its `data` is built fresh.
  Json data = Json::object();
  if (!from_v1 && root.contains("data") && root["data"].is_object()) data = root["data"];

  const bool same_spec = c.spec == target && !c.spec_version.empty();
  const bool v3 = target == Spec::v3;
  // Known fields are written in the spec's order, then every other field of
  // the original in its own order. A known field the card no longer has
  // (an emptied optional field) is dropped rather than copied back.
  Json out = Json::object();
  auto had = [&](const char* key) { return data.contains(key) && !data[key].is_null(); };
  out["name"] = c.name;
  out["description"] = c.description;
  out["personality"] = c.personality;
  out["scenario"] = c.scenario;
  out["first_mes"] = c.first_mes;
  out["mes_example"] = c.mes_example;
  out["creator_notes"] = c.creator_notes;
  out["system_prompt"] = c.system_prompt;
  out["post_history_instructions"] = c.post_history_instructions;
  out["alternate_greetings"] = c.alternate_greetings;
  if (!c.character_book_json.empty()) {
    WB_TRY(book, parse_embedded(c.character_book_json, "character_book", origin, limits, true));
    out["character_book"] = std::move(book);
  }
  out["tags"] = c.tags;
  out["creator"] = c.creator;
  out["character_version"] = c.character_version;
  WB_TRY(ext, parse_embedded(c.extensions_json.empty() ? "{}" : c.extensions_json, "extensions", origin, limits,
                             true));
  out["extensions"] = std::move(ext);
  // V3 fields: in a V3 card when they have a value (group_only_greetings
  // always); in a V2 card only where the original had them.
  if (!c.nickname.empty() ? (v3 || had("nickname")) : had("nickname")) out["nickname"] = c.nickname;
  if (v3 || had("group_only_greetings")) out["group_only_greetings"] = c.group_only_greetings;
  if (!c.source.empty() ? (v3 || had("source")) : had("source")) out["source"] = c.source;
  if (!c.creator_notes_multilingual_json.empty() && (v3 || had("creator_notes_multilingual"))) {
    WB_TRY(notes, parse_embedded(c.creator_notes_multilingual_json, "creator_notes_multilingual", origin, limits,
                                 true));
    out["creator_notes_multilingual"] = std::move(notes);
  }
  if (!c.assets_json.empty() && (v3 || had("assets"))) {
    WB_TRY(assets, parse_embedded(c.assets_json, "assets", origin, limits, false));
    out["assets"] = std::move(assets);
  }
  if (c.creation_date && (v3 || had("creation_date"))) out["creation_date"] = *c.creation_date;
  if (c.modification_date && (v3 || had("modification_date"))) out["modification_date"] = *c.modification_date;
  static const char* const kKnown[] = {
      "name", "description", "personality", "scenario", "first_mes", "mes_example", "creator_notes",
      "system_prompt", "post_history_instructions", "alternate_greetings", "character_book", "tags", "creator",
      "character_version", "extensions", "nickname", "group_only_greetings", "source",
      "creator_notes_multilingual", "assets", "creation_date", "modification_date"};
  for (auto it = data.begin(); it != data.end(); ++it) {
    bool known = false;
    for (const char* k : kKnown) known = known || it.key() == k;
    if (!known) out[it.key()] = it.value();
  }

  // Legacy flat copies at the root follow the edited values.
  static const char* const kFlat[] = {"name", "description", "personality", "scenario", "first_mes", "mes_example"};
  for (const char* key : kFlat)
    if (root.contains(key) && root[key].is_string()) root[key] = out[key];
  if (from_v1 && root.contains("creatorcomment") && root["creatorcomment"].is_string())
    root["creatorcomment"] = c.creator_notes;

  Json top = Json::object();
  top["spec"] = v3 ? "chara_card_v3" : "chara_card_v2";
  top["spec_version"] = same_spec ? c.spec_version : (v3 ? "3.0" : "2.0");
  top["data"] = std::move(out);
  for (auto it = root.begin(); it != root.end(); ++it)
    if (!top.contains(it.key())) top[it.key()] = it.value();
  root = std::move(top);

  std::string path;
  WB_CHECK(check_sizes(root, path, origin, limits));
  std::string text;
  try {
    text = root.dump(indent, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return make_error(Errc::invalid_argument, "{}: cannot write as JSON: {}", origin, e.what());
  }
  if (text.size() > limits.max_card_bytes)
    return make_error(Errc::limit, "{}: card is {} bytes, over the limit of {} bytes", origin, text.size(),
                      limits.max_card_bytes);
  return text;
}

Result<std::vector<uint8_t>> card_to_png(const Card& c, const PngOptions& options, const Limits& limits) {
  WB_TRY(v2, card_to_json(c, Spec::v2, -1, limits));
  WB_TRY(v3, card_to_json(c, Spec::v3, -1, limits));
  std::vector<uint8_t> generated;
  std::span<const uint8_t> avatar = options.avatar_png;
  std::string origin = "avatar PNG";
  if (avatar.empty() && !c.avatar_png.empty()) {
    avatar = c.avatar_png;
    origin = "the card's own PNG";
  }
  if (avatar.empty()) {
    WB_TRY(img, placeholder_png(c.name));
    generated = std::move(img);
    avatar = generated;
    origin = "placeholder PNG";
  }
  return write_png_texts(avatar, {{"chara", base64_encode(v2)}, {"ccv3", base64_encode(v3)}}, origin, limits);
}

Status save_card(const Card& c, const std::string& path, const SaveOptions& options, const Limits& limits) {
  std::string ext = lower_extension(path);
  std::vector<uint8_t> bytes;
  if (ext == ".png") {
    auto png = card_to_png(c, options.png, limits);
    if (!png) return make_error(png.error().code, "{}: {}", path, png.error().message);
    bytes = std::move(*png);
  } else if (ext == ".json") {
    Spec spec = options.json_spec.value_or(c.spec == Spec::v1 ? Spec::v2 : c.spec);
    auto json = card_to_json(c, spec, 2, limits);
    if (!json) return make_error(json.error().code, "{}: {}", path, json.error().message);
    bytes.assign(json->begin(), json->end());
    bytes.push_back('\n');
  } else {
    return make_error(Errc::invalid_argument, "{}: unknown card file type '{}' (use .png or .json)", path, ext);
  }
  return write_file_atomically(path, bytes);
}

}  // namespace wb::card
