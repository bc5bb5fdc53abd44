// The user's plugin consent, kept in a per-user JSON settings file
// ($XDG_CONFIG_HOME/rwkv-workbench/plugins.json): which libraries the user
// enabled, each with the SHA-256 it had then, and which shipped plugins the
// user turned off. A library whose bytes changed needs enabling again.
//
//   wb::host::ConsentStore store(path);
//   WB_CHECK(store.load());                       // a missing file is empty
//   store.enable(lib_path, id, sha);  WB_CHECK(store.save());
//   auto c = store.consent(lib_path, sha);        // Consent::enabled / changed / unknown
#pragma once
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "core/util/result.hpp"

namespace wb::host {

enum class Consent { unknown, enabled, changed };

class ConsentStore {
 public:
  explicit ConsentStore(std::filesystem::path file) : file_(std::move(file)) {}

  // Reads the file; a missing file is an empty store. A malformed file is an
  // error (the store stays empty, so nothing is trusted by mistake).
  Status load();
  // Writes atomically (temporary file + rename), creating the folder.
  Status save() const;

  Consent consent(const std::string& library, const std::string& sha256) const;
  void enable(const std::string& library, const std::string& id, const std::string& sha256);
  void forget(const std::string& library);

  // Shipped plugins are on unless the user turned them off.
  bool shipped_disabled(const std::string& library) const { return disabled_.count(library) != 0; }
  void set_shipped_disabled(const std::string& library, bool off);

  const std::filesystem::path& file() const { return file_; }

 private:
  struct Entry {
    std::string id;
    std::string sha256;
  };
  std::filesystem::path file_;
  std::map<std::string, Entry> enabled_;  // by canonical library path
  std::set<std::string> disabled_;
};

}  // namespace wb::host
