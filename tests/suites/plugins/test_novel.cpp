// The novel-continuation plugin on a fixture model: it continues a story
// through wb.tree/1 + wb.generate/1 and the children land in the project file.
#include <chrono>
#include <cstdlib>
#include <thread>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/project/project.hpp"
#include "host/story_service.hpp"
#include "sandbox.hpp"

using namespace wb;
using namespace wb::test;

namespace {

const char* kNovel = "org.rwkv.workbench.novel";

std::string run_novel(host::PluginHost& h, const std::vector<std::string>& args) {
  std::string out, err;
  auto rc = h.run_headless(kNovel, args, [&](bool e, std::string_view b) { (e ? err : out).append(b); });
  INFO((rc ? std::string() : rc.error().message) << err << out);
  REQUIRE(rc);
  REQUIRE(*rc == 0);
  return out;
}

tree::Tree load(const fs::path& p) {
  auto project = project::Project::open(p.string());
  INFO((project ? std::string() : project.error().message));
  REQUIRE(project);
  auto t = (*project)->load_tree();
  REQUIRE(t);
  return std::move(*t);
}

std::vector<tree::NodeId> numbers_after(const std::string& out, const std::string& word) {
  std::vector<tree::NodeId> ids;
  std::regex re(word + " ([0-9]+)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it)
    ids.push_back(std::stoull((*it)[1].str()));
  return ids;
}

}  // namespace

TEST_CASE("the novel plugin continues a story on a fixture model and writes children into the tree",
          "[plugin][novel]") {
  Sandbox box("novel");
  std::string model = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  fs::path project = box.root / "story.wbstory";
  std::vector<tree::NodeId> kids;
  {
    host::PluginHost h(box.paths(), box.log);
    h.scan();
    std::string out = run_novel(h, {"--project", project.string(), "--model", model, "--create", "--memory",
                                    "A tale of the sea.", "--append", "Once upon a time", "--continue", "-n", "24",
                                    "--alternatives", "3", "--seed", "7"});
    kids = numbers_after(out, "node");  // "appended node A", then "alternative i: node K"
    REQUIRE(kids.size() == 4);
    kids.erase(kids.begin());
    CHECK(run_novel(h, {"--project", project.string(), "--words"}) == "words 4\n");
  }
  tree::Tree t = load(project);
  const tree::Node* root = t.find(t.root());
  REQUIRE(root->children.size() == 1);
  const tree::Node* memory = t.find(root->children[0]);
  CHECK(memory->label == "novel.memory");
  CHECK(memory->text == "A tale of the sea.\n\n");  // kept apart from the story
  REQUIRE(memory->children.size() == 1);
  const tree::Node* prompt = t.find(memory->children[0]);
  CHECK(prompt->text == "Once upon a time");
  CHECK(prompt->origin == kNovel);
  REQUIRE(prompt->children == kids);
  for (std::size_t i = 0; i < kids.size(); ++i) {
    const tree::Node* k = t.find(kids[i]);
    CHECK(k->origin == kNovel);
    CHECK(k->tokens.size() == 24);
    CHECK(k->alternatives.size() == 24);
    CHECK(k->seed == 7 + i);
  }

  // Same seed in a fresh project: the same text (generation is deterministic).
  fs::path again = box.root / "again.wbstory";
  {
    host::PluginHost h(box.paths(), box.log);
    h.scan();
    run_novel(h, {"--project", again.string(), "--model", model, "--create", "--memory", "A tale of the sea.",
                  "--append", "Once upon a time", "--continue", "-n", "24", "--alternatives", "3", "--seed", "7"});
  }
  tree::Tree t2 = load(again);
  const tree::Node* p2 = t2.find(t2.find(t2.find(t2.root())->children[0])->children[0]);
  REQUIRE(p2->children.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(t2.find(p2->children[i])->text == t.find(kids[i])->text);
}

TEST_CASE("the novel plugin regenerates from a token with a stored alternative", "[plugin][novel]") {
  Sandbox box("novel-regen");
  std::string model = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  fs::path project = box.root / "story.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  auto out = run_novel(h, {"--project", project.string(), "--model", model, "--create", "--append", "The ship",
                           "--continue", "-n", "16", "--seed", "3"});
  auto ids = numbers_after(out, "node");
  REQUIRE(ids.size() == 2);
  tree::NodeId gen = ids[1];
  out = run_novel(h, {"--project", project.string(), "--regenerate", std::to_string(gen), "--at", "5", "--continue",
                      "-n", "8"});
  auto branch = numbers_after(out, "branch");
  REQUIRE(branch.size() == 1);
  auto cont = numbers_after(out, "node");  // "of node GEN", "alternative 1: node C"
  REQUIRE(cont.size() == 2);

  auto* story = h.services().story->story;
  REQUIRE(story);
  auto orig = story->node(gen);
  auto b = story->node(branch[0]);
  REQUIRE(orig);
  REQUIRE(b);
  // The original kept its id and lost its first 5 tokens to a new front node,
  // which is the parent of both the original tail and the new branch.
  CHECK(orig->tokens.size() == 11);
  CHECK(b->parent == orig->parent);
  auto front = story->node(b->parent);
  REQUIRE(front);
  CHECK(front->tokens.size() == 5);
  REQUIRE(b->tokens.size() == 1);
  CHECK(b->tokens[0] != orig->tokens[0]);  // a different token at position 5
  REQUIRE(b->children.size() == 1);
  CHECK(b->children[0] == cont[1]);
  CHECK(story->node(cont[1])->tokens.size() == 8);
  CHECK(story->current() == branch[0]);
}

TEST_CASE("wb plugin run drives the novel plugin headless", "[plugin][novel][cli]") {
  Sandbox box("novel-cli");
  std::string model = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  fs::path project = box.root / "story.wbstory";
  ::setenv("XDG_DATA_HOME", box.data.c_str(), 1);
  ::setenv("XDG_CONFIG_HOME", box.config.c_str(), 1);
  auto r = run_wb("plugin run org.rwkv.workbench.novel --project '" + project.string() + "' --model '" + model +
                  "' --create --append 'It was a dark and stormy night'");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  // The command: the model is remembered by the project.
  r = run_wb("plugin run org.rwkv.workbench.novel --project '" + project.string() +
             "' --continue -n 200 --alternatives 3");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(numbers_after(r.out, "alternative").size() == 3);
  CHECK(r.out.find("(200 tokens)") != std::string::npos);
  r = run_wb("plugin run org.rwkv.workbench.novel --project '" + project.string() + "' --continue --alternatives 99");
  CHECK(r.exit_code == 2);
  r = run_wb("plugin run org.rwkv.workbench.novel --project '" + (box.root / "missing.wbstory").string() + "' --show");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("opening the project") != std::string::npos);
  ::unsetenv("XDG_DATA_HOME");
  ::unsetenv("XDG_CONFIG_HOME");
}

TEST_CASE("the novel plugin puts the author's note and triggered lore before the continuation", "[plugin][novel]") {
  Sandbox box("novel-note");
  std::string model = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  fs::path project = box.root / "story.wbstory", lore = box.root / "lore.txt";
  std::ofstream(lore) << "# lorebook\nlighthouse, keeper: The keeper of the lighthouse is Mara.\n"
                         "dragon: Dragons are long extinct.\n";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  auto out = run_novel(h, {"--project", project.string(), "--model", model, "--create", "--append",
                           "She climbed the LIGHTHOUSE stairs."});
  tree::NodeId from = numbers_after(out, "node").at(0);
  out = run_novel(h, {"--project", project.string(), "--continue", "-n", "12", "--alternatives", "2", "--seed", "5",
                      "--note", "Write in the past tense.", "--lore", lore.string()});
  CHECK(out.find("context: 1 lorebook entry, author's note") != std::string::npos);
  auto kids = numbers_after(out, "alternative [0-9]+: node");
  auto* story = h.services().story->story;
  REQUIRE(story);
  auto parent = story->node(from);
  REQUIRE(parent);
  REQUIRE(parent->children.size() == 2);  // the temporary context branch is gone
  CHECK(parent->children == kids);
  CHECK(story->tree_copy().find_by_label("novel.context").empty());
  std::string context;
  for (std::size_t i = 0; i < 2; ++i) {
    auto k = story->node(parent->children[i]);
    REQUIRE(k);
    CHECK(k->origin == kNovel);
    auto meta = nlohmann::json::parse(k->metadata);
    context = meta.at("novel.context").get<std::string>();
    CHECK(context.find("The keeper of the lighthouse is Mara.") != std::string::npos);
    CHECK(context.find("[Author's note: Write in the past tense.]") != std::string::npos);
    CHECK(context.find("Dragons") == std::string::npos);  // not triggered
  }
  // The model really read that context: generating from it by hand with the
  // same settings gives the same continuations.
  auto ctx_node = story->append(from, context);
  REQUIRE(ctx_node);
  session::GenerateOptions g;
  g.settings.max_tokens = 12;
  g.settings.seed = 5;
  g.alternatives = 2;
  auto again = story->continue_from(*ctx_node, g, nullptr, nullptr);
  REQUIRE(again);
  REQUIRE(again->size() == 2);
  for (std::size_t i = 0; i < 2; ++i)
    CHECK(story->node((*again)[i])->text == story->node(parent->children[i])->text);
}

namespace {

struct Collected {
  std::size_t tokens = 0, nodes = 0;
  std::size_t stop_after = 0;  // 0: never cancel
};

bool collect(void* user, const wb_generate_event* e) {
  auto* c = static_cast<Collected*>(user);
  if (e->kind == WB_GENERATE_TOKEN) ++c->tokens;
  if (e->kind == WB_GENERATE_NODE) ++c->nodes;
  return c->stop_after == 0 || c->tokens < c->stop_after;
}

// Polls like a GUI frame loop would (never blocking), for at most a minute.
bool poll_until_done(const wb_host_generate* gen, const wb_host* h, wb_session_id sid, Collected& c, bool& finished) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  finished = false;
  while (!finished && std::chrono::steady_clock::now() < deadline) {
    if (gen->poll(h, sid, collect, &c, &finished) != WB_OK) return false;
    if (!finished) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return finished;
}

}  // namespace

TEST_CASE("generation sessions run on a worker, stream events and cancel", "[plugin][novel]") {
  Sandbox box("gen-session");
  std::string model = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  fs::path project = box.root / "story.wbstory";
  host::HostServices services(box.log, {fs::path(WB_REPO_DIR) / "presets"}, {});
  auto ctx = host::make_host_context(services, "org.wbtest.direct", true);
  const wb_host* h = &ctx->table;
  auto* tree = static_cast<const wb_host_tree*>(h->get_extension(h, WB_EXT_TREE));
  auto* gen = static_cast<const wb_host_generate*>(h->get_extension(h, WB_EXT_GENERATE));
  REQUIRE(tree);
  REQUIRE(gen);
  wb_node_id root = 0, prompt = 0;
  CHECK(tree->root(h, &root) == WB_ERR_UNSUPPORTED);  // nothing open yet
  REQUIRE(tree->open_project(h, project.c_str(), model.c_str(), true) == WB_OK);
  REQUIRE(tree->root(h, &root) == WB_OK);
  REQUIRE(tree->append(h, root, "The sea was calm", 16, &prompt) == WB_OK);

  wb_sampler_settings s = WB_SAMPLER_SETTINGS_INIT;
  s.preset = "creative.txt";  // presets/sampling/, then overrides
  s.set = WB_SAMPLER_MAX_TOKENS | WB_SAMPLER_SEED;
  s.max_tokens = 20;
  s.seed = 11;
  s.alternatives = 2;
  wb_session_id sid = 0;
  REQUIRE(gen->start(h, prompt, &s, &sid) == WB_OK);
  Collected c;
  bool finished = false;
  REQUIRE(poll_until_done(gen, h, sid, c, finished));
  REQUIRE(finished);
  CHECK(c.tokens == 40);
  CHECK(c.nodes == 2);
  wb_node_id kids[4];
  size_t n = 0;
  REQUIRE(gen->finish(h, sid, kids, 4, &n) == WB_OK);
  REQUIRE(n == 2);
  wb_node_info info{};
  REQUIRE(tree->node_info(h, kids[1], &info) == WB_OK);
  CHECK(info.parent == prompt);
  CHECK(info.token_count == 20);
  CHECK(info.seed == 12);
  CHECK(gen->poll(h, sid, collect, &c, &finished) == WB_ERR_NOT_FOUND);  // forgotten after finish

  // Cancel from the event callback: the worker stops between tokens and the
  // tokens so far are kept as a node.
  s.max_tokens = 100000;
  s.alternatives = 1;
  REQUIRE(gen->start(h, prompt, &s, &sid) == WB_OK);
  Collected stop;
  stop.stop_after = 5;
  finished = false;
  REQUIRE(poll_until_done(gen, h, sid, stop, finished));
  REQUIRE(finished);
  REQUIRE(gen->finish(h, sid, kids, 4, &n) == WB_OK);
  REQUIRE(n == 1);
  REQUIRE(tree->node_info(h, kids[0], &info) == WB_OK);
  CHECK(info.token_count >= 5);
  CHECK(info.token_count < 100000);

  // Wrong calls: errors, logged against the caller.
  CHECK(gen->start(h, 999999, &s, &sid) == WB_ERR_NOT_FOUND);
  s.struct_size = 8;
  CHECK(gen->start(h, prompt, &s, &sid) == WB_ERR_INVALID_ARGUMENT);
  CHECK(gen->cancel(h, 424242) == WB_ERR_NOT_FOUND);
  CHECK(ctx->misuse_count == 4);  // with the poll of a finished session above
  CHECK(box.logged("plugin org.wbtest.direct: host service misuse: generate.start: no node 999999"));
}

TEST_CASE("the novel plugin continues from its GUI panel without blocking", "[plugin][novel][ui]") {
  Sandbox box("novel-ui");
  std::string model = fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  fs::path project = box.root / "story.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  // Headless first: opens the project (in the GUI the app attaches its story).
  auto out = run_novel(h, {"--project", project.string(), "--model", model, "--create", "--append", "The storm"});
  tree::NodeId from = numbers_after(out, "node").at(0);
  auto panels = h.ui().panels(kNovel);
  REQUIRE(panels.size() == 1);
  const host::UiPanel& p = *panels[0];
  double length = 15, alts = 2;
  std::string note = "Keep it short.";
  REQUIRE(h.ui_change(kNovel, "novel", "length", nullptr, &length));
  REQUIRE(h.ui_change(kNovel, "novel", "alternatives", nullptr, &alts));
  REQUIRE(h.ui_change(kNovel, "novel", "note", &note, nullptr));
  REQUIRE(h.ui_press(kNovel, "novel", "continue"));
  const host::UiWidget* status = p.find("status");
  REQUIRE(status);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (status->text.rfind("done", 0) != 0 && std::chrono::steady_clock::now() < deadline) {
    h.ui_tick();  // one GUI frame
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  INFO(status->text);
  REQUIRE(status->text.rfind("done: 30 tokens; new nodes ", 0) == 0);
  auto* story = h.services().story->story;
  auto parent = story->node(from);
  REQUIRE(parent);
  REQUIRE(parent->children.size() == 2);
  auto first = story->node(parent->children[0]);
  CHECK(first->text.size() == 15);
  CHECK(p.find("preview")->text == first->text);  // streamed text of alternative 1
  CHECK(first->metadata.find("Keep it short.") != std::string::npos);
  CHECK(story->tree_copy().find_by_label("novel.context").empty());
}
