#include "core/tree/tree.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace wb::tree {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Tree::Tree() {
  Node r;
  r.id = kRootId;
  r.origin = "root";
  r.created_ms = now_ms();
  nodes_.emplace(kRootId, std::move(r));
  mark(kRootId);
}

const Node* Tree::find(NodeId id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

Node* Tree::get(NodeId id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<NodeId> Tree::ids() const {
  std::vector<NodeId> out;
  std::vector<NodeId> stack{kRootId};
  while (!stack.empty()) {
    NodeId id = stack.back();
    stack.pop_back();
    const Node* n = find(id);
    if (!n) continue;
    out.push_back(id);
    for (auto it = n->children.rbegin(); it != n->children.rend(); ++it) stack.push_back(*it);
  }
  return out;
}

std::vector<NodeId> Tree::path_to_root(NodeId id) const {
  std::vector<NodeId> p;
  for (const Node* n = find(id); n; n = find(n->parent)) {
    p.push_back(n->id);
    if (p.size() > nodes_.size()) return {};  // defensive: from_nodes rules out cycles
  }
  std::reverse(p.begin(), p.end());
  return p;
}

std::string Tree::path_text(NodeId id) const {
  std::string s;
  for (NodeId n : path_to_root(id)) s += find(n)->text;
  return s;
}

std::size_t Tree::path_tokens(NodeId id) const {
  std::size_t k = 0;
  for (NodeId n : path_to_root(id)) k += find(n)->tokens.size();
  return k;
}

std::vector<NodeId> Tree::find_by_label(std::string_view label) const {
  std::vector<NodeId> out;
  for (NodeId id : ids())
    if (find(id)->label == label) out.push_back(id);
  return out;
}

std::vector<NodeId> Tree::leaves() const {
  std::vector<NodeId> out;
  for (NodeId id : ids())
    if (find(id)->children.empty()) out.push_back(id);
  return out;
}

void Tree::mark_children(NodeId parent) {
  mark(parent);
  if (const Node* p = find(parent))
    for (NodeId c : p->children) mark(c);
}

void Tree::insert_node(Node n, std::size_t index) {
  Node* p = get(n.parent);
  index = std::min(index, p->children.size());
  p->children.insert(p->children.begin() + static_cast<std::ptrdiff_t>(index), n.id);
  NodeId id = n.id;
  nodes_[id] = std::move(n);
  mark_children(p->id);
}

void Tree::erase_leaf(NodeId id) {
  Node* n = get(id);
  Node* p = get(n->parent);
  auto& ch = p->children;
  ch.erase(std::remove(ch.begin(), ch.end(), id), ch.end());
  nodes_.erase(id);
  mark(id);
  mark_children(p->id);
}

void Tree::apply(const Op& op, bool forward) {
  switch (op.kind) {
    case Op::add:
      if (forward) insert_node(op.nodes[0], op.index);
      else erase_leaf(op.id);
      break;
    case Op::remove:
      if (forward) {
        for (auto it = op.nodes.rbegin(); it != op.nodes.rend(); ++it) {
          mark(it->id);
          if (it->id != op.id) nodes_.erase(it->id);
        }
        erase_leaf(op.id);  // its children are gone from the map; erase it from its parent
      } else {
        for (const Node& n : op.nodes) {
          if (n.id == op.id) continue;
          nodes_[n.id] = n;
          mark(n.id);
        }
        insert_node(op.nodes.front(), op.index);
      }
      break;
    case Op::split: {
      const Node& front = op.nodes[0];
      const Node& before = op.nodes[1];
      Node* parent = get(before.parent);
      if (forward) {
        std::replace(parent->children.begin(), parent->children.end(), before.id, front.id);
        nodes_[front.id] = front;
        Node* orig = get(before.id);
        std::size_t nt = front.tokens.size(), nb = front.text.size();
        orig->parent = front.id;
        orig->text = before.text.substr(nb);
        orig->tokens.assign(before.tokens.begin() + static_cast<std::ptrdiff_t>(nt), before.tokens.end());
        orig->alternatives.clear();
        if (before.alternatives.size() > nt)
          orig->alternatives.assign(before.alternatives.begin() + static_cast<std::ptrdiff_t>(nt),
                                    before.alternatives.end());
      } else {
        std::replace(parent->children.begin(), parent->children.end(), front.id, before.id);
        nodes_.erase(front.id);
        nodes_[before.id] = before;
      }
      mark(front.id);
      mark(before.id);
      mark_children(before.parent);
      break;
    }
    case Op::move: {
      Node* n = get(op.id);
      Node* p = get(n->parent);
      auto& ch = p->children;
      std::size_t from = forward ? op.index : op.index2, to = forward ? op.index2 : op.index;
      ch.erase(ch.begin() + static_cast<std::ptrdiff_t>(from));
      ch.insert(ch.begin() + static_cast<std::ptrdiff_t>(to), op.id);
      mark_children(p->id);
      break;
    }
    case Op::set_label: get(op.id)->label = forward ? op.s_new : op.s_old; mark(op.id); break;
    case Op::set_metadata: get(op.id)->metadata = forward ? op.s_new : op.s_old; mark(op.id); break;
    case Op::set_bookmark: get(op.id)->bookmark = forward ? op.b_new : op.b_old; mark(op.id); break;
  }
}

void Tree::commit(Record r) {
  for (const Op& op : r) apply(op, true);
  undo_.push_back(std::move(r));
  redo_.clear();
}

Result<NodeId> Tree::append(NodeId parent, Node node) {
  const Node* p = find(parent);
  if (!p) return make_error(Errc::out_of_range, "no node {} to append to", parent);
  if (node.id == kNoNode) node.id = next_id_++;
  else if (node.id >= next_id_ || contains(node.id))
    return make_error(Errc::invalid_argument, "node id {} was not reserved or is taken", node.id);
  node.parent = parent;
  node.children.clear();
  if (node.created_ms == 0) node.created_ms = now_ms();
  Op op{Op::add, {std::move(node)}};
  op.id = op.nodes[0].id;
  op.index = p->children.size();
  NodeId id = op.id;
  commit({std::move(op)});
  return id;
}

Result<NodeId> Tree::split(NodeId id, std::size_t n_tokens, std::size_t n_bytes) {
  const Node* n = find(id);
  if (!n || id == kRootId) return make_error(Errc::out_of_range, "no node {} to split", id);
  if (n_tokens == 0 || n_tokens >= n->tokens.size() || n_bytes == 0 || n_bytes >= n->text.size())
    return make_error(Errc::out_of_range, "split point {} tokens / {} bytes is not inside node {} ({} tokens, {} bytes)",
                      n_tokens, n_bytes, id, n->tokens.size(), n->text.size());
  Node front;
  front.id = next_id_++;
  front.parent = n->parent;
  front.children = {id};
  front.text = n->text.substr(0, n_bytes);
  front.tokens.assign(n->tokens.begin(), n->tokens.begin() + static_cast<std::ptrdiff_t>(n_tokens));
  if (!n->alternatives.empty())
    front.alternatives.assign(n->alternatives.begin(),
                              n->alternatives.begin() + static_cast<std::ptrdiff_t>(std::min(n_tokens, n->alternatives.size())));
  front.origin = n->origin;
  front.sampler = n->sampler;
  front.seed = n->seed;
  front.created_ms = n->created_ms;
  Op op{Op::split, {std::move(front), *n}};
  op.id = id;
  NodeId fid = op.nodes[0].id;
  commit({std::move(op)});
  return fid;
}

Result<NodeId> Tree::edit(NodeId id, std::size_t n_tokens, std::size_t n_bytes, Node replacement) {
  const Node* n = find(id);
  if (!n || id == kRootId) return make_error(Errc::out_of_range, "no node {} to edit", id);
  if (n_tokens > n->tokens.size() || n_bytes > n->text.size() || (n_tokens == 0) != (n_bytes == 0))
    return make_error(Errc::out_of_range, "edit point {} tokens / {} bytes is outside node {}", n_tokens, n_bytes, id);
  NodeId parent = n->parent;
  Record r;
  if (n_tokens == n->tokens.size()) {
    parent = id;
  } else if (n_tokens > 0) {
    // Build the split op by hand so split + add are one undo step.
    auto fr = split(id, n_tokens, n_bytes);
    if (!fr) return fr.take_error();
    r = std::move(undo_.back());
    undo_.pop_back();
    parent = *fr;
  }
  const Node* p = find(parent);
  if (replacement.id == kNoNode) replacement.id = next_id_++;
  replacement.parent = parent;
  replacement.children.clear();
  if (replacement.created_ms == 0) replacement.created_ms = now_ms();
  Op add{Op::add, {std::move(replacement)}};
  add.id = add.nodes[0].id;
  add.index = p->children.size();
  NodeId nid = add.id;
  apply(add, true);
  r.push_back(std::move(add));
  undo_.push_back(std::move(r));
  redo_.clear();
  return nid;
}

Status Tree::remove_subtree(NodeId id) {
  const Node* n = find(id);
  if (!n) return make_error(Errc::out_of_range, "no node {} to delete", id);
  if (id == kRootId) return make_error(Errc::invalid_argument, "the root cannot be deleted");
  Op op{Op::remove, {}};
  op.id = id;
  const auto& sib = find(n->parent)->children;
  op.index = static_cast<std::size_t>(std::find(sib.begin(), sib.end(), id) - sib.begin());
  std::vector<NodeId> stack{id};
  while (!stack.empty()) {
    const Node* c = find(stack.back());
    stack.pop_back();
    op.nodes.push_back(*c);
    for (auto it = c->children.rbegin(); it != c->children.rend(); ++it) stack.push_back(*it);
  }
  commit({std::move(op)});
  return {};
}

Status Tree::move_sibling(NodeId id, std::size_t new_index) {
  const Node* n = find(id);
  if (!n || id == kRootId) return make_error(Errc::out_of_range, "no node {} to move", id);
  const auto& sib = find(n->parent)->children;
  if (new_index >= sib.size())
    return make_error(Errc::out_of_range, "position {} is past node {}'s {} siblings", new_index, id, sib.size());
  Op op{Op::move, {}};
  op.id = id;
  op.index = static_cast<std::size_t>(std::find(sib.begin(), sib.end(), id) - sib.begin());
  op.index2 = new_index;
  if (op.index == op.index2) return {};
  commit({std::move(op)});
  return {};
}

Status Tree::set_label(NodeId id, std::string label) {
  const Node* n = find(id);
  if (!n) return make_error(Errc::out_of_range, "no node {}", id);
  Op op{Op::set_label, {}};
  op.id = id;
  op.s_old = n->label;
  op.s_new = std::move(label);
  commit({std::move(op)});
  return {};
}

Status Tree::set_metadata(NodeId id, std::string metadata) {
  const Node* n = find(id);
  if (!n) return make_error(Errc::out_of_range, "no node {}", id);
  Op op{Op::set_metadata, {}};
  op.id = id;
  op.s_old = n->metadata;
  op.s_new = std::move(metadata);
  commit({std::move(op)});
  return {};
}

Status Tree::set_bookmark(NodeId id, bool on) {
  const Node* n = find(id);
  if (!n) return make_error(Errc::out_of_range, "no node {}", id);
  Op op{Op::set_bookmark, {}};
  op.id = id;
  op.b_old = n->bookmark;
  op.b_new = on;
  commit({std::move(op)});
  return {};
}

Status Tree::undo() {
  if (undo_.empty()) return make_error(Errc::invalid_argument, "nothing to undo");
  Record r = std::move(undo_.back());
  undo_.pop_back();
  for (auto it = r.rbegin(); it != r.rend(); ++it) apply(*it, false);
  redo_.push_back(std::move(r));
  return {};
}

Status Tree::redo() {
  if (redo_.empty()) return make_error(Errc::invalid_argument, "nothing to redo");
  Record r = std::move(redo_.back());
  redo_.pop_back();
  for (const Op& op : r) apply(op, true);
  undo_.push_back(std::move(r));
  return {};
}

std::vector<NodeId> Tree::take_dirty() {
  std::vector<NodeId> out(dirty_.begin(), dirty_.end());
  std::sort(out.begin(), out.end());
  dirty_.clear();
  return out;
}

Result<Tree> Tree::from_nodes(std::vector<Node> nodes) {
  Tree t;
  t.nodes_.clear();
  t.dirty_.clear();
  NodeId max_id = kRootId;
  for (Node& n : nodes) {
    if (n.id == kNoNode) return make_error(Errc::format, "node with id 0");
    // Project files store ids as SQLite integers (signed 64-bit).
    if (n.id > static_cast<NodeId>(INT64_MAX) || n.parent > static_cast<NodeId>(INT64_MAX))
      return make_error(Errc::format, "node id {} (parent {}) is too large", n.id, n.parent);
    if (t.nodes_.count(n.id)) return make_error(Errc::format, "node id {} appears twice", n.id);
    if ((n.id == kRootId) != (n.parent == kNoNode))
      return make_error(Errc::format, "node {} has parent {}: only the root (id 1) has none", n.id, n.parent);
    max_id = std::max(max_id, n.id);
    t.nodes_.emplace(n.id, std::move(n));
  }
  if (!t.nodes_.count(kRootId)) return make_error(Errc::format, "the tree has no root node (id 1)");
  for (auto& [id, n] : t.nodes_) {
    if (id != kRootId && !t.nodes_.count(n.parent))
      return make_error(Errc::format, "node {} names parent {} that does not exist", id, n.parent);
    std::unordered_set<NodeId> seen;
    for (NodeId c : n.children) {
      const Node* cn = t.find(c);
      if (!cn || cn->parent != id || !seen.insert(c).second)
        return make_error(Errc::format, "node {} lists child {} that is not its child", id, c);
    }
  }
  // Every non-root node must be listed by its parent exactly once (checked
  // above for "at most once"), and everything must hang from the root.
  for (auto& [id, n] : t.nodes_) {
    if (id == kRootId) continue;
    const auto& ch = t.nodes_.at(n.parent).children;
    if (std::find(ch.begin(), ch.end(), id) == ch.end())
      return make_error(Errc::format, "node {} is missing from its parent {}'s children", id, n.parent);
  }
  if (t.ids().size() != t.nodes_.size()) return make_error(Errc::format, "the tree has a cycle or detached nodes");
  t.next_id_ = max_id + 1;
  return t;
}

}  // namespace wb::tree
