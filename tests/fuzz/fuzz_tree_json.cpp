// Fuzz target: tree JSON import. Anything may come in; nothing may crash, and
// whatever imports must export and re-import to the same JSON.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/tree/tree_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = wb::tree::from_json(text);
  if (!t) return 0;
  std::string once = wb::tree::to_json(*t);
  auto again = wb::tree::from_json(once);
  if (!again || wb::tree::to_json(*again) != once) std::abort();  // round trip must be exact
  // Operations on an imported tree must be safe too.
  for (auto id : t->leaves()) {
    (void)t->path_text(id);
    if (id != t->root()) (void)t->remove_subtree(id);
  }
  while (t->can_undo()) (void)t->undo();
  return 0;
}
