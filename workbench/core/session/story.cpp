#include "core/session/story.hpp"

#include "core/midi/music_bias.hpp"

#include <chrono>
#include <cstdlib>

namespace wb::session {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// How often a generation in flight writes its drafts to the project file:
// what a killed process can lose. Each write stores only what the drafts
// gained; kDraftWriteShare still caps the writes at about 1/20 of the
// generation's time should one take longer than 5 ms (a slow disk).
constexpr std::chrono::milliseconds kDraftWriteInterval{100};
constexpr int kDraftWriteShare = 20;

}  // namespace

Result<std::unique_ptr<Story>> Story::attach(std::unique_ptr<project::Project> project, Model* model, TextCodec codec,
                                             StoryOptions opt) {
  if (!project) return make_error(Errc::invalid_argument, "Story::attach needs a project");
  if (!codec.encode || !codec.piece) return make_error(Errc::invalid_argument, "Story::attach needs a tokenizer");
  std::unique_ptr<Story> s(new Story());
  s->project_ = std::move(project);
  s->model_ = model;
  s->codec_ = std::move(codec);
  s->opt_ = opt;
  s->cache_.set_budget(opt.cache_budget);
  WB_TRY(t, s->project_->load_tree());
  s->tree_ = std::move(t);
  // A new file has no rows yet: write the root.
  WB_CHECK(s->project_->sync(s->tree_, s->tree_.take_dirty()));
  WB_TRY(cur, s->project_->meta("current"));
  if (cur) {
    NodeId id = std::strtoull(cur->c_str(), nullptr, 10);
    if (s->tree_.contains(id)) s->current_ = id;
  }
  if (model) {
    WB_TRY(keys, s->project_->snapshot_keys(model->info().model_key));
    s->stored_.insert(keys.begin(), keys.end());
  }
  if (opt.spill_to_file) {
    // Runs inside cache operations, i.e. with mu_ held by the caller.
    Story* self = s.get();
    // Queued here, written by flush_spills() once the lock is released.
    s->cache_.set_spill([self](tree::Snapshot&& snap) {
      const tree::Node* n = self->tree_.find(snap.node);
      if (!n || self->stored_.count({snap.node, snap.pos})) return;
      if (snap.pos != self->tree_.path_tokens(snap.node)) return;  // a checkpoint, not a node end
      self->spills_.push_back(std::move(snap));
    });
  }
  return s;
}

tree::Tree Story::tree_copy() const {
  std::lock_guard lk(mu_);
  return tree_;
}

std::optional<tree::Node> Story::node(NodeId id) const {
  std::lock_guard lk(mu_);
  const tree::Node* n = tree_.find(id);
  if (!n) return std::nullopt;
  return *n;
}

std::string Story::path_text(NodeId id) const {
  std::lock_guard lk(mu_);
  return tree_.path_text(id);
}

NodeId Story::current() const { return current_.load(); }

// The UI's status bar asks every frame: while another thread holds the lock
// (a long restore on the generation worker), the last figures seen do.
std::size_t Story::cache_bytes() const {
  std::unique_lock lk(mu_, std::try_to_lock);
  if (lk) cache_bytes_seen_ = cache_.bytes();
  return cache_bytes_seen_;
}

std::size_t Story::cache_count() const {
  std::unique_lock lk(mu_, std::try_to_lock);
  if (lk) cache_count_seen_ = cache_.count();
  return cache_count_seen_;
}

Status Story::sync_locked() {
  revision_.fetch_add(1, std::memory_order_relaxed);
  auto dirty = tree_.take_dirty();
  for (NodeId id : dirty)
    if (!tree_.contains(id)) {
      // Deleted nodes keep their cached states (ids are never reused, so an
      // undo can bring them back), but the file forgets them.
      for (auto it = stored_.lower_bound({id, 0}); it != stored_.end() && it->first == id;) it = stored_.erase(it);
    }
  if (!tree_.contains(current_)) {
    current_ = tree_.root();
    WB_CHECK(project_->set_meta("current", std::to_string(current_)));
  }
  return project_->sync(tree_, dirty);
}

Result<NodeId> Story::append(NodeId parent, std::string_view text, std::string origin) {
  WB_TRY(tokens, codec_.encode(text));
  tree::Node n;
  n.text = std::string(text);
  n.tokens = std::move(tokens);
  n.origin = std::move(origin);
  std::lock_guard lk(mu_);
  WB_TRY(id, tree_.append(parent, std::move(n)));
  WB_CHECK(sync_locked());
  return id;
}

Result<NodeId> Story::edit(NodeId id, std::size_t offset, std::string_view text) {
  std::lock_guard lk(mu_);
  const tree::Node* n = tree_.find(id);
  if (!n || id == tree_.root()) return make_error(Errc::out_of_range, "no node {} to edit", id);
  if (offset > n->text.size())
    return make_error(Errc::out_of_range, "offset {} is past the end of node {} ({} bytes)", offset, id, n->text.size());
  // The last token boundary at or before offset.
  std::size_t bytes = 0, toks = 0;
  while (toks < n->tokens.size()) {
    std::size_t len = codec_.piece(n->tokens[toks]).size();
    if (bytes + len > offset) break;
    bytes += len;
    ++toks;
  }
  std::string replacement = n->text.substr(bytes, offset - bytes) + std::string(text);
  WB_TRY(tokens, codec_.encode(replacement));
  tree::Node r;
  r.text = std::move(replacement);
  r.tokens = std::move(tokens);
  r.origin = "user";
  const std::size_t split_pos = tree_.path_tokens(id) - n->tokens.size() + toks;
  const bool splits = toks > 0 && toks < n->tokens.size();
  WB_TRY(nid, tree_.edit(id, toks, bytes, std::move(r)));
  // A split gives the first `toks` tokens a new front node: the states kept
  // inside them (generation checkpoints) now describe that node's prefixes.
  if (splits)
    if (const tree::Node* added = tree_.find(nid)) cache_.rekey(id, added->parent, split_pos);
  WB_CHECK(sync_locked());
  return nid;
}

// A generation in flight writes children of its start node; removing that
// node under it would orphan them, so such a change is taken back.
bool Story::generating_from_missing_locked() const {
  for (NodeId g : generating_)
    if (!tree_.contains(g)) return true;
  return false;
}

Status Story::remove(NodeId id) {
  std::lock_guard lk(mu_);
  WB_CHECK(tree_.remove_subtree(id));
  if (generating_from_missing_locked()) {
    (void)tree_.undo();
    (void)tree_.take_dirty();
    return make_error(Errc::invalid_argument, "node {} holds a generation in progress; cancel it first", id);
  }
  return sync_locked();
}

Status Story::move_sibling(NodeId id, std::size_t index) {
  std::lock_guard lk(mu_);
  WB_CHECK(tree_.move_sibling(id, index));
  return sync_locked();
}

Status Story::set_label(NodeId id, std::string label) {
  std::lock_guard lk(mu_);
  WB_CHECK(tree_.set_label(id, std::move(label)));
  return sync_locked();
}

Status Story::set_bookmark(NodeId id, bool on) {
  std::lock_guard lk(mu_);
  WB_CHECK(tree_.set_bookmark(id, on));
  return sync_locked();
}

Status Story::set_metadata(NodeId id, std::string metadata) {
  std::lock_guard lk(mu_);
  WB_CHECK(tree_.set_metadata(id, std::move(metadata)));
  return sync_locked();
}

Status Story::undo() {
  std::lock_guard lk(mu_);
  WB_CHECK(tree_.undo());
  if (generating_from_missing_locked()) {
    (void)tree_.redo();
    (void)tree_.take_dirty();
    return make_error(Errc::invalid_argument, "that undo would remove a node a generation is running from; cancel it first");
  }
  return sync_locked();
}

Status Story::redo() {
  std::lock_guard lk(mu_);
  WB_CHECK(tree_.redo());
  if (generating_from_missing_locked()) {
    (void)tree_.undo();
    (void)tree_.take_dirty();
    return make_error(Errc::invalid_argument, "that redo would remove a node a generation is running from; cancel it first");
  }
  return sync_locked();
}

tree::RestoreOptions Story::restore_options_locked(std::function<bool(std::size_t, std::size_t)> progress) {
  tree::RestoreOptions ro;
  ro.checkpoint_every = opt_.checkpoint_every;
  ro.progress = std::move(progress);
  ro.progress_every = 256;
  // Stored snapshots come from the file (planning runs under mu_: stored_, cache_).
  ro.fill = [this, key = model_->info().model_key](NodeId n, std::size_t p) {
    if (!stored_.count({n, p})) return;
    auto s = project_->load_snapshot(n, p, key);
    if (s && *s) cache_.put(n, p, key, (*s)->state, (*s)->logits);
  };
  return ro;
}

Result<tree::Restored> Story::restore_locked(NodeId id, std::optional<std::size_t> pos) {
  if (!model_) return make_error(Errc::invalid_argument, "no model is loaded");
  return tree::restore_state(*model_, tree_, cache_, id, pos, restore_options_locked({}));
}

Result<tree::Restored> Story::state_at(NodeId id, std::optional<std::size_t> pos) {
  auto r = [&] {
    std::lock_guard ck(compute_mu_);
    std::lock_guard lk(mu_);
    return restore_locked(id, pos);
  }();
  flush_spills();
  return r;
}

std::size_t Story::replay_estimate(NodeId id) {
  std::lock_guard lk(mu_);
  if (!model_ || !tree_.contains(id)) return 0;
  const std::string key = model_->info().model_key;
  const std::size_t target = tree_.path_tokens(id);
  std::size_t best = 0, start = 0;
  for (NodeId n : tree_.path_to_root(id)) {
    const std::size_t end = start + tree_.find(n)->tokens.size();
    if (const tree::Snapshot* s = cache_.best_at_or_before(n, end, key)) best = std::max(best, s->pos);
    auto it = stored_.upper_bound({n, end});  // the file's deepest snapshot of n at or before its end
    if (it != stored_.begin() && (--it)->first == n) best = std::max(best, it->second);
    start = end;
  }
  return target - std::min(best, target);
}

Result<SwitchInfo> Story::switch_to(NodeId id, bool compute) {
  auto t0 = std::chrono::steady_clock::now();
  SwitchInfo info;
  if (!compute) {
    {
      std::lock_guard lk(mu_);
      if (!tree_.contains(id)) return make_error(Errc::out_of_range, "no node {} to switch to", id);
      current_ = id;
    }
    info.deferred = true;
    info.ms = ms_since(t0);
    WB_CHECK(project_->set_meta("current", std::to_string(id)));
    return info;
  }
  {
    std::lock_guard ck(compute_mu_);
    std::lock_guard lk(mu_);
    if (!tree_.contains(id)) return make_error(Errc::out_of_range, "no node {} to switch to", id);
    if (model_) {
      WB_TRY(r, restore_locked(id, std::nullopt));
      info.recomputed_tokens = r.recomputed_tokens;
    }
    current_ = id;
  }
  flush_spills();
  info.ms = ms_since(t0);
  WB_CHECK(project_->set_meta("current", std::to_string(id)));
  return info;
}

void Story::forget_snapshot(NodeId id) {
  std::lock_guard lk(mu_);
  cache_.erase_node(id);
}

Story::~Story() { flush_spills(); }

Status Story::save_snapshot_unlocked(const tree::Snapshot& s) {
  WB_CHECK(project_->save_snapshot(s));  // compressed and written without mu_
  std::lock_guard lk(mu_);
  // Deleted while it was written (its rows went with it before this one
  // landed): drop the row, so no later node can meet a stale state.
  if (!tree_.contains(s.node)) return project_->delete_snapshots(s.node);
  stored_.insert({s.node, s.pos});
  return {};
}

void Story::flush_spills() {
  std::vector<tree::Snapshot> todo;
  {
    std::lock_guard lk(mu_);
    todo.swap(spills_);
  }
  for (const tree::Snapshot& s : todo) (void)save_snapshot_unlocked(s);  // one not written is recomputed when needed
}

Status Story::store_snapshots() {
  flush_spills();
  if (!opt_.store_snapshots || !model_) return {};
  // The snapshots to store are copied under the lock; compressing and writing
  // them happens outside it, so the UI (which reads the tree under mu_) does not
  // wait for zlib and SQLite (20-40 ms at the end of a generation, measured).
  std::vector<tree::Snapshot> todo;
  {
    std::lock_guard lk(mu_);
    const std::string key = model_->info().model_key;
    std::set<NodeId> want;
    for (NodeId id : tree_.ids()) {
      const tree::Node* n = tree_.find(id);
      if (n->children.empty() || n->bookmark || id == current_) want.insert(id);
    }
    for (NodeId id : want) {
      std::size_t pos = tree_.path_tokens(id);
      if (pos == 0 || stored_.count({id, pos})) continue;
      if (const tree::Snapshot* s = cache_.get(id, pos, key)) todo.push_back(*s);
    }
  }
  for (const tree::Snapshot& s : todo) WB_CHECK(save_snapshot_unlocked(s));
  return {};
}

Result<std::string> Story::export_path(NodeId id, std::string_view format) const {
  std::lock_guard lk(mu_);
  if (!tree_.contains(id)) return make_error(Errc::out_of_range, "no node {} to export", id);
  std::string text = tree_.path_text(id);
  if (format == "txt") return text;
  if (format == "md") {
    auto title = project_->meta("title");
    std::string t = title && *title ? **title : std::string("Story");
    return fmt::format("# {}\n\n{}\n", t, text);
  }
  return make_error(Errc::invalid_argument, "unknown export format '{}' (txt or md)", format);
}

Result<std::vector<NodeId>> Story::continue_from(NodeId from, const GenerateOptions& opt, const EventFn& on_event,
                                                 const std::atomic<bool>* cancel) {
  if (!model_) return make_error(Errc::invalid_argument, "no model is loaded");
  if (opt.alternatives < 1 || opt.alternatives > 64)
    return make_error(Errc::invalid_argument, "alternatives must be 1 to 64, got {}", opt.alternatives);
  if (opt.settings.max_tokens < 0) return make_error(Errc::invalid_argument, "max_tokens must not be negative");
  std::lock_guard ck(compute_mu_);
  const auto B = static_cast<std::size_t>(opt.alternatives);
  const auto V = static_cast<std::size_t>(model_->info().n_vocab);
  const std::string key = model_->info().model_key;

  tree::Restored start;
  std::vector<tree::Node> drafts(B);
  std::vector<std::size_t> ords(B);
  std::size_t base_pos = 0;
  // The state of `from`: planned under the lock, read without it (a pasted
  // chapter takes seconds, and the UI must not wait for the lock meanwhile);
  // `from` cannot be removed while it is in generating_.
  auto reading = [&](std::size_t read, std::size_t total) {
    Event e;
    e.kind = Event::Kind::reading;
    e.read = read;
    e.to_read = total;
    if (on_event) on_event(e);
    return !(cancel && cancel->load());
  };
  tree::RestoreOptions ro;
  tree::ReplayPlan plan;
  {
    std::lock_guard lk(mu_);
    if (!tree_.contains(from)) return make_error(Errc::out_of_range, "no node {} to continue", from);
    ro = restore_options_locked(reading);
    WB_TRY(p, tree::plan_restore(*model_, tree_, cache_, from, std::nullopt, ro));
    if (p.start.pos == 0) return make_error(Errc::invalid_argument, "node {} has no text to continue from", from);
    plan = std::move(p);
    generating_.insert(from);
  }
  auto restored = tree::run_replay(*model_, std::move(plan), ro,
                                   [&](NodeId n, std::size_t p, const State& st, const std::vector<float>& l) {
                                     std::lock_guard lk(mu_);
                                     cache_.put(n, p, key, st, l);
                                   });
  {
    std::lock_guard lk(mu_);
    if (!restored) {
      generating_.erase(generating_.find(from));
      return restored.take_error();
    }
    start = std::move(*restored);
    base_pos = start.pos;
    std::string preset = sampling::to_preset(opt.settings);
    std::size_t n_kids = tree_.find(from)->children.size();
    for (std::size_t i = 0; i < B; ++i) {
      drafts[i].id = tree_.reserve_id();
      drafts[i].parent = from;
      drafts[i].origin = opt.origin;
      drafts[i].sampler = preset;
      drafts[i].seed = opt.settings.seed + i;
      drafts[i].created_ms = tree::now_ms();
      ords[i] = n_kids + i;
    }
  }
  flush_spills();

  std::vector<State> states(B, start.state);
  std::vector<float> logits(B * V);
  for (std::size_t i = 0; i < B; ++i) std::copy(start.logits.begin(), start.logits.end(), logits.begin() + i * V);
  std::vector<sampling::Sampler> samplers;
  for (std::size_t i = 0; i < B; ++i) {
    sampling::Settings s = opt.settings;
    s.seed = opt.settings.seed + i;
    samplers.emplace_back(s, static_cast<int>(V));
  }
  std::vector<midi::MusicBias> music;
  std::vector<float> shaped;
  if (opt.music) {
    midi::MusicVocab vocab;
    if (V != static_cast<std::size_t>(vocab.size())) {
      std::lock_guard lk(mu_);
      generating_.erase(generating_.find(from));
      return make_error(Errc::invalid_argument, "music generation needs a model of the {}-token music vocabulary, this one has {}",
                        vocab.size(), V);
    }
    midi::MusicBias bias(vocab);
    if (auto st = bias.allow_only_bins(opt.music_bins); !st) {
      std::lock_guard lk(mu_);
      generating_.erase(generating_.find(from));
      return st.take_error();
    }
    music.assign(B, bias);
    shaped.resize(V);
  }
  std::vector<double> music_ms(B, 0.0);
  const midi::MusicScheme scheme = midi::MusicScheme::standard();
  const double music_step_ms = scheme.wait_step_ms();
  const int music_waits = scheme.wait_events;
  std::vector<bool> active(B, true);
  // Generation checkpoints (StoryOptions::generation_checkpoint_every), spaced
  // so a 16,384-token generation's take at most 1/8 of the cache budget.
  std::size_t checkpoint_every = opt_.generation_checkpoint_every;
  if (checkpoint_every > 0) {
    const std::size_t snapshot_bytes = start.state.byte_size() + V * sizeof(float);
    checkpoint_every = std::max(checkpoint_every,
                                std::size_t{16384} * 8 * snapshot_bytes / std::max<std::size_t>(opt_.cache_budget, 1));
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t generated = 0;
  Status failure;

  std::vector<int32_t> step_tokens;
  std::vector<State*> step_states;
  std::vector<std::size_t> step_alts;
  std::vector<float> step_logits;
  auto next_draft_write = t0;  // the first token is written at once
  std::vector<project::Project::DraftMark> drafts_written(B);
  for (int step = 0; step < opt.settings.max_tokens; ++step) {
    if (cancel && cancel->load()) break;
    step_tokens.clear();
    step_states.clear();
    step_alts.clear();
    std::vector<bool> stops(B, false);
    for (std::size_t i = 0; i < B; ++i) {
      if (!active[i]) continue;
      std::span<const float> li(logits.data() + i * V, V);
      if (opt.music) {
        std::copy(li.begin(), li.end(), shaped.begin());
        music[i].apply(shaped);
        li = std::span<const float>(shaped);
      }
      int32_t tok = samplers[i].sample(li);
      if (opt.music && tok == midi::MusicVocab::kPad) {
        active[i] = false;  // the model ended the piece
        continue;
      }
      samplers[i].accept(tok);
      if (opt.music) {
        music[i].accept(tok);
        if (tok >= midi::MusicVocab::kFirstWait && tok < midi::MusicVocab::kFirstWait + music_waits)
          music_ms[i] += (tok - midi::MusicVocab::kFirstWait + 1) * music_step_ms;
        if (opt.music_max_seconds > 0 && music_ms[i] >= opt.music_max_seconds * 1000.0) stops[i] = true;
      }
      Event e;
      e.kind = Event::Kind::token;
      e.alt = static_cast<int>(i);
      e.token = tok;
      e.piece = codec_.piece(tok);
      e.top = sampling::top_probs(li, opt.settings.top_alternatives);
      tree::Node& d = drafts[i];
      std::size_t before = d.text.size();
      d.text += e.piece;
      d.tokens.push_back(tok);
      d.alternatives.push_back(e.top);
      for (const std::string& stop : opt.settings.stop) {
        if (stop.empty()) continue;
        std::size_t from_byte = before >= stop.size() ? before - stop.size() + 1 : 0;
        if (d.text.find(stop, from_byte) != std::string::npos) stops[i] = true;
      }
      ++generated;
      e.tokens_per_s = generated / std::max(1e-9, ms_since(t0) / 1000.0);
      if (on_event) on_event(e);
      step_tokens.push_back(tok);
      step_states.push_back(&states[i]);
      step_alts.push_back(i);
    }
    if (step_tokens.empty()) break;
    // Read the sampled tokens so each state includes its last token (the
    // snapshot of the new node must) and the next logits are ready.
    step_logits.resize(step_tokens.size() * V);
    auto st = model_->decode(step_tokens, step_states, step_logits);
    if (!st) {
      failure = std::move(st);
      break;
    }
    for (std::size_t k = 0; k < step_alts.size(); ++k)
      std::copy(step_logits.begin() + k * V, step_logits.begin() + (k + 1) * V, logits.begin() + step_alts[k] * V);
    // States inside the growing nodes, so a branch at one of their tokens later
    // replays at most checkpoint_every tokens (restore_state finds them by position).
    for (std::size_t i : step_alts) {
      const std::size_t n = drafts[i].tokens.size();
      if (checkpoint_every == 0 || n % checkpoint_every != 0) continue;
      {
        std::lock_guard lk(mu_);
        cache_.put(drafts[i].id, base_pos + n, key, states[i], std::span<const float>(logits.data() + i * V, V));
      }
      flush_spills();
    }
    for (std::size_t i = 0; i < B; ++i)
      if (stops[i]) active[i] = false;
    // Write the growing drafts so a killed process keeps them: what each
    // gained since the last write, every kDraftWriteInterval (or less often
    // when a write takes longer than 1/kDraftWriteShare of that). Writing the
    // whole drafts after every token made a continuation quadratic (8,000
    // tokens ran at a third of the speed of 2,000).
    if (std::chrono::steady_clock::now() >= next_draft_write) {
      if (const StepGate* g = model_->step_gate()) g->pass();  // a long write is a step too
      const auto w0 = std::chrono::steady_clock::now();
      auto ws = project_->write_drafts(drafts, ords, drafts_written);
      if (!ws) {
        failure = std::move(ws);
        break;
      }
      const auto done = std::chrono::steady_clock::now();
      next_draft_write = done + std::max<std::chrono::steady_clock::duration>(kDraftWriteInterval,
                                                                              (done - w0) * kDraftWriteShare);
    }
  }

  // Accept what was generated (also after a cancel), one undo step per node.
  std::vector<NodeId> out;
  {
    std::lock_guard lk(mu_);
    generating_.erase(generating_.find(from));
    for (std::size_t i = 0; i < B; ++i) {
      if (drafts[i].tokens.empty()) {
        (void)project_->delete_node_row(drafts[i].id);
        continue;
      }
      std::size_t pos = base_pos + drafts[i].tokens.size();
      NodeId id = drafts[i].id;
      WB_TRY(added, tree_.append(from, std::move(drafts[i])));
      (void)added;
      cache_.put(id, pos, key, states[i], std::span<const float>(logits.data() + i * V, V));
      out.push_back(id);
    }
    WB_CHECK(sync_locked());
  }
  WB_CHECK(store_snapshots());
  for (NodeId id : out) {
    Event e;
    e.kind = Event::Kind::node;
    e.node = id;
    if (on_event) on_event(e);
  }
  if (!failure) return failure.take_error();
  Event fin;
  fin.kind = Event::Kind::finished;
  fin.tokens_per_s = generated / std::max(1e-9, ms_since(t0) / 1000.0);
  if (on_event) on_event(fin);
  return out;
}

// ---- GenerationSession ----

std::unique_ptr<GenerationSession> GenerationSession::start(Story& story, NodeId from, GenerateOptions opt) {
  std::unique_ptr<GenerationSession> s(new GenerationSession());
  GenerationSession* self = s.get();
  s->worker_ = std::thread([self, &story, from, opt = std::move(opt)] {
    auto push = [self](const Event& e) {
      std::lock_guard lk(self->mu_);
      self->queue_.push_back(e);
      self->cv_.notify_all();
    };
    auto r = story.continue_from(from, opt, push, &self->cancel_);
    if (!r && r.error().code != Errc::cancelled) {  // a cancel is no error; join() still says what happened
      Event e;
      e.kind = Event::Kind::error;
      e.message = r.error().message;
      push(e);
    }
    std::lock_guard lk(self->mu_);
    self->result_.emplace(std::move(r));
    self->finished_ = true;
    self->cv_.notify_all();
  });
  return s;
}

GenerationSession::~GenerationSession() {
  cancel_ = true;
  if (worker_.joinable()) worker_.join();
}

std::vector<Event> GenerationSession::poll() {
  std::lock_guard lk(mu_);
  std::vector<Event> out;
  out.swap(queue_);
  return out;
}

bool GenerationSession::wait_event(Event& out, int timeout_ms) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return !queue_.empty() || finished_; });
  if (queue_.empty()) return false;
  out = std::move(queue_.front());
  queue_.erase(queue_.begin());
  return true;
}

Result<std::vector<NodeId>> GenerationSession::join() {
  if (worker_.joinable()) worker_.join();
  std::lock_guard lk(mu_);
  if (!result_) return make_error(Errc::internal, "generation session has no result");
  return std::move(*result_);
}

}  // namespace wb::session
