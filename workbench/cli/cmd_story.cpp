#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_story(Args&) { return not_implemented("story", "issue 5: state tree"); }

}  // namespace wb::cli
