// wb bench-tree MODEL [--tokens T] [--tokenizer T] [--node-tokens N] [--budget-mb M] [--backend B]
// Builds a story of T tokens (nodes of N tokens, with branches at several
// depths) in a temporary project, then prints `key value` lines: tokens,
// snapshot_bytes, switch_ms, switch_recomputed_tokens, restore_ms,
// restore_recomputed_tokens, reprefill_ms, cache_bytes,
// reopen_recomputed_tokens (and a few extra: nodes, build_ms, peak_rss_kb).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/story_support.hpp"
#include "cli/verbs.hpp"
#include "core/util/stats.hpp"

namespace wb::cli {
namespace {

using session::Story;
using tree::NodeId;

// Plain prose to tokenize; any text works, this one avoids long repeats.
constexpr const char* kProse =
    "The lighthouse stood at the end of a long spit of shingle, and every evening the keeper climbed its one hundred "
    "and twelve steps to light the lamp. Ships passed in the dark, their own lights small and unsteady, and he "
    "counted them in a book with a green cover. In winter the storms came in from the west and the spray reached the "
    "gallery; in summer the gulls nested on the rocks below and woke him before dawn. He had a cat, a kettle, a "
    "wireless that caught three stations, and a letter from his sister that he read on Sundays. ";

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

Status run(const std::string& model_path, const std::string& tok, const std::string& backend, std::size_t T,
           std::size_t L, std::size_t budget) {
  WB_TRY(mc, load_model_and_codec(model_path, tok, backend));
  Model& model = *mc.model;
  WB_TRY(prose, mc.codec.encode(kProse));
  if (prose.empty()) return make_error(Errc::internal, "the benchmark text encodes to nothing");
  auto chunk_text = [&](std::size_t offset, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += mc.codec.piece(prose[(offset + i) % prose.size()]);
    return s;
  };

  auto dir = std::filesystem::temp_directory_path() / ("wb-bench-tree-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "bench.wbstory").string();
  struct Cleanup {
    std::filesystem::path d;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  } cleanup{dir};

  session::StoryOptions so;
  so.cache_budget = budget;
  std::vector<NodeId> main_path, branches;
  std::size_t tokens = 0, snapshot_bytes = 0;
  double build_ms = 0;
  std::vector<double> switch_ms, restore_ms;
  std::size_t switch_recomputed = 0, restore_recomputed = 0;
  double reprefill_ms = 0;
  std::size_t cache_bytes = 0;
  NodeId leaf = tree::kNoNode;
  {
    WB_TRY(project, project::Project::create(file));
    WB_CHECK(project->set_meta("model", model_path));
    WB_TRY(story, Story::attach(std::move(project), &model, mc.codec, so));
    auto t0 = std::chrono::steady_clock::now();
    NodeId at = story->tree_root();
    for (std::size_t off = 0; off < T; off += L) {
      WB_TRY(id, story->append(at, chunk_text(off, std::min(L, T - off))));
      WB_TRY(r, story->state_at(id));  // reads only this node: its parent is snapshotted
      (void)r;
      main_path.push_back(id);
      at = id;
    }
    leaf = at;
    // Branches at several depths.
    for (double f : {0.125, 0.25, 0.5, 0.75}) {
      NodeId p = main_path[static_cast<std::size_t>(f * static_cast<double>(main_path.size() - 1))];
      WB_TRY(b, story->append(p, chunk_text(7919 + branches.size() * 131, L)));
      WB_TRY(r, story->state_at(b));
      (void)r;
      branches.push_back(b);
    }
    build_ms = ms_between(t0, std::chrono::steady_clock::now());
    tokens = story->tree_copy().path_tokens(leaf);
    {
      WB_TRY(r, story->state_at(leaf));
      snapshot_bytes = r.state.byte_size() + r.logits.size() * sizeof(float);
    }

    // Switch among snapshotted nodes at every depth.
    std::vector<NodeId> targets = branches;
    targets.push_back(leaf);
    for (double f : {0.0, 0.33, 0.66}) targets.push_back(main_path[static_cast<std::size_t>(f * static_cast<double>(main_path.size() - 1))]);
    for (int round = 0; round < 5; ++round)
      for (NodeId t : targets) {
        // The whole call: restore plus recording the current node in the file.
        auto a = std::chrono::steady_clock::now();
        WB_TRY(sw, story->switch_to(t));
        switch_ms.push_back(ms_between(a, std::chrono::steady_clock::now()));
        switch_recomputed = std::max(switch_recomputed, sw.recomputed_tokens);
      }

    // Nodes without a snapshot: replay from the parent's.
    for (double f : {0.2, 0.4, 0.6, 0.8}) {
      NodeId n = main_path[std::max<std::size_t>(1, static_cast<std::size_t>(f * static_cast<double>(main_path.size() - 1)))];
      story->forget_snapshot(n);
      auto a = std::chrono::steady_clock::now();
      WB_TRY(sw, story->switch_to(n));
      restore_ms.push_back(ms_between(a, std::chrono::steady_clock::now()));
      restore_recomputed = std::max(restore_recomputed, sw.recomputed_tokens);
    }

    // What a transformer-style workflow does on a switch: read the whole prefix.
    {
      std::string text = story->path_text(leaf);
      WB_TRY(all, mc.codec.encode(text));
      State s = model.new_state();
      std::vector<float> logits(static_cast<std::size_t>(model.info().n_vocab));
      auto a = std::chrono::steady_clock::now();
      WB_CHECK(model.prefill(all, s, logits));
      reprefill_ms = ms_between(a, std::chrono::steady_clock::now());
    }
    WB_TRY(sw, story->switch_to(leaf));
    (void)sw;
    cache_bytes = story->cache_bytes();
    WB_CHECK(story->store_snapshots());
  }

  // Reopen and continue from the stored leaf.
  std::size_t reopen_recomputed = 0;
  {
    WB_TRY(project, project::Project::open(file));
    WB_TRY(story, Story::attach(std::move(project), &model, mc.codec, so));
    WB_TRY(r, story->state_at(leaf));
    reopen_recomputed = r.recomputed_tokens;
    session::GenerateOptions g;
    g.settings.max_tokens = 8;
    WB_TRY(kids, story->continue_from(leaf, g, nullptr, nullptr));
    if (kids.empty()) return make_error(Errc::internal, "continuing after reopening produced nothing");
  }

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("tokens %zu\n", tokens);
  std::printf("nodes %zu\n", main_path.size() + branches.size() + 1);
  std::printf("snapshot_bytes %zu\n", snapshot_bytes);
  std::printf("switch_ms %.4f\n", median(switch_ms));
  std::printf("switch_recomputed_tokens %zu\n", switch_recomputed);
  std::printf("restore_ms %.3f\n", median(restore_ms));
  std::printf("restore_recomputed_tokens %zu\n", restore_recomputed);
  std::printf("reprefill_ms %.3f\n", reprefill_ms);
  std::printf("cache_bytes %zu\n", cache_bytes);
  std::printf("reopen_recomputed_tokens %zu\n", reopen_recomputed);
  std::printf("build_ms %.1f\n", build_ms);
  std::printf("peak_rss_kb %ld\n", ru.ru_maxrss);
  return {};
}

}  // namespace

int cmd_bench_tree(Args& args) {
  auto tokens = args.integer("--tokens");
  auto node_tokens = args.integer("--node-tokens");
  auto budget = args.integer("--budget-mb");
  auto tok = args.value("--tokenizer");
  auto backend = args.value("--backend");
  for (auto* r : {&tokens, &node_tokens, &budget})
    if (!*r) return fail(r->error());
  if (!tok) return fail(tok.error());
  if (!backend) return fail(backend.error());
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  auto pos = args.positionals();
  if (pos.size() != 1) return fail(make_error(Errc::invalid_argument, "usage: wb bench-tree MODEL [--tokens T]"));
  int64_t T = tokens->value_or(8192), L = node_tokens->value_or(256), B = budget->value_or(256);
  if (T < 16 || T > 100'000'000) return fail(make_error(Errc::invalid_argument, "--tokens must be 16..100000000"));
  if (L < 2 || L > T) return fail(make_error(Errc::invalid_argument, "--node-tokens must be 2..tokens"));
  if (B < 1 || B > 1'000'000) return fail(make_error(Errc::invalid_argument, "--budget-mb must be 1..1000000"));
  auto st = run(pos[0], tok->value_or(""), backend->value_or(""), static_cast<std::size_t>(T),
                static_cast<std::size_t>(L), static_cast<std::size_t>(B) << 20);
  if (!st) return fail(st.error());
  return 0;
}

}  // namespace wb::cli
