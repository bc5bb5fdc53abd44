// The plugin ABI version this host implements, and the compatibility rule:
// same major, and a plugin's minor no newer than ours.
#pragma once
#include <wb/plugin.h>

namespace wb::host {

wb_version host_abi_version();
bool abi_compatible(wb_version plugin);

}  // namespace wb::host
