#include "host/abi.hpp"

namespace wb::host {

wb_version host_abi_version() {
  return wb_version{WB_ABI_VERSION_MAJOR, WB_ABI_VERSION_MINOR, WB_ABI_VERSION_PATCH};
}

bool abi_compatible(wb_version plugin) {
  return plugin.major == WB_ABI_VERSION_MAJOR && plugin.minor <= WB_ABI_VERSION_MINOR;
}

}  // namespace wb::host
