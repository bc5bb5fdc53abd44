/* Test plugins for the host: one source, one variant per build (TP_<NAME>).
 *   good            well behaved; its headless run probes host services with
 *                   wrong arguments and prints each status, so tests see the
 *                   host answer errors instead of crashing
 *   no_entry        exports no entry symbol
 *   abi_major       built for another ABI major
 *   abi_minor       built for a newer ABI minor
 *   init_fails      entry init logs an error and returns false
 *   bad_descriptor  descriptor id is not reverse-DNS
 *   misuse          calls host services wrongly during plugin init
 *   old_minor       built for ABI 0.1 (entry and descriptor): still loads
 *   ctor_mark       a library constructor writes the file named by
 *                   $WB_TEST_PLUGIN_MARK (proves whether any code ran)
 * Compiled as C11 with -pedantic: also a check that the SDK is plain C. */
#include <wb/plugin_all.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TP_ID
#error "TP_ID must name the plugin id"
#endif

typedef struct tp {
  wb_plugin plugin;
  const wb_host* host;
} tp;

#if defined(TP_CTOR_MARK)
__attribute__((constructor)) static void tp_mark(void) {
  const char* path = getenv("WB_TEST_PLUGIN_MARK");
  FILE* f = path ? fopen(path, "w") : NULL;
  if (f) {
    fputs("constructor ran\n", f);
    fclose(f);
  }
}
#endif

static void say(const wb_output* out, const char* name, long value) {
  char line[256];
  snprintf(line, sizeof line, "%s=%ld\n", name, value);
  out->write(out, line, strlen(line));
}

static void note_name(void* user, const char* name) {
  char* buf = (char*)user;
  if (strlen(buf) + strlen(name) + 2 < 512) {
    strcat(buf, name);
    strcat(buf, ",");
  }
}

/* Every call here is wrong on purpose, except the last few. */
static int32_t tp_run(const wb_plugin* plugin, uint32_t argc, const char* const* argv, const wb_output* out) {
  const tp* self = (const tp*)plugin->plugin_data;
  const wb_host* h = self->host;
  const wb_host_log* log = (const wb_host_log*)h->get_extension(h, WB_EXT_LOG);
  const wb_host_presets* presets = (const wb_host_presets*)h->get_extension(h, WB_EXT_PRESETS);
  const wb_host_ui* ui = (const wb_host_ui*)h->get_extension(h, WB_EXT_UI);
  wb_host fake;
  char buf[512];
  size_t len = 0;
  wb_ui_widget w;
  wb_ui_panel panel;
  (void)argc;
  (void)argv;
  memset(&fake, 0, sizeof fake);
  say(out, "has_log", log != NULL);
  say(out, "has_presets", presets != NULL);
  say(out, "has_ui", ui != NULL);
  say(out, "ext_null_id", h->get_extension(h, NULL) != NULL);
  say(out, "ext_unknown", h->get_extension(h, "wb.no-such-thing/9") != NULL);
  say(out, "ext_null_host", h->get_extension(NULL, WB_EXT_LOG) != NULL);
  if (!log || !presets || !ui) return 1;
  say(out, "log_null_host", log->log(NULL, WB_LOG_INFO, "x"));
  say(out, "log_fake_host", log->log(&fake, WB_LOG_INFO, "x"));
  say(out, "log_null_message", log->log(h, WB_LOG_INFO, NULL));
  say(out, "log_bad_level", log->log(h, 42, "x"));
  say(out, "preset_escape", presets->read(h, "..", "passwd", buf, sizeof buf, &len));
  say(out, "preset_slash", presets->read(h, "text-stats", "../../etc/passwd", buf, sizeof buf, &len));
  say(out, "preset_null_len", presets->read(h, "text-stats", "read-aloud.txt", buf, sizeof buf, NULL));
  say(out, "preset_missing", presets->read(h, "text-stats", "no-such-preset.txt", buf, sizeof buf, &len));
  say(out, "preset_small", presets->read(h, "text-stats", "read-aloud.txt", buf, 4, &len));
  say(out, "preset_list_null_fn", presets->list(h, "text-stats", NULL, NULL));
  say(out, "ui_null_panel", ui->set_panel(h, NULL));
  say(out, "ui_unknown_widget", ui->set_text(h, "nope", "nothing", "x"));
  memset(&w, 0, sizeof w);
  w.kind = 99;
  w.id = "w";
  panel.id = "p";
  panel.title = "P";
  panel.widgets = &w;
  panel.widget_count = 1;
  say(out, "ui_bad_kind", ui->set_panel(h, &panel));
  panel.widget_count = 1000000;
  say(out, "ui_too_many", ui->set_panel(h, &panel));
  /* Correct calls: the host still works after all of the above. */
  w.kind = WB_UI_LABEL;
  panel.widget_count = 1;
  say(out, "ui_ok", ui->set_panel(h, &panel));
  say(out, "ui_set_text_ok", ui->set_text(h, "p", "w", "still alive"));
  say(out, "log_ok", log->log(h, WB_LOG_INFO, "still alive"));
  len = 0;
  say(out, "preset_ok", presets->read(h, "text-stats", "read-aloud.txt", buf, sizeof buf, &len));
  say(out, "preset_len", (long)len);
  buf[0] = '\0';
  say(out, "preset_list_ok", presets->list(h, "text-stats", note_name, buf));
  out->write(out, "preset_names=", 13);
  out->write(out, buf, strlen(buf));
  out->write(out, "\n", 1);
  say(out, "preset_write_ok", presets->write(h, "text-stats", "mine.txt", "words_per_minute = 300\n", 23));
  say(out, "preset_write_escape", presets->write(h, "..", "x.txt", "y", 1));
  say(out, "output_null_data", out->write(out, NULL, 5));
  return 0;
}

static const wb_plugin_headless tp_headless = {"(probes host services)", tp_run};

static bool tp_init(const wb_plugin* plugin) {
#if defined(TP_MISUSE)
  const tp* self = (const tp*)plugin->plugin_data;
  const wb_host_log* log = (const wb_host_log*)self->host->get_extension(self->host, WB_EXT_LOG);
  if (log) log->log(self->host, WB_LOG_INFO, NULL);
#else
  (void)plugin;
#endif
  return true;
}

static void tp_destroy(const wb_plugin* plugin) { free(plugin->plugin_data); }

static const void* tp_get_extension(const wb_plugin* plugin, const char* id) {
  (void)plugin;
  return id && strcmp(id, WB_EXT_HEADLESS) == 0 ? &tp_headless : NULL;
}

static const char* const tp_features[] = {"test", NULL};
static const wb_plugin_descriptor tp_descriptor = {
#if defined(TP_OLD_MINOR)
                                                   {WB_ABI_VERSION_MAJOR, 1, 0},
#else
                                                   WB_ABI_VERSION_INIT,
#endif
#if defined(TP_BAD_DESCRIPTOR)
                                                   "Not A Reverse DNS Id",
#else
                                                   TP_ID,
#endif
                                                   "Test plugin", "wb tests", "1.0.0", "host test plugin", tp_features};

static uint32_t f_count(const wb_plugin_factory* f) {
  (void)f;
  return 1;
}

static const wb_plugin_descriptor* f_descriptor(const wb_plugin_factory* f, uint32_t i) {
  (void)f;
  return i == 0 ? &tp_descriptor : NULL;
}

static const wb_plugin* f_create(const wb_plugin_factory* f, const wb_host* host, const char* id) {
  tp* self;
  (void)f;
  if (!host || !id || strcmp(id, TP_ID) != 0) return NULL;
  self = (tp*)calloc(1, sizeof *self);
  if (!self) return NULL;
  self->host = host;
  self->plugin.desc = &tp_descriptor;
  self->plugin.plugin_data = self;
  self->plugin.init = tp_init;
  self->plugin.destroy = tp_destroy;
  self->plugin.get_extension = tp_get_extension;
  return &self->plugin;
}

static const wb_plugin_factory tp_factory = {f_count, f_descriptor, f_create};

static bool e_init(const wb_host* host, const char* path) {
  (void)path;
#if defined(TP_INIT_FAILS)
  {
    const wb_host_log* log = (const wb_host_log*)host->get_extension(host, WB_EXT_LOG);
    if (log) log->log(host, WB_LOG_ERROR, "needs a license file that is not there");
    return false;
  }
#else
  (void)host;
  return true;
#endif
}

static void e_deinit(void) {}

static const void* e_get_factory(const char* id) {
  return id && strcmp(id, WB_PLUGIN_FACTORY_ID) == 0 ? &tp_factory : NULL;
}

#if defined(TP_OLD_MINOR)
#define TP_ABI {WB_ABI_VERSION_MAJOR, 1, 0} /* built for ABI 0.1: must still load */
#elif defined(TP_ABI_MAJOR)
#define TP_ABI {WB_ABI_VERSION_MAJOR + 1, 0, 0}
#elif defined(TP_ABI_MINOR)
#define TP_ABI {WB_ABI_VERSION_MAJOR, WB_ABI_VERSION_MINOR + 1, 0}
#else
#define TP_ABI WB_ABI_VERSION_INIT
#endif

static const wb_plugin_entry tp_entry = {TP_ABI, e_init, e_deinit, e_get_factory};

#if defined(TP_NO_ENTRY)
/* Exported under the wrong name: the host must not find it. */
WB_EXTERN_C WB_EXPORT const wb_plugin_entry* wb_get_plugin_entry_typo(void) { return &tp_entry; }
#else
WB_EXTERN_C WB_EXPORT const wb_plugin_entry* wb_get_plugin_entry(void) { return &tp_entry; }
#endif
