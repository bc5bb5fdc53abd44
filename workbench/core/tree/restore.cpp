#include "core/tree/restore.hpp"

#include <algorithm>

namespace wb::tree {

Result<ReplayPlan> plan_restore(Model& model, const Tree& tree, SnapshotCache& cache, NodeId node,
                                std::optional<std::size_t> pos, const RestoreOptions& opt) {
  std::vector<NodeId> path = tree.path_to_root(node);
  if (path.empty()) return make_error(Errc::out_of_range, "no node {} in the tree", node);
  const std::string& key = model.info().model_key;

  std::vector<std::size_t> ends(path.size());
  std::size_t acc = 0;
  for (std::size_t i = 0; i < path.size(); ++i) ends[i] = acc += tree.find(path[i])->tokens.size();
  const std::size_t target = pos.value_or(acc);
  if (target > acc)
    return make_error(Errc::out_of_range, "position {} is past the end of node {} ({} tokens)", target, node, acc);

  // The deepest usable entry: any entry of a path node at a position <= target
  // describes a prefix of our path.
  // Copied at once: a later fill() may evict the entry.
  ReplayPlan plan;
  Restored& r = plan.start;
  bool found = false;
  std::size_t start = 0;
  for (std::size_t i = path.size(); i-- > 0;) {
    if (found && ends[i] <= start) break;  // nothing here can beat it
    std::size_t lim = std::min(target, ends[i]);
    if (opt.fill && !cache.contains(path[i], lim)) opt.fill(path[i], lim);
    const Snapshot* s = cache.best_at_or_before(path[i], lim, key);
    if (s && (!found || s->pos > start)) {
      r.state = s->state;
      r.logits = s->logits;
      start = s->pos;
      found = true;
    }
  }
  if (!found) r.state = model.new_state();
  r.pos = target;
  r.recomputed_tokens = target - start;

  // Segments of [start, target) cut at node ends, checkpoints and progress reports.
  const std::size_t K = opt.checkpoint_every;
  const std::size_t P = opt.progress ? opt.progress_every : 0;
  ReplaySegment seg;
  std::size_t p = 0;  // absolute position of the next token
  for (std::size_t i = 0; i < path.size() && p < target; ++i) {
    const Node* n = tree.find(path[i]);
    for (int32_t tok : n->tokens) {
      if (p >= target) break;
      if (p >= start) seg.tokens.push_back(tok);
      ++p;
      const bool at_end = p == target;
      const bool at_node_end = p == ends[i] && opt.snapshot_path_nodes;
      const bool at_checkpoint = K > 0 && p % K == 0;
      const bool at_report = P > 0 && p > start && (p - start) % P == 0;
      if (p > start && (at_end || at_node_end || at_checkpoint || at_report) && !seg.tokens.empty()) {
        seg.node = path[i];
        seg.end = p;
        seg.keep = at_node_end || at_checkpoint || at_end;
        plan.segments.push_back(std::move(seg));
        seg = ReplaySegment{};
      }
    }
  }
  return plan;
}

Result<Restored> run_replay(Model& model, ReplayPlan plan, const RestoreOptions& opt, const KeepFn& keep) {
  Restored r = std::move(plan.start);
  if (plan.segments.empty()) return r;
  const std::size_t begin = r.pos - r.recomputed_tokens, total = r.recomputed_tokens;
  std::vector<float> logits(static_cast<std::size_t>(model.info().n_vocab));
  for (const ReplaySegment& seg : plan.segments) {
    WB_CHECK(model.prefill(seg.tokens, r.state, logits));
    if (seg.keep && keep) keep(seg.node, seg.end, r.state, logits);
    if (opt.progress && !opt.progress(seg.end - begin, total))
      return make_error(Errc::cancelled, "reading the text was cancelled after {} of {} tokens", seg.end - begin, total);
  }
  r.logits = std::move(logits);
  return r;
}

Result<Restored> restore_state(Model& model, const Tree& tree, SnapshotCache& cache, NodeId node,
                               std::optional<std::size_t> pos, const RestoreOptions& opt) {
  WB_TRY(plan, plan_restore(model, tree, cache, node, pos, opt));
  const std::string key = model.info().model_key;
  return run_replay(model, std::move(plan), opt,
                    [&](NodeId n, std::size_t p, const State& s, const std::vector<float>& l) { cache.put(n, p, key, s, l); });
}

}  // namespace wb::tree
