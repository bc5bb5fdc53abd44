#include "host/story_service.hpp"

#include "host/midi_service.hpp"

#include <cmath>
#include <cstddef>
#include <filesystem>

#include "core/midi/music_text.hpp"
#include "core/model/load.hpp"
#include "core/project/project.hpp"
#include "core/session/codec.hpp"

namespace wb::host {

using namespace detail;

namespace {

namespace fs = std::filesystem;
constexpr std::size_t kMaxPathBytes = 4096;
constexpr std::size_t kMaxInsertBytes = 16u << 20;

// The caller and its open story, or nullptr with the status in `st`.
HostContext* story_caller(const wb_host* host, const char* fn, wb_status& st, session::Story** story) {
  HostContext* ctx = resolve(host, fn);
  st = WB_ERR_INVALID_ARGUMENT;
  if (!ctx) return nullptr;
  if (!on_main_thread(ctx)) {
    st = misuse(ctx, fn, WB_ERR_WRONG_THREAD, "called off the main thread");
    return nullptr;
  }
  *story = ctx->services->story ? ctx->services->story->story : nullptr;
  if (!*story) {
    st = soft_fail(fn, WB_ERR_UNSUPPORTED, "no project is open (open_project first)");
    return nullptr;
  }
  st = WB_OK;
  return ctx;
}

// A core error as a status: unknown ids and bad arguments are the plugin's
// mistake (logged); the rest are failures of the operation.
wb_status from_error(HostContext* ctx, const char* fn, const Error& e) {
  switch (e.code) {
    case Errc::out_of_range: return misuse(ctx, fn, WB_ERR_NOT_FOUND, e.message);
    case Errc::invalid_argument: return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, e.message);
    case Errc::cancelled: return soft_fail(fn, WB_ERR_CANCELLED, e.message);
    case Errc::io: return soft_fail(fn, WB_ERR_IO, e.message);
    default: return soft_fail(fn, WB_ERR_INTERNAL, e.message);
  }
}

// The node, or nullopt with the misuse recorded.
std::optional<tree::Node> get_node(HostContext* ctx, session::Story* story, const char* fn, wb_node_id id,
                                   wb_status& st) {
  auto n = story->node(id);
  if (!n) st = misuse(ctx, fn, WB_ERR_NOT_FOUND, fmt::format("no node {}", id));
  return n;
}

#define WB_STORY_CALL(fn)                      \
  wb_status st;                                \
  session::Story* story = nullptr;             \
  HostContext* ctx = story_caller(host, fn, st, &story); \
  if (!ctx) return st

// ---- wb.tree/1 -------------------------------------------------------------

wb_status tree_open_project(const wb_host* host, const char* path, const char* model_path, bool create) {
  const char* fn = "tree.open_project";
  HostContext* ctx = resolve(host, fn);
  if (!ctx) return WB_ERR_INVALID_ARGUMENT;
  if (!on_main_thread(ctx)) return misuse(ctx, fn, WB_ERR_WRONG_THREAD, "called off the main thread");
  std::string p, m;
  if (!bounded(path, kMaxPathBytes, p) || p.empty()) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "path is NULL, empty or too long");
  if (model_path && (!bounded(model_path, kMaxPathBytes, m) || m.empty()))
    return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "model_path is empty or too long");
  StoryBinding& b = *ctx->services->story;
  if (b.app_owned) {
    std::error_code ec;
    if (b.story && fs::equivalent(p, b.story->project().path(), ec)) return ok();
    return soft_fail(fn, WB_ERR_UNSUPPORTED, "the application has another project open");
  }
  std::error_code ec;
  bool exists = fs::exists(p, ec);
  auto project = (create && !exists) ? project::Project::create(p) : project::Project::open(p);
  if (!project) return soft_fail(fn, WB_ERR_IO, project.error().message);
  if (m.empty()) {
    auto remembered = (*project)->meta("model");
    if (remembered && *remembered) m = **remembered;
  } else {
    auto abs = fs::absolute(m, ec);
    if (auto st = (*project)->set_meta("model", ec ? m : abs.string()); !st) return soft_fail(fn, WB_ERR_IO, st.error().message);
  }
  std::unique_ptr<Model> model;
  if (!m.empty()) {
    auto loaded = load_model(m);
    if (!loaded) return soft_fail(fn, WB_ERR_IO, loaded.error().message);
    model = std::move(*loaded);
  }
  // The project's tokenizer (meta "tokenizer": a spec load_codec understands),
  // else bytes, which only fit 256-token models.
  session::TextCodec codec = session::byte_codec();
  auto spec = (*project)->meta("tokenizer");
  if (spec && *spec && !(*spec)->empty()) {
    auto c = session::load_codec(**spec);
    if (!c) return soft_fail(fn, WB_ERR_IO, c.error().message);
    codec = std::move(*c);
  } else if (model && model->info().n_vocab != 256) {
    // A music model (20096 ids) needs no tokenizer file: remember "midi".
    std::string implicit = session::implicit_codec_spec(model->info().n_vocab);
    if (implicit.empty())
      return soft_fail(fn, WB_ERR_UNSUPPORTED,
                       fmt::format("model {} has {} tokens but the project names no tokenizer (meta 'tokenizer')", m,
                                   model->info().n_vocab));
    auto c = session::load_codec(implicit);
    if (!c) return soft_fail(fn, WB_ERR_IO, c.error().message);
    codec = std::move(*c);
    if (auto st = (*project)->set_meta("tokenizer", implicit); !st) return soft_fail(fn, WB_ERR_IO, st.error().message);
  }
  auto story = session::Story::attach(std::move(*project), model.get(), std::move(codec), {});
  if (!story) return soft_fail(fn, WB_ERR_IO, story.error().message);
  b.sessions.clear();  // cancels and joins generations on the old story
  b.story = nullptr;
  b.owned_story.reset();
  b.owned_model = std::move(model);
  b.owned_story = std::move(*story);
  b.story = b.owned_story.get();
  ctx->services->log.info("plugin {} opened project {}", ctx->plugin_id, p);
  return ok();
}

wb_status tree_root(const wb_host* host, wb_node_id* out) {
  WB_STORY_CALL("tree.root");
  if (!out) return misuse(ctx, "tree.root", WB_ERR_INVALID_ARGUMENT, "out is NULL");
  *out = story->tree_root();
  return ok();
}

wb_status tree_current(const wb_host* host, wb_node_id* out) {
  WB_STORY_CALL("tree.current");
  if (!out) return misuse(ctx, "tree.current", WB_ERR_INVALID_ARGUMENT, "out is NULL");
  *out = story->current();
  return ok();
}

wb_status tree_switch_to(const wb_host* host, wb_node_id id) {
  WB_STORY_CALL("tree.switch_to");
  if (!story->node(id)) return misuse(ctx, "tree.switch_to", WB_ERR_NOT_FOUND, fmt::format("no node {}", id));
  auto r = story->switch_to(id);
  if (!r) return from_error(ctx, "tree.switch_to", r.error());
  return ok();
}

wb_status tree_node_info(const wb_host* host, wb_node_id id, wb_node_info* out) {
  WB_STORY_CALL("tree.node_info");
  if (!out) return misuse(ctx, "tree.node_info", WB_ERR_INVALID_ARGUMENT, "out is NULL");
  auto n = get_node(ctx, story, "tree.node_info", id, st);
  if (!n) return st;
  out->id = n->id;
  out->parent = n->parent;
  out->child_count = static_cast<uint32_t>(n->children.size());
  out->token_count = static_cast<uint32_t>(n->tokens.size());
  out->text_bytes = n->text.size();
  out->seed = n->seed;
  out->created_ms = n->created_ms;
  out->bookmark = n->bookmark;
  out->generated = !n->alternatives.empty();
  return ok();
}

wb_status tree_child(const wb_host* host, wb_node_id id, uint32_t index, wb_node_id* out) {
  WB_STORY_CALL("tree.child");
  if (!out) return misuse(ctx, "tree.child", WB_ERR_INVALID_ARGUMENT, "out is NULL");
  auto n = get_node(ctx, story, "tree.child", id, st);
  if (!n) return st;
  if (index >= n->children.size())
    return misuse(ctx, "tree.child", WB_ERR_NOT_FOUND, fmt::format("node {} has {} children, no #{}", id, n->children.size(), index));
  *out = n->children[index];
  return ok();
}

// One text field of a node, by accessor.
template <class Get>
wb_status node_string(const wb_host* host, const char* fn, wb_node_id id, char* buf, size_t capacity, size_t* out_len,
                      Get get) {
  WB_STORY_CALL(fn);
  auto n = get_node(ctx, story, fn, id, st);
  if (!n) return st;
  return copy_text_out(ctx, fn, get(*story, *n), buf, capacity, out_len);
}

wb_status tree_node_text(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len) {
  return node_string(host, "tree.node_text", id, buf, capacity, out_len,
                     [](session::Story&, const tree::Node& n) { return n.text; });
}
wb_status tree_path_text(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len) {
  return node_string(host, "tree.path_text", id, buf, capacity, out_len,
                     [](session::Story& s, const tree::Node& n) { return s.path_text(n.id); });
}
wb_status tree_origin(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len) {
  return node_string(host, "tree.origin", id, buf, capacity, out_len,
                     [](session::Story&, const tree::Node& n) { return n.origin; });
}
wb_status tree_label(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len) {
  return node_string(host, "tree.label", id, buf, capacity, out_len,
                     [](session::Story&, const tree::Node& n) { return n.label; });
}
wb_status tree_metadata(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len) {
  return node_string(host, "tree.metadata", id, buf, capacity, out_len,
                     [](session::Story&, const tree::Node& n) { return n.metadata; });
}

wb_status tree_find_label(const wb_host* host, const char* label, wb_node_id* out) {
  WB_STORY_CALL("tree.find_label");
  std::string l;
  if (!bounded(label, WB_MAX_TEXT_LENGTH, l) || !out)
    return misuse(ctx, "tree.find_label", WB_ERR_INVALID_ARGUMENT, "label or out is NULL (or label too long)");
  auto hits = story->tree_copy().find_by_label(l);
  if (hits.empty()) return soft_fail("tree.find_label", WB_ERR_NOT_FOUND, fmt::format("no node labelled '{}'", l));
  *out = hits.front();
  return ok();
}

wb_status tree_token_offset(const wb_host* host, wb_node_id id, uint32_t index, uint64_t* out) {
  WB_STORY_CALL("tree.token_offset");
  if (!out) return misuse(ctx, "tree.token_offset", WB_ERR_INVALID_ARGUMENT, "out is NULL");
  auto n = get_node(ctx, story, "tree.token_offset", id, st);
  if (!n) return st;
  if (index > n->tokens.size())
    return misuse(ctx, "tree.token_offset", WB_ERR_NOT_FOUND, fmt::format("node {} has {} tokens, no #{}", id, n->tokens.size(), index));
  uint64_t off = 0;
  for (uint32_t i = 0; i < index; ++i) off += story->codec().piece(n->tokens[i]).size();
  *out = off;
  return ok();
}

wb_status tree_alternatives(const wb_host* host, wb_node_id id, uint32_t index, wb_token_prob* out, size_t capacity,
                            size_t* out_count) {
  WB_STORY_CALL("tree.alternatives");
  if (!out_count || (!out && capacity > 0))
    return misuse(ctx, "tree.alternatives", WB_ERR_INVALID_ARGUMENT, "out_count is NULL, or out is NULL with capacity > 0");
  auto n = get_node(ctx, story, "tree.alternatives", id, st);
  if (!n) return st;
  if (index >= n->alternatives.size())
    return misuse(ctx, "tree.alternatives", WB_ERR_NOT_FOUND,
                  fmt::format("node {} has alternatives for {} tokens, no #{}", id, n->alternatives.size(), index));
  const auto& alts = n->alternatives[index];
  std::size_t k = std::min(capacity, alts.size());
  for (std::size_t i = 0; i < k; ++i) out[i] = wb_token_prob{alts[i].token, alts[i].prob};
  *out_count = k;
  return ok();
}

wb_status tree_append(const wb_host* host, wb_node_id parent, const char* text, size_t len, wb_node_id* out) {
  WB_STORY_CALL("tree.append");
  if ((!text && len > 0) || len > kMaxInsertBytes)
    return misuse(ctx, "tree.append", WB_ERR_INVALID_ARGUMENT, "text is NULL or longer than 16 MiB");
  auto r = story->append(parent, std::string_view(text ? text : "", len), ctx->plugin_id);
  if (!r) return from_error(ctx, "tree.append", r.error());
  if (out) *out = *r;
  return ok();
}

wb_status tree_edit(const wb_host* host, wb_node_id id, uint64_t byte_offset, const char* text, size_t len,
                    wb_node_id* out) {
  WB_STORY_CALL("tree.edit");
  if ((!text && len > 0) || len > kMaxInsertBytes)
    return misuse(ctx, "tree.edit", WB_ERR_INVALID_ARGUMENT, "text is NULL or longer than 16 MiB");
  auto r = story->edit(id, static_cast<std::size_t>(byte_offset), std::string_view(text ? text : "", len));
  if (!r) return from_error(ctx, "tree.edit", r.error());
  if (out) *out = *r;
  return ok();
}

wb_status tree_set_label(const wb_host* host, wb_node_id id, const char* label) {
  WB_STORY_CALL("tree.set_label");
  std::string l;
  if (!bounded(label, WB_MAX_TEXT_LENGTH, l)) return misuse(ctx, "tree.set_label", WB_ERR_INVALID_ARGUMENT, "label is NULL or too long");
  auto r = story->set_label(id, l);
  if (!r) return from_error(ctx, "tree.set_label", r.error());
  return ok();
}

wb_status tree_set_metadata(const wb_host* host, wb_node_id id, const char* metadata) {
  WB_STORY_CALL("tree.set_metadata");
  std::string m;
  if (!bounded(metadata, 1u << 20, m)) return misuse(ctx, "tree.set_metadata", WB_ERR_INVALID_ARGUMENT, "metadata is NULL or over 1 MiB");
  auto r = story->set_metadata(id, m);
  if (!r) return from_error(ctx, "tree.set_metadata", r.error());
  return ok();
}

wb_status tree_remove(const wb_host* host, wb_node_id id) {
  WB_STORY_CALL("tree.remove");
  if (id == story->tree_root()) return misuse(ctx, "tree.remove", WB_ERR_INVALID_ARGUMENT, "the root cannot be removed");
  if (!story->node(id)) return misuse(ctx, "tree.remove", WB_ERR_NOT_FOUND, fmt::format("no node {}", id));
  auto r = story->remove(id);
  if (!r) return from_error(ctx, "tree.remove", r.error());
  return ok();
}

const wb_host_tree kTree = {tree_open_project, tree_root,     tree_current,     tree_switch_to,  tree_node_info,
                            tree_child,        tree_node_text, tree_path_text,  tree_origin,     tree_label,
                            tree_metadata,     tree_find_label, tree_token_offset, tree_alternatives, tree_append,
                            tree_edit,         tree_set_label, tree_set_metadata, tree_remove};

// ---- wb.generate/1 ---------------------------------------------------------

// Sampling presets: presets/sampling/NAME, the user's folder first.
Result<sampling::Settings> load_sampling_preset(const HostServices& s, const std::string& name) {
  std::vector<fs::path> dirs;
  if (!s.user_preset_dir.empty()) dirs.push_back(s.user_preset_dir);
  for (auto it = s.preset_dirs.rbegin(); it != s.preset_dirs.rend(); ++it) dirs.push_back(*it);
  for (const auto& d : dirs) {
    std::error_code ec;
    auto p = d / "sampling" / name;
    if (fs::is_regular_file(p, ec)) return sampling::load_preset(p.string());
  }
  return make_error(Errc::out_of_range, "no sampling preset '{}'", name);
}

// Checks a plugin's sampler settings and turns them into options; returns
// WB_OK or the (recorded) error status.
wb_status make_options(HostContext* ctx, session::Story* story, const char* name, wb_node_id from,
                       const wb_sampler_settings* in, session::GenerateOptions& opt) {
  if (!in) return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "settings is NULL");
  if (in->struct_size < WB_SAMPLER_SETTINGS_SIZE_0_1)
    return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, fmt::format("settings.struct_size {} is smaller than {} (ABI 0.1)",
                                                                   in->struct_size, WB_SAMPLER_SETTINGS_SIZE_0_1));
  // Fields of ABI 0.2 and later exist only when the plugin's struct reaches them.
  auto has = [&](std::size_t offset, std::size_t size) { return in->struct_size >= offset + size; };
  const bool v2 = has(offsetof(wb_sampler_settings, max_seconds), sizeof(double));
  const bool music = v2 && in->mode == WB_SAMPLER_MODE_MUSIC;
  if (v2 && in->mode > WB_SAMPLER_MODE_MUSIC)
    return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, fmt::format("unknown sampler mode {}", in->mode));
  sampling::Settings s;
  if (music) {
    // The RWKV music demo's sampler; its logit shaping is GenerateOptions::music.
    s.temperature = 1.0f;
    s.top_k = 8;
    s.top_p = 0.8f;
    s.presence_penalty = 0.0f;
    s.frequency_penalty = 0.0f;
  }
  if (in->preset) {
    std::string p;
    if (!bounded(in->preset, WB_MAX_ID_LENGTH, p) || p.empty() || p[0] == '.' || p.find('/') != std::string::npos)
      return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "preset is not a single file name");
    auto loaded = load_sampling_preset(*ctx->services, p);
    if (!loaded) return soft_fail(name, WB_ERR_NOT_FOUND, loaded.error().message);
    s = *loaded;
  }
  if (in->set & WB_SAMPLER_TEMPERATURE) s.temperature = in->temperature;
  if (in->set & WB_SAMPLER_TOP_P) s.top_p = in->top_p;
  if (in->set & WB_SAMPLER_TOP_K) s.top_k = in->top_k;
  if (in->set & WB_SAMPLER_MIN_P) s.min_p = in->min_p;
  if (in->set & WB_SAMPLER_PRESENCE) s.presence_penalty = in->presence_penalty;
  if (in->set & WB_SAMPLER_FREQUENCY) s.frequency_penalty = in->frequency_penalty;
  if (in->set & WB_SAMPLER_REPETITION) s.repetition_penalty = in->repetition_penalty;
  if (in->set & WB_SAMPLER_MAX_TOKENS) s.max_tokens = in->max_tokens;
  if (in->set & WB_SAMPLER_SEED) s.seed = in->seed;
  if (s.max_tokens < 0 || s.max_tokens > (1 << 20))
    return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, fmt::format("max_tokens {} is outside 0..{}", s.max_tokens, 1 << 20));
  if (!(s.temperature >= 0 && s.temperature < 100) || !(s.top_p >= 0 && s.top_p <= 1) || s.top_k < 0)
    return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "temperature, top_p or top_k out of range");
  if (in->stop_count > 64 || (in->stop_count > 0 && !in->stop))
    return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "stop: more than 64 strings, or NULL with a count");
  for (uint32_t i = 0; i < in->stop_count; ++i) {
    std::string t;
    if (!bounded(in->stop[i], WB_MAX_ID_LENGTH, t)) return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "a stop string is NULL or too long");
    s.stop.push_back(std::move(t));
  }
  const int vocab = story->model() ? story->model()->info().n_vocab : 256;
  if (v2) {
    if (in->logit_bias_count > 65536 || (in->logit_bias_count > 0 && !in->logit_bias) || in->banned_count > 65536 ||
        (in->banned_count > 0 && !in->banned_tokens) || in->instrument_bin_count > 1024 ||
        (in->instrument_bin_count > 0 && !in->instrument_bins))
      return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "logit_bias, banned_tokens or instrument_bins: NULL with a count, or too many");
    for (uint32_t i = 0; i < in->logit_bias_count; ++i) {
      const wb_logit_bias& b = in->logit_bias[i];
      if (b.token < 0 || b.token >= vocab || !std::isfinite(b.bias))
        return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT,
                      fmt::format("logit_bias[{}]: token {} outside 0..{} or bias not finite", i, b.token, vocab - 1));
      s.logit_bias.emplace_back(b.token, b.bias);
    }
    for (uint32_t i = 0; i < in->banned_count; ++i) {
      if (in->banned_tokens[i] < 0 || in->banned_tokens[i] >= vocab)
        return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT,
                      fmt::format("banned_tokens[{}]: token {} outside 0..{}", i, in->banned_tokens[i], vocab - 1));
      s.banned_tokens.push_back(in->banned_tokens[i]);
    }
    if (in->instrument_bin_count > 0 && !music)
      return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "instrument_bins need mode WB_SAMPLER_MODE_MUSIC");
    static const int bins = midi::MusicScheme::standard().bin_count();
    for (uint32_t i = 0; i < in->instrument_bin_count; ++i) {
      if (in->instrument_bins[i] < 0 || in->instrument_bins[i] >= bins)
        return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT,
                      fmt::format("instrument_bins[{}]: bin {} outside 0..{}", i, in->instrument_bins[i], bins - 1));
      opt.music_bins.push_back(in->instrument_bins[i]);
    }
    if (music && vocab != midi::kMusicVocabSize)
      return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT,
                    fmt::format("music mode needs a {}-token music model; this one has {} tokens", midi::kMusicVocabSize, vocab));
    if (!(in->max_seconds >= 0 && in->max_seconds <= 86400))
      return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "max_seconds is outside 0..86400");
    if (in->max_seconds > 0 && !music) return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "max_seconds needs mode WB_SAMPLER_MODE_MUSIC");
    opt.music = music;
    opt.music_max_seconds = in->max_seconds;
  }
  uint32_t alts = in->alternatives == 0 ? 1 : in->alternatives;
  if (alts > 64) return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, fmt::format("alternatives {} is more than 64", alts));
  if (!story->node(from)) return misuse(ctx, name, WB_ERR_NOT_FOUND, fmt::format("no node {}", from));
  opt.settings = s;
  opt.alternatives = static_cast<int>(alts);
  opt.origin = ctx->plugin_id;
  return WB_OK;
}

// Hands one core event to a plugin callback; false when the plugin cancels.
bool deliver(const session::Event& e, wb_generate_event_fn fn, void* user) {
  if (!fn) return true;
  if (e.kind != session::Event::Kind::token && e.kind != session::Event::Kind::node) return true;
  wb_generate_event ev{};
  ev.kind = e.kind == session::Event::Kind::token ? WB_GENERATE_TOKEN : WB_GENERATE_NODE;
  ev.alt = static_cast<uint32_t>(e.alt);
  ev.token = e.token;
  ev.piece = e.piece.data();
  ev.piece_len = e.piece.size();
  std::vector<wb_token_prob> top;
  for (const auto& t : e.top) top.push_back(wb_token_prob{t.token, t.prob});
  ev.top = top.data();
  ev.top_count = static_cast<uint32_t>(top.size());
  ev.tokens_per_s = e.tokens_per_s;
  ev.node = e.node;
  return fn(user, &ev);
}

wb_status gen_generate(const wb_host* host, wb_node_id from, const wb_sampler_settings* in, wb_generate_event_fn fn,
                       void* user, wb_node_id* out_nodes, size_t capacity, size_t* out_count) {
  const char* name = "generate.generate";
  WB_STORY_CALL(name);
  if (!out_count || (!out_nodes && capacity > 0))
    return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "out_count is NULL, or out_nodes is NULL with capacity > 0");
  session::GenerateOptions opt;
  if (wb_status bad = make_options(ctx, story, name, from, in, opt); bad != WB_OK) return bad;
  std::atomic<bool> cancel{false};
  auto on_event = [&](const session::Event& e) {
    if (!cancel && !deliver(e, fn, user)) cancel = true;
  };
  auto r = story->continue_from(from, opt, on_event, &cancel);
  if (!r) return from_error(ctx, name, r.error());
  for (std::size_t i = 0; i < r->size() && i < capacity; ++i) out_nodes[i] = (*r)[i];
  *out_count = r->size();
  return ok();
}

// The caller's session, or nullptr with the misuse recorded.
StoryBinding::Session* find_session(HostContext* ctx, const char* fn, wb_session_id id) {
  auto& sessions = ctx->services->story->sessions;
  auto it = sessions.find(id);
  if (it == sessions.end() || it->second.plugin_id != ctx->plugin_id) {
    misuse(ctx, fn, WB_ERR_NOT_FOUND, fmt::format("no generation session {} of this plugin", id));
    return nullptr;
  }
  return &it->second;
}

wb_status gen_start(const wb_host* host, wb_node_id from, const wb_sampler_settings* in, wb_session_id* out_session) {
  const char* name = "generate.start";
  WB_STORY_CALL(name);
  if (!out_session) return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "out_session is NULL");
  session::GenerateOptions opt;
  if (wb_status bad = make_options(ctx, story, name, from, in, opt); bad != WB_OK) return bad;
  StoryBinding& b = *ctx->services->story;
  uint64_t id = b.next_session++;
  b.sessions[id] = StoryBinding::Session{ctx->plugin_id, session::GenerationSession::start(*story, from, opt), {}};
  *out_session = id;
  return ok();
}

wb_status gen_poll(const wb_host* host, wb_session_id id, wb_generate_event_fn fn, void* user, bool* out_finished) {
  const char* name = "generate.poll";
  WB_STORY_CALL(name);
  if (!out_finished) return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "out_finished is NULL");
  auto* s = find_session(ctx, name, id);
  if (!s) return WB_ERR_NOT_FOUND;
  // Read `finished` before draining: events queued before it turned true are then all seen.
  bool done = s->worker->finished();
  for (auto& e : s->worker->poll()) s->pending.push_back(std::move(e));
  std::vector<session::Event> batch;
  batch.swap(s->pending);
  for (const auto& e : batch)
    if (!deliver(e, fn, user)) s->worker->cancel();
  *out_finished = done;
  return ok();
}

wb_status gen_cancel(const wb_host* host, wb_session_id id) {
  const char* name = "generate.cancel";
  WB_STORY_CALL(name);
  auto* s = find_session(ctx, name, id);
  if (!s) return WB_ERR_NOT_FOUND;
  s->worker->cancel();
  return ok();
}

wb_status gen_finish(const wb_host* host, wb_session_id id, wb_node_id* out_nodes, size_t capacity, size_t* out_count) {
  const char* name = "generate.finish";
  WB_STORY_CALL(name);
  if (!out_count || (!out_nodes && capacity > 0))
    return misuse(ctx, name, WB_ERR_INVALID_ARGUMENT, "out_count is NULL, or out_nodes is NULL with capacity > 0");
  auto* s = find_session(ctx, name, id);
  if (!s) return WB_ERR_NOT_FOUND;
  auto r = s->worker->join();
  ctx->services->story->sessions.erase(id);
  if (!r) return from_error(ctx, name, r.error());
  for (std::size_t i = 0; i < r->size() && i < capacity; ++i) out_nodes[i] = (*r)[i];
  *out_count = r->size();
  return ok();
}

const wb_host_generate kGenerate = {gen_generate, gen_start, gen_poll, gen_cancel, gen_finish};

// ---- wb.tokenizer/1 --------------------------------------------------------

uint32_t tok_vocab_size(const wb_host* host) {
  wb_status st;
  session::Story* story = nullptr;
  if (!story_caller(host, "tokenizer.vocab_size", st, &story)) return 0;
  return story->model() ? static_cast<uint32_t>(story->model()->info().n_vocab) : 256u;
}

wb_status tok_tokenize(const wb_host* host, const char* text, size_t len, uint32_t* tokens, size_t capacity,
                       size_t* out_count) {
  WB_STORY_CALL("tokenizer.tokenize");
  if ((!text && len > 0) || !out_count || (!tokens && capacity > 0) || len > kMaxInsertBytes)
    return misuse(ctx, "tokenizer.tokenize", WB_ERR_INVALID_ARGUMENT, "NULL text/out_count/tokens or text over 16 MiB");
  auto r = story->codec().encode(std::string_view(text ? text : "", len));
  if (!r) return from_error(ctx, "tokenizer.tokenize", r.error());
  *out_count = r->size();
  if (r->size() > capacity) return soft_fail("tokenizer.tokenize", WB_ERR_BUFFER_TOO_SMALL, fmt::format("needs {} tokens", r->size()));
  for (std::size_t i = 0; i < r->size(); ++i) tokens[i] = static_cast<uint32_t>((*r)[i]);
  return ok();
}

wb_status tok_detokenize(const wb_host* host, const uint32_t* tokens, size_t count, char* buf, size_t capacity,
                         size_t* out_len) {
  WB_STORY_CALL("tokenizer.detokenize");
  if ((!tokens && count > 0) || !out_len || (!buf && capacity > 0) || count > kMaxInsertBytes)
    return misuse(ctx, "tokenizer.detokenize", WB_ERR_INVALID_ARGUMENT, "NULL tokens/out_len/buf or too many tokens");
  uint32_t vocab = story->model() ? static_cast<uint32_t>(story->model()->info().n_vocab) : 256u;
  std::string s;
  for (size_t i = 0; i < count; ++i) {
    if (tokens[i] >= vocab)
      return misuse(ctx, "tokenizer.detokenize", WB_ERR_INVALID_ARGUMENT, fmt::format("token {} is outside the vocabulary of {}", tokens[i], vocab));
    s += story->codec().piece(static_cast<int32_t>(tokens[i]));
  }
  *out_len = s.size();
  if (s.size() > capacity) return soft_fail("tokenizer.detokenize", WB_ERR_BUFFER_TOO_SMALL, fmt::format("needs {} bytes", s.size()));
  if (!s.empty()) std::memcpy(buf, s.data(), s.size());
  return ok();
}

const wb_host_tokenizer kTokenizer = {tok_vocab_size, tok_tokenize, tok_detokenize};

}  // namespace

const wb_host_tree& story_tree_table() { return kTree; }
const wb_host_generate& story_generate_table() { return kGenerate; }
const wb_host_tokenizer& story_tokenizer_table() { return kTokenizer; }

void attach_story(HostServices& services, session::Story* story) {
  StoryBinding& b = *services.story;
  b.sessions.clear();  // cancels and joins: they use the old story
  b.owned_story.reset();
  b.owned_model.reset();
  b.story = story;
  b.app_owned = story != nullptr;
}

void drop_plugin_sessions(HostServices& services, const std::string& plugin_id) {
  stop_plugin_playback(services, plugin_id);
  auto& sessions = services.story->sessions;
  for (auto it = sessions.begin(); it != sessions.end();)
    it = it->second.plugin_id == plugin_id ? sessions.erase(it) : std::next(it);
}

}  // namespace wb::host
