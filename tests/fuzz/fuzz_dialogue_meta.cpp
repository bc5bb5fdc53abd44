// Fuzz target: the dialogue plugin's metadata parser (scene and message
// metadata are read back from project files, which may be damaged or
// hand-edited). The plugin's C source is compiled in directly so that the
// parser is tested exactly as shipped.
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" {
#include "../../plugins/dialogue/dialogue_store.c"
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  dlg_scene sc;
  if (dlg_scene_parse(text.data(), text.size(), 1, &sc) == 0) {
    for (size_t i = 0; i < sc.n_cast; ++i) (void)dlg_find_character(&sc, sc.cast[i].f[DLG_F_NAME]);
    (void)dlg_lane_find(sc.roots, sc.n_roots, "*");
    dlg_scene_free(&sc);
  }
  dlg_message m;
  if (dlg_message_parse(text.data(), text.size(), &m) == 1) {
    m.text = dlg_strndup(text.data(), text.size());
    m.text_len = text.size();
    (void)dlg_witnessed(&m, "Alice");
    free(dlg_body(&m));
    dlg_message_free(&m);
  }
  return 0;
}
