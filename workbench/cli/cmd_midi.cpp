#include "cli/verbs.hpp"

namespace wb::cli {

int cmd_midi(Args&) { return not_implemented("midi", "issue 9: MIDI composer"); }

}  // namespace wb::cli
