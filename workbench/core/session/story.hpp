// A story: the tree, its project file, the snapshot cache and (optionally) a
// model, behind one API that the CLI, the GUI and plugins share.
//
//   WB_TRY(project, wb::project::Project::create("novel.wbstory"));
//   WB_TRY(story, wb::session::Story::attach(std::move(project), model.get(), wb::session::byte_codec(), {}));
//   WB_TRY(a, story->append(story->tree_root(), "The lighthouse keeper"));
//   wb::session::GenerateOptions g; g.settings.max_tokens = 64; g.alternatives = 4;
//   WB_TRY(kids, story->continue_from(a, g, on_event, nullptr));   // blocking; or a GenerationSession
//   WB_TRY(sw, story->switch_to(kids[2]));                          // instant when snapshotted
//
// Every change is written to the project file before the call returns; a
// generation in flight writes what it gained every 0.1 s (appended parts, see
// Project::write_drafts), so a killed process loses at most the tokens of the
// last fraction of a second. Thread safety: every method may be called
// from any thread; calls are serialised. A generation holds the model for its
// whole run, so switch_to() (which may need the model) waits for it; tree
// edits and reads do not wait for the model.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/model/model.hpp"
#include "core/project/project.hpp"
#include "core/sampling/sampler.hpp"
#include "core/session/codec.hpp"
#include "core/tree/restore.hpp"
#include "core/tree/snapshot_cache.hpp"
#include "core/tree/tree.hpp"

namespace wb::session {

using tree::NodeId;

struct StoryOptions {
  std::size_t cache_budget = 256u << 20;  // bytes of snapshots kept in memory
  std::size_t checkpoint_every = 0;       // extra checkpoints every K tokens inside long nodes (replays)
  // A generation keeps the state every K tokens it writes (in memory, within the
  // budget), so branching at a token inside a long generated node replays at most
  // K tokens instead of the node's whole text. K is at least this, and larger for
  // big states: a 16,384-token generation's checkpoints take at most 1/8 of
  // cache_budget. 0: none.
  std::size_t generation_checkpoint_every = 256;
  bool store_snapshots = true;            // compressed snapshots of leaves, bookmarks and current in the file
  // Node snapshots pushed out of memory by the budget go to the file instead
  // of being lost (checkpoints inside nodes are simply dropped).
  bool spill_to_file = true;
};

struct GenerateOptions {
  sampling::Settings settings;  // max_tokens is the length of each continuation; alternative i uses seed + i
  int alternatives = 1;
  std::string origin = "model";
  // Music (a 20096-token RWKV MIDI model): each alternative gets the RWKV music
  // demo's logit shaping (core/midi/music_bias: decaying repetition penalty,
  // end-of-piece nudge counted from this continuation's first token) before
  // its sampler; note tokens of instrument bins not in `music_bins` are masked
  // (empty: every bin); a sampled <pad>, the model's end of piece, ends the
  // alternative and is not stored.
  bool music = false;
  std::vector<int> music_bins;
  double music_max_seconds = 0;  // music: an alternative ends once its waits reach this (0: no limit)
};

struct Event {
  // reading: the text before the start is being read first (a deferred switch
  // or a state not at hand): `read` of `to_read` tokens so far.
  enum class Kind { token, node, finished, error, reading } kind = Kind::token;
  int alt = 0;                          // which alternative (0..N-1)
  int32_t token = 0;
  std::string piece;                    // the token's text
  std::vector<sampling::TokenProb> top; // the model's most likely tokens at this step
  double tokens_per_s = 0;              // all alternatives together, since the start
  NodeId node = tree::kNoNode;          // node: the accepted child
  std::string message;                  // error
  std::size_t read = 0, to_read = 0;    // reading
};
using EventFn = std::function<void(const Event&)>;

struct SwitchInfo {
  std::size_t recomputed_tokens = 0;
  double ms = 0;
  bool deferred = false;  // switched without computing the state (the next generation does)
};

class Story {
 public:
  static Result<std::unique_ptr<Story>> attach(std::unique_ptr<project::Project> project, Model* model,
                                               TextCodec codec, StoryOptions opt);

  // ---- reading (copies, so they are safe while a generation runs) ----
  NodeId tree_root() const { return tree::kRootId; }
  tree::Tree tree_copy() const;
  std::optional<tree::Node> node(NodeId id) const;
  std::string path_text(NodeId id) const;
  NodeId current() const;
  // Grows with every change to the tree (from any caller: the GUI, plugins,
  // generation), so a viewer copies the tree only when it changed.
  uint64_t revision() const { return revision_.load(std::memory_order_relaxed); }
  std::size_t cache_bytes() const;
  std::size_t cache_count() const;
  Model* model() const { return model_; }
  const TextCodec& codec() const { return codec_; }
  project::Project& project() { return *project_; }

  // ---- changes (each undoable, each written at once) ----
  Result<NodeId> append(NodeId parent, std::string_view text, std::string origin = "user");
  // Non-destructive edit: the text of `id` from byte `offset` on is replaced
  // by `text` in a new branch (the split happens at the last token boundary at
  // or before `offset`). Returns the new node.
  Result<NodeId> edit(NodeId id, std::size_t offset, std::string_view text);
  Status remove(NodeId id);
  Status move_sibling(NodeId id, std::size_t index);
  Status set_label(NodeId id, std::string label);
  Status set_bookmark(NodeId id, bool on);
  Status set_metadata(NodeId id, std::string metadata);
  Status undo();
  Status redo();

  // Makes `id` current with its state ready (restores it now); with
  // compute = false only makes it current: the state is restored when it is
  // next needed (a generation from it restores on its worker).
  Result<SwitchInfo> switch_to(NodeId id, bool compute = true);
  // Tokens a restore of `id` would replay now (0: its state is at hand). An
  // estimate from what is in memory and in the file; computes nothing.
  std::size_t replay_estimate(NodeId id);
  // The state after `id` (or after `pos` tokens of its path); for tests, benchmarks and plugins.
  Result<tree::Restored> state_at(NodeId id, std::optional<std::size_t> pos = std::nullopt);

  // Natural-log likelihood of each token sequence read right after `id`,
  // decoded as one batch (step t feeds token t of every sequence still
  // going). Defined in story_score.cpp.
  Result<std::vector<double>> score(NodeId id, const std::vector<std::vector<int32_t>>& continuations);

  // Generates opt.alternatives continuations of `from` as one batch. Blocks;
  // `on_event` is called on this thread. `cancel` (may be null) is checked
  // between tokens; what was generated before a cancel is kept. When the state
  // of `from` must be read first, `reading` events report it every 256 tokens
  // and a cancel then returns Errc::cancelled.
  Result<std::vector<NodeId>> continue_from(NodeId from, const GenerateOptions& opt, const EventFn& on_event,
                                            const std::atomic<bool>* cancel);

  // Drops a node's in-memory snapshots (benchmarks, tests, memory pressure).
  void forget_snapshot(NodeId id);

  // Writes snapshots of leaves, bookmarks and the current node that are in
  // memory but not yet in the file.
  Status store_snapshots();

  ~Story();  // writes node snapshots still queued for the file

  // "txt": the path's text; "md": a Markdown document with the title.
  Result<std::string> export_path(NodeId id, std::string_view format) const;

 private:
  Story() = default;
  Status sync_locked();
  Result<tree::Restored> restore_locked(NodeId id, std::optional<std::size_t> pos);
  // Restore options for this story: its checkpoints, stored snapshots filled
  // from the file (used under mu_), and `progress` (see RestoreOptions).
  tree::RestoreOptions restore_options_locked(std::function<bool(std::size_t read, std::size_t total)> progress);
  // Writes the node snapshots the cache pushed out (queued under mu_ by the
  // spill callback) to the file; called without mu_, after operations that
  // fill the cache, so no thread waits on the lock while zlib runs.
  void flush_spills();
  // Writes one snapshot to the file (called without mu_) and records it as stored.
  Status save_snapshot_unlocked(const tree::Snapshot& s);
  bool generating_from_missing_locked() const;

  mutable std::mutex mu_;   // tree, cache, current
  std::atomic<uint64_t> revision_{0};
  std::mutex compute_mu_;   // the model: one computation at a time
  std::unique_ptr<project::Project> project_;
  Model* model_ = nullptr;
  TextCodec codec_;
  StoryOptions opt_;
  tree::Tree tree_;
  tree::SnapshotCache cache_;
  std::atomic<NodeId> current_{tree::kRootId};  // written under mu_; read without it (the UI, every frame)
  std::set<std::pair<NodeId, std::size_t>> stored_;  // snapshots in the file for this model
  std::multiset<NodeId> generating_;  // start nodes of generations in flight
  mutable std::atomic<std::size_t> cache_bytes_seen_{0}, cache_count_seen_{0};  // see cache_bytes()
  std::vector<tree::Snapshot> spills_;  // pushed out of the cache, not yet in the file (see flush_spills)
};

// Runs Story::continue_from on a worker thread; the caller never blocks.
//
//   auto s = wb::session::GenerationSession::start(*story, node, opt);
//   while (!s->finished()) for (auto& e : s->poll()) show(e);   // or wait_event()
//   s->cancel();                                                  // between tokens
//   WB_TRY(kids, s->join());
class GenerationSession {
 public:
  static std::unique_ptr<GenerationSession> start(Story& story, NodeId from, GenerateOptions opt);
  ~GenerationSession();  // cancels and joins

  std::vector<Event> poll();                 // the events so far, never blocks
  bool wait_event(Event& out, int timeout_ms);
  void cancel() { cancel_ = true; }
  bool finished() const { return finished_; }
  Result<std::vector<NodeId>> join();

 private:
  GenerationSession() = default;
  std::thread worker_;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> finished_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> queue_;
  std::optional<Result<std::vector<NodeId>>> result_;
};

}  // namespace wb::session
