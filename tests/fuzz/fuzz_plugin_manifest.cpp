// Fuzz target: plugin manifests and the plugin consent settings file, the two
// things the host parses from disk before any plugin code runs.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string_view>
#include <unistd.h>

#include "host/consent.hpp"
#include "host/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = wb::host::parse_manifest(text, "fuzz.wbplugin.json");
  if (m) {
    // What parsed must satisfy the rules the host relies on later.
    if (!wb::host::valid_plugin_id(m->id)) __builtin_trap();
    if (m->library.empty() || m->library.find('/') != std::string::npos) __builtin_trap();
  }
  (void)wb::host::parse_version(text);
  // The consent store reads a file: write the input to a private temp file.
  char path[] = "/tmp/wb-fuzz-consent-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  wb::host::ConsentStore store(path);
  if (!store.load()) {
    if (store.consent("/x", "y") != wb::host::Consent::unknown) __builtin_trap();  // nothing trusted after a failure
  }
  unlink(path);
  return 0;
}
