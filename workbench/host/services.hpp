// The host side of the plugin ABI: the wb_host table each plugin instance
// gets, and the host extensions behind it ("wb.log/1", "wb.presets/1",
// "wb.ui/1"). Every entry point checks its arguments: a NULL pointer, an
// unknown id or a call from the wrong thread returns an error status, is
// logged with the plugin's id and counted against the plugin; nothing a
// plugin passes can crash the host short of a wild pointer.
//
//   wb::host::HostServices services{log, preset_dirs, user_presets};
//   auto ctx = wb::host::make_host_context(services, "org.x.plugin", true);
//   const wb_host* host = &ctx->table;          // hand to create_plugin
//   { wb::host::CallScope scope(ctx.get()); plugin->init(plugin); }
//   if (ctx->misuse_count) ... // ctx->first_misuse says what went wrong
//
// Later services (tree, generation, tokenizer, MIDI) plug in through
// HostServices::extension_provider without touching this file's tables.
#pragma once
#include <wb/plugin_all.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/util/log.hpp"
#include "host/ui_store.hpp"

namespace wb::host {

struct HostContext;
struct StoryBinding;  // host/story_service.hpp
struct MidiBinding;   // host/midi_service.hpp

struct HostServices {
  HostServices(Log& l, std::vector<std::filesystem::path> shipped_presets, std::filesystem::path user_presets);
  ~HostServices();
  HostServices(const HostServices&) = delete;
  HostServices& operator=(const HostServices&) = delete;

  Log& log;
  // Shipped preset folders, lowest priority first; the user folder wins over all.
  std::vector<std::filesystem::path> preset_dirs;
  std::filesystem::path user_preset_dir;
  UiStore ui;
  std::thread::id main_thread = std::this_thread::get_id();
  // The story that "wb.tree/1", "wb.generate/1" and "wb.tokenizer/1" work on.
  std::unique_ptr<StoryBinding> story;
  // Playback of "wb.midi/1" (made on first use).
  std::unique_ptr<MidiBinding> midi;
  // Extra host extensions (e.g. "wb.tree/1" once a project is open): returns
  // the table for `id` or nullptr. Tables must outlive every plugin.
  std::function<const void*(std::string_view id, const HostContext& caller)> extension_provider;
};

// One wb_host table plus what the host knows about its holder.
struct HostContext {
  static constexpr uint64_t kMagic = 0x77622d686f737431ull;  // "wb-host1"
  uint64_t magic = kMagic;
  wb_host table{};
  HostServices* services = nullptr;
  std::string plugin_id;  // tags log lines and owns UI panels
  bool instance = false;  // false: the library-wide table given to entry.init (no UI)
  uint32_t misuse_count = 0;
  std::string first_misuse;
  std::string last_logged_error;  // the plugin's last error-level log line (explains failed inits)
};

std::unique_ptr<HostContext> make_host_context(HostServices& services, std::string plugin_id, bool instance);

// While alive, marks `ctx` as the plugin this thread is calling into, so a
// service called with a NULL host is still attributed, logged and counted.
class CallScope {
 public:
  explicit CallScope(HostContext* ctx);
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  HostContext* prev_;
};

// Output of one headless run; `sink(is_error, bytes)` receives what the plugin writes.
struct OutputContext {
  static constexpr uint64_t kMagic = 0x77622d6f75747031ull;
  uint64_t magic = kMagic;
  wb_output table{};
  HostContext* caller = nullptr;
  std::function<void(bool is_error, std::string_view bytes)> sink;
};
void init_output(OutputContext& out, HostContext* caller, std::function<void(bool, std::string_view)> sink);

// Shared by the files that implement host extensions.
namespace detail {
HostContext* resolve(const wb_host* host, const char* fn);  // nullptr (and recorded) when not ours
wb_status misuse(HostContext* ctx, const char* fn, wb_status code, const std::string& what);
wb_status soft_fail(const char* fn, wb_status code, const std::string& what);
wb_status ok();
bool on_main_thread(const HostContext* ctx);
bool bounded(const char* s, std::size_t limit, std::string& out);  // false for NULL or longer than limit
// NUL-terminated copy into a caller's buffer (the ui.get_text protocol).
wb_status copy_text_out(HostContext* ctx, const char* fn, const std::string& text, char* buf, size_t capacity,
                        size_t* out_len);
}  // namespace detail

}  // namespace wb::host
