#include "host/services.hpp"

#include "host/midi_service.hpp"
#include "host/dialogue_services.hpp"
#include "host/story_service.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

namespace wb::host {
namespace {

thread_local HostContext* t_current = nullptr;  // the plugin this thread is calling into
thread_local std::string t_last_error;

constexpr std::size_t kMaxPresetBytes = 16u << 20;


}  // namespace

namespace detail {

// Resolves a host pointer to its context, or nullptr when it is not one of ours.
HostContext* context_of(const wb_host* host) {
  if (!host || !host->host_data) return nullptr;
  auto* ctx = static_cast<HostContext*>(host->host_data);
  if (ctx->magic != HostContext::kMagic || &ctx->table != host) return nullptr;
  return ctx;
}

// A plugin called a service wrongly: error status, logged, counted.
wb_status misuse(HostContext* ctx, const char* fn, wb_status code, const std::string& what) {
  t_last_error = fmt::format("{}: {}", fn, what);
  if (!ctx) ctx = t_current;
  if (!ctx) return code;  // no way to know who called; the status says it all
  ++ctx->misuse_count;
  if (ctx->first_misuse.empty()) ctx->first_misuse = t_last_error;
  ctx->services->log.warn("plugin {}: host service misuse: {}", ctx->plugin_id, t_last_error);
  return code;
}

// An ordinary failure (a preset that does not exist, a small buffer): no blame.
wb_status soft_fail(const char* fn, wb_status code, const std::string& what) {
  t_last_error = fmt::format("{}: {}", fn, what);
  return code;
}

wb_status ok() {
  t_last_error.clear();
  return WB_OK;
}

// Resolves the host or records the misuse; returns nullptr on failure.
HostContext* resolve(const wb_host* host, const char* fn) {
  HostContext* ctx = context_of(host);
  if (!ctx) misuse(nullptr, fn, WB_ERR_INVALID_ARGUMENT, host ? "host is not a table this host gave out" : "host is NULL");
  return ctx;
}

bool on_main_thread(const HostContext* ctx) { return std::this_thread::get_id() == ctx->services->main_thread; }

// A bounded copy of a plugin string: nullopt-like empty + false when NULL or too long.
bool bounded(const char* s, std::size_t limit, std::string& out) {
  if (!s) return false;
  std::size_t n = strnlen(s, limit + 1);
  if (n > limit) return false;
  out.assign(s, n);
  return true;
}

bool valid_component(const std::string& s) {
  if (s.empty() || s.size() > WB_MAX_ID_LENGTH || s[0] == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
  });
}

wb_status copy_text_out(HostContext* ctx, const char* fn, const std::string& text, char* buf, size_t capacity,
                        size_t* out_len) {
  if (!out_len) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "out_len is NULL");
  if (!buf && capacity > 0) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "buf is NULL with capacity > 0");
  *out_len = text.size();
  if (text.size() + 1 > capacity) return soft_fail(fn, WB_ERR_BUFFER_TOO_SMALL, fmt::format("needs {} bytes", text.size() + 1));
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return ok();
}

}  // namespace detail

namespace {
using namespace detail;

// ---- wb_host core --------------------------------------------------------

const void* host_get_extension(const wb_host* host, const char* id);

const char* host_last_error(const wb_host*) { return t_last_error.c_str(); }

// ---- wb.log/1 ------------------------------------------------------------

wb_status log_log(const wb_host* host, int32_t level, const char* message) {
  HostContext* ctx = resolve(host, "log");
  if (!ctx) return WB_ERR_INVALID_ARGUMENT;
  if (!message) return misuse(ctx, "log", WB_ERR_INVALID_ARGUMENT, "message is NULL");
  if (level < WB_LOG_DEBUG || level > WB_LOG_ERROR)
    return misuse(ctx, "log", WB_ERR_INVALID_ARGUMENT, fmt::format("unknown level {}", level));
  std::size_t n = strnlen(message, WB_MAX_TEXT_LENGTH);
  std::string_view text(message, n);
  auto lvl = static_cast<LogLevel>(level);
  if (lvl == LogLevel::error) ctx->last_logged_error.assign(text);
  ctx->services->log.write(lvl, fmt::format("[{}] {}", ctx->plugin_id, text));
  return ok();
}

const wb_host_log kLog = {log_log};

// ---- wb.presets/1 ----------------------------------------------------------

// Checks category/name; returns 0 or an error status (already recorded).
wb_status preset_args(HostContext* ctx, const char* fn, const char* category, const char* name, std::string& cat,
                      std::string* nm) {
  if (!bounded(category, WB_MAX_ID_LENGTH, cat) || !valid_component(cat))
    return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT,
                  category ? fmt::format("category '{}' is not a single name [A-Za-z0-9._-]", cat) : "category is NULL");
  if (nm && (!bounded(name, WB_MAX_ID_LENGTH, *nm) || !valid_component(*nm)))
    return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT,
                  name ? fmt::format("preset name '{}' is not a single name [A-Za-z0-9._-]", *nm) : "name is NULL");
  return WB_OK;
}

// Preset folders, highest priority first.
std::vector<std::filesystem::path> preset_search(const HostServices& s) {
  std::vector<std::filesystem::path> dirs;
  if (!s.user_preset_dir.empty()) dirs.push_back(s.user_preset_dir);
  for (auto it = s.preset_dirs.rbegin(); it != s.preset_dirs.rend(); ++it) dirs.push_back(*it);
  return dirs;
}

wb_status presets_list(const wb_host* host, const char* category, wb_preset_name_fn fn, void* user) {
  HostContext* ctx = resolve(host, "presets.list");
  if (!ctx) return WB_ERR_INVALID_ARGUMENT;
  std::string cat;
  if (wb_status st = preset_args(ctx, "presets.list", category, nullptr, cat, nullptr); st != WB_OK) return st;
  if (!fn) return misuse(ctx, "presets.list", WB_ERR_INVALID_ARGUMENT, "callback is NULL");
  std::set<std::string> names;
  for (const auto& dir : preset_search(*ctx->services)) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir / cat, ec), end; !ec && it != end; it.increment(ec)) {
      std::string n = it->path().filename().string();
      if (it->is_regular_file(ec) && valid_component(n)) names.insert(n);
    }
  }
  if (names.empty()) return soft_fail("presets.list", WB_ERR_NOT_FOUND, fmt::format("no presets in category '{}'", cat));
  for (const auto& n : names) fn(user, n.c_str());
  return ok();
}

wb_status presets_read(const wb_host* host, const char* category, const char* name, char* buf, size_t capacity,
                       size_t* out_len) {
  HostContext* ctx = resolve(host, "presets.read");
  if (!ctx) return WB_ERR_INVALID_ARGUMENT;
  std::string cat, nm;
  if (wb_status st = preset_args(ctx, "presets.read", category, name, cat, &nm); st != WB_OK) return st;
  if (!out_len) return misuse(ctx, "presets.read", WB_ERR_INVALID_ARGUMENT, "out_len is NULL");
  if (!buf && capacity > 0) return misuse(ctx, "presets.read", WB_ERR_INVALID_ARGUMENT, "buf is NULL with capacity > 0");
  for (const auto& dir : preset_search(*ctx->services)) {
    auto p = dir / cat / nm;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) continue;
    auto size = std::filesystem::file_size(p, ec);
    if (ec) return soft_fail("presets.read", WB_ERR_IO, fmt::format("{}: {}", p.string(), ec.message()));
    if (size > kMaxPresetBytes)
      return soft_fail("presets.read", WB_ERR_IO, fmt::format("{}: {} bytes, more than the {} accepted", p.string(), size, kMaxPresetBytes));
    *out_len = size;
    if (size > capacity) return soft_fail("presets.read", WB_ERR_BUFFER_TOO_SMALL, fmt::format("needs {} bytes", size));
    std::ifstream f(p, std::ios::binary);
    if (!f.read(buf, static_cast<std::streamsize>(size)))
      return soft_fail("presets.read", WB_ERR_IO, fmt::format("{}: read failed", p.string()));
    return ok();
  }
  *out_len = 0;
  return soft_fail("presets.read", WB_ERR_NOT_FOUND, fmt::format("no preset '{}/{}'", cat, nm));
}

wb_status presets_write(const wb_host* host, const char* category, const char* name, const char* data, size_t len) {
  HostContext* ctx = resolve(host, "presets.write");
  if (!ctx) return WB_ERR_INVALID_ARGUMENT;
  if (!on_main_thread(ctx)) return misuse(ctx, "presets.write", WB_ERR_WRONG_THREAD, "called off the main thread");
  std::string cat, nm;
  if (wb_status st = preset_args(ctx, "presets.write", category, name, cat, &nm); st != WB_OK) return st;
  if (!data && len > 0) return misuse(ctx, "presets.write", WB_ERR_INVALID_ARGUMENT, "data is NULL with len > 0");
  if (len > kMaxPresetBytes)
    return misuse(ctx, "presets.write", WB_ERR_INVALID_ARGUMENT, fmt::format("{} bytes, more than {}", len, kMaxPresetBytes));
  if (ctx->services->user_preset_dir.empty())
    return soft_fail("presets.write", WB_ERR_UNSUPPORTED, "no user preset folder");
  auto dir = ctx->services->user_preset_dir / cat;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return soft_fail("presets.write", WB_ERR_IO, fmt::format("{}: {}", dir.string(), ec.message()));
  auto tmp = dir / (nm + ".tmp-write");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(data, static_cast<std::streamsize>(len)) || !f.flush())
      return soft_fail("presets.write", WB_ERR_IO, fmt::format("{}: write failed", tmp.string()));
  }
  std::filesystem::rename(tmp, dir / nm, ec);
  if (ec) return soft_fail("presets.write", WB_ERR_IO, fmt::format("{}: {}", (dir / nm).string(), ec.message()));
  return ok();
}

const wb_host_presets kPresets = {presets_list, presets_read, presets_write};

// ---- wb.ui/1 ---------------------------------------------------------------

// Common checks of UI calls: a valid instance host on the main thread.
HostContext* ui_caller(const wb_host* host, const char* fn, wb_status& st) {
  HostContext* ctx = resolve(host, fn);
  st = WB_ERR_INVALID_ARGUMENT;
  if (!ctx) return nullptr;
  if (!ctx->instance) {
    misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "the library-wide host has no UI; use the instance's host");
    return nullptr;
  }
  if (!on_main_thread(ctx)) {
    st = misuse(ctx, fn, WB_ERR_WRONG_THREAD, "called off the main thread");
    return nullptr;
  }
  st = WB_OK;
  return ctx;
}

// Finds a widget named by a plugin; records the misuse when it is not there.
UiWidget* ui_widget(HostContext* ctx, const char* fn, const char* panel_id, const char* widget_id, wb_status& st) {
  std::string p, w;
  st = WB_ERR_INVALID_ARGUMENT;
  if (!bounded(panel_id, WB_MAX_ID_LENGTH, p)) {
    misuse(ctx, fn, st, "panel id is NULL or too long");
    return nullptr;
  }
  if (!bounded(widget_id, WB_MAX_ID_LENGTH, w)) {
    misuse(ctx, fn, st, "widget id is NULL or too long");
    return nullptr;
  }
  auto r = ctx->services->ui.widget(ctx->plugin_id, p, w);
  if (!r) {
    st = misuse(ctx, fn, WB_ERR_NOT_FOUND, r.error().message);
    return nullptr;
  }
  st = WB_OK;
  return *r;
}

wb_status ui_set_panel(const wb_host* host, const wb_ui_panel* panel) {
  wb_status st;
  HostContext* ctx = ui_caller(host, "ui.set_panel", st);
  if (!ctx) return st;
  auto copy = copy_panel(panel);
  if (!copy) return misuse(ctx, "ui.set_panel", WB_ERR_INVALID_ARGUMENT, copy.error().message);
  (void)ctx->services->ui.set_panel(ctx->plugin_id, std::move(*copy));
  return ok();
}

wb_status ui_remove_panel(const wb_host* host, const char* panel_id) {
  wb_status st;
  HostContext* ctx = ui_caller(host, "ui.remove_panel", st);
  if (!ctx) return st;
  std::string p;
  if (!bounded(panel_id, WB_MAX_ID_LENGTH, p))
    return misuse(ctx, "ui.remove_panel", WB_ERR_INVALID_ARGUMENT, "panel id is NULL or too long");
  auto r = ctx->services->ui.remove_panel(ctx->plugin_id, p);
  if (!r) return misuse(ctx, "ui.remove_panel", WB_ERR_NOT_FOUND, r.error().message);
  return ok();
}

wb_status ui_set_canvas(const wb_host* host, const char* panel_id, const char* canvas_id, const wb_ui_draw_cmd* cmds,
                        uint32_t count) {
  wb_status st;
  HostContext* ctx = ui_caller(host, "ui.set_canvas", st);
  if (!ctx) return st;
  UiWidget* w = ui_widget(ctx, "ui.set_canvas", panel_id, canvas_id, st);
  if (!w) return st;
  if (w->kind != WB_UI_CANVAS)
    return misuse(ctx, "ui.set_canvas", WB_ERR_INVALID_ARGUMENT, fmt::format("widget '{}' is not a canvas", w->id));
  auto list = copy_draw_list(cmds, count);
  if (!list) return misuse(ctx, "ui.set_canvas", WB_ERR_INVALID_ARGUMENT, list.error().message);
  w->draw = std::move(*list);
  return ok();
}

wb_status ui_set_text(const wb_host* host, const char* panel_id, const char* widget_id, const char* text) {
  wb_status st;
  HostContext* ctx = ui_caller(host, "ui.set_text", st);
  if (!ctx) return st;
  UiWidget* w = ui_widget(ctx, "ui.set_text", panel_id, widget_id, st);
  if (!w) return st;
  std::string t;
  if (!bounded(text, 1u << 20, t)) return misuse(ctx, "ui.set_text", WB_ERR_INVALID_ARGUMENT, "text is NULL or over 1 MiB");
  w->text = std::move(t);
  return ok();
}

wb_status ui_set_number(const wb_host* host, const char* panel_id, const char* widget_id, double value) {
  wb_status st;
  HostContext* ctx = ui_caller(host, "ui.set_number", st);
  if (!ctx) return st;
  UiWidget* w = ui_widget(ctx, "ui.set_number", panel_id, widget_id, st);
  if (!w) return st;
  if (!std::isfinite(value)) return misuse(ctx, "ui.set_number", WB_ERR_INVALID_ARGUMENT, "value is not finite");
  if (w->kind == WB_UI_SLIDER) value = std::clamp(value, w->min, w->max);
  w->value = value;
  return ok();
}

wb_status ui_get_text(const wb_host* host, const char* panel_id, const char* widget_id, char* buf, size_t capacity,
                      size_t* out_len) {
  wb_status st;
  HostContext* ctx = ui_caller(host, "ui.get_text", st);
  if (!ctx) return st;
  if (!out_len) return misuse(ctx, "ui.get_text", WB_ERR_INVALID_ARGUMENT, "out_len is NULL");
  if (!buf && capacity > 0) return misuse(ctx, "ui.get_text", WB_ERR_INVALID_ARGUMENT, "buf is NULL with capacity > 0");
  UiWidget* w = ui_widget(ctx, "ui.get_text", panel_id, widget_id, st);
  if (!w) return st;
  *out_len = w->text.size();
  if (w->text.size() + 1 > capacity)
    return soft_fail("ui.get_text", WB_ERR_BUFFER_TOO_SMALL, fmt::format("needs {} bytes", w->text.size() + 1));
  std::memcpy(buf, w->text.data(), w->text.size());
  buf[w->text.size()] = '\0';
  return ok();
}

wb_status ui_get_number(const wb_host* host, const char* panel_id, const char* widget_id, double* out_value) {
  wb_status st;
  HostContext* ctx = ui_caller(host, "ui.get_number", st);
  if (!ctx) return st;
  if (!out_value) return misuse(ctx, "ui.get_number", WB_ERR_INVALID_ARGUMENT, "out_value is NULL");
  UiWidget* w = ui_widget(ctx, "ui.get_number", panel_id, widget_id, st);
  if (!w) return st;
  *out_value = w->value;
  return ok();
}

const wb_host_ui kUi = {ui_set_panel, ui_remove_panel, ui_set_canvas, ui_set_text,
                        ui_set_number, ui_get_text,    ui_get_number};

const void* host_get_extension(const wb_host* host, const char* id) {
  HostContext* ctx = resolve(host, "get_extension");
  if (!ctx) return nullptr;
  std::string name;
  if (!bounded(id, WB_MAX_ID_LENGTH, name)) {
    misuse(ctx, "get_extension", WB_ERR_INVALID_ARGUMENT, id ? "id is too long" : "id is NULL");
    return nullptr;
  }
  ok();
  if (name == WB_EXT_LOG) return &kLog;
  if (name == WB_EXT_PRESETS) return &kPresets;
  if (name == WB_EXT_UI) return ctx->instance ? &kUi : nullptr;
  if (name == WB_EXT_TREE) return &story_tree_table();
  if (name == WB_EXT_GENERATE) return &story_generate_table();
  if (name == WB_EXT_TOKENIZER) return &story_tokenizer_table();
  if (name == WB_EXT_MIDI) return &midi_table();
  if (name == WB_EXT_CARDS) return &cards_table();
  if (name == WB_EXT_TRANSCRIPT) return &transcript_table();
  if (name == WB_EXT_SCORE) return &score_table();
  if (ctx->services->extension_provider) return ctx->services->extension_provider(name, *ctx);
  return nullptr;  // asking is fine: plugins probe for what a host offers
}

// ---- headless output -------------------------------------------------------

wb_status output_write_to(const wb_output* out, const char* data, size_t len, bool is_error) {
  const char* fn = is_error ? "output.write_error" : "output.write";
  if (!out || !out->host_data) return misuse(nullptr, fn, WB_ERR_INVALID_ARGUMENT, "output is NULL");
  auto* o = static_cast<OutputContext*>(out->host_data);
  if (o->magic != OutputContext::kMagic || &o->table != out)
    return misuse(nullptr, fn, WB_ERR_INVALID_ARGUMENT, "output is not the one given to run");
  if (!on_main_thread(o->caller)) return misuse(o->caller, fn, WB_ERR_WRONG_THREAD, "called off the main thread");
  if (!data && len > 0) return misuse(o->caller, fn, WB_ERR_INVALID_ARGUMENT, "data is NULL with len > 0");
  if (len > 0 && o->sink) o->sink(is_error, std::string_view(data, len));
  return ok();
}

wb_status output_write(const wb_output* out, const char* data, size_t len) { return output_write_to(out, data, len, false); }
wb_status output_write_error(const wb_output* out, const char* data, size_t len) {
  return output_write_to(out, data, len, true);
}

}  // namespace

HostServices::HostServices(Log& l, std::vector<std::filesystem::path> shipped_presets,
                           std::filesystem::path user_presets)
    : log(l),
      preset_dirs(std::move(shipped_presets)),
      user_preset_dir(std::move(user_presets)),
      story(std::make_unique<StoryBinding>()) {}

HostServices::~HostServices() = default;

std::unique_ptr<HostContext> make_host_context(HostServices& services, std::string plugin_id, bool instance) {
  auto ctx = std::make_unique<HostContext>();
  ctx->services = &services;
  ctx->plugin_id = std::move(plugin_id);
  ctx->instance = instance;
  ctx->table.abi_version = wb_version{WB_ABI_VERSION_MAJOR, WB_ABI_VERSION_MINOR, WB_ABI_VERSION_PATCH};
  ctx->table.host_data = ctx.get();
  ctx->table.name = "RWKV Workbench";
  ctx->table.vendor = "rwkv-workbench";
  ctx->table.version = WB_VERSION;
  ctx->table.get_extension = host_get_extension;
  ctx->table.last_error = host_last_error;
  return ctx;
}

CallScope::CallScope(HostContext* ctx) : prev_(t_current) { t_current = ctx; }
CallScope::~CallScope() { t_current = prev_; }

void init_output(OutputContext& out, HostContext* caller, std::function<void(bool, std::string_view)> sink) {
  out.caller = caller;
  out.sink = std::move(sink);
  out.table.host_data = &out;
  out.table.write = output_write;
  out.table.write_error = output_write_error;
}

}  // namespace wb::host
