// Making a node's model state available: from its snapshot when there is one,
// otherwise by replaying only the tokens after the nearest snapshotted point
// on its path.
//
//   wb::tree::RestoreOptions opt; opt.checkpoint_every = 512;
//   WB_TRY(r, wb::tree::restore_state(model, tree, cache, node, std::nullopt, opt));
//   // r.state, r.logits: ready to sample the token after `node`
//   // r.recomputed_tokens: 0 when node had a snapshot
//
// Replaying stores a snapshot at every node boundary it crosses (those nodes
// are on the active path) and, with checkpoint_every = K, one every K tokens
// inside long nodes, so "regenerate from this token" replays at most K tokens.
#pragma once
#include <functional>
#include <optional>

#include "core/model/model.hpp"
#include "core/tree/snapshot_cache.hpp"
#include "core/tree/tree.hpp"

namespace wb::tree {

struct RestoreOptions {
  std::size_t checkpoint_every = 0;     // 0: no checkpoints inside nodes
  bool snapshot_path_nodes = true;      // keep a snapshot at each node boundary replayed
  // Asked for a node on the path (deepest first) when the cache has nothing
  // for it: may put a stored snapshot into the cache (the project file does).
  std::function<void(NodeId node, std::size_t pos)> fill;
  // Called after every `progress_every` tokens read (and at the end) with the
  // tokens read so far and the number to read; returning false stops the read
  // with Errc::cancelled. What was read up to the last node end or checkpoint
  // stays in the cache, so a later restore goes on from there.
  std::size_t progress_every = 0;
  std::function<bool(std::size_t read, std::size_t total)> progress;
};

struct Restored {
  State state;
  std::vector<float> logits;           // empty when pos == 0 (nothing read yet)
  std::size_t pos = 0;                 // tokens from the root
  std::size_t recomputed_tokens = 0;
};

// `pos`: tokens from the root along node's path (default: all of it). The
// state after the first `pos` tokens is returned.
Result<Restored> restore_state(Model& model, const Tree& tree, SnapshotCache& cache, NodeId node,
                               std::optional<std::size_t> pos, const RestoreOptions& opt);

// The same in two steps, so a caller that guards the tree and the cache with a
// lock need not hold it while the model reads (a pasted chapter takes seconds):
// plan_restore (locked) finds the starting snapshot and copies the tokens to
// read; run_replay (unlocked) reads them and hands each state to keep (node
// ends, checkpoints, the end) for the caller to put in the cache under its lock.
struct ReplaySegment {
  NodeId node = kNoNode;
  std::size_t end = 0;          // position after the segment
  std::vector<int32_t> tokens;
  bool keep = false;            // a node end, checkpoint or the target: cache it
};
struct ReplayPlan {
  Restored start;               // the state to read from (pos: the target)
  std::vector<ReplaySegment> segments;
};
Result<ReplayPlan> plan_restore(Model& model, const Tree& tree, SnapshotCache& cache, NodeId node,
                                std::optional<std::size_t> pos, const RestoreOptions& opt);
using KeepFn = std::function<void(NodeId node, std::size_t pos, const State& state, const std::vector<float>& logits)>;
// Reads the plan (opt.progress and progress_every as for restore_state) and
// returns the restored state.
Result<Restored> run_replay(Model& model, ReplayPlan plan, const RestoreOptions& opt, const KeepFn& keep);

}  // namespace wb::tree
