// Stories: project file, generation (batched, deterministic, streamed,
// cancelled), reopen without recomputation, refusal of foreign files.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "core/project/project.hpp"
#include "core/session/story.hpp"
#include "core/tree/tree_json.hpp"
#include "helpers.hpp"

using namespace wb;
using namespace wb::session;

namespace {

std::unique_ptr<Story> new_story(const std::filesystem::path& file, Model* m, StoryOptions opt = {}) {
  auto p = project::Project::create(file.string());
  INFO((p ? "" : p.error().message));
  REQUIRE(p.ok());
  auto s = Story::attach(std::move(*p), m, byte_codec(), opt);
  INFO((s ? "" : s.error().message));
  REQUIRE(s.ok());
  return std::move(*s);
}

std::unique_ptr<Story> open_story(const std::filesystem::path& file, Model* m) {
  // Default options: spilling on, as the CLI and the GUI use them.
  auto p = project::Project::open(file.string());
  INFO((p ? "" : p.error().message));
  REQUIRE(p.ok());
  auto s = Story::attach(std::move(*p), m, byte_codec(), {});
  REQUIRE(s.ok());
  return std::move(*s);
}

GenerateOptions gen(int n, uint64_t seed, int alts = 1) {
  GenerateOptions g;
  g.settings.max_tokens = n;
  g.settings.seed = seed;
  g.alternatives = alts;
  return g;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a story is written as it changes and reopens as it was", "[tree][project]") {
  auto dir = test::temp_dir("story_reopen_tree");
  auto file = dir / "s.wbstory";
  NodeId a, b, c;
  std::string before;
  {
    auto s = new_story(file, nullptr);
    a = *s->append(s->tree_root(), "Chapter one. ");
    b = *s->append(a, "It rained.");
    c = *s->append(a, "It snowed.");
    REQUIRE(s->set_label(c, "snow").ok());
    REQUIRE(s->set_bookmark(b, true).ok());
    REQUIRE(s->move_sibling(c, 0).ok());
    NodeId gone = *s->append(b, " Then it stopped.");
    REQUIRE(s->undo().ok());  // the undo is written too
    CHECK_FALSE(s->node(gone).has_value());
    before = tree::to_json(s->tree_copy());
  }
  auto s = open_story(file, nullptr);
  CHECK(tree::to_json(s->tree_copy()) == before);
  CHECK(s->path_text(c) == "Chapter one. It snowed.");
  CHECK(s->node(a)->children == std::vector<NodeId>{c, b});
  auto txt = s->export_path(b, "txt");
  REQUIRE(txt.ok());
  CHECK(*txt == "Chapter one. It rained.");
  REQUIRE(s->project().set_meta("title", "Weather").ok());
  CHECK(*s->export_path(b, "md") == "# Weather\n\nChapter one. It rained.\n");
  CHECK_FALSE(s->export_path(b, "docx").ok());
  // A node added after reopening gets a fresh id.
  NodeId d = *s->append(a, "It hailed.");
  CHECK(d > c);
}

TEST_CASE("a draft in flight is stored once, then grows by appended parts that a full write replaces",
          "[tree][project]") {
  auto dir = test::temp_dir("story_draft_parts");
  auto file = dir / "s.wbstory";
  auto s = new_story(file, nullptr);
  const NodeId a = *s->append(s->tree_root(), "Start. ");
  project::Project& p = s->project();

  tree::Node d;
  d.id = 1000;
  d.parent = a;
  d.origin = "model";
  std::vector<project::Project::DraftMark> marks(1);
  const std::vector<std::size_t> ords = {0};
  auto grow_to = [&](const std::string& text) {
    while (d.tokens.size() < text.size()) {
      const char c = text[d.tokens.size()];
      d.text += c;
      d.tokens.push_back(static_cast<unsigned char>(c));
      d.alternatives.push_back({{static_cast<unsigned char>(c), 0.5f}, {'?', 0.25f}});
    }
    REQUIRE(p.write_drafts(std::span<const tree::Node>(&d, 1), ords, marks).ok());
  };
  grow_to("ab");  // the node itself
  CHECK(*p.draft_part_count() == 0);
  grow_to("abcd");
  grow_to("abcdef");
  grow_to("abcdef");  // nothing new: nothing written
  CHECK(*p.draft_part_count() == 2);

  auto t = p.load_tree();
  REQUIRE(t.ok());
  const tree::Node* got = t->find(1000);
  REQUIRE(got != nullptr);
  CHECK(got->text == "abcdef");
  CHECK(got->tokens == d.tokens);
  CHECK(got->alternatives == d.alternatives);
  CHECK(t->path_text(1000) == "Start. abcdef");

  // The accepted node is written whole; its parts go.
  REQUIRE(p.sync(*t, std::vector<NodeId>{1000}).ok());
  CHECK(*p.draft_part_count() == 0);
  auto again = p.load_tree();
  REQUIRE(again.ok());
  CHECK(again->find(1000)->text == "abcdef");
  CHECK(again->find(1000)->alternatives == d.alternatives);
}

TEST_CASE("reopening a project and continuing from a stored leaf computes nothing", "[tree][project][rwkv]") {
  auto inner = test::tiny_model();
  auto dir = test::temp_dir("story_reopen_compute");
  auto file = dir / "s.wbstory";
  std::vector<NodeId> kids;
  std::string leaf_text;
  {
    test::CountingModel m(*inner);
    auto s = new_story(file, &m);
    NodeId a = *s->append(s->tree_root(), "The keeper lit the lamp and ");
    auto r = s->continue_from(a, gen(24, 5, 2), nullptr, nullptr);
    REQUIRE(r.ok());
    kids = *r;
    REQUIRE(kids.size() == 2);
    REQUIRE(s->switch_to(kids[1]).ok());
    leaf_text = s->path_text(kids[1]);
  }
  test::CountingModel m(*inner);
  auto s = open_story(file, &m);
  CHECK(s->current() == kids[1]);
  auto sw = s->switch_to(kids[1]);
  REQUIRE(sw.ok());
  CHECK(sw->recomputed_tokens == 0);
  auto st = s->state_at(kids[0]);
  REQUIRE(st.ok());
  CHECK(st->recomputed_tokens == 0);
  CHECK(m.prefill_tokens == 0);
  CHECK(m.decode_tokens == 0);
  // The stored state is the real one.
  State fresh = inner->new_state();
  std::vector<float> lf(static_cast<std::size_t>(inner->info().n_vocab));
  REQUIRE(inner->prefill(test::bytes_of(leaf_text), fresh, lf).ok());
  auto st1 = s->state_at(kids[1]);
  REQUIRE(st1.ok());
  CHECK(st1->state == fresh);
  CHECK(st1->logits == lf);
  // Continuing decodes only the new tokens.
  auto more = s->continue_from(kids[1], gen(6, 1), nullptr, nullptr);
  REQUIRE(more.ok());
  CHECK(m.prefill_tokens == 0);
  CHECK(m.decode_tokens == 6);
}

TEST_CASE("the same node seed and settings give the same text", "[tree][sampling][rwkv]") {
  auto model = test::tiny_model();
  auto dir = test::temp_dir("story_determinism");
  auto s = new_story(dir / "s.wbstory", model.get());
  NodeId a = *s->append(s->tree_root(), "Once upon a time, ");
  auto x = s->continue_from(a, gen(40, 11), nullptr, nullptr);
  auto y = s->continue_from(a, gen(40, 11), nullptr, nullptr);
  auto z = s->continue_from(a, gen(40, 12), nullptr, nullptr);
  REQUIRE(x.ok());
  REQUIRE(y.ok());
  REQUIRE(z.ok());
  CHECK(s->node(x->at(0))->text == s->node(y->at(0))->text);
  CHECK(s->node(x->at(0))->text != s->node(z->at(0))->text);
  CHECK(s->node(x->at(0))->tokens.size() == 40);
  CHECK(s->node(x->at(0))->seed == 11);
  CHECK(s->node(x->at(0))->origin == "model");
  CHECK(s->node(x->at(0))->alternatives.size() == 40);
}

TEST_CASE("N alternatives decoded as one batch equal N separate runs", "[tree][rwkv]") {
  auto model = test::tiny_model();
  auto dir = test::temp_dir("story_batch");
  test::CountingModel m(*model);
  auto s = new_story(dir / "s.wbstory", &m);
  NodeId a = *s->append(s->tree_root(), "The ship sailed north until ");
  REQUIRE(s->switch_to(a).ok());
  m.decode_tokens = 0;
  auto batch = s->continue_from(a, gen(30, 100, 4), nullptr, nullptr);
  REQUIRE(batch.ok());
  REQUIRE(batch->size() == 4);
  CHECK(m.decode_tokens == 4 * 30);
  for (int i = 0; i < 4; ++i) {
    auto one = s->continue_from(a, gen(30, 100 + static_cast<uint64_t>(i)), nullptr, nullptr);
    REQUIRE(one.ok());
    CHECK(s->node(one->at(0))->text == s->node(batch->at(static_cast<std::size_t>(i)))->text);
  }
  // The four alternatives are not all the same.
  CHECK(s->node(batch->at(0))->text != s->node(batch->at(1))->text);
  // Each alternative's stored snapshot is its own state.
  auto st = s->state_at(batch->at(2));
  REQUIRE(st.ok());
  CHECK(st->recomputed_tokens == 0);
  State fresh = model->new_state();
  REQUIRE(model->prefill(test::bytes_of(s->path_text(batch->at(2))), fresh, {}).ok());
  CHECK(st->state == fresh);
}

TEST_CASE("stop strings end a continuation and max tokens bounds it", "[tree][sampling][rwkv]") {
  auto model = test::tiny_model();
  auto dir = test::temp_dir("story_stop");
  auto s = new_story(dir / "s.wbstory", model.get());
  NodeId a = *s->append(s->tree_root(), "She said that the ");
  GenerateOptions g = gen(300, 3);
  g.settings.stop = {" "};
  auto r = s->continue_from(a, g, nullptr, nullptr);
  REQUIRE(r.ok());
  std::string t = s->node(r->at(0))->text;
  REQUIRE_FALSE(t.empty());
  CHECK(t.size() < 300);
  CHECK(t.back() == ' ');
  CHECK(t.find(' ') == t.size() - 1);
}

TEST_CASE("a generation session streams events on a worker and can be cancelled", "[tree][session][rwkv]") {
  auto model = test::tiny_model();
  auto dir = test::temp_dir("story_session");
  auto s = new_story(dir / "s.wbstory", model.get());
  NodeId a = *s->append(s->tree_root(), "In the morning ");

  auto sess = GenerationSession::start(*s, a, gen(25, 9, 2));
  std::vector<Event> events;
  Event e;
  while (sess->wait_event(e, 5000)) {
    events.push_back(e);
    if (e.kind == Event::Kind::finished || e.kind == Event::Kind::error) break;
  }
  auto kids = sess->join();
  REQUIRE(kids.ok());
  REQUIRE(kids->size() == 2);
  int tokens[2] = {0, 0};
  std::string text[2];
  for (auto& ev : events)
    if (ev.kind == Event::Kind::token) {
      ++tokens[ev.alt];
      text[ev.alt] += ev.piece;
      CHECK(ev.top.size() == 5);
      CHECK(ev.tokens_per_s > 0);
    }
  CHECK(tokens[0] == 25);
  CHECK(tokens[1] == 25);
  CHECK(text[0] == s->node(kids->at(0))->text);
  CHECK(text[1] == s->node(kids->at(1))->text);
  CHECK(events.back().kind == Event::Kind::finished);

  // Cancel a long run after a few tokens: what was generated is kept.
  auto long_run = GenerationSession::start(*s, a, gen(1000000, 1));
  int seen = 0;
  while (seen < 10 && long_run->wait_event(e, 5000))
    if (e.kind == Event::Kind::token) ++seen;
  // The start node cannot be taken away under a running generation.
  CHECK_FALSE(s->remove(a).ok());
  CHECK(s->undo().ok());        // the two alternatives from before
  CHECK(s->undo().ok());
  CHECK_FALSE(s->undo().ok());  // would undo the append of a
  CHECK(s->node(a).has_value());
  long_run->cancel();
  auto got = long_run->join();
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  auto n = s->node(got->at(0));
  CHECK(n->tokens.size() >= 10);
  CHECK(n->tokens.size() < 1000000);
  CHECK(s->remove(a).ok());  // fine once it is over
}

TEST_CASE("foreign corrupt and existing files are refused and left untouched", "[tree][project]") {
  auto dir = test::temp_dir("story_refuse");
  auto check_untouched = [](const std::filesystem::path& p, const std::string& msg_part) {
    std::string before = read_all(p);
    auto r = project::Project::open(p.string());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(p.string()) != std::string::npos);
    CHECK(r.error().message.find(msg_part) != std::string::npos);
    CHECK(read_all(p) == before);
    CHECK_FALSE(std::filesystem::exists(p.string() + "-wal"));
  };
  // Not SQLite at all.
  {
    auto p = dir / "notes.txt";
    std::ofstream(p) << "Dear diary, this is not a database but it is long enough to have a header of a hundred bytes.";
    check_untouched(p, "not an SQLite database");
  }
  // Another application's SQLite database.
  {
    auto p = dir / "other.db";
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(p.string().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    check_untouched(p, "another application");
  }
  // A real project, damaged in the middle.
  {
    auto p = dir / "damaged.wbstory";
    {
      auto s = new_story(p, nullptr);
      std::string big(3000, 'x');
      for (int i = 0; i < 20; ++i) REQUIRE(s->append(s->tree_root(), big).ok());
    }
    // Fold the WAL into the main file so the damage hits the data for real.
    {
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open(p.string().c_str(), &db) == SQLITE_OK);
      sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", nullptr, nullptr, nullptr);
      sqlite3_close(db);
    }
    std::string bytes = read_all(p);
    REQUIRE(bytes.size() > 8192);
    for (std::size_t i = 4096; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    check_untouched(p, "damaged");
  }
  // A newer schema than this build knows.
  {
    auto p = dir / "future.wbstory";
    { auto s = new_story(p, nullptr); }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(p.string().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE schema_version SET version = 99; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    check_untouched(p, "schema version 99");
  }
  // create() never writes over an existing file.
  {
    auto p = dir / "notes.txt";
    std::string before = read_all(p);
    auto r = project::Project::create(p.string());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("already exists") != std::string::npos);
    CHECK(read_all(p) == before);
  }
}

TEST_CASE("a version 1 project is migrated on open", "[tree][project]") {
  auto dir = test::temp_dir("story_migrate");
  auto p = dir / "old.wbstory";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(p.string().c_str(), &db) == SQLITE_OK);
  // The version 1 schema, as an older build wrote it.
  const char* v1 =
      "PRAGMA application_id = 1463964500;"
      "CREATE TABLE schema_version(version INTEGER NOT NULL); INSERT INTO schema_version VALUES(1);"
      "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE nodes(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, ord INTEGER NOT NULL,"
      " text BLOB NOT NULL, tokens BLOB NOT NULL, origin TEXT NOT NULL, sampler TEXT NOT NULL,"
      " seed INTEGER NOT NULL, alternatives BLOB NOT NULL, created_ms INTEGER NOT NULL,"
      " label TEXT NOT NULL, bookmark INTEGER NOT NULL, metadata TEXT NOT NULL);"
      "INSERT INTO nodes VALUES(1, 0, 0, x'', x'', 'root', '', 0, x'', 0, '', 0, '');"
      "INSERT INTO nodes VALUES(2, 1, 0, CAST('Hi' AS BLOB), x'4800000069000000', 'user', '', 0, x'', 0, 'greet', 0, '');";
  REQUIRE(sqlite3_exec(db, v1, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto pr = project::Project::open(p.string());
  INFO((pr ? "" : pr.error().message));
  REQUIRE(pr.ok());
  CHECK((*pr)->schema_version() == project::kSchemaVersion);
  auto t = (*pr)->load_tree();
  REQUIRE(t.ok());
  CHECK(t->path_text(2) == "Hi");
  CHECK(t->find(2)->tokens == std::vector<int32_t>{'H', 'i'});
  CHECK(t->find_by_label("greet") == std::vector<tree::NodeId>{2});
  auto keys = (*pr)->snapshot_keys("any");  // the version 2 table exists now
  CHECK(keys.ok());
  auto parts = (*pr)->draft_part_count();  // and version 3's
  CHECK(parts.ok());
}

TEST_CASE("snapshots pushed out by the budget spill to the project file", "[tree][snapshot][project][rwkv]") {
  auto inner = test::tiny_model();
  auto dir = test::temp_dir("story_spill");
  const std::size_t one = inner->new_state().byte_size() + static_cast<std::size_t>(inner->info().n_vocab) * 4;
  for (bool spill : {false, true}) {
    INFO("spill " << spill);
    test::CountingModel m(*inner);
    StoryOptions opt;
    opt.cache_budget = 2 * one + one / 2;  // room for two snapshots
    opt.spill_to_file = spill;
    auto s = new_story(dir / (spill ? "spill.wbstory" : "plain.wbstory"), &m, opt);
    std::vector<NodeId> path;
    NodeId at = s->tree_root();
    for (int i = 0; i < 6; ++i) {
      at = *s->append(at, fmt::format("Part {} of the voyage. ", i));
      REQUIRE(s->state_at(at).ok());
      path.push_back(at);
    }
    CHECK(s->cache_bytes() <= opt.cache_budget);
    m.prefill_tokens = 0;
    auto r = s->state_at(path[1]);
    REQUIRE(r.ok());
    if (spill) {
      CHECK(r->recomputed_tokens == 0);
      CHECK(m.prefill_tokens == 0);
    } else {
      CHECK(r->recomputed_tokens > 0);
    }
    State fresh = inner->new_state();
    REQUIRE(inner->prefill(test::bytes_of(s->path_text(path[1])), fresh, {}).ok());
    CHECK(r->state == fresh);
  }
}

TEST_CASE("a project reopened with another model recomputes instead of using stored states", "[tree][project][rwkv]") {
  auto inner = test::tiny_model();
  auto dir = test::temp_dir("story_other_model");
  auto file = dir / "s.wbstory";
  NodeId a;
  {
    auto s = new_story(file, inner.get());
    a = *s->append(s->tree_root(), "The harbour lights came on one by one.");
    REQUIRE(s->switch_to(a).ok());
    REQUIRE(s->store_snapshots().ok());
  }
  // Same weights under another key: the stored state must not be trusted.
  test::CountingModel other(*inner, "another-model-key");
  auto s = open_story(file, &other);
  auto r = s->state_at(a);
  REQUIRE(r.ok());
  CHECK(r->recomputed_tokens == s->node(a)->tokens.size());
  CHECK(other.prefill_tokens == s->node(a)->tokens.size());
  // Under the original key the stored one is used.
  test::CountingModel same(*inner);
  auto s2 = open_story(file, &same);
  auto r2 = s2->state_at(a);
  REQUIRE(r2.ok());
  CHECK(r2->recomputed_tokens == 0);
}

TEST_CASE("the story's revision grows with every tree change and only then", "[tree]") {
  // The GUI copies the tree only when the revision moved (plugins change it too).
  auto dir = test::temp_dir("story_revision");
  auto s = new_story(dir / "r.wbstory", nullptr);
  uint64_t r = s->revision();
  auto step = [&](bool changed) {
    INFO("revision " << r << " -> " << s->revision());
    if (changed) CHECK(s->revision() > r);
    else CHECK(s->revision() == r);
    r = s->revision();
  };
  NodeId a = *s->append(s->tree_root(), "One. ");
  step(true);
  (void)s->tree_copy();
  (void)s->path_text(a);
  step(false);  // reading changes nothing
  REQUIRE(s->set_label(a, "first").ok());
  step(true);
  REQUIRE(s->set_bookmark(a, true).ok());
  step(true);
  REQUIRE(s->remove(a).ok());
  step(true);
  REQUIRE(s->undo().ok());
  step(true);
  CHECK_FALSE(s->set_label(a + 100, "none").ok());
  step(false);  // a refused change is no change
}

TEST_CASE("a branch inside a long generated node replays from the nearest generation checkpoint",
          "[tree][snapshot][rwkv]") {
  auto model = test::tiny_model();
  // {spacing asked, cache budget, tokens replayed before the branch point}: with a
  // large budget checkpoints come every 64 tokens (200 replays from 192); none
  // replays from the start node; a 64 MiB budget widens the tiny model's spacing
  // to 398 (16,384 x 8 x 199 KiB / 64 MiB), so nothing lies below token 200.
  struct Case { std::size_t every, budget, replay; };
  for (Case c : {Case{64, 1u << 30, 8}, Case{0, 1u << 30, 200}, Case{64, 64u << 20, 200}}) {
    const std::size_t every = c.every;
    INFO("generation_checkpoint_every " << every << " budget " << c.budget);
    auto dir = test::temp_dir("story_gen_checkpoints");
    StoryOptions opt;
    opt.generation_checkpoint_every = every;
    opt.cache_budget = c.budget;
    auto s = new_story(dir / "s.wbstory", model.get(), opt);
    NodeId a = *s->append(s->tree_root(), "Once upon a time, ");
    auto x = s->continue_from(a, gen(300, 5, 2), nullptr, nullptr);  // two alternatives: both keep checkpoints
    REQUIRE(x.ok());
    REQUIRE(x->size() == 2);
    for (NodeId g : *x) {
      // Byte codec: token 200 of the node is byte 200. The edit splits the node there.
      auto e = s->edit(g, 200, "XYZ");
      REQUIRE(e.ok());
      auto sw = s->switch_to(*e);
      REQUIRE(sw.ok());
      // The replay before the branch point, plus the branch's own 3 tokens.
      CHECK(sw->recomputed_tokens == c.replay + 3u);
      // The state is the one reading the whole path from scratch gives.
      auto restored = s->state_at(*e, std::nullopt);
      REQUIRE(restored.ok());
      const std::string path = s->tree_copy().path_text(*e);
      State fresh = model->new_state();
      std::vector<float> lg(static_cast<std::size_t>(model->info().n_vocab));
      REQUIRE(model->prefill(test::bytes_of(path), fresh, lg).ok());
      CHECK(restored->state == fresh);
      CHECK(restored->logits == lg);
    }
  }
}

TEST_CASE("a deferred switch computes nothing, the estimate says what a restore would read", "[tree][snapshot][rwkv]") {
  auto inner = test::tiny_model();
  test::CountingModel m(*inner);
  auto dir = test::temp_dir("story_deferred_switch");
  auto s = new_story(dir / "s.wbstory", &m);
  const std::string text = "A long chapter pasted at once, read only when it is continued. ";
  NodeId a = *s->append(s->tree_root(), text);
  CHECK(s->replay_estimate(a) == text.size());  // byte codec: a token per byte, nothing computed yet
  m.prefill_tokens = 0;
  auto sw = s->switch_to(a, /*compute=*/false);
  REQUIRE(sw.ok());
  CHECK(sw->deferred);
  CHECK(sw->recomputed_tokens == 0);
  CHECK(m.prefill_tokens == 0);
  CHECK(s->current() == a);
  // The generation from it reads the text on its own (and then it is at hand).
  auto x = s->continue_from(a, gen(5, 1), nullptr, nullptr);
  REQUIRE(x.ok());
  CHECK(m.prefill_tokens == text.size());
  CHECK(s->replay_estimate(a) == 0);
  CHECK(s->replay_estimate(x->at(0)) == 0);  // the new node's end was kept
  CHECK(!s->switch_to(999, false).ok());     // a missing node is still an error
}

TEST_CASE("the read before a generation reports progress and stops on cancel", "[tree][snapshot][rwkv]") {
  auto inner = test::tiny_model();
  test::CountingModel m(*inner);
  auto dir = test::temp_dir("story_read_progress");
  auto s = new_story(dir / "s.wbstory", &m);
  std::string text;
  for (int i = 0; i < 25; ++i) text += "A long chapter, pasted at once and read later. ";
  NodeId a = *s->append(s->tree_root(), text);
  REQUIRE(s->switch_to(a, /*compute=*/false).ok());
  m.prefill_tokens = 0;

  // Cancelled while reading: nothing is generated, the story is unchanged.
  std::atomic<bool> cancel{false};
  std::vector<std::size_t> read;
  auto on_event = [&](const Event& e) {
    if (e.kind != Event::Kind::reading) return;
    CHECK(e.to_read == text.size());
    read.push_back(e.read);
    if (e.read >= 512) cancel = true;
  };
  auto x = s->continue_from(a, gen(5, 1), on_event, &cancel);
  REQUIRE(!x.ok());
  CHECK(x.error().code == Errc::cancelled);
  CHECK(read == std::vector<std::size_t>{256, 512});
  CHECK(m.prefill_tokens == 512);
  CHECK(s->tree_copy().find(a)->children.empty());

  // Read to the end: progress up to the whole text, then the same continuation
  // as from a state read in one piece.
  read.clear();
  cancel = false;
  auto y = s->continue_from(a, gen(5, 1), [&](const Event& e) {
    if (e.kind == Event::Kind::reading) read.push_back(e.read);
  }, &cancel);
  REQUIRE(y.ok());
  REQUIRE(!read.empty());
  CHECK(read.back() == text.size());
  auto other = new_story(dir / "t.wbstory", inner.get());
  NodeId a2 = *other->append(other->tree_root(), text);
  REQUIRE(other->switch_to(a2).ok());
  auto z = other->continue_from(a2, gen(5, 1), nullptr, nullptr);
  REQUIRE(z.ok());
  CHECK(s->tree_copy().find(y->at(0))->text == other->tree_copy().find(z->at(0))->text);
}

namespace {
// Holds the second prefill call until released (a long read, stopped in the middle).
class GatedModel : public test::CountingModel {
 public:
  using CountingModel::CountingModel;
  Status prefill(std::span<const int32_t> t, State& s, std::span<float> l) override {
    if (++calls_ == 2) {
      std::unique_lock lk(mu_);
      blocked_ = true;
      cv_.notify_all();
      cv_.wait(lk, [&] { return released_; });
    }
    return CountingModel::prefill(t, s, l);
  }
  bool wait_blocked() {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(30), [&] { return blocked_; });
  }
  void release() {
    std::lock_guard lk(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false, released_ = false;
};
}  // namespace

TEST_CASE("the story stays open for changes while a generation reads its text", "[tree][session][rwkv]") {
  auto inner = test::tiny_model();
  GatedModel m(*inner);
  auto dir = test::temp_dir("story_read_unlocked");
  auto s = new_story(dir / "s.wbstory", &m);
  std::string text;
  for (int i = 0; i < 20; ++i) text += "A long chapter, pasted at once and read later. ";
  NodeId a = *s->append(s->tree_root(), text);
  REQUIRE(s->switch_to(a, /*compute=*/false).ok());
  auto sess = GenerationSession::start(*s, a, gen(4, 3));
  REQUIRE(m.wait_blocked());  // the worker is inside the read, 256 tokens in
  // A change from another thread (the UI) while the read is held in the middle:
  // it must not wait for the read to end.
  auto change = std::async(std::launch::async, [&] { return s->append(s->tree_root(), "Another beginning."); });
  const bool done_during_read = change.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  // Removing the node being read from is still refused.
  const bool removed = done_during_read && s->remove(a).ok();
  m.release();
  CHECK(done_during_read);
  CHECK(!removed);
  auto b = change.get();
  REQUIRE(b.ok());
  auto kids = sess->join();
  REQUIRE(kids.ok());
  REQUIRE(kids->size() == 1);
  CHECK(s->node(kids->at(0))->parent == a);
  CHECK(s->node(*b)->parent == s->tree_root());
}
