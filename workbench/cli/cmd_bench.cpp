#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_bench(Args&) { return not_implemented("bench", "issue 4: CPU speed"); }

}  // namespace wb::cli
