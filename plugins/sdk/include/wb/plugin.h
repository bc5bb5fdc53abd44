/* The workbench plugin ABI (C11 and C++, no C++ types cross it).
 *
 * Status: skeleton. Only the ABI version is defined so far; the entry struct,
 * factories, host and plugin tables and extensions arrive with issue 7 and are
 * logged in CHANGELOG.md beside this folder.
 */
#ifndef WB_PLUGIN_H
#define WB_PLUGIN_H

#include <stdint.h>

#define WB_ABI_VERSION_MAJOR 0
#define WB_ABI_VERSION_MINOR 1
#define WB_ABI_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_version {
  uint32_t major;
  uint32_t minor;
  uint32_t patch;
} wb_version;

#ifdef __cplusplus
}
#endif

#endif /* WB_PLUGIN_H */
