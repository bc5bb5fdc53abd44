/* Convenience for the common case of a library that offers ONE plugin: the
 * factory, the entry struct and the exported wb_get_plugin_entry in one macro.
 * Source-level help only: it expands to the plain ABI of wb/plugin.h, so it
 * changes nothing a host sees.
 *
 *   typedef struct hello {
 *     wb_plugin plugin;     // required member names: `plugin` and `host`
 *     const wb_host* host;
 *     ...your state...
 *   } hello;
 *   static const wb_plugin_descriptor hello_descriptor = {WB_ABI_VERSION_INIT, "org.example.hello", ...};
 *   static bool hello_init(const wb_plugin* p) { ... }
 *   static void hello_destroy(const wb_plugin* p) { free(p->plugin_data); }
 *   static const void* hello_get_extension(const wb_plugin* p, const char* id) { ... }
 *   WB_SINGLE_PLUGIN(hello, hello_descriptor, hello_init, hello_destroy, hello_get_extension)
 *
 * The factory creates an instance with calloc, sets `host`, `plugin.desc`,
 * `plugin.plugin_data` (the instance itself) and the three functions; the
 * plugin's destroy frees it. entry.init/deinit do nothing (a library that
 * needs library-wide set-up writes the entry by hand, as in wb/plugin.h).
 * Use it once per library, at file scope, after the functions it names.
 */
#ifndef WB_SINGLE_PLUGIN_H
#define WB_SINGLE_PLUGIN_H

#include <stdlib.h>
#include <string.h>

#include "plugin.h"

#define WB_SINGLE_PLUGIN(TYPE, DESCRIPTOR, INIT, DESTROY, GET_EXTENSION)                                   \
  static uint32_t wb_single_count(const wb_plugin_factory* f) {                                            \
    (void)f;                                                                                               \
    return 1;                                                                                              \
  }                                                                                                        \
  static const wb_plugin_descriptor* wb_single_descriptor(const wb_plugin_factory* f, uint32_t i) {        \
    (void)f;                                                                                               \
    return i == 0 ? &(DESCRIPTOR) : NULL;                                                                  \
  }                                                                                                        \
  static const wb_plugin* wb_single_create(const wb_plugin_factory* f, const wb_host* host, const char* id) { \
    TYPE* self;                                                                                            \
    (void)f;                                                                                               \
    if (!host || !id || strcmp(id, (DESCRIPTOR).id) != 0) return NULL;                                     \
    self = (TYPE*)calloc(1, sizeof *self);                                                                 \
    if (!self) return NULL;                                                                                \
    self->host = host;                                                                                     \
    self->plugin.desc = &(DESCRIPTOR);                                                                     \
    self->plugin.plugin_data = self;                                                                       \
    self->plugin.init = INIT;                                                                              \
    self->plugin.destroy = DESTROY;                                                                        \
    self->plugin.get_extension = GET_EXTENSION;                                                            \
    return &self->plugin;                                                                                  \
  }                                                                                                        \
  static const wb_plugin_factory wb_single_factory = {wb_single_count, wb_single_descriptor,               \
                                                      wb_single_create};                                   \
  static bool wb_single_entry_init(const wb_host* host, const char* path) {                                \
    (void)host;                                                                                            \
    (void)path;                                                                                            \
    return true;                                                                                           \
  }                                                                                                        \
  static void wb_single_entry_deinit(void) {}                                                              \
  static const void* wb_single_get_factory(const char* id) {                                               \
    return id && strcmp(id, WB_PLUGIN_FACTORY_ID) == 0 ? &wb_single_factory : NULL;                        \
  }                                                                                                        \
  static const wb_plugin_entry wb_single_entry = {WB_ABI_VERSION_INIT, wb_single_entry_init,               \
                                                  wb_single_entry_deinit, wb_single_get_factory};          \
  WB_EXTERN_C WB_EXPORT const wb_plugin_entry* wb_get_plugin_entry(void) { return &wb_single_entry; }

#endif /* WB_SINGLE_PLUGIN_H */
