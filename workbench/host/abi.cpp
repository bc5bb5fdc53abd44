#include "host/abi.hpp"

#include <fmt/format.h>

namespace wb::host {

wb_version host_abi_version() {
  return wb_version{WB_ABI_VERSION_MAJOR, WB_ABI_VERSION_MINOR, WB_ABI_VERSION_PATCH};
}

bool abi_compatible(wb_version plugin) {
  return plugin.major == WB_ABI_VERSION_MAJOR && plugin.minor <= WB_ABI_VERSION_MINOR;
}

std::string abi_mismatch(wb_version p) {
  wb_version h = host_abi_version();
  if (p.major != h.major)
    return fmt::format("built for plugin ABI {}.{}.{}, this host implements {}.{}.{} (other major version)", p.major,
                       p.minor, p.patch, h.major, h.minor, h.patch);
  if (p.minor > h.minor)
    return fmt::format("built for plugin ABI {}.{}.{}, newer than this host's {}.{}.{} (update the workbench)",
                       p.major, p.minor, p.patch, h.major, h.minor, h.patch);
  return {};
}

}  // namespace wb::host
