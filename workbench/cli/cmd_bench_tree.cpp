#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_bench_tree(Args&) { return not_implemented("bench-tree", "issue 5: state tree"); }

}  // namespace wb::cli
