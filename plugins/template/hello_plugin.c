/* The smallest useful workbench plugin: one plugin, a headless entry.
 *
 *   wb plugin run org.example.hello World   ->  "Hello, World! (1 argument)"
 *
 * Everything here is C and goes through <wb/plugin_all.h> only. */
#include <wb/plugin_all.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_ID "org.example.hello"

typedef struct hello {
  wb_plugin plugin; /* first, so the host's pointer is also ours */
  const wb_host* host;
  const wb_host_log* log;
} hello;

static int32_t hello_run(const wb_plugin* plugin, uint32_t argc, const char* const* argv, const wb_output* out) {
  const hello* self = (const hello*)plugin->plugin_data;
  char line[512];
  int n = snprintf(line, sizeof line, "Hello, %s! (%u argument%s)\n", argc > 0 ? argv[0] : "workbench", (unsigned)argc,
                   argc == 1 ? "" : "s");
  if (n < 0) return 1;
  if (self->log) self->log->log(self->host, WB_LOG_INFO, "said hello");
  return out->write(out, line, strlen(line)) == WB_OK ? 0 : 1;
}

static const wb_plugin_headless hello_headless = {"[NAME]", hello_run};

static bool hello_init(const wb_plugin* plugin) {
  hello* self = (hello*)plugin->plugin_data;
  /* Extensions are optional: a host without logging still runs us. */
  self->log = (const wb_host_log*)self->host->get_extension(self->host, WB_EXT_LOG);
  return true;
}

static void hello_destroy(const wb_plugin* plugin) { free(plugin->plugin_data); }

static const void* hello_get_extension(const wb_plugin* plugin, const char* id) {
  (void)plugin;
  return id && strcmp(id, WB_EXT_HEADLESS) == 0 ? &hello_headless : NULL;
}

static const char* const hello_features[] = {"headless", NULL};
static const wb_plugin_descriptor hello_descriptor = {
    WB_ABI_VERSION_INIT, HELLO_ID, "Hello", "Example vendor", "1.0.0",
    "Template plugin: greets and counts its arguments", hello_features};

WB_SINGLE_PLUGIN(hello, hello_descriptor, hello_init, hello_destroy, hello_get_extension)
