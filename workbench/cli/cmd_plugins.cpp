#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_plugins(Args&) { return not_implemented("plugins", "issue 7: plugin host"); }

}  // namespace wb::cli
