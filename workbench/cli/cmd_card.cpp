#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_card(Args&) { return not_implemented("card", "issue 8: dialogue plugin"); }

}  // namespace wb::cli
