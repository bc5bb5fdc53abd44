#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_devices(Args&) { return not_implemented("devices", "issue 6: Vulkan backend"); }

}  // namespace wb::cli
