#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_logits(Args&) { return not_implemented("logits", "issue 3: CPU runtime"); }

}  // namespace wb::cli
