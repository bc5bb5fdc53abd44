#include "host/consent.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>

namespace wb::host {

Status ConsentStore::load() {
  enabled_.clear();
  disabled_.clear();
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return {};
  auto size = std::filesystem::file_size(file_, ec);
  if (ec) return make_error(Errc::io, "{}: cannot read plugin settings: {}", file_.string(), ec.message());
  if (size > (16u << 20)) return make_error(Errc::limit, "{}: plugin settings file is {} bytes, too large", file_.string(), size);
  std::ifstream f(file_, std::ios::binary);
  if (!f) return make_error(Errc::io, "{}: cannot open plugin settings", file_.string());
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(Errc::format, "{}: plugin settings are not a JSON object", file_.string());
  std::map<std::string, Entry> enabled;
  std::set<std::string> disabled;
  if (auto it = j.find("enabled"); it != j.end()) {
    if (!it->is_array()) return make_error(Errc::format, "{}: \"enabled\" is not an array", file_.string());
    for (const auto& e : *it) {
      if (!e.is_object() || !e.contains("library") || !e["library"].is_string() || !e.contains("sha256") ||
          !e["sha256"].is_string())
        return make_error(Errc::format, "{}: an \"enabled\" entry lacks library or sha256", file_.string());
      Entry entry;
      entry.sha256 = e["sha256"].get<std::string>();
      if (e.contains("id") && e["id"].is_string()) entry.id = e["id"].get<std::string>();
      enabled[e["library"].get<std::string>()] = std::move(entry);
    }
  }
  if (auto it = j.find("disabled_shipped"); it != j.end()) {
    if (!it->is_array()) return make_error(Errc::format, "{}: \"disabled_shipped\" is not an array", file_.string());
    for (const auto& e : *it) {
      if (!e.is_string()) return make_error(Errc::format, "{}: \"disabled_shipped\" holds a non-string", file_.string());
      disabled.insert(e.get<std::string>());
    }
  }
  enabled_ = std::move(enabled);
  disabled_ = std::move(disabled);
  return {};
}

Status ConsentStore::save() const {
  nlohmann::json j;
  j["version"] = 1;
  j["enabled"] = nlohmann::json::array();
  for (const auto& [lib, e] : enabled_)
    j["enabled"].push_back({{"library", lib}, {"id", e.id}, {"sha256", e.sha256}});
  j["disabled_shipped"] = nlohmann::json::array();
  for (const auto& lib : disabled_) j["disabled_shipped"].push_back(lib);
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  if (ec) return make_error(Errc::io, "{}: cannot create folder: {}", file_.parent_path().string(), ec.message());
  auto tmp = file_;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return make_error(Errc::io, "{}: cannot write plugin settings", tmp.string());
    f << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!f.flush()) return make_error(Errc::io, "{}: write failed", tmp.string());
  }
  std::filesystem::rename(tmp, file_, ec);
  if (ec) return make_error(Errc::io, "{}: cannot replace plugin settings: {}", file_.string(), ec.message());
  return {};
}

Consent ConsentStore::consent(const std::string& library, const std::string& sha256) const {
  auto it = enabled_.find(library);
  if (it == enabled_.end()) return Consent::unknown;
  return it->second.sha256 == sha256 ? Consent::enabled : Consent::changed;
}

void ConsentStore::enable(const std::string& library, const std::string& id, const std::string& sha256) {
  enabled_[library] = Entry{id, sha256};
}

void ConsentStore::forget(const std::string& library) { enabled_.erase(library); }

void ConsentStore::set_shipped_disabled(const std::string& library, bool off) {
  if (off)
    disabled_.insert(library);
  else
    disabled_.erase(library);
}

}  // namespace wb::host
