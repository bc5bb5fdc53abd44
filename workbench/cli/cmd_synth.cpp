#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_synth(Args&) { return not_implemented("synth", "issue 4: CPU speed"); }

}  // namespace wb::cli
