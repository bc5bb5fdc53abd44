#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_generate(Args&) { return not_implemented("generate", "issue 5: generation sessions"); }

}  // namespace wb::cli
