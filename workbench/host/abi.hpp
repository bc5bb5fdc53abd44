// The plugin ABI version this host implements, and the compatibility rule:
// same major, and a plugin's minor no newer than ours.
//
//   if (!wb::host::abi_compatible(entry->abi_version))
//     refuse(wb::host::abi_mismatch(entry->abi_version));
#pragma once
#include <wb/plugin.h>

#include <string>

namespace wb::host {

wb_version host_abi_version();
bool abi_compatible(wb_version plugin);
// Why `plugin` cannot load here ("" when it can).
std::string abi_mismatch(wb_version plugin);

}  // namespace wb::host
