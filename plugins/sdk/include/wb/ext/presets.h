/* Host extension "wb.presets/1": read the text presets shipped in presets/
 * and the user's own ($XDG_DATA_HOME/<app>/presets), and save user presets.
 * A preset is a text file presets/<category>/<name>; a user preset of the same
 * name hides a shipped one.
 *
 *   const wb_host_presets* p = (const wb_host_presets*)host->get_extension(host, WB_EXT_PRESETS);
 *   char buf[4096]; size_t len = 0;
 *   if (p && p->read(host, "sampling", "creative.txt", buf, sizeof buf, &len) == WB_OK) ...
 *
 * Categories and names are single path components: [A-Za-z0-9._-], not
 * starting with '.', at most WB_MAX_ID_LENGTH bytes; anything else is
 * WB_ERR_INVALID_ARGUMENT (so a plugin cannot reach outside the preset folders).
 */
#ifndef WB_EXT_PRESETS_H
#define WB_EXT_PRESETS_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_PRESETS "wb.presets/1"

/* Called once per preset name; `name` is valid only during the call. */
typedef void (*wb_preset_name_fn)(void* user, const char* name);

typedef struct wb_host_presets {
  /* [any-thread] Calls `fn` for each preset in `category`, sorted by name,
   * each name once. Returns WB_ERR_NOT_FOUND when the category has none. */
  wb_status (*list)(const wb_host* host, const char* category, wb_preset_name_fn fn, void* user);

  /* [any-thread] Copies the preset's bytes into the caller's buffer (`buf`
   * may be NULL when `capacity` is 0) and sets *out_len to the full size;
   * WB_ERR_BUFFER_TOO_SMALL when it does not fit (then nothing is copied,
   * call again with *out_len bytes). No terminating NUL is added. */
  wb_status (*read)(const wb_host* host, const char* category, const char* name, char* buf,
                    size_t capacity, size_t* out_len);

  /* [main-thread] Writes a user preset (creating the folders), replacing any
   * earlier user preset of that name. `data` is borrowed for the call. */
  wb_status (*write)(const wb_host* host, const char* category, const char* name, const char* data,
                     size_t len);
} wb_host_presets;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_PRESETS_H */
