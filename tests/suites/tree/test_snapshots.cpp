// Snapshots with a real (tiny) model: restore equals recompute, LRU budget,
// model-key checks, checkpoints inside long nodes.
#include <catch2/catch.hpp>

#include "core/tree/restore.hpp"
#include "core/tree/snapshot_cache.hpp"
#include "helpers.hpp"

using namespace wb;
using namespace wb::tree;

namespace {

Node text_node(std::string_view s) {
  Node n;
  n.text = std::string(s);
  n.tokens = test::bytes_of(s);
  return n;
}

// The state after `text`, read from scratch in one prefill.
std::pair<State, std::vector<float>> fresh(Model& m, std::string_view text) {
  State s = m.new_state();
  std::vector<float> l(static_cast<std::size_t>(m.info().n_vocab));
  auto t = test::bytes_of(text);
  REQUIRE(m.prefill(t, s, l).ok());
  return {s, l};
}

}  // namespace

TEST_CASE("LRU cache keeps the budget and drops the least recently used first", "[tree][snapshot]") {
  State s(100, 1.0f);  // 400 bytes
  std::vector<float> logits(25, 0.5f);  // 100 bytes: 500 per entry
  SnapshotCache c(1600);
  CHECK(c.put(2, 1, "k", s, logits));
  CHECK(c.put(3, 1, "k", s, logits));
  CHECK(c.put(4, 1, "k", s, logits));
  CHECK(c.bytes() == 1500);
  REQUIRE(c.get(2, 1, "k") != nullptr);  // 2 is now the most recent
  CHECK(c.put(5, 1, "k", s, logits));    // evicts 3, the least recently used
  CHECK(c.bytes() <= c.budget());
  CHECK(c.contains(2, 1));
  CHECK_FALSE(c.contains(3, 1));
  CHECK(c.contains(4, 1));
  CHECK(c.contains(5, 1));
  CHECK(c.evictions() == 1);
  // Replacing an entry does not double count.
  CHECK(c.put(5, 1, "k", s, logits));
  CHECK(c.bytes() == 1500);
  // An entry larger than the whole budget is refused, and nothing is evicted for it.
  State big(1000);
  CHECK_FALSE(c.put(9, 1, "k", big, logits));
  CHECK(c.count() == 3);
  c.set_budget(600);
  CHECK(c.count() == 1);
  CHECK(c.contains(5, 1));  // the most recent survives
  // best_at_or_before finds checkpoints below a position.
  c.set_budget(1u << 20);
  CHECK(c.put(7, 10, "k", s, logits));
  CHECK(c.put(7, 20, "k", s, logits));
  REQUIRE(c.best_at_or_before(7, 15, "k") != nullptr);
  CHECK(c.best_at_or_before(7, 15, "k")->pos == 10);
  CHECK(c.best_at_or_before(7, 25, "k")->pos == 20);
  CHECK(c.best_at_or_before(7, 5, "k") == nullptr);
}

TEST_CASE("a snapshot under another model key is never used", "[tree][snapshot]") {
  SnapshotCache c(1u << 20);
  State s(10, 2.0f);
  std::vector<float> l(3, 1.0f);
  REQUIRE(c.put(2, 4, "model-A", s, l));
  CHECK(c.get(2, 4, "model-B") == nullptr);
  CHECK_FALSE(c.contains(2, 4));  // dropped, not kept for later misuse
  REQUIRE(c.put(2, 4, "model-A", s, l));
  CHECK(c.best_at_or_before(2, 10, "model-B") == nullptr);
}

TEST_CASE("restoring from a snapshot equals recomputing from scratch exactly", "[tree][snapshot][rwkv]") {
  auto model = test::tiny_model();
  Tree t;
  NodeId a = *t.append(t.root(), text_node("The lighthouse keeper counted the steps, "));
  NodeId b = *t.append(a, text_node("one hundred and twelve, "));
  NodeId c = *t.append(b, text_node("as every night."));
  NodeId d = *t.append(a, text_node("and lost count."));
  SnapshotCache cache(64u << 20);
  RestoreOptions opt;

  auto rc = restore_state(*model, t, cache, c, std::nullopt, opt);
  REQUIRE(rc.ok());
  CHECK(rc->recomputed_tokens == t.path_tokens(c));
  auto [sc, lc] = fresh(*model, t.path_text(c));
  CHECK(rc->state == sc);
  CHECK(rc->logits == lc);
  // Every node on the path now has a snapshot: switching back costs nothing.
  for (NodeId n : {a, b, c}) CHECK(cache.contains(n, t.path_tokens(n)));
  auto again = restore_state(*model, t, cache, c, std::nullopt, opt);
  REQUIRE(again.ok());
  CHECK(again->recomputed_tokens == 0);
  CHECK(again->state == sc);

  // The fork replays only its own node, from a's snapshot, and equals scratch.
  auto rd = restore_state(*model, t, cache, d, std::nullopt, opt);
  REQUIRE(rd.ok());
  CHECK(rd->recomputed_tokens == t.find(d)->tokens.size());
  auto [sd, ld] = fresh(*model, t.path_text(d));
  CHECK(rd->state == sd);
  CHECK(rd->logits == ld);

  // With b's snapshot gone, c restores from a's and replays b and c.
  cache.erase_node(b);
  cache.erase_node(c);
  auto rc2 = restore_state(*model, t, cache, c, std::nullopt, opt);
  REQUIRE(rc2.ok());
  CHECK(rc2->recomputed_tokens == t.find(b)->tokens.size() + t.find(c)->tokens.size());
  CHECK(rc2->state == sc);
}

TEST_CASE("snapshots stay valid through an edit split", "[tree][snapshot][rwkv]") {
  auto model = test::tiny_model();
  Tree t;
  NodeId a = *t.append(t.root(), text_node("Storm clouds rolled over the bay at dusk."));
  SnapshotCache cache(64u << 20);
  RestoreOptions opt;
  REQUIRE(restore_state(*model, t, cache, a, std::nullopt, opt).ok());
  auto e = t.edit(a, 13, 13, text_node("gathered."));
  REQUIRE(e.ok());
  auto ra = restore_state(*model, t, cache, a, std::nullopt, opt);
  REQUIRE(ra.ok());
  CHECK(ra->recomputed_tokens == 0);  // same id, same path text, same snapshot
  CHECK(ra->state == fresh(*model, t.path_text(a)).first);
  auto re = restore_state(*model, t, cache, *e, std::nullopt, opt);
  REQUIRE(re.ok());
  CHECK(re->state == fresh(*model, "Storm clouds gathered.").first);
}

TEST_CASE("checkpoints inside a long node make regenerate-from-token cheap", "[tree][snapshot][rwkv]") {
  auto model = test::tiny_model();
  std::string longtext;
  for (int i = 0; i < 20; ++i) longtext += "The tide came in and the tide went out. ";
  Tree t;
  NodeId a = *t.append(t.root(), text_node(longtext));
  SnapshotCache cache(64u << 20);
  RestoreOptions opt;
  opt.checkpoint_every = 64;
  REQUIRE(restore_state(*model, t, cache, a, std::nullopt, opt).ok());
  const std::size_t pos = 300;
  auto r = restore_state(*model, t, cache, a, pos, opt);
  REQUIRE(r.ok());
  CHECK(r->recomputed_tokens == pos - 256);  // from the checkpoint at 256
  CHECK(r->state == fresh(*model, longtext.substr(0, pos)).first);
  // Without checkpoints the same request replays from the start.
  SnapshotCache plain(64u << 20);
  RestoreOptions no;
  REQUIRE(restore_state(*model, t, plain, a, std::nullopt, no).ok());
  auto r2 = restore_state(*model, t, plain, a, pos, no);
  REQUIRE(r2.ok());
  CHECK(r2->recomputed_tokens == pos);
  CHECK(r2->state == r->state);
}

TEST_CASE("a long read reports its progress, reads the same state and stops when asked", "[tree][snapshot][rwkv]") {
  auto model = test::tiny_model();
  std::string longtext;
  for (int i = 0; i < 25; ++i) longtext += "The tide came in and the tide went out. ";  // 1,000 tokens
  Tree t;
  NodeId a = *t.append(t.root(), text_node(longtext.substr(0, 600)));
  NodeId b = *t.append(a, text_node(longtext.substr(600)));
  RestoreOptions opt;
  opt.progress_every = 256;
  std::vector<std::pair<std::size_t, std::size_t>> seen;
  opt.progress = [&](std::size_t read, std::size_t total) {
    seen.emplace_back(read, total);
    return true;
  };
  SnapshotCache cache(64u << 20);
  auto r = restore_state(*model, t, cache, b, std::nullopt, opt);
  REQUIRE(r.ok());
  // Every 256 tokens read, at the node end in between, and at the end.
  const std::vector<std::pair<std::size_t, std::size_t>> want = {{256, 1000}, {512, 1000}, {600, 1000},
                                                                  {768, 1000}, {1000, 1000}};
  CHECK(seen == want);
  auto [state, logits] = fresh(*model, longtext);
  CHECK(r->state == state);
  CHECK(r->logits == logits);

  // Asked to stop after 512 tokens: an error, and only the node end reached
  // before (none here) stays in the cache.
  SnapshotCache stopped(64u << 20);
  seen.clear();
  opt.progress = [&](std::size_t read, std::size_t total) {
    seen.emplace_back(read, total);
    return read < 512;
  };
  auto c = restore_state(*model, t, stopped, b, std::nullopt, opt);
  REQUIRE(!c.ok());
  CHECK(c.error().code == Errc::cancelled);
  CHECK(seen.back().first == 512);
  CHECK(stopped.count() == 0);
  // Stopped after the node end at 600: that state is kept, and the next read starts there.
  opt.progress = [&](std::size_t read, std::size_t) { return read < 700; };  // stops at 768
  REQUIRE(!restore_state(*model, t, stopped, b, std::nullopt, opt).ok());
  CHECK(stopped.contains(a, 600));
  opt.progress = {};
  auto again = restore_state(*model, t, stopped, b, std::nullopt, opt);
  REQUIRE(again.ok());
  CHECK(again->recomputed_tokens == 400);
  CHECK(again->state == state);
}

TEST_CASE("another model's snapshots are recomputed never misused", "[tree][snapshot][rwkv]") {
  auto m32 = test::tiny_model("tiny-rwkv-7v0-834K-FP32.bin");
  auto m16 = test::tiny_model("tiny-rwkv-7v0-834K-FP16.bin");
  REQUIRE(m32->info().model_key != m16->info().model_key);
  Tree t;
  NodeId a = *t.append(t.root(), text_node("A gull cried over the rocks."));
  SnapshotCache cache(64u << 20);
  RestoreOptions opt;
  auto r32 = restore_state(*m32, t, cache, a, std::nullopt, opt);
  REQUIRE(r32.ok());
  auto r16 = restore_state(*m16, t, cache, a, std::nullopt, opt);
  REQUIRE(r16.ok());
  CHECK(r16->recomputed_tokens == t.path_tokens(a));
  CHECK(r16->state == fresh(*m16, t.path_text(a)).first);
  CHECK_FALSE(r16->state == r32->state);  // the FP16 weights really give another state
}

TEST_CASE("restore equals recompute for every architecture and a batch equals single decodes", "[tree][snapshot][rwkv]") {
  for (const char* name : {"tiny-rwkv-4v0-660K-FP32.bin", "tiny-rwkv-5v1-730K-FP32.bin", "tiny-rwkv-5v2-730K-FP32.bin",
                           "tiny-rwkv-7v0-834K-FP32.bin", "tiny-rwkv-7v0-834K-Q5_1.bin"}) {
    INFO(name);
    auto model = test::tiny_model(name);
    Tree t;
    NodeId a = *t.append(t.root(), text_node("Fog lay on the water; "));
    NodeId b = *t.append(a, text_node("the bell buoy rang."));
    NodeId c = *t.append(a, text_node("no boats went out."));
    SnapshotCache cache(64u << 20);
    RestoreOptions opt;
    REQUIRE(restore_state(*model, t, cache, b, std::nullopt, opt).ok());
    auto rc = restore_state(*model, t, cache, c, std::nullopt, opt);
    REQUIRE(rc.ok());
    CHECK(rc->recomputed_tokens == t.find(c)->tokens.size());
    auto [sc, lc] = fresh(*model, t.path_text(c));
    CHECK(rc->state == sc);
    CHECK(rc->logits == lc);
    // Decoding two forks in one batch gives each the state of its own run.
    State s1 = rc->state, s2 = rc->state, s3 = rc->state;
    State* both[2] = {&s1, &s2};
    int32_t toks[2] = {'A', 'B'};
    std::vector<float> lb(2 * static_cast<std::size_t>(model->info().n_vocab));
    REQUIRE(model->decode(toks, both, lb).ok());
    std::vector<float> l3(static_cast<std::size_t>(model->info().n_vocab));
    State* one[1] = {&s3};
    REQUIRE(model->decode(std::span<const int32_t>(&toks[1], 1), one, l3).ok());
    CHECK(s2 == s3);
    CHECK(std::equal(l3.begin(), l3.end(), lb.begin() + model->info().n_vocab));
  }
}

TEST_CASE("rekeying a split node's entries moves its front states to the new node", "[tree][snapshot]") {
  SnapshotCache cache(1u << 20);
  auto put = [&](NodeId n, std::size_t pos, float v) {
    State s(16, v);
    std::vector<float> l(4, v);
    REQUIRE(cache.put(n, pos, "m", s, l));
  };
  put(5, 10, 1.0f);
  put(5, 20, 2.0f);
  put(5, 30, 3.0f);
  put(7, 20, 9.0f);  // the new node already has a state at 20: its own wins
  const std::size_t one = cache.bytes() / 4;
  cache.rekey(5, 7, 20);
  CHECK(cache.count() == 3);
  CHECK(cache.bytes() == 3 * one);
  CHECK(!cache.contains(5, 10));
  CHECK(!cache.contains(5, 20));
  CHECK(cache.contains(5, 30));
  REQUIRE(cache.get(7, 10, "m") != nullptr);
  CHECK(cache.get(7, 10, "m")->state.data()[0] == 1.0f);
  CHECK(cache.get(7, 10, "m")->node == 7);
  CHECK(cache.get(7, 20, "m")->state.data()[0] == 9.0f);
  CHECK(cache.best_at_or_before(7, 25, "m")->pos == 20);
  cache.erase_node(7);  // the moved entry is indexed under its new node
  CHECK(cache.count() == 1);
  CHECK(cache.bytes() == one);
}

TEST_CASE("an entry pushed out may be moved out by the spill callback", "[tree][snapshot]") {
  SnapshotCache cache(1u << 20);
  std::vector<Snapshot> spilled;
  cache.set_spill([&](Snapshot&& s) { spilled.push_back(std::move(s)); });
  State a(1000, 1.0f), b(1000, 2.0f);
  std::vector<float> l(8, 0.5f);
  REQUIRE(cache.put(1, 10, "m", a, l));
  REQUIRE(cache.put(2, 20, "m", b, l));
  const std::size_t one = cache.bytes() / 2;
  cache.set_budget(one);  // pushes out node 1, the least recently used
  REQUIRE(spilled.size() == 1);
  CHECK(spilled[0].node == 1);
  CHECK(spilled[0].pos == 10);
  CHECK(spilled[0].state.data()[999] == 1.0f);
  CHECK(spilled[0].logits.size() == 8);
  CHECK(cache.bytes() == one);  // accounted although the entry was emptied
  CHECK(cache.count() == 1);
  CHECK(!cache.contains(1, 10));
  CHECK(cache.get(2, 20, "m") != nullptr);
}
