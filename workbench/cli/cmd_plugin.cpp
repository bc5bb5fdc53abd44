#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_plugin(Args&) { return not_implemented("plugin", "issue 7: plugin host"); }

}  // namespace wb::cli
