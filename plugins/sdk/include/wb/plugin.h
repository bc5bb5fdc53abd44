/* The workbench plugin ABI: C11 and C++20, only C types cross it.
 *
 * Usage (a whole plugin, see plugins/template/ for one that builds):
 *
 *   #include <wb/plugin.h>
 *
 *   static const char* const features[] = {"text", NULL};
 *   static const wb_plugin_descriptor desc = {
 *       WB_ABI_VERSION_INIT, "org.example.hello", "Hello", "Example", "1.0.0",
 *       "Says hello", features};
 *
 *   static const wb_plugin* create(const wb_plugin_factory* f, const wb_host* host,
 *                                  const char* id) { ... fill a wb_plugin ... }
 *   static uint32_t count(const wb_plugin_factory* f) { return 1; }
 *   static const wb_plugin_descriptor* get(const wb_plugin_factory* f, uint32_t i) { return &desc; }
 *   static const wb_plugin_factory factory = {count, get, create};
 *   static bool init(const wb_host* host, const char* path) { return true; }
 *   static void deinit(void) {}
 *   static const void* get_factory(const char* id) {
 *     return strcmp(id, WB_PLUGIN_FACTORY_ID) == 0 ? &factory : NULL;
 *   }
 *   static const wb_plugin_entry entry = {WB_ABI_VERSION_INIT, init, deinit, get_factory};
 *   WB_EXPORT const wb_plugin_entry* wb_get_plugin_entry(void) { return &entry; }
 *
 * Shape (after CLAP): the library exports one function, wb_get_plugin_entry,
 * returning a constant entry struct carrying the ABI version it was built
 * against. The entry gives factories; the plugin factory lists descriptors and
 * creates plugin instances. The host hands each instance its own wb_host
 * table; everything beyond the core (logging, presets, UI, tokenizer, state
 * tree, generation, MIDI) is an extension found by a string id with a revision,
 * "wb.<name>/<rev>", so the ABI grows without breaking old plugins: a host that
 * lacks an extension returns NULL and the plugin degrades or refuses to start.
 *
 * Version rule: a host loads a plugin built with the same major and a minor no
 * newer than its own (a plugin may rely on every struct field of its minor).
 *
 * Thread rules, stated on every function:
 *   [main-thread]  only on the thread that loaded the plugin (the GUI/CLI thread);
 *   [any-thread]   from any thread, also concurrently;
 *   [worker]       on a host worker thread, never the main thread.
 * The host checks the rules it can (a [main-thread] host service called from
 * another thread returns WB_ERR_WRONG_THREAD); a plugin must honour them too.
 *
 * Memory rules, stated on every function: strings and arrays passed INTO a
 * call are borrowed for the duration of the call only; the callee copies what
 * it keeps. Data the host returns is written into caller-owned buffers, or is
 * valid only inside the callback it is passed to. Structs a plugin hands out
 * (entry, factory, descriptors, wb_plugin, extension tables) belong to the
 * plugin and must stay valid until wb_plugin.destroy / entry.deinit.
 * No C++ exception may leave a plugin function.
 *
 * Extension headers: wb/ext/log.h, wb/ext/presets.h, wb/ext/ui.h,
 * wb/ext/headless.h, wb/ext/tokenizer.h, wb/ext/tree.h, wb/ext/generate.h,
 * wb/ext/midi.h, wb/ext/cards.h, wb/ext/score.h, wb/ext/transcript.h (0.2);
 * wb/plugin_all.h includes them all.
 * History: CHANGELOG.md next to this folder.
 */
#ifndef WB_PLUGIN_H
#define WB_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_ABI_VERSION_MAJOR 0
#define WB_ABI_VERSION_MINOR 2
#define WB_ABI_VERSION_PATCH 0
/* Initialiser for a wb_version field holding the ABI this code is built against. */
#define WB_ABI_VERSION_INIT {WB_ABI_VERSION_MAJOR, WB_ABI_VERSION_MINOR, WB_ABI_VERSION_PATCH}

/* The one exported symbol of a plugin library. */
#define WB_PLUGIN_ENTRY_SYMBOL "wb_get_plugin_entry"

#if defined(_WIN32)
#define WB_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define WB_EXPORT __attribute__((visibility("default")))
#else
#define WB_EXPORT
#endif

#ifdef __cplusplus
#define WB_EXTERN_C extern "C"
extern "C" {
#else
#define WB_EXTERN_C
#endif

typedef struct wb_version {
  uint32_t major;
  uint32_t minor;
  uint32_t patch;
} wb_version;

/* Status codes of host services and plugin calls. Zero is success; every
 * failure is negative so that "< 0" tests for any error. */
typedef int32_t wb_status;
enum {
  WB_OK = 0,
  WB_ERR_INVALID_ARGUMENT = -1, /* null pointer, malformed string, value out of range */
  WB_ERR_NOT_FOUND = -2,        /* unknown id: preset, panel, widget, node, ... */
  WB_ERR_BUFFER_TOO_SMALL = -3, /* the *out_len result says how much is needed */
  WB_ERR_WRONG_THREAD = -4,     /* a [main-thread] call from another thread */
  WB_ERR_UNSUPPORTED = -5,      /* the host cannot do this (yet) */
  WB_ERR_IO = -6,               /* a file could not be read or written */
  WB_ERR_CANCELLED = -7,
  WB_ERR_INTERNAL = -8
};

/* Upper bounds the host enforces on what plugins hand it (longer strings or
 * more entries are refused as malformed, never read past). */
#define WB_MAX_ID_LENGTH 128
#define WB_MAX_TEXT_LENGTH 4096
#define WB_MAX_FEATURES 32
#define WB_MAX_PLUGINS_PER_LIBRARY 64

typedef struct wb_host wb_host;
typedef struct wb_plugin wb_plugin;
typedef struct wb_plugin_factory wb_plugin_factory;

/* ---- host table ------------------------------------------------------ */

/* Given by the host to entry.init and to each plugin instance it creates
 * (one table per instance, so the host knows who is calling). Owned by the
 * host; valid until deinit / destroy of what it was given to. */
struct wb_host {
  wb_version abi_version; /* the ABI the host implements */
  void* host_data;        /* reserved for the host; plugins must not touch it */
  const char* name;       /* "RWKV Workbench" */
  const char* vendor;
  const char* version;    /* the application's version, e.g. "0.1.0" */

  /* [any-thread] Returns the host extension table for `id` ("wb.log/1", ...),
   * or NULL when the host does not offer it (or id/host is NULL). The table
   * belongs to the host and stays valid as long as this wb_host. */
  const void* (*get_extension)(const wb_host* host, const char* id);

  /* [any-thread] The message of the last failed host-service call made with
   * this host table from the calling thread, or "" when none failed. Valid
   * until the next host-service call on this thread. Never NULL. */
  const char* (*last_error)(const wb_host* host);
};

/* ---- plugin descriptor and instance ---------------------------------- */

/* Describes one plugin. Owned by the plugin library; valid until deinit. */
typedef struct wb_plugin_descriptor {
  wb_version abi_version;  /* WB_ABI_VERSION_INIT */
  const char* id;          /* reverse-DNS, [a-z0-9.-_], e.g. "org.rwkv.workbench.novel"; required */
  const char* name;        /* shown to users; required, non-empty */
  const char* vendor;      /* may be "" */
  const char* version;     /* the plugin's own version, e.g. "1.2.0"; required */
  const char* description; /* one sentence; may be "" */
  /* NULL-terminated list of feature tags ("text", "midi", "headless", "ui",
   * ...); may be NULL for none. At most WB_MAX_FEATURES entries. */
  const char* const* features;
} wb_plugin_descriptor;

/* One plugin instance, created by the factory. Owned by the plugin; valid
 * until its destroy returns. */
struct wb_plugin {
  const wb_plugin_descriptor* desc;
  void* plugin_data; /* reserved for the plugin */

  /* [main-thread] Called once after creation, before anything else. May call
   * host services. Returns false to refuse to start (the host then calls
   * destroy and reports the plugin as refused). */
  bool (*init)(const wb_plugin* plugin);

  /* [main-thread] Frees the instance. Called once, also after a failed init. */
  void (*destroy)(const wb_plugin* plugin);

  /* [main-thread] Returns the plugin's table for extension `id`
   * ("wb.headless/1", "wb.ui/1", ...) or NULL. The table belongs to the
   * plugin and stays valid until destroy. */
  const void* (*get_extension)(const wb_plugin* plugin, const char* id);
};

/* ---- factory ---------------------------------------------------------- */

#define WB_PLUGIN_FACTORY_ID "wb.plugin-factory/1"

/* Owned by the plugin library; valid until deinit. */
struct wb_plugin_factory {
  /* [main-thread] How many plugins this library offers (at most WB_MAX_PLUGINS_PER_LIBRARY). */
  uint32_t (*get_plugin_count)(const wb_plugin_factory* factory);

  /* [main-thread] The descriptor at `index` (< count), or NULL. */
  const wb_plugin_descriptor* (*get_plugin_descriptor)(const wb_plugin_factory* factory, uint32_t index);

  /* [main-thread] Creates an instance of plugin `plugin_id` bound to `host`
   * (borrowed by the plugin until destroy), or returns NULL. The instance is
   * not yet initialised: the host calls plugin->init next. */
  const wb_plugin* (*create_plugin)(const wb_plugin_factory* factory, const wb_host* host,
                                    const char* plugin_id);
};

/* ---- entry ------------------------------------------------------------ */

typedef struct wb_plugin_entry {
  wb_version abi_version; /* WB_ABI_VERSION_INIT: checked before anything is called */

  /* [main-thread] Called once after the library is loaded, before any other
   * function. `host` is a library-wide host table (logging works; instance
   * services such as UI do not); `plugin_path` is the library's file path.
   * Both borrowed for the call. Returns false to refuse loading (log why). */
  bool (*init)(const wb_host* host, const char* plugin_path);

  /* [main-thread] Called once before the library is unloaded, after every
   * instance was destroyed; only when init succeeded. */
  void (*deinit)(void);

  /* [main-thread] Returns the factory for `factory_id` (WB_PLUGIN_FACTORY_ID)
   * or NULL. Owned by the library. */
  const void* (*get_factory)(const char* factory_id);
} wb_plugin_entry;

/* The exported function; its name is WB_PLUGIN_ENTRY_SYMBOL. [main-thread]
 * May be called before init and more than once; must return the same
 * constant struct and run no other code. */
typedef const wb_plugin_entry* (*wb_get_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* WB_PLUGIN_H */
