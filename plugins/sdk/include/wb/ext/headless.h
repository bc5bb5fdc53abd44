/* Plugin extension "wb.headless/1": run the plugin from the command line
 * (`wb plugin run ID ARGS...`) or a script, with no GUI.
 *
 *   static int32_t run(const wb_plugin* p, uint32_t argc, const char* const* argv,
 *                      const wb_output* out) {
 *     out->write(out, "hello\n", 6);
 *     return 0;
 *   }
 *   static const wb_plugin_headless headless = {"ARGS...", run};
 *   // plugin->get_extension(p, WB_EXT_HEADLESS) returns &headless
 */
#ifndef WB_EXT_HEADLESS_H
#define WB_EXT_HEADLESS_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_HEADLESS "wb.headless/1"

/* Where a headless run writes its results. Owned by the host, valid during
 * the run call only. */
typedef struct wb_output {
  void* host_data; /* the host's; do not touch */
  /* [main-thread] Appends `len` bytes of `data` (borrowed) to the run's
   * standard output. WB_ERR_INVALID_ARGUMENT for NULL data with len > 0. */
  wb_status (*write)(const struct wb_output* out, const char* data, size_t len);
  /* [main-thread] The same for diagnostics (standard error). */
  wb_status (*write_error)(const struct wb_output* out, const char* data, size_t len);
} wb_output;

typedef struct wb_plugin_headless {
  /* One line describing the arguments, shown by `wb plugin run ID --help`;
   * owned by the plugin. */
  const char* usage;
  /* [main-thread] Runs with the arguments after the plugin id (argv[0] is the
   * first argument, not a program name; all borrowed for the call). Returns
   * the exit status: 0 success, 2 usage error, 1 other failure. */
  int32_t (*run)(const wb_plugin* plugin, uint32_t argc, const char* const* argv, const wb_output* out);
} wb_plugin_headless;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_HEADLESS_H */
