#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_tokenize(Args&) { return not_implemented("tokenize", "issue 3: tokenizers"); }

}  // namespace wb::cli
