#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_info(Args&) { return not_implemented("info", "issue 3: CPU runtime"); }

}  // namespace wb::cli
