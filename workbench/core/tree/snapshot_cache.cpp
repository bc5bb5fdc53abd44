#include "core/tree/snapshot_cache.hpp"

#include <vector>

namespace wb::tree {

bool SnapshotCache::put(NodeId node, std::size_t pos, const std::string& model_key, const State& state,
                        std::span<const float> logits) {
  auto& per = index_[node];
  if (auto it = per.find(pos); it != per.end()) erase(it->second);
  Snapshot s;
  s.node = node;
  s.pos = pos;
  s.model_key = model_key;
  s.state = state;
  s.logits.assign(logits.begin(), logits.end());
  if (s.bytes() > budget_) {
    if (index_[node].empty()) index_.erase(node);
    return false;
  }
  bytes_ += s.bytes();
  lru_.push_front(std::move(s));
  index_[node][pos] = lru_.begin();
  evict_to_fit();
  return true;
}

const Snapshot* SnapshotCache::get(NodeId node, std::size_t pos, const std::string& model_key) {
  auto pit = index_.find(node);
  if (pit == index_.end()) return nullptr;
  auto it = pit->second.find(pos);
  if (it == pit->second.end()) return nullptr;
  if (it->second->model_key != model_key) {
    erase(it->second);  // another model's state: useless now, and must never be used
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return &*lru_.begin();
}

const Snapshot* SnapshotCache::best_at_or_before(NodeId node, std::size_t max_pos, const std::string& model_key) {
  for (;;) {
    auto pit = index_.find(node);
    if (pit == index_.end()) return nullptr;
    auto& per = pit->second;
    auto it = per.upper_bound(max_pos);
    if (it == per.begin()) return nullptr;
    --it;
    std::size_t pos = it->first;
    if (const Snapshot* s = get(node, pos, model_key)) return s;
    // get() dropped a foreign entry; look again below it.
  }
}

bool SnapshotCache::contains(NodeId node, std::size_t pos) const {
  auto pit = index_.find(node);
  return pit != index_.end() && pit->second.count(pos) > 0;
}

void SnapshotCache::unindex(NodeId node, std::size_t pos) {
  auto pit = index_.find(node);
  if (pit == index_.end()) return;
  pit->second.erase(pos);
  if (pit->second.empty()) index_.erase(pit);
}

void SnapshotCache::erase(Lru::iterator it) {
  bytes_ -= it->bytes();
  unindex(it->node, it->pos);
  lru_.erase(it);
}

void SnapshotCache::erase_node(NodeId node) {
  auto pit = index_.find(node);
  if (pit == index_.end()) return;
  std::vector<Lru::iterator> its;
  for (auto& [p, it] : pit->second) its.push_back(it);
  for (auto it : its) erase(it);
}

void SnapshotCache::rekey(NodeId from, NodeId to, std::size_t max_pos) {
  if (from == to) return;
  auto pit = index_.find(from);
  if (pit == index_.end()) return;
  std::vector<Lru::iterator> moving;
  for (const auto& [p, it] : pit->second) {
    if (p > max_pos) break;
    moving.push_back(it);
  }
  for (Lru::iterator it : moving) {
    const std::size_t p = it->pos;
    if (contains(to, p)) {  // `to` has its own state there
      erase(it);
      continue;
    }
    unindex(from, p);
    it->node = to;
    index_[to][p] = it;
  }
}

void SnapshotCache::clear() {
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

void SnapshotCache::set_budget(std::size_t bytes) {
  budget_ = bytes;
  evict_to_fit();
}

void SnapshotCache::evict_to_fit() {
  while (bytes_ > budget_ && !lru_.empty()) {
    auto last = std::prev(lru_.end());
    const std::size_t b = last->bytes();
    const NodeId node = last->node;
    const std::size_t pos = last->pos;
    if (spill_) spill_(std::move(*last));  // may leave *last empty: accounted with b, node, pos
    bytes_ -= b;
    unindex(node, pos);
    lru_.erase(last);
    ++evictions_;
  }
}

}  // namespace wb::tree
