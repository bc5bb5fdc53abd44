// The branching story tree: nodes of text + tokens, every change undoable.
//
//   wb::tree::Tree t;                                   // holds the root (id 1, empty)
//   wb::tree::Node n; n.text = "Once"; n.tokens = {..}; n.origin = "user";
//   WB_TRY(a, t.append(t.root(), std::move(n)));        // a child of the root
//   WB_TRY(b, t.append(t.root(), other));               // a fork: another child
//   WB_CHECK(t.undo());                                 // b is gone
//   WB_CHECK(t.redo());                                 // b is back, same id
//   std::string text = t.path_text(a);                  // root..a concatenated
//
// Node content is immutable per id in the sense that matters to the state
// tree: "the model state after node X" never changes meaning. Splitting a node
// (for a non-destructive edit) keeps the id on the part that ends where the
// node ended and gives the front part a new id, so snapshots keyed by id stay
// valid through splits, undo and redo. Ids are never reused.
//
// The tree is not thread-safe; the Story facade serialises access.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/sampling/sampler.hpp"
#include "core/util/result.hpp"

namespace wb::tree {

using NodeId = uint64_t;
inline constexpr NodeId kNoNode = 0;
inline constexpr NodeId kRootId = 1;

struct Node {
  NodeId id = kNoNode;
  NodeId parent = kNoNode;
  std::vector<NodeId> children;  // in display order
  std::string text;              // what this node adds to its path (raw bytes, normally UTF-8)
  std::vector<int32_t> tokens;   // text's tokens
  std::string origin = "user";   // "user", "model", or a plugin id
  std::string sampler;           // settings used (sampling::to_preset form); empty for user text
  uint64_t seed = 0;
  // Per generated token, the most likely tokens with their probabilities.
  std::vector<std::vector<sampling::TokenProb>> alternatives;
  int64_t created_ms = 0;        // Unix time in milliseconds
  std::string label;
  bool bookmark = false;
  std::string metadata;          // free-form (JSON by convention) for plugins
};

class Tree {
 public:
  Tree();

  NodeId root() const { return kRootId; }
  const Node* find(NodeId id) const;
  bool contains(NodeId id) const { return find(id) != nullptr; }
  std::size_t size() const { return nodes_.size(); }
  std::vector<NodeId> ids() const;  // every node, parents before children

  // Root first, `id` last. Empty when id does not exist.
  std::vector<NodeId> path_to_root(NodeId id) const;
  std::string path_text(NodeId id) const;
  std::size_t path_tokens(NodeId id) const;  // tokens from the root through id
  std::vector<NodeId> find_by_label(std::string_view label) const;
  std::vector<NodeId> leaves() const;

  // ---- Operations (each one undoable) ----
  // Adds `node` as the last child of `parent`. node.id is assigned unless it is
  // an id obtained from reserve_id(). created_ms is set when zero.
  Result<NodeId> append(NodeId parent, Node node);
  // Splits `id` after `n_tokens` of its tokens / `n_bytes` of its text: a new
  // node takes the front part and becomes the parent of `id`. Returns the new
  // front node. Both counts must be inside the node (0 < n < size).
  Result<NodeId> split(NodeId id, std::size_t n_tokens, std::size_t n_bytes);
  // The non-destructive edit: replaces what `id` says from token `n_tokens` /
  // byte `n_bytes` on with `replacement` as a new branch; the original text
  // stays as a sibling branch. With n_tokens == 0 the branch forks from the
  // parent. Returns the new node. One undo step.
  Result<NodeId> edit(NodeId id, std::size_t n_tokens, std::size_t n_bytes, Node replacement);
  Status remove_subtree(NodeId id);                    // not the root
  Status move_sibling(NodeId id, std::size_t new_index);
  Status set_label(NodeId id, std::string label);
  Status set_bookmark(NodeId id, bool on);
  Status set_metadata(NodeId id, std::string metadata);

  bool can_undo() const { return !undo_.empty(); }
  bool can_redo() const { return !redo_.empty(); }
  Status undo();
  Status redo();

  // An id for a node that will be appended later (a generation in flight is
  // written to the project under this id before it is accepted).
  NodeId reserve_id() { return next_id_++; }
  NodeId next_id() const { return next_id_; }

  // Ids whose stored form changed (added, changed or removed) since the last
  // call; the project file writes these. Removed ids are those no longer found.
  std::vector<NodeId> take_dirty();

  // Rebuilds a tree from loaded nodes (project file, JSON import). Checks
  // that parents exist, that there are no cycles, that ids are unique and that
  // children lists agree with parents. Clears undo history.
  static Result<Tree> from_nodes(std::vector<Node> nodes);

 private:
  // One reversible change; a Record (one user action) holds several.
  struct Op {
    enum Kind { add, remove, split, move, set_label, set_bookmark, set_metadata } kind;
    Op(Kind k, std::vector<Node> n) : kind(k), nodes(std::move(n)) {}
    std::vector<Node> nodes;   // add: [node]; remove: subtree preorder; split: [front, original-before]
    NodeId id = kNoNode;
    std::size_t index = 0;     // position in the parent's children (add/remove/move from)
    std::size_t index2 = 0;    // move: to
    std::string s_old, s_new;
    bool b_old = false, b_new = false;
  };
  using Record = std::vector<Op>;

  Node* get(NodeId id);
  void apply(const Op& op, bool forward);
  void insert_node(Node n, std::size_t index);
  void erase_leaf(NodeId id);
  void mark(NodeId id) { dirty_.insert(id); }
  void mark_children(NodeId parent);
  void commit(Record r);

  std::unordered_map<NodeId, Node> nodes_;
  NodeId next_id_ = kRootId + 1;
  std::vector<Record> undo_, redo_;
  std::unordered_set<NodeId> dirty_;
};

int64_t now_ms();

}  // namespace wb::tree
