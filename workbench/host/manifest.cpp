#include "host/manifest.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>

namespace wb::host {

Result<wb_version> parse_version(std::string_view text) {
  uint32_t parts[3] = {0, 0, 0};
  std::size_t part = 0, digits = 0;
  for (char c : text) {
    if (c == '.') {
      if (digits == 0 || ++part > 2) return make_error(Errc::format, "bad version '{}' (want MAJOR.MINOR.PATCH)", text);
      digits = 0;
      continue;
    }
    if (c < '0' || c > '9' || digits >= 9)
      return make_error(Errc::format, "bad version '{}' (want MAJOR.MINOR.PATCH)", text);
    parts[part] = parts[part] * 10 + static_cast<uint32_t>(c - '0');
    ++digits;
  }
  if (part != 2 || digits == 0) return make_error(Errc::format, "bad version '{}' (want MAJOR.MINOR.PATCH)", text);
  return wb_version{parts[0], parts[1], parts[2]};
}

std::string version_string(wb_version v) { return fmt::format("{}.{}.{}", v.major, v.minor, v.patch); }

bool valid_plugin_id(std::string_view id) {
  if (id.size() < 3 || id.size() > WB_MAX_ID_LENGTH) return false;
  bool dot = false;
  char prev = '.';
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
    if (c == '.') {
      if (prev == '.') return false;  // empty label
      dot = true;
    }
    prev = c;
  }
  return dot && prev != '.';
}

namespace {

Result<std::string> get_string(const nlohmann::json& j, const char* key, bool required, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return make_error(Errc::format, "{}: manifest lacks \"{}\"", source, key);
    return std::string();
  }
  if (!it->is_string()) return make_error(Errc::format, "{}: manifest \"{}\" is not a string", source, key);
  std::string s = it->get<std::string>();
  if (s.size() > WB_MAX_TEXT_LENGTH)
    return make_error(Errc::format, "{}: manifest \"{}\" is longer than {} bytes", source, key, WB_MAX_TEXT_LENGTH);
  return s;
}

}  // namespace

Result<Manifest> parse_manifest(std::string_view json, const std::string& source) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(Errc::format, "{}: manifest is not valid JSON", source);
  if (!j.is_object()) return make_error(Errc::format, "{}: manifest is not a JSON object", source);
  Manifest m;
  WB_TRY(id, get_string(j, "id", true, source));
  WB_TRY(name, get_string(j, "name", false, source));
  WB_TRY(version, get_string(j, "version", true, source));
  WB_TRY(abi, get_string(j, "abi_version", true, source));
  WB_TRY(desc, get_string(j, "description", false, source));
  WB_TRY(lib, get_string(j, "library", true, source));
  if (!valid_plugin_id(id))
    return make_error(Errc::format, "{}: manifest id '{}' is not a reverse-DNS id ([a-z0-9._-], with a dot)", source, id);
  auto abi_v = parse_version(abi);
  if (!abi_v) return make_error(Errc::format, "{}: manifest abi_version: {}", source, abi_v.error().message);
  if (lib.empty() || lib.find('/') != std::string::npos || lib.find('\\') != std::string::npos || lib == "." ||
      lib == "..")
    return make_error(Errc::format, "{}: manifest library '{}' must be a file name in the same folder", source, lib);
  m.id = std::move(id);
  m.name = name.empty() ? m.id : std::move(name);
  m.version = std::move(version);
  m.abi_version = *abi_v;
  m.description = std::move(desc);
  m.library = std::move(lib);
  return m;
}

Result<Manifest> read_manifest(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(Errc::io, "{}: cannot read manifest: {}", path.string(), ec.message());
  if (size > kMaxManifestBytes)
    return make_error(Errc::limit, "{}: manifest is {} bytes, more than the {} accepted", path.string(), size,
                      kMaxManifestBytes);
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error(Errc::io, "{}: cannot open manifest", path.string());
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_manifest(text, path.string());
}

}  // namespace wb::host
