// Model states (plus the logits that follow them) kept for tree nodes, under a
// byte budget, least recently used out first.
//
//   wb::tree::SnapshotCache cache(256 << 20);            // 256 MiB
//   cache.put(node, pos, model.info().model_key, state, logits);
//   if (const Snapshot* s = cache.get(node, pos, model_key)) use(s->state);
//
// An entry is keyed by (node id, position): "the state after the first `pos`
// tokens of the path from the root to `node`". pos == the node's full path
// length is the node's own snapshot; smaller positions are checkpoints inside
// long nodes. Because a node's path never changes meaning (see tree.hpp), an
// entry stays valid through splits, undo and redo.
//
// Entries remember the model_key they were computed with; a lookup with
// another key never returns them (they are dropped), so a snapshot is never
// used with the wrong weights.
#pragma once
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/model/model.hpp"
#include "core/tree/tree.hpp"

namespace wb::tree {

struct Snapshot {
  NodeId node = kNoNode;
  std::size_t pos = 0;
  std::string model_key;
  State state;
  std::vector<float> logits;
  std::size_t bytes() const { return state.byte_size() + logits.size() * sizeof(float); }
};

class SnapshotCache {
 public:
  explicit SnapshotCache(std::size_t budget_bytes = 256u << 20) : budget_(budget_bytes) {}

  // Stores (replacing an entry with the same key), then evicts least recently
  // used entries until the total fits the budget. An entry bigger than the
  // whole budget is not kept. Returns whether it was kept.
  bool put(NodeId node, std::size_t pos, const std::string& model_key, const State& state,
           std::span<const float> logits);
  // Marks the entry as just used. nullptr when absent or computed with another model.
  const Snapshot* get(NodeId node, std::size_t pos, const std::string& model_key);
  // The deepest entry for `node` at a position <= max_pos, as get().
  const Snapshot* best_at_or_before(NodeId node, std::size_t max_pos, const std::string& model_key);
  bool contains(NodeId node, std::size_t pos) const;

  // Called with each entry the budget pushes out, before it is dropped (the
  // Story spills node snapshots to the project file this way); the callback
  // may move the entry's data out.
  void set_spill(std::function<void(Snapshot&&)> spill) { spill_ = std::move(spill); }

  void erase_node(NodeId node);  // all positions of a node
  // Entries of `from` at positions <= max_pos now belong to `to` (a node split
  // in two: the states inside its front part describe the new front node).
  void rekey(NodeId from, NodeId to, std::size_t max_pos);
  void clear();
  void set_budget(std::size_t bytes);

  std::size_t budget() const { return budget_; }
  std::size_t bytes() const { return bytes_; }
  std::size_t count() const { return lru_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  using Lru = std::list<Snapshot>;
  void evict_to_fit();
  void erase(Lru::iterator it);
  void unindex(NodeId node, std::size_t pos);  // drops the index entry only

  std::size_t budget_;
  std::size_t bytes_ = 0;
  uint64_t evictions_ = 0;
  std::function<void(Snapshot&&)> spill_;
  Lru lru_;  // front: most recently used
  std::unordered_map<NodeId, std::map<std::size_t, Lru::iterator>> index_;
};

}  // namespace wb::tree
