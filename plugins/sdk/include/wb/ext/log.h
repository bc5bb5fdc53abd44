/* Host extension "wb.log/1": write to the application's log (the GUI's log
 * view, the CLI's stderr, a test's capture). Messages are tagged with the
 * plugin's id by the host.
 *
 *   const wb_host_log* log = (const wb_host_log*)host->get_extension(host, WB_EXT_LOG);
 *   if (log) log->log(host, WB_LOG_INFO, "loaded 3 entries");
 */
#ifndef WB_EXT_LOG_H
#define WB_EXT_LOG_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_LOG "wb.log/1"

typedef enum wb_log_level {
  WB_LOG_DEBUG = 0,
  WB_LOG_INFO = 1,
  WB_LOG_WARN = 2,
  WB_LOG_ERROR = 3
} wb_log_level;

typedef struct wb_host_log {
  /* [any-thread] Logs one message (UTF-8, borrowed for the call; longer than
   * WB_MAX_TEXT_LENGTH is cut). Returns WB_ERR_INVALID_ARGUMENT for a NULL
   * host or message or an unknown level. */
  wb_status (*log)(const wb_host* host, int32_t level, const char* message);
} wb_host_log;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_LOG_H */
