// The MIDI composer plugin and the wb.midi/1 / music parts of wb.generate/1,
// on a random-weight RWKV-7 of the music vocabulary made at test time (and a
// BlinkDL-layout RWKV-4 .pth of the same vocabulary): alternatives are
// sibling nodes, .mid files read back by Debian's midicsv, continuing any
// branch, instrument masks, bad input, ABI 0.1 compatibility.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "core/midi/music_text.hpp"
#include "core/midi/music_vocab.hpp"
#include "core/model/default_model.hpp"
#include "core/project/project.hpp"
#include "host/midi_service.hpp"
#include "host/story_service.hpp"
#include "sandbox.hpp"
#include "suites/midi/midi_test_util.hpp"

using namespace wb;
using namespace wb::test;
namespace csv = wb::test::midi;

namespace {

const char* kComposer = "org.rwkv.workbench.composer";

struct Run {
  int rc = -1;
  std::string out, err;
  std::map<std::string, std::string> kv;
};

Run run_composer(host::PluginHost& h, const std::vector<std::string>& args) {
  Run r;
  auto rc = h.run_headless(kComposer, args, [&](bool e, std::string_view b) { (e ? r.err : r.out).append(b); });
  INFO((rc ? std::string() : rc.error().message));
  REQUIRE(rc);
  r.rc = *rc;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    if (sp != std::string::npos) r.kv[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return r;
}

Run ok(host::PluginHost& h, const std::vector<std::string>& args) {
  Run r = run_composer(h, args);
  INFO(r.err << r.out);
  REQUIRE(r.rc == 0);
  return r;
}

// A random-weight RWKV-7 with the 20096-token music vocabulary (GGUF).
std::string music_model(const fs::path& dir) {
  fs::path p = dir / "music-rwkv7.gguf";
  auto r = run_wb("synth --arch rwkv7 --layers 2 --embd 64 --vocab 20096 --dtype f32 --seed 9 --out '" + p.string() + "'");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  return p.string();
}

std::string corpus_midi() { return csv::corpus_files("nottingham", 1).front(); }

tree::Tree load(const fs::path& p) {
  auto project = project::Project::open(p.string());
  INFO((project ? std::string() : project.error().message));
  REQUIRE(project);
  auto t = (*project)->load_tree();
  REQUIRE(t);
  return std::move(*t);
}

tree::NodeId id_of(const Run& r, const std::string& key) {
  INFO(key << " in:\n" << r.out);
  REQUIRE(r.kv.count(key));
  return std::stoull(r.kv.at(key));
}

// Sum of the wait tokens of a text, in milliseconds.
double wait_ms(const wb::midi::MusicVocab& vocab, const std::string& text) {
  auto ids = vocab.parse(text);
  REQUIRE(ids);
  double ms = 0;
  for (int id : *ids)
    if (vocab.decode(id).kind == wb::midi::TokenKind::wait) ms += vocab.decode(id).wait_steps * vocab.scheme().wait_step_ms();
  return ms;
}

}  // namespace

TEST_CASE("composer headless: N alternatives as sibling nodes, one .mid each that midicsv reads",
          "[plugin][composer][midi]") {
  Sandbox box("composer-run");
  std::string model = music_model(box.root);
  fs::path project = box.root / "piece.wbstory", out = box.root / "out";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  Run r = ok(h, {"--project", project.string(), "--model", model, "--create", "--midi", corpus_midi(), "--continue",
                 "--seconds", "2", "--alternatives", "2", "--seed", "5", "--out", out.string()});
  const tree::NodeId start = id_of(r, "start.node");
  CHECK(std::stoul(r.kv.at("start.notes")) > 10);
  CHECK(r.kv.at("alternatives") == "2");

  std::vector<fs::path> mids;
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().extension() == ".mid") mids.push_back(e.path());
  REQUIRE(mids.size() == 2);

  tree::Tree t = load(project);
  wb::midi::MusicVocab vocab;
  const tree::Node* s = t.find(start);
  REQUIRE(s);
  CHECK(s->parent == t.root());
  CHECK(s->text.rfind("<start> ", 0) == 0);
  REQUIRE(s->children.size() == 2);  // the alternatives are siblings under the piece
  for (int i = 0; i < 2; ++i) {
    const std::string a = "alt" + std::to_string(i);
    const tree::NodeId kid = id_of(r, a + ".node");
    CHECK(s->children[static_cast<size_t>(i)] == kid);
    const tree::Node* k = t.find(kid);
    REQUIRE(k);
    CHECK(k->origin == kComposer);
    CHECK(k->tokens.size() == std::stoul(r.kv.at(a + ".tokens")));
    // The length bound is seconds: generation stopped on the wait that
    // reached 2 s (or at the token safety net).
    const double ms = wait_ms(vocab, k->text);
    if (k->tokens.size() < 2 * 100 + 256) {
      CHECK(ms >= 2000.0);
      const int last = k->tokens.back();
      CHECK(vocab.decode(last).kind == wb::midi::TokenKind::wait);
      CHECK(ms - vocab.decode(last).wait_steps * vocab.scheme().wait_step_ms() < 2000.0);
    }
    // The file holds the whole piece (start + alternative); Debian's
    // midicsv, an independent parser, counts the same notes we report.
    const std::string file = r.kv.at(a + ".file");
    CHECK(fs::exists(file));
    auto events = csv::midicsv_events(file);
    size_t note_ons = 0;
    for (const auto& e : events)
      if (e.kind == 0x90 && e.b > 0) ++note_ons;
    CHECK(note_ons == std::stoul(r.kv.at(a + ".notes")));
    CHECK(note_ons > std::stoul(r.kv.at("start.notes")) - 1);
  }
}

TEST_CASE("composer continues any branch from any node", "[plugin][composer][midi]") {
  Sandbox box("composer-branch");
  std::string model = music_model(box.root);
  fs::path project = box.root / "piece.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  Run first = ok(h, {"--project", project.string(), "--model", model, "--create", "--tokens",
                     "t10 pi:3c:8 t20 pi:3c:0 pi:40:8 t20 pi:40:0", "--continue", "-n", "12", "--alternatives", "3",
                     "--seed", "1"});
  const tree::NodeId start = id_of(first, "start.node"), alt1 = id_of(first, "alt1.node");
  // Continue the second alternative, then the start again (a new sibling).
  Run second = ok(h, {"--project", project.string(), "--continue", "--node", std::to_string(alt1), "-n", "10",
                      "--seed", "2"});
  Run third = ok(h, {"--project", project.string(), "--continue", "--node", std::to_string(start), "-n", "10"});
  tree::Tree t = load(project);
  const tree::Node* s = t.find(start);
  REQUIRE(s);
  CHECK(s->text == "<start> t10 pi:3c:8 t20 pi:3c:0 pi:40:8 t20 pi:40:0 ");  // typed tokens, canonical, <start> added
  const tree::NodeId grandchild = id_of(second, "alt0.node");
  const tree::Node* g = t.find(grandchild);
  REQUIRE(g);
  CHECK(g->parent == alt1);
  CHECK(g->tokens.size() >= 1);
  CHECK(g->tokens.size() <= 10);
  CHECK(s->children.size() == 4);
  CHECK(t.find(id_of(third, "alt0.node"))->parent == start);
  // The exported piece of the grandchild is start + alt1 + grandchild.
  fs::path mid = box.root / "g.mid";
  Run ex = ok(h, {"--project", project.string(), "--node", std::to_string(grandchild), "--export", mid.string()});
  CHECK(ex.kv.at("export.node") == std::to_string(grandchild));
  CHECK(!csv::midicsv_events(mid.string()).empty());
}

TEST_CASE("composer instrument selection: no notes of unchosen instruments are generated", "[plugin][composer][midi]") {
  Sandbox box("composer-mask");
  std::string model = music_model(box.root);
  fs::path project = box.root / "piece.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  wb::midi::MusicVocab vocab;
  const int piano = vocab.scheme().piano_bin();
  REQUIRE(piano >= 0);
  auto bins_of = [&](const tree::Tree& t, tree::NodeId id) {
    std::set<int> bins;
    for (int tok : t.find(id)->tokens)
      if (vocab.decode(tok).kind == wb::midi::TokenKind::note) bins.insert(vocab.decode(tok).bin);
    return bins;
  };
  Run masked = ok(h, {"--project", project.string(), "--model", model, "--create", "--tokens", "<start> t50",
                      "--continue", "-n", "150", "--alternatives", "2", "--instruments", "piano", "--seed", "3"});
  Run open = ok(h, {"--project", project.string(), "--continue", "--node", masked.kv.at("start.node"), "-n", "150",
                    "--alternatives", "2", "--seed", "3"});
  tree::Tree t = load(project);
  for (const char* a : {"alt0.node", "alt1.node"}) {
    auto m = bins_of(t, id_of(masked, a));
    CHECK(m == std::set<int>{piano});  // notes were generated, all piano
    // The same seed without a mask uses other instruments: the mask is what held.
    auto o = bins_of(t, id_of(open, a));
    CHECK(o.size() > 1);
  }
  // An unknown instrument is a usage error naming the known ones.
  Run bad = run_composer(h, {"--project", project.string(), "--continue", "--instruments", "kazoo"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("unknown instrument 'kazoo'") != std::string::npos);
  CHECK(bad.err.find("piano") != std::string::npos);
}

TEST_CASE("composer and wb.midi/1 refuse bad input clearly and leave the project untouched",
          "[plugin][composer][midi]") {
  Sandbox box("composer-bad");
  std::string model = music_model(box.root);
  fs::path project = box.root / "piece.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  ok(h, {"--project", project.string(), "--model", model, "--create", "--tokens", "t10 pi:3c:8"});
  const std::size_t before = load(project).size();

  fs::path broken = box.root / "broken.mid";
  {
    std::ofstream f(broken, std::ios::binary);
    f << "MThd";  // a header cut short
    f.put(0);
  }
  Run r1 = run_composer(h, {"--project", project.string(), "--midi", broken.string(), "--continue", "-n", "4"});
  CHECK(r1.rc == 1);
  INFO(r1.err);
  CHECK(r1.err.find("broken.mid") != std::string::npos);
  CHECK(r1.err.find("cannot read the MIDI file") != std::string::npos);

  Run r2 = run_composer(h, {"--project", project.string(), "--tokens", "<start> t10 banjo:3c:8"});
  CHECK(r2.rc == 1);
  CHECK(r2.err.find("banjo:3c:8") != std::string::npos);

  Run r3 = run_composer(h, {"--project", project.string(), "--midi", (box.root / "missing.mid").string()});
  CHECK(r3.rc == 1);
  CHECK(r3.err.find("missing.mid") != std::string::npos);
  CHECK(load(project).size() == before);  // nothing was added
}

TEST_CASE("wb.midi/1: files, text, notes, vocabulary and playback errors through the host table",
          "[plugin][midi]") {
  Sandbox box("midi-ext");
  host::HostServices services(box.log, {}, {});
  auto ctx = host::make_host_context(services, "org.test.midi", true);
  const wb_host* host = &ctx->table;
  auto* m = static_cast<const wb_host_midi*>(host->get_extension(host, WB_EXT_MIDI));
  REQUIRE(m);
  REQUIRE(m == &host::midi_table());

  // File -> text: "<start> ..." in canonical form, no <end>.
  std::string file = corpus_midi();
  size_t len = 0;
  REQUIRE(m->file_to_text(host, file.c_str(), nullptr, 0, &len) == WB_ERR_BUFFER_TOO_SMALL);
  std::string text(len + 1, '\0');
  REQUIRE(m->file_to_text(host, file.c_str(), text.data(), text.size(), &len) == WB_OK);
  text.resize(len);
  CHECK(text.rfind("<start> ", 0) == 0);
  CHECK(text.back() == ' ');
  CHECK(text.find("<end>") == std::string::npos);
  wb::midi::MusicVocab vocab;
  auto ids = vocab.parse(text);
  REQUIRE(ids);
  CHECK(wb::midi::music_text(vocab, *ids) == text);  // already canonical

  // Text -> file -> text keeps the notes (onsets within the 8 ms grid).
  fs::path mid = box.root / "back.mid";
  REQUIRE(m->text_to_file(host, text.data(), text.size(), mid.string().c_str()) == WB_OK);
  std::string again(len + 64, '\0');
  size_t len2 = 0;
  REQUIRE(m->file_to_text(host, mid.string().c_str(), again.data(), again.size(), &len2) == WB_OK);
  again.resize(len2);
  CHECK(again == text);

  // Note spans: ordered by onset, counted like the note-on tokens.
  size_t n = 0;
  REQUIRE(m->text_notes(host, text.data(), text.size(), nullptr, 0, &n) == WB_ERR_BUFFER_TOO_SMALL);
  std::vector<wb_midi_note> notes(n);
  REQUIRE(m->text_notes(host, text.data(), text.size(), notes.data(), notes.size(), &n) == WB_OK);
  size_t note_ons = 0;
  for (int id : *ids)
    if (vocab.decode(id).kind == wb::midi::TokenKind::note && vocab.decode(id).velocity_bin > 0) ++note_ons;
  CHECK(n == note_ons);
  for (size_t i = 1; i < notes.size(); ++i) CHECK(notes[i - 1].on_s <= notes[i].on_s);
  for (const auto& nt : notes) {
    CHECK(nt.off_s >= nt.on_s);
    CHECK(nt.bin >= 0);
    CHECK(nt.bin < static_cast<int32_t>(m->bin_count(host)));
  }
  double seconds = 0;
  REQUIRE(m->text_seconds(host, text.data(), text.size(), &seconds) == WB_OK);
  CHECK(std::abs(seconds - wait_ms(vocab, text) / 1000.0) < 1e-9);
  CHECK(notes.back().on_s <= seconds + 0.01);

  // Normalising: any whitespace and case in, canonical text out.
  const char* messy = "  <START>\tT12\n\nPI:3C:7  ";
  char buf[128];
  REQUIRE(m->normalize_text(host, messy, std::strlen(messy), buf, sizeof buf, &len) == WB_OK);
  CHECK(std::string(buf) == "<start> t12 pi:3c:7 ");
  CHECK(m->normalize_text(host, "t12 zz:1:1", 10, buf, sizeof buf, &len) == WB_ERR_INVALID_ARGUMENT);
  CHECK(std::string(host->last_error(host)).find("zz:1:1") != std::string::npos);

  // Vocabulary.
  CHECK(m->vocab_size(host) == 20096);
  uint32_t id = 0;
  REQUIRE(m->token_id(host, "pi:3c:7", &id) == WB_OK);
  REQUIRE(m->token_word(host, id, buf, sizeof buf, &len) == WB_OK);
  CHECK(std::string(buf) == "pi:3c:7");
  wb_midi_token_info info{};
  REQUIRE(m->token_info(host, id, &info) == WB_OK);
  CHECK(info.kind == WB_MIDI_TOKEN_NOTE);
  CHECK(info.pitch == 0x3c);
  CHECK(info.velocity_bin == 7);
  REQUIRE(m->bin_name(host, static_cast<uint32_t>(info.bin), buf, sizeof buf, &len) == WB_OK);
  CHECK(std::string(buf) == "piano");
  REQUIRE(m->token_info(host, 14, &info) == WB_OK);  // t12
  CHECK(info.kind == WB_MIDI_TOKEN_WAIT);
  CHECK(info.wait_steps == 12);
  CHECK(m->token_info(host, 20096, &info) == WB_ERR_NOT_FOUND);
  CHECK(m->token_id(host, "nope", &id) == WB_ERR_NOT_FOUND);
  CHECK(m->bin_name(host, 99, buf, sizeof buf, &len) == WB_ERR_NOT_FOUND);

  // Bad input: a broken file is an I/O error naming the file; nothing written.
  fs::path broken = box.root / "cut.mid";
  {
    // A valid header, then a data byte where a status byte must be (no running status).
    const char bytes[] = "MThd\0\0\0\6\0\1\0\1\1\xe0MTrk\0\0\0\3\0\x3c\x40";
    std::ofstream f(broken, std::ios::binary);
    f.write(bytes, sizeof bytes - 1);
  }
  CHECK(m->file_to_text(host, broken.string().c_str(), buf, sizeof buf, &len) == WB_ERR_IO);
  CHECK(std::string(host->last_error(host)).find("cut.mid") != std::string::npos);
  CHECK(m->file_to_text(host, nullptr, buf, sizeof buf, &len) == WB_ERR_INVALID_ARGUMENT);
  CHECK(m->text_to_file(host, "t12 bogus", 9, (box.root / "never.mid").string().c_str()) == WB_ERR_INVALID_ARGUMENT);
  CHECK_FALSE(fs::exists(box.root / "never.mid"));

  // Playback where there is no such audio driver: a clear error, no crash.
  ::setenv("WB_AUDIO_DRIVER", "no-such-driver", 1);
  wb_status st = m->play(host, text.data(), text.size());
  ::unsetenv("WB_AUDIO_DRIVER");
  CHECK(st == WB_ERR_UNSUPPORTED);
  CHECK(std::string(host->last_error(host)).find("driver") != std::string::npos);
  bool playing = true;
  double pos = -1;
  REQUIRE(m->position(host, &pos, &playing) == WB_OK);
  CHECK_FALSE(playing);
  CHECK(m->stop(host) == WB_OK);
}

TEST_CASE("music models need no tokenizer: a BlinkDL-layout RWKV-4 .pth of 20096 tokens gets the music tokenizer",
          "[plugin][composer][midi][rwkv]") {
  Sandbox box("composer-v4");
  fs::path pth = box.root / "rwkv4-music.pth";
  std::string cmd = std::string("/usr/bin/python3 '") + WB_REPO_DIR + "/tests/tools/make_music_v4_pth.py' '" +
                    WB_FIXTURES_DIR + "' '" + pth.string() + "' 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto info = run_wb("info '" + pth.string() + "'");
  REQUIRE(info.exit_code == 0);
  CHECK(info.out.find("\"arch\":\"rwkv4\"") != std::string::npos);
  CHECK(info.out.find("\"n_vocab\":20096") != std::string::npos);
  // `wb generate` with no --tokenizer: the output is music tokens.
  auto gen = run_wb("generate '" + pth.string() + "' --prompt '<start> t10 pi:3c:8 ' -n 6 --seed 4");
  INFO(gen.out);
  REQUIRE(gen.exit_code == 0);
  wb::midi::MusicVocab vocab;
  auto ids = vocab.parse(gen.out.substr(0, gen.out.find('\n')));  // the speed line follows on stderr
  REQUIRE(ids);
  CHECK(ids->size() == 6);
  // The composer on it: the project remembers the "midi" tokenizer.
  fs::path project = box.root / "v4.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  Run r = ok(h, {"--project", project.string(), "--model", pth.string(), "--create", "--tokens", "t10 pi:3c:8",
                 "--continue", "-n", "8", "--seed", "1"});
  tree::Tree t = load(project);
  CHECK(t.find(id_of(r, "alt0.node"))->tokens.size() >= 1);
  auto p = project::Project::open(project.string());
  REQUIRE(p);
  auto tok = (*p)->meta("tokenizer");
  REQUIRE(tok);
  REQUIRE(*tok);
  CHECK(**tok == "midi");
}

TEST_CASE("ABI 0.2 keeps 0.1 plugins working: an old plugin loads, old sampler structs are accepted",
          "[plugin][abi]") {
  Sandbox box("abi-old-minor");
  box.add("old_minor");
  {
    host::PluginHost h(box.paths(), box.log);
    h.scan();
    REQUIRE(h.enable("org.wbtest.old-minor"));
  }
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  h.load_enabled();
  const auto& rec = record(h, "org.wbtest.old-minor");
  INFO(rec.reason);
  CHECK(rec.state == host::PluginState::loaded);
  CHECK(record(h, kComposer).state == host::PluginState::loaded);

  // wb.generate/1 with a 0.1-sized wb_sampler_settings (the fields before
  // logit_bias) on a byte-level fixture model: accepted, music fields unread.
  fs::path project = box.root / "old.wbstory";
  host::HostServices services(box.log, {}, {});
  auto ctx = host::make_host_context(services, "org.test.old", true);
  const wb_host* host = &ctx->table;
  auto* tree = static_cast<const wb_host_tree*>(host->get_extension(host, WB_EXT_TREE));
  auto* gen = static_cast<const wb_host_generate*>(host->get_extension(host, WB_EXT_GENERATE));
  REQUIRE(tree->open_project(host, project.string().c_str(),
                             fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin").c_str(), true) == WB_OK);
  wb_node_id root = 0, node = 0;
  REQUIRE(tree->root(host, &root) == WB_OK);
  REQUIRE(tree->append(host, root, "Once", 4, &node) == WB_OK);
  wb_sampler_settings s = WB_SAMPLER_SETTINGS_INIT;
  s.struct_size = static_cast<uint32_t>(WB_SAMPLER_SETTINGS_SIZE_0_1);
  s.mode = 12345;  // beyond the old struct: must not be read
  s.set = WB_SAMPLER_MAX_TOKENS;
  s.max_tokens = 3;
  wb_node_id kids[1];
  size_t n = 0;
  CHECK(gen->generate(host, node, &s, nullptr, nullptr, kids, 1, &n) == WB_OK);
  CHECK(n == 1);
  // The full struct with music mode on a 256-token model is refused clearly.
  s.struct_size = sizeof(wb_sampler_settings);
  s.mode = WB_SAMPLER_MODE_MUSIC;
  CHECK(gen->generate(host, node, &s, nullptr, nullptr, kids, 1, &n) == WB_ERR_INVALID_ARGUMENT);
  CHECK(std::string(host->last_error(host)).find("music") != std::string::npos);
  // Bans and biases reach the sampler: greedy with every token but 'x' banned gives "xxx".
  s.mode = WB_SAMPLER_MODE_TEXT;
  std::vector<int32_t> banned;
  for (int32_t t = 0; t < 256; ++t)
    if (t != 'x') banned.push_back(t);
  s.banned_tokens = banned.data();
  s.banned_count = static_cast<uint32_t>(banned.size());
  s.set |= WB_SAMPLER_TEMPERATURE;
  s.temperature = 0;
  REQUIRE(gen->generate(host, node, &s, nullptr, nullptr, kids, 1, &n) == WB_OK);
  char buf[64];
  size_t len = 0;
  REQUIRE(tree->node_text(host, kids[0], buf, sizeof buf, &len) == WB_OK);
  CHECK(std::string(buf) == "xxx");
  wb_logit_bias bias{300, 1.0f};  // outside the vocabulary
  s.banned_count = 0;
  s.logit_bias = &bias;
  s.logit_bias_count = 1;
  CHECK(gen->generate(host, node, &s, nullptr, nullptr, kids, 1, &n) == WB_ERR_INVALID_ARGUMENT);
}

TEST_CASE("the composer falls back to the default music model (find_default_model(\"midi\"))", "[plugin][composer][midi]") {
  Sandbox box("composer-default");
  fs::path assets = box.root / "assets";
  fs::create_directories(assets / "models");
  // A random music model under the name the shipped one will have.
  std::string made = music_model(box.root);
  fs::copy_file(made, assets / "models" / "midi-rwkv7.pth");
  ::setenv("WB_ASSETS_DIR", assets.string().c_str(), 1);
  auto d = find_default_model("midi");
  fs::path project = box.root / "default.wbstory";
  Run r;
  {
    host::PluginHost h(box.paths(), box.log);
    h.scan();
    r = run_composer(h, {"--project", project.string(), "--create", "--tokens", "t10 pi:3c:8", "--continue", "-n", "5"});
  }
  ::unsetenv("WB_ASSETS_DIR");
  REQUIRE(d);
  CHECK(d->model == (assets / "models" / "midi-rwkv7.pth").string());
  CHECK(d->tokenizer == "midi");
  INFO(r.err << r.out);
  REQUIRE(r.rc == 0);
  CHECK(r.kv.count("alt0.node") == 1);
  auto p = project::Project::open(project.string());
  REQUIRE(p);
  auto model = (*p)->meta("model");
  REQUIRE(model);
  REQUIRE(*model);
  CHECK(**model == (assets / "models" / "midi-rwkv7.pth").string());
}

TEST_CASE("composer panel: continue from the GUI without blocking, the piano roll draws the viewed branch",
          "[plugin][composer][ui]") {
  Sandbox box("composer-ui");
  std::string model = music_model(box.root);
  fs::path project = box.root / "piece.wbstory";
  host::PluginHost h(box.paths(), box.log);
  h.scan();
  Run r = ok(h, {"--project", project.string(), "--model", model, "--create", "--tokens",
                 "t10 pi:3c:8 t20 pi:3c:0 pi:40:8 t20 pi:40:0"});
  const tree::NodeId start = id_of(r, "start.node");
  auto panel = [&]() -> const host::UiPanel& {
    auto panels = h.ui().panels(kComposer);
    REQUIRE(panels.size() == 1);
    return *panels[0];
  };
  h.ui_tick();  // the panel follows the story's current node (the new piece)
  double len = 40, unit = 1, alts = 2;
  REQUIRE(h.ui_change(kComposer, "composer", "length", nullptr, &len));
  REQUIRE(h.ui_change(kComposer, "composer", "unit", nullptr, &unit));  // tokens
  REQUIRE(h.ui_change(kComposer, "composer", "alternatives", nullptr, &alts));
  std::string seed = "11";
  REQUIRE(h.ui_change(kComposer, "composer", "seed", &seed, nullptr));
  REQUIRE(h.ui_press(kComposer, "composer", "continue"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (panel().find("status")->text.rfind("done", 0) != 0 && std::chrono::steady_clock::now() < deadline) {
    h.ui_tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  INFO(panel().find("status")->text);
  REQUIRE(panel().find("status")->text.rfind("done: ", 0) == 0);
  auto* story = h.services().story->story;
  auto s = story->node(start);
  REQUIRE(s);
  REQUIRE(s->children.size() == 2);
  const tree::NodeId alt0 = s->children[0];
  CHECK(story->current() == alt0);  // the first alternative is shown and current
  // The branch list offers both leaves.
  const host::UiWidget* branch = panel().find("branch");
  REQUIRE(branch);
  CHECK(branch->items.size() == 2);
  CHECK(branch->items.at(static_cast<size_t>(branch->value)) == "node " + std::to_string(alt0));

  // The roll: one filled rectangle per note in view (plus the background),
  // one legend swatch and name per instrument present.
  auto* m = &host::midi_table();
  auto ctx = host::make_host_context(h.services(), "org.test.roll", false);
  auto count_notes = [&](tree::NodeId id, double until_s) {
    std::string text = story->path_text(id);
    size_t n = 0;
    REQUIRE(m->text_notes(&ctx->table, text.data(), text.size(), nullptr, 0, &n) == WB_ERR_BUFFER_TOO_SMALL);
    std::vector<wb_midi_note> notes(n);
    REQUIRE(m->text_notes(&ctx->table, text.data(), text.size(), notes.data(), n, &n) == WB_OK);
    std::set<int> bins;
    size_t visible = 0;
    for (const auto& nt : notes) {
      bins.insert(nt.bin);
      if (nt.on_s <= until_s) ++visible;
    }
    return std::pair<size_t, size_t>{visible, bins.size()};
  };
  auto roll_counts = [&]() {
    size_t rects = 0, texts = 0;
    for (const auto& c : panel().find("roll")->draw) {
      rects += c.kind == WB_DRAW_RECT_FILLED;
      texts += c.kind == WB_DRAW_TEXT;
    }
    return std::pair<size_t, size_t>{rects, texts};
  };
  auto [visible0, bins0] = count_notes(alt0, 900.0 / 40.0);
  REQUIRE(visible0 >= 2);
  auto [rects0, texts0] = roll_counts();
  CHECK(texts0 == bins0);
  CHECK(rects0 == 1 + bins0 + visible0);
  // Pick the other branch: the roll redraws it.
  double pick = 1;
  REQUIRE(h.ui_change(kComposer, "composer", "branch", nullptr, &pick));
  auto [visible1, bins1] = count_notes(s->children[1], 900.0 / 40.0);
  auto [rects1, texts1] = roll_counts();
  CHECK(rects1 == 1 + bins1 + visible1);
  CHECK(texts1 == bins1);
  // Scroll past the end: only the background and the legend remain.
  double scroll = 600;
  REQUIRE(h.ui_change(kComposer, "composer", "scroll", nullptr, &scroll));
  auto [rects2, texts2] = roll_counts();
  CHECK(rects2 == 1 + texts2);
  // Play without an audio device reports it in the status line.
  ::setenv("WB_AUDIO_DRIVER", "no-such-driver", 1);
  REQUIRE(h.ui_press(kComposer, "composer", "play"));
  ::unsetenv("WB_AUDIO_DRIVER");
  CHECK(panel().find("status")->text.find("audio driver") != std::string::npos);
  // Export the viewed branch.
  std::string path = (box.root / "viewed.mid").string();
  REQUIRE(h.ui_change(kComposer, "composer", "export_path", &path, nullptr));
  REQUIRE(h.ui_press(kComposer, "composer", "export"));
  CHECK(panel().find("status")->text == "exported");
  CHECK(!csv::midicsv_events(path).empty());
}
