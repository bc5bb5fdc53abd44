// The multi-character dialogue plugin, run headless on the tiny RWKV-7
// fixture (a byte-level model: one token per byte, so token counts can be
// checked against text lengths), plus the host extensions it brought
// (wb.cards/1, wb.score/1, wb.transcript/1).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <thread>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "core/card/card.hpp"
#include "core/card/card_png.hpp"
#include "core/model/load.hpp"
#include "core/project/project.hpp"
#include "host/story_service.hpp"
#include "suites/plugins/sandbox.hpp"

using namespace wb;
using namespace wb::test;

namespace {

const char* kDialogue = "org.rwkv.workbench.dialogue";

struct Run {
  int rc = -1;
  std::string out, err;
};

Run run_dialogue(host::PluginHost& h, const std::vector<std::string>& args) {
  Run r;
  auto rc = h.run_headless(kDialogue, args, [&](bool e, std::string_view b) { (e ? r.err : r.out).append(b); });
  INFO((rc ? std::string() : rc.error().message));
  REQUIRE(rc);
  r.rc = *rc;
  return r;
}

std::string ok(host::PluginHost& h, const std::vector<std::string>& args) {
  Run r = run_dialogue(h, args);
  INFO(r.err << r.out);
  REQUIRE(r.rc == 0);
  return r.out;
}

std::vector<std::string> values(const std::string& out, const std::string& key) {
  std::vector<std::string> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + " ", 0) == 0) v.push_back(line.substr(key.size() + 1));
  return v;
}

uint64_t first_id(const std::string& out, const std::string& key) {
  auto v = values(out, key);
  REQUIRE(!v.empty());
  return std::stoull(v[0]);
}

std::string model_path() { return fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin"); }

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f << bytes;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A V2 JSON card and a V3 PNG card written with core/card.
void make_cards(const fs::path& dir) {
  card::Card a;
  a.spec = card::Spec::v2;
  a.name = "Alice";
  a.description = "A lighthouse keeper.";
  a.personality = "dry, brave";
  a.first_mes = "Mind the stairs.";
  a.mes_example = "Alice: The lamp never sleeps.";
  a.extensions_json = R"({"depth_prompt":{"prompt":"Stay in character.","depth":4}})";
  REQUIRE(card::save_card(a, (dir / "alice.json").string()));
  card::Card b;
  b.name = "Bob";
  b.description = "A fisherman.";
  b.first_mes = "Storm's coming.";
  REQUIRE(card::save_card(b, (dir / "bob.png").string()));
}

tree::Tree load_tree(const fs::path& p) {
  auto project = project::Project::open(p.string());
  REQUIRE(project);
  auto t = (*project)->load_tree();
  REQUIRE(t);
  return std::move(*t);
}

// The lane node holding "NAME:" whose parent is the latest unseen-messages node.
std::vector<const tree::Node*> prompts_of(const tree::Tree& t, const std::string& name) {
  std::vector<const tree::Node*> r;
  for (auto id : t.ids()) {
    const tree::Node* n = t.find(id);
    if (n->label == "dlg.lane" && n->text == name + ":") r.push_back(n);
  }
  return r;
}

// Bytes the lane read after a generated line that the length limit cut off
// before its blank line (the plugin closes it so the lane matches the message).
std::size_t closing_bytes(const tree::Tree& t, const tree::Node* prompt) {
  REQUIRE(prompt->children.size() >= 1);
  const tree::Node* kid = t.find(prompt->children[0]);
  if (kid->children.empty()) return 0;
  const tree::Node* close = t.find(kid->children[0]);
  return close->label == "dlg.lane" && (close->text == "\n" || close->text == "\n\n") ? close->text.size() : 0;
}

}  // namespace

TEST_CASE("dialogue: cast from cards and the four turn modes", "[dialogue][plugin]") {
  Sandbox box("dialogue-turns");
  make_cards(box.root);
  fs::path project = box.root / "scene.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  std::string out = ok(h, {"--project", project.string(), "--model", model_path(), "--create", "--new-scene", "Harbour",
                           "--add-card", (box.root / "alice.json").string(), "--add-card", (box.root / "bob.png").string(),
                           "--add-character", "Carol", "--description", "A smuggler.", "--mode", "round"});
  CHECK(values(out, "character") == std::vector<std::string>{"Alice", "Bob", "Carol"});
  std::string P = project.string();
  auto next = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"--project", P, "--next", "-n", "6", "--seed", "3"};
    a.insert(a.end(), extra.begin(), extra.end());
    std::string o = ok(h, a);
    auto s = values(o, "speaker");
    REQUIRE(s.size() == 1);
    return std::make_pair(s[0], o);
  };
  // Round-robin.
  CHECK(next({}).first == "Alice");
  CHECK(next({}).first == "Bob");
  CHECK(next({}).first == "Carol");
  CHECK(next({}).first == "Alice");
  // Manual: a speaker must be named.
  Run manual = run_dialogue(h, {"--project", P, "--mode", "manual", "--next"});
  CHECK(manual.rc == 1);
  CHECK(manual.err.find("manual") != std::string::npos);
  CHECK(next({"--speaker", "Carol"}).first == "Carol");
  CHECK(run_dialogue(h, {"--project", P, "--next", "--speaker", "Nobody"}).rc == 1);
  // Mention-based: the first character named in the last message (case-insensitive, whole words).
  ok(h, {"--project", P, "--mode", "mention", "--post", "Well, bob and Carol, who rows tonight?"});
  CHECK(next({}).first == "Bob");
  ok(h, {"--project", P, "--post", "Carolina is a ship. Alice?"});
  CHECK(next({}).first == "Alice");
  // Model-chosen: every candidate but the last speaker scored at once; the best one speaks.
  ok(h, {"--project", P, "--mode", "model"});
  auto [who, o] = next({});
  auto scores = values(o, "score");
  REQUIRE(scores.size() == 2);  // Alice spoke last
  std::map<std::string, double> by;
  for (const auto& s : scores) {
    auto sp = s.find(' ');
    by[s.substr(0, sp)] = std::stod(s.substr(sp + 1));
  }
  CHECK(by.count("Alice") == 0);
  REQUIRE(by.count(who) == 1);
  for (const auto& [n, lp] : by) {
    CHECK(lp < 0);
    CHECK(by[who] >= lp);
  }
  // The cast listing and the exported card keep the fields.
  out = ok(h, {"--project", P, "--cast", "--export-card", "Alice", "--card-out", (box.root / "alice-out.png").string()});
  CHECK(values(out, "character") == std::vector<std::string>{"Alice", "Bob", "Carol"});
  auto back = card::load_card((box.root / "alice-out.png").string());
  REQUIRE(back);
  CHECK(back->name == "Alice");
  CHECK(back->personality == "dry, brave");
  CHECK(back->mes_example == "Alice: The lamp never sleeps.");
  CHECK(back->extensions_json.find("Stay in character.") != std::string::npos);  // kept from the imported card
  CHECK(!box.logged("host service misuse"));
}

TEST_CASE("dialogue: per-character lanes read only what each character witnessed", "[dialogue][plugin][lanes]") {
  Sandbox box("dialogue-lanes");
  fs::path project = box.root / "lanes.wbstory";
  std::string P = project.string();
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  ok(h, {"--project", P, "--model", model_path(), "--create", "--new-scene", "Secrets", "--lanes", "on", "--mode",
         "manual", "--add-character", "Alice"});
  ok(h, {"--project", P, "--add-character", "Bob"});
  ok(h, {"--project", P, "--add-character", "Carol"});
  ok(h, {"--project", P, "--post", "Hello all."});
  ok(h, {"--project", P, "--post", "The key is under the mat.", "--whisper", "Bob"});
  ok(h, {"--project", P, "--post", "I never liked Bob.", "--as", "Alice", "--aside"});
  const std::string hello = "User: Hello all.\n\n";
  const std::string whisper = "User: The key is under the mat.\n\n";
  const std::string aside = "Alice: I never liked Bob.\n\n";

  // Carol saw only the public line.
  std::string out = ok(h, {"--project", P, "--next", "--speaker", "Carol", "-n", "8", "--seed", "1"});
  uint64_t carol1 = first_id(out, "message");
  size_t fed = std::stoul(values(out, "fed_tokens").at(0));
  tree::Tree t = load_tree(project);
  auto cp = prompts_of(t, "Carol");
  REQUIRE(cp.size() == 1);
  const tree::Node* unseen = t.find(cp[0]->parent);
  CHECK(unseen->text == hello);
  const tree::Node* ctx = t.find(unseen->parent);
  CHECK(ctx->parent == tree::kRootId);
  CHECK(ctx->text.find("About") == std::string::npos);  // no descriptions were given
  const std::size_t ctx_size = ctx->text.size();  // `t` is reloaded below
  // Byte model: tokens == bytes. Lane context + the public line + "Carol:".
  CHECK(fed == ctx_size + hello.size() + 6 + closing_bytes(t, cp[0]));
  std::string carol_line = t.find(carol1)->text;
  REQUIRE(carol_line.rfind("Carol:", 0) == 0);

  // Bob: the public line, the whisper to him, Carol's reply; not Alice's aside.
  out = ok(h, {"--project", P, "--next", "--speaker", "Bob", "-n", "8", "--seed", "2"});
  uint64_t bob1 = first_id(out, "message");
  t = load_tree(project);
  auto bp = prompts_of(t, "Bob");
  REQUIRE(bp.size() == 1);
  CHECK(t.find(bp[0]->parent)->text == hello + whisper + carol_line);
  std::string bob_line = t.find(bob1)->text;

  // Alice: her own aside too, but not the whisper.
  out = ok(h, {"--project", P, "--next", "--speaker", "Alice", "-n", "8", "--seed", "3"});
  uint64_t alice1 = first_id(out, "message");
  t = load_tree(project);
  auto ap = prompts_of(t, "Alice");
  REQUIRE(ap.size() == 1);
  CHECK(t.find(ap[0]->parent)->text == hello + aside + carol_line + bob_line);
  std::string alice_line = t.find(alice1)->text;

  // Carol again: only what she has not seen (Bob's and Alice's lines) plus her prompt;
  // re-reading her history would cost far more.
  out = ok(h, {"--project", P, "--next", "--speaker", "Carol", "-n", "8", "--seed", "4"});
  fed = std::stoul(values(out, "fed_tokens").at(0));
  size_t history = std::stoul(values(out, "history_tokens").at(0));
  t = load_tree(project);
  cp = prompts_of(t, "Carol");
  REQUIRE(cp.size() == 2);
  const tree::Node* latest = t.find(cp[0]->id > cp[1]->id ? cp[0]->id : cp[1]->id);
  const tree::Node* unseen2 = t.find(latest->parent);
  CHECK(unseen2->text == bob_line + alice_line);
  // Her lane continues from her own previous line (generated there), never re-reading.
  const tree::Node* own = t.find(unseen2->parent);
  CHECK(own->label == "dlg.lane");
  if (t.find(own->parent)->text != "Carol:") own = t.find(own->parent);  // the closing blank line
  CHECK(t.find(own->parent)->text == "Carol:");
  CHECK(own->parent == std::min(cp[0]->id, cp[1]->id));
  CHECK(fed == bob_line.size() + alice_line.size() + 6 + closing_bytes(t, latest));
  CHECK(history == ctx_size + hello.size() + carol_line.size() + bob_line.size() + alice_line.size() + 6);
  CHECK(fed < history);

  // Lanes off: one shared lane that reads everything, whispers included.
  ok(h, {"--project", P, "--new-scene", "Open", "--add-character", "Dan", "--mode", "manual"});
  ok(h, {"--project", P, "--post", "Psst.", "--whisper", "Dan"});
  out = ok(h, {"--project", P, "--next", "--speaker", "Dan", "-n", "4"});
  t = load_tree(project);
  auto dp = prompts_of(t, "Dan");
  REQUIRE(dp.size() == 1);
  CHECK(t.find(dp[0]->parent)->text == "User: Psst.\n\n");
  CHECK(t.find(t.find(dp[0]->parent)->parent)->text.find("Cast: Dan, User and Narrator.") != std::string::npos);
}

TEST_CASE("dialogue: swipes are siblings, edits and forks branch, export writes transcripts", "[dialogue][plugin]") {
  Sandbox box("dialogue-branch");
  make_cards(box.root);
  fs::path project = box.root / "branch.wbstory";
  std::string P = project.string();
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  ok(h, {"--project", P, "--model", model_path(), "--create", "--new-scene", "Storm", "--user", "Ada", "--add-card",
         (box.root / "alice.json").string(), "--greet", "Alice"});
  uint64_t hi = first_id(ok(h, {"--project", P, "--post", "Is the lamp lit?"}), "message");
  std::string out = ok(h, {"--project", P, "--next", "--speaker", "Alice", "--alternatives", "2", "-n", "8", "--seed", "5"});
  REQUIRE(values(out, "message").size() == 2);
  std::vector<uint64_t> gen;
  for (const auto& v : values(out, "message")) gen.push_back(std::stoull(v.substr(0, v.find(' '))));
  out = ok(h, {"--project", P, "--swipe", std::to_string(gen[0]), "-n", "8"});
  uint64_t swiped = std::stoull(values(out, "message").at(0));
  tree::Tree t = load_tree(project);
  CHECK(t.find(gen[0])->parent == hi);
  CHECK(t.find(gen[1])->parent == hi);
  CHECK(t.find(swiped)->parent == hi);
  CHECK(t.find(swiped)->text.rfind("Alice:", 0) == 0);
  out = ok(h, {"--project", P, "--alternatives-of", std::to_string(gen[1])});
  CHECK(values(out, "alternative").size() == 3);
  // A user message cannot be swiped; it can be edited into a sibling branch.
  CHECK(run_dialogue(h, {"--project", P, "--swipe", std::to_string(hi)}).rc == 1);
  uint64_t edited = first_id(ok(h, {"--project", P, "--edit", std::to_string(hi), "--text", "Is the lamp out?"}), "message");
  t = load_tree(project);
  CHECK(t.find(edited)->parent == t.find(hi)->parent);
  CHECK(t.find(edited)->text == "Ada: Is the lamp out?\n\n");
  CHECK(t.find(hi)->text == "Ada: Is the lamp lit?\n\n");  // the original stays
  CHECK(t.find(hi)->children.size() == 3);
  // Fork at the first generated alternative: a reply under it.
  uint64_t forked = first_id(ok(h, {"--project", P, "--at", std::to_string(gen[1]), "--post", "Thanks."}), "message");
  t = load_tree(project);
  CHECK(t.find(forked)->parent == gen[1]);
  out = ok(h, {"--project", P, "--list"});
  auto listed = values(out, "message");
  REQUIRE(listed.size() == 4);  // greeting, question, Alice's alternative 2, thanks
  CHECK(listed[0].find("Alice: Mind the stairs.") != std::string::npos);
  CHECK(listed[3].find("Ada: Thanks.") != std::string::npos);

  // Export the current path.
  for (std::string ext : {".txt", ".md", ".jsonl"}) {
    fs::path f = box.root / ("scene" + ext);
    ok(h, {"--project", P, "--export", f.string()});
    std::string text = read_file(f);
    CHECK(text.find("Mind the stairs.") != std::string::npos);
    if (ext == ".md") CHECK(text.find("**Ada:**") != std::string::npos);
    if (ext == ".jsonl") {
      std::istringstream in(text);
      std::string line;
      std::vector<nlohmann::json> lines;
      while (std::getline(in, line))
        if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
      REQUIRE(lines.size() == 5);
      CHECK(lines[0].at("user_name") == "Ada");
      CHECK(lines[0].at("character_name") == "Alice");
      CHECK(lines[2].at("is_user") == true);
      CHECK(lines[3].at("name") == "Alice");
      CHECK(lines[3].at("swipes").size() == 3);
      CHECK(lines[3].at("swipe_id") == 1);
    }
  }
  CHECK(run_dialogue(h, {"--project", P, "--export", (box.root / "scene.doc").string()}).rc == 1);
}

TEST_CASE("dialogue: broken cards are refused and leave the scene untouched", "[dialogue][plugin][cards]") {
  Sandbox box("dialogue-bad");
  make_cards(box.root);
  fs::path project = box.root / "bad.wbstory";
  std::string P = project.string();
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  uint64_t scene = first_id(ok(h, {"--project", P, "--model", model_path(), "--create", "--new-scene", "Quiet",
                                   "--add-card", (box.root / "alice.json").string()}),
                            "scene");
  std::string png = read_file(box.root / "bob.png");
  REQUIRE(png.size() > 100);
  std::string bad_crc = png;
  bad_crc[40] = static_cast<char>(bad_crc[40] ^ 0x5a);  // inside the first chunks: a CRC no longer matches
  write_file(box.root / "crc.png", bad_crc);
  write_file(box.root / "short.png", png.substr(0, png.size() / 2));
  write_file(box.root / "notjson.json", "{\"name\": \"Eve\", ");
  write_file(box.root / "wrongtype.json", R"({"spec":"chara_card_v2","spec_version":"2.0","data":{"name":42}})");
  write_file(box.root / "huge.json", "{\"name\":\"Huge\",\"description\":\"" + std::string(2u << 20, 'x') + "\"}");
  auto plain = card::placeholder_png("nobody");
  REQUIRE(plain);
  write_file(box.root / "nocard.png", std::string(plain->begin(), plain->end()));
  auto b64 = card::write_png_texts(*plain, {{"chara", "!!!not base64!!!"}}, "x.png", card::Limits{});
  REQUIRE(b64);
  write_file(box.root / "notbase64.png", std::string(b64->begin(), b64->end()));

  auto meta_before = load_tree(project).find(scene)->metadata;
  auto nodes_before = load_tree(project).ids().size();
  for (std::string f : {"crc.png", "short.png", "notjson.json", "wrongtype.json", "huge.json", "nocard.png",
                        "notbase64.png", "missing.json"}) {
    INFO(f);
    // A good card first: nothing may be imported half-way.
    Run r = run_dialogue(h, {"--project", P, "--add-card", (box.root / "bob.png").string(), "--add-card",
                             (box.root / f).string(), "--post", "hello"});
    CHECK(r.rc == 1);
    CHECK(r.err.find(f) != std::string::npos);  // the error names the file
    CHECK(r.out.empty());
    tree::Tree t = load_tree(project);
    CHECK(t.find(scene)->metadata == meta_before);
    CHECK(t.ids().size() == nodes_before);
  }
  std::string out = ok(h, {"--project", P, "--cast"});
  CHECK(values(out, "character") == std::vector<std::string>{"Alice"});
}

TEST_CASE("dialogue: the lane benchmark reads far fewer tokens than re-reading", "[dialogue][plugin][bench]") {
  Sandbox box("dialogue-bench");
  fs::path project = box.root / "bench.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  std::string out = ok(h, {"--project", project.string(), "--model", model_path(), "--create", "--bench",
                           "--characters", "6", "--turns", "16", "-n", "4"});
  size_t lane = std::stoul(values(out, "lane_tokens").at(0));
  size_t reread = std::stoul(values(out, "reread_tokens").at(0));
  CHECK(lane > 0);
  CHECK(reread > lane);
  CHECK(values(out, "bench_turns").at(0) == "16");
}

TEST_CASE("wb.score/1 matches log-likelihoods computed token by token", "[dialogue][score]") {
  Sandbox box("dialogue-score");
  fs::path project = box.root / "score.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  ok(h, {"--project", project.string(), "--model", model_path(), "--create", "--new-scene", "S", "--add-character", "X",
         "--post", "Who speaks?"});
  auto* story = h.services().story->story;
  REQUIRE(story);
  auto t = story->tree_copy();
  tree::NodeId msg = 0;
  for (auto id : t.ids())
    if (t.find(id)->text == "User: Who speaks?\n\n") msg = id;
  REQUIRE(msg);
  std::vector<std::string> cands = {"Alice:", "Bob:", "Bartholomew:", ""};
  std::vector<std::vector<int32_t>> seqs;
  for (const auto& c : cands) seqs.push_back(std::vector<int32_t>(c.begin(), c.end()));
  auto got = story->score(msg, seqs);
  REQUIRE(got);
  // Reference: prefill the whole path plus each prefix of the candidate separately.
  auto model = load_model(model_path());
  REQUIRE(model);
  std::string path = story->path_text(msg);
  const int V = (*model)->info().n_vocab;
  for (std::size_t i = 0; i < cands.size(); ++i) {
    double want = 0;
    for (std::size_t k = 0; k < seqs[i].size(); ++k) {
      std::string prefix = path + cands[i].substr(0, k);
      std::vector<int32_t> toks(prefix.begin(), prefix.end());
      for (auto& x : toks) x &= 0xff;
      State s = (*model)->new_state();
      std::vector<float> logits(V);
      REQUIRE((*model)->prefill(toks, s, logits));
      double mx = *std::max_element(logits.begin(), logits.end()), sum = 0;
      for (float v : logits) sum += std::exp(v - mx);
      want += logits[seqs[i][k]] - mx - std::log(sum);
    }
    INFO(cands[i]);
    CHECK((*got)[i] == Approx(want).margin(1e-3));
  }
  CHECK((*got)[3] == 0.0);
  // Misuse through the ABI: refused, not crashing.
  auto ctx = host::make_host_context(h.services(), "org.wbtest.direct", true);
  const wb_host* hh = &ctx->table;
  auto* score = static_cast<const wb_host_score*>(hh->get_extension(hh, WB_EXT_SCORE));
  REQUIRE(score);
  const char* texts[] = {"Alice:"};
  size_t lens[] = {6};
  double lp = 0;
  CHECK(score->score(hh, msg, texts, lens, 0, &lp, nullptr) == WB_ERR_INVALID_ARGUMENT);
  CHECK(score->score(hh, 999999, texts, lens, 1, &lp, nullptr) == WB_ERR_NOT_FOUND);
  CHECK(score->score(hh, msg, texts, lens, 1, nullptr, nullptr) == WB_ERR_INVALID_ARGUMENT);
  CHECK(score->score(hh, msg, texts, lens, 1, &lp, nullptr) == WB_OK);
  CHECK(lp == Approx((*got)[0]).margin(1e-6));
}

TEST_CASE("wb.cards/1 reads, edits and writes cards through the ABI", "[dialogue][cards]") {
  Sandbox box("dialogue-cards");
  make_cards(box.root);
  host::PluginHost h(box.paths(), box.log);
  auto ctx = host::make_host_context(h.services(), "org.wbtest.direct", true);
  const wb_host* hh = &ctx->table;
  auto* cards = static_cast<const wb_host_cards*>(hh->get_extension(hh, WB_EXT_CARDS));
  REQUIRE(cards);
  std::vector<char> buf(1 << 16);
  size_t len = 0;
  REQUIRE(cards->load_json(hh, (box.root / "bob.png").string().c_str(), buf.data(), buf.size(), &len) == WB_OK);
  std::string json(buf.data(), len);
  CHECK(nlohmann::json::parse(json).at("spec") == "chara_card_v3");
  char small[4];
  CHECK(cards->field(hh, json.data(), json.size(), "first_mes", small, sizeof small, &len) == WB_ERR_BUFFER_TOO_SMALL);
  CHECK(len == std::string("Storm's coming.").size());
  REQUIRE(cards->set_field(hh, json.data(), json.size(), "personality", "gruff", buf.data(), buf.size(), &len) == WB_OK);
  std::string edited(buf.data(), len);
  REQUIRE(cards->field(hh, edited.data(), edited.size(), "personality", buf.data(), buf.size(), &len) == WB_OK);
  CHECK(std::string(buf.data(), len) == "gruff");
  CHECK(cards->field(hh, edited.data(), edited.size(), "nonsense", buf.data(), buf.size(), &len) == WB_ERR_NOT_FOUND);
  REQUIRE(cards->save(hh, edited.data(), edited.size(), (box.root / "bob2.json").string().c_str()) == WB_OK);
  auto back = card::load_card((box.root / "bob2.json").string());
  REQUIRE(back);
  CHECK(back->personality == "gruff");
  CHECK(back->name == "Bob");
  CHECK(cards->load_json(hh, (box.root / "nothere.png").string().c_str(), buf.data(), buf.size(), &len) != WB_OK);
  CHECK(std::string(hh->last_error(hh)).find("nothere.png") != std::string::npos);
  CHECK(cards->save(hh, "{", 1, (box.root / "x.json").string().c_str()) == WB_ERR_INVALID_ARGUMENT);
  CHECK(!fs::exists(box.root / "x.json"));
}

TEST_CASE("dialogue: the panel edits the cast, posts, generates and swipes", "[dialogue][plugin][ui]") {
  Sandbox box("dialogue-ui");
  fs::path project = box.root / "ui.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  ok(h, {"--project", project.string(), "--model", model_path(), "--create", "--new-scene", "Panel", "--mode", "round"});
  h.ui_tick();
  auto panel = [&]() -> const host::UiPanel& {
    auto panels = h.ui().panels(kDialogue);
    REQUIRE(panels.size() == 1);
    return *panels[0];
  };
  for (std::string f : {"name", "description", "personality", "examples", "greeting", "cast", "messages", "speaker",
                        "post", "generate", "swipe_prev", "swipe_next", "import_card"})
    CHECK(panel().find(f) != nullptr);
  std::string name = "Mira", desc = "A cartographer.", msg = "Where are we?";
  REQUIRE(h.ui_change(kDialogue, "dialogue", "name", &name, nullptr));
  REQUIRE(h.ui_change(kDialogue, "dialogue", "description", &desc, nullptr));
  REQUIRE(h.ui_press(kDialogue, "dialogue", "save_character"));
  CHECK(panel().find("cast")->items == std::vector<std::string>{"Mira"});
  REQUIRE(h.ui_change(kDialogue, "dialogue", "message", &msg, nullptr));
  REQUIRE(h.ui_press(kDialogue, "dialogue", "post"));
  REQUIRE(h.ui_press(kDialogue, "dialogue", "generate"));
  CHECK(panel().find("status")->text == "Mira is speaking...");  // on a host worker: the press returned at once
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (panel().find("status")->text.rfind("Mira spoke", 0) != 0 && std::chrono::steady_clock::now() < deadline) {
    h.ui_tick();  // one GUI frame
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  INFO(panel().find("status")->text);
  CHECK(panel().find("status")->text.rfind("Mira spoke", 0) == 0);
  auto items = panel().find("messages")->items;
  REQUIRE(items.size() == 2);
  CHECK(items[0] == "User: Where are we?");
  CHECK(items[1].rfind("Mira: ", 0) == 0);
  REQUIRE(h.ui_press(kDialogue, "dialogue", "swipe_new"));
  auto swiped = panel().find("messages")->items;
  REQUIRE(swiped.size() == 2);
  REQUIRE(h.ui_press(kDialogue, "dialogue", "swipe_prev"));
  CHECK(panel().find("messages")->items[1] == items[1]);
  CHECK(!box.logged("host service misuse"));
}
