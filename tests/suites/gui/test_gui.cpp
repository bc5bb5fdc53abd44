// The workbench run the way a person would use it, under Xvfb with whatever
// Vulkan driver is installed (lavapipe on CI machines): scripted UI actions,
// a screenshot of the whole window, and the tree state after the script.
#include <png.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <string>

#include "support/fixtures.hpp"

namespace fs = std::filesystem;

namespace {

// RWKV-7 (the architecture of the shipped default model), byte vocabulary.
const char* kTiny = "rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin";

std::string quote(const std::string& s) { return "'" + s + "'"; }

// With partial frames (CPU renderers), the scripted screenshot also compared the
// frame shown (`where`: "offscreen" or "on screen") with a whole frame.
void check_partial_frames(const std::string& out, const std::string& where) {
  if (out.find("partial frames: only what changed is drawn") != std::string::npos)
    CHECK(out.find("partial frames: the frame shown equals a whole frame (" + where + ")") != std::string::npos);
}

// Runs the workbench under a fresh Xvfb with its own config/data folders.
wb::test::CommandResult run_gui(const fs::path& dir, const std::string& args, bool display = true,
                                const std::string& extra_env = "") {
  REQUIRE(fs::exists(WB_GUI_PATH));
  std::string env = "env XDG_CONFIG_HOME=" + quote((dir / "config").string()) +
                    " XDG_DATA_HOME=" + quote((dir / "data").string()) + " " + extra_env + " ";
  std::string cmd = display ? "xvfb-run -a -s '-screen 0 1600x1200x24' " + env + quote(WB_GUI_PATH) + " " + args
                            : "env -u DISPLAY -u WAYLAND_DISPLAY " + env + quote(WB_GUI_PATH) + " " + args;
  wb::test::CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

struct Png {
  int w = 0, h = 0;
  std::vector<unsigned char> rgba;
};

Png read_png(const fs::path& path) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&img, path.c_str()) != 0);
  img.format = PNG_FORMAT_RGBA;
  Png p;
  p.w = static_cast<int>(img.width);
  p.h = static_cast<int>(img.height);
  p.rgba.resize(PNG_IMAGE_SIZE(img));
  REQUIRE(png_image_finish_read(&img, nullptr, p.rgba.data(), 0, nullptr) != 0);
  return p;
}

std::size_t distinct_colours(const Png& p) {
  std::set<uint32_t> c;
  for (std::size_t i = 0; i + 3 < p.rgba.size() && c.size() < 1000; i += 4 * 7)
    c.insert(uint32_t(p.rgba[i]) << 16 | uint32_t(p.rgba[i + 1]) << 8 | p.rgba[i + 2]);
  return c.size();
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  auto j = nlohmann::json::parse(in, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

const nlohmann::json* node(const nlohmann::json& state, uint64_t id) {
  for (const auto& n : state["tree"]["nodes"])
    if (n["id"].get<uint64_t>() == id) return &n;
  return nullptr;
}

std::vector<uint64_t> children(const nlohmann::json& state, uint64_t parent) {
  std::vector<uint64_t> out;
  for (const auto& n : state["tree"]["nodes"])
    if (n["parent"].get<uint64_t>() == parent) out.push_back(n["id"].get<uint64_t>());
  return out;
}

// The tree of a --tree-json file that holds one user node and one continuation
// of `tokens` tokens after it, without errors.
void check_one_continuation(const fs::path& tree_json, std::size_t tokens) {
  auto s = read_json(tree_json);
  REQUIRE(s["error"] == "");
  auto top = children(s, 1);
  REQUIRE(top.size() == 1);
  auto cont = children(s, top[0]);
  REQUIRE(cont.size() == 1);
  CHECK((*node(s, cont[0]))["tokens"].size() == tokens);
}

// A node's bytes as hex, whichever form the tree JSON used ("text" or "text_hex").
std::string hex_text(const nlohmann::json& n) {
  if (n.contains("text_hex")) return n["text_hex"].get<std::string>();
  std::string out;
  for (unsigned char c : n["text"].get<std::string>()) {
    const char* d = "0123456789abcdef";
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("without a display the workbench says so in one line and exits 1", "[gui]") {
  auto dir = wb::test::temp_dir("gui-nodisplay");
  auto r = run_gui(dir, "", false);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("no display") != std::string::npos);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
}

TEST_CASE("an empty script shows the first-run window and saves a real screenshot", "[gui]") {
  auto dir = wb::test::temp_dir("gui-empty");
  write(dir / "empty.txt", "");
  auto r = run_gui(dir, "--script " + quote((dir / "empty.txt").string()) + " --screenshot " +
                            quote((dir / "shot.png").string()) + " --size 1024x700 --tree-json " +
                            quote((dir / "state.json").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  Png png = read_png(dir / "shot.png");
  CHECK(png.w == 1024);
  CHECK(png.h == 700);
  CHECK(distinct_colours(png) > 20);  // text, widgets and background, not one colour
  auto state = read_json(dir / "state.json");
  // Until the default model ships there is no project; with it, the sample project.
  if (state["project"].is_null()) {
    CHECK(state["first_run"] == true);
    CHECK(r.out.find("no default model yet") != std::string::npos);
  }
  // Settings are written under XDG_CONFIG_HOME.
  CHECK(fs::exists(dir / "config/rwkv-workbench/workbench.json"));
}

TEST_CASE("offscreen frames: the same session drawn into our own images, resized, and a real screenshot", "[gui]") {
  auto dir = wb::test::temp_dir("gui-offscreen");
  const std::string model = wb::test::fixture(kTiny);
  write(dir / "s.txt", "new-project " + (dir / "p.wbstory").string() + " " + model + "\n" +
                           "type Once upon a time\n" + "continue 12\n" + "frames 3\n" + "wait-generation\n" +
                           "resize 900 640\n" + "frames 3\n");
  auto r = run_gui(dir, "--offscreen --script " + quote((dir / "s.txt").string()) + " --screenshot " +
                            quote((dir / "shot.png").string()) + " --tree-json " + quote((dir / "s.json").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("offscreen: frames are drawn, not shown") != std::string::npos);
  check_partial_frames(r.out, "offscreen");  // the image drawn tile by tile equals a whole frame
  Png png = read_png(dir / "shot.png");
  CHECK(png.w == 900);  // the images followed the resize
  CHECK(png.h == 640);
  CHECK(distinct_colours(png) > 20);
  check_one_continuation(dir / "s.json", 12);
}

TEST_CASE("a scripted session on a tiny model: type, continue, alternatives, fork, switch", "[gui]") {
  auto dir = wb::test::temp_dir("gui-story");
  const std::string model = wb::test::fixture(kTiny);
  const fs::path project = dir / "story.wbstory";
  write(dir / "s1.txt",
        "# a person writing with the model\n"
        "new-project " + project.string() + " " + model + "\n"
        "type Once upon a time\n"
        "continue 20\n"
        "wait-generation\n"
        "alternatives 2 20\n"
        "wait-generation\n"
        "fork A different road\n"
        "navigate prev\n"
        "open-panel plugins\n"
        "open-panel org.rwkv.workbench.text-stats/main\n"
        "resize 900 640\n"
        "frames 2\n");
  auto r = run_gui(dir, "--script " + quote((dir / "s1.txt").string()) + " --screenshot " +
                            quote((dir / "s1.png").string()) + " --tree-json " + quote((dir / "s1.json").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  // What the X server shows after generations, alternatives, a fork, panels and a resize.
  check_partial_frames(r.out, "on screen");
  Png png = read_png(dir / "s1.png");
  CHECK(png.w == 900);  // the swapchain followed the resize
  CHECK(png.h == 640);
  CHECK(distinct_colours(png) > 20);

  auto s = read_json(dir / "s1.json");
  REQUIRE(s["error"] == "");
  // root -> "Once upon a time" (user) -> 20 model tokens -> {alt 1, alt 2, fork}
  auto top = children(s, 1);
  REQUIRE(top.size() == 1);
  const auto* user = node(s, top[0]);
  CHECK((*user)["origin"] == "user");
  CHECK((*user)["text"] == "Once upon a time");
  auto cont = children(s, top[0]);
  REQUIRE(cont.size() == 1);
  const auto* c = node(s, cont[0]);
  CHECK((*c)["origin"] == "model");
  CHECK((*c)["tokens"].size() == 20);
  auto alts = children(s, cont[0]);
  REQUIRE(alts.size() == 3);
  CHECK((*node(s, alts[0]))["origin"] == "model");
  CHECK((*node(s, alts[1]))["origin"] == "model");
  CHECK((*node(s, alts[0]))["tokens"].size() == 20);
  CHECK((*node(s, alts[1]))["tokens"].size() == 20);
  CHECK((*node(s, alts[2]))["text"] == "A different road");
  // "navigate prev" from the fork made the second alternative current.
  CHECK(s["current"].get<uint64_t>() == alts[1]);
  CHECK(s["current_text_hex"] == hex_text(*user) + hex_text(*c) + hex_text(*node(s, alts[1])));

  // Reopen the saved project, switch to the first alternative, delete (and
  // undo), label and bookmark nodes, then meet bad input:
  // a model file opened as a project and a text file opened as a model.
  write(dir / "s2.txt",
        "open-project " + project.string() + "\n"
        "switch-branch " + std::to_string(alts[0]) + "\n"
        "delete-node " + std::to_string(alts[2]) + "\n"
        "undo\n"
        "delete-node " + std::to_string(alts[1]) + "\n"
        "label " + std::to_string(alts[0]) + " chapter one\n"
        "bookmark " + std::to_string(alts[0]) + "\n"
        "open-project " + model + "\n"
        "open-model " + (dir / "s1.txt").string() + "\n"
        "open-project " + (dir / "broken.wbstory").string() + "\n");
  {
    // A damaged project: the first 3000 bytes of a real one.
    auto bytes = wb::test::read_bytes(project.string());
    REQUIRE(bytes.size() > 3000);
    std::ofstream(dir / "broken.wbstory", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 3000);
  }
  auto r2 = run_gui(dir, "--script " + quote((dir / "s2.txt").string()) + " --screenshot " +
                             quote((dir / "s2.png").string()) + " --tree-json " + quote((dir / "s2.json").string()));
  INFO(r2.out);
  REQUIRE(r2.exit_code == 0);
  check_partial_frames(r2.out, "on screen");  // with an error dialog open
  auto s2 = read_json(dir / "s2.json");
  CHECK(s2["project"] == project.string());  // untouched by the failed opens
  CHECK(s2["current"].get<uint64_t>() == alts[0]);
  // The deleted fork came back with undo; the second alternative stayed deleted.
  CHECK(s2["tree"]["nodes"].size() == s["tree"]["nodes"].size() - 1);
  CHECK(node(s2, alts[2]) != nullptr);
  CHECK(node(s2, alts[1]) == nullptr);
  CHECK((*node(s2, alts[0]))["label"] == "chapter one");
  CHECK((*node(s2, alts[0]))["bookmark"] == true);
  // Each refusal is shown (and logged) naming the file; the dialog holds the last one.
  CHECK(r2.out.find("not a workbench project") != std::string::npos);
  CHECK(r2.out.find("s1.txt: unrecognised model file") != std::string::npos);
  CHECK(s2["error"].get<std::string>().find("broken.wbstory") != std::string::npos);
  CHECK(s2["error"].get<std::string>().find("damaged") != std::string::npos);

  // Clicking a generated token and choosing another of its alternatives
  // branches there (splitting the node) and continues from the new branch.
  const auto& recorded = (*c)["alternatives"][5];
  int32_t other = -1;
  for (const auto& tp : recorded)
    if (tp[0].get<int32_t>() != (*c)["tokens"][5].get<int32_t>()) other = tp[0].get<int32_t>();
  REQUIRE(other >= 0);
  write(dir / "s3.txt", "open-project " + project.string() + "\n" + "branch-token " + std::to_string(cont[0]) +
                            " 5 " + std::to_string(other) + "\nwait-generation\n" +
                            "save-as " + (dir / "copy.wbstory").string() + "\n");
  auto r3 = run_gui(dir, "--script " + quote((dir / "s3.txt").string()) + " --tree-json " + quote((dir / "s3.json").string()));
  INFO(r3.out);
  REQUIRE(r3.exit_code == 0);
  auto s3 = read_json(dir / "s3.json");
  CHECK(s3["error"] == "");
  const auto* cur = node(s3, s3["current"].get<uint64_t>());
  REQUIRE(cur != nullptr);
  CHECK((*cur)["origin"] == "model");
  const auto* chosen = node(s3, (*cur)["parent"].get<uint64_t>());
  REQUIRE(chosen != nullptr);
  REQUIRE((*chosen)["tokens"].size() == 1);
  CHECK((*chosen)["tokens"][0].get<int32_t>() == other);
  const auto* front = node(s3, (*chosen)["parent"].get<uint64_t>());
  REQUIRE(front != nullptr);
  CHECK((*front)["tokens"].size() == 5);  // the first 5 tokens of the continuation, split off
  CHECK((*front)["parent"].get<uint64_t>() == top[0]);
  // Save as: the copy is now the open project, with the same tree and current node.
  CHECK(s3["project"] == (dir / "copy.wbstory").string());
  CHECK(fs::exists(project));
  // Recent projects persist in the settings between runs, newest first.
  auto settings = read_json(dir / "config/rwkv-workbench/workbench.json");
  REQUIRE(settings["recent_projects"].size() >= 2);
  CHECK(settings["recent_projects"][0] == (dir / "copy.wbstory").string());
  CHECK(settings["recent_projects"][1] == project.string());
}

TEST_CASE("a long pasted text is read on the generation's worker, not inside a frame", "[gui]") {
  auto dir = wb::test::temp_dir("gui-paste");
  const std::string model = wb::test::fixture(kTiny);
  std::string chapter;
  while (chapter.size() < 3000) chapter += "The keeper wound the lamp and watched the grey sea turn. ";
  chapter.pop_back();  // a script line's trailing space is not typed
  write(dir / "s.txt", "new-project " + (dir / "p.wbstory").string() + " " + model + "\n" + "type " + chapter +
                           "\n" + "submit\n" + "continue 8\n" + "wait-generation\n" + "frames 2\n");
  auto r = run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " --tree-json " + quote((dir / "s.json").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  // Nothing is read inside a frame until the model's reading speed is known.
  CHECK(r.out.find("its " + std::to_string(chapter.size()) + " tokens are read when you continue") != std::string::npos);
  CHECK(r.out.find("reading " + std::to_string(chapter.size()) + " tokens of the story first") != std::string::npos);
  auto s = read_json(dir / "s.json");
  REQUIRE(s["error"] == "");
  auto top = children(s, 1);
  REQUIRE(top.size() == 1);
  CHECK((*node(s, top[0]))["text"].get<std::string>().size() == chapter.size());
  auto cont = children(s, top[0]);
  REQUIRE(cont.size() == 1);
  CHECK((*node(s, cont[0]))["tokens"].size() == 8);  // generated after the worker read the chapter
}

TEST_CASE("a fresh model reads nothing inside a frame until its reading speed is known", "[gui]") {
  // A model's first computation pays one-time costs (Vulkan pipelines: a 16-token
  // switch took 191-553 ms of one frame on an H100), so even a short text waits
  // for the worker until a timed read says what fits in a frame.
  auto dir = wb::test::temp_dir("gui-first-read");
  const std::string model = wb::test::fixture(kTiny);
  write(dir / "s.txt", "new-project " + (dir / "p.wbstory").string() + " " + model + "\n" + "type Hello there\n" +
                           "submit\n" + "continue 4\n" + "wait-generation\n" + "frames 2\n");
  auto r = run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " --tree-json " + quote((dir / "s.json").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("its 11 tokens are read when you continue (on the worker; the model's reading speed is not known "
                   "yet)") != std::string::npos);
  CHECK(r.out.find("recomputed in") == std::string::npos);
  CHECK(r.out.find("reading 11 tokens of the story first") != std::string::npos);
  check_one_continuation(dir / "s.json", 4);
}

TEST_CASE("the story pane follows a generation to its end, from wherever it was", "[gui]") {
  auto dir = wb::test::temp_dir("gui-follow");
  const std::string model = wb::test::fixture(kTiny);
  std::string chapter;
  while (chapter.size() < 2500) chapter += "The keeper wound the lamp and watched the grey sea turn.\\n";  // a script escape
  chapter.resize(chapter.size() - 2);
  // A long text fills the pane, which then shows its top; the continuation goes on below.
  write(dir / "s.txt", "new-project " + (dir / "p.wbstory").string() + " " + model + "\n" + "type " + chapter +
                           "\n" + "submit\n" + "frames 3\n" + "continue 600\n" + "wait-generation\n" + "frames 3\n");
  auto r = run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " --tree-json " + quote((dir / "s.json").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  auto s = read_json(dir / "s.json");
  REQUIRE(s["error"] == "");
  CHECK(s["editor_shows_end"] == true);
}

TEST_CASE("cancel works while a pasted text is being read", "[gui]") {
  auto dir = wb::test::temp_dir("gui-paste-cancel");
  const std::string model = wb::test::fixture(kTiny);
  std::string chapter;  // long enough that the read outlasts the next frame many times over
  while (chapter.size() < 20000) chapter += "The keeper wound the lamp and watched the grey sea turn. ";
  chapter.pop_back();
  write(dir / "s.txt", "new-project " + (dir / "p.wbstory").string() + " " + model + "\n" + "type " + chapter +
                           "\n" + "submit\n" + "continue 8\n" + "cancel\n" + "wait-generation\n" + "frames 2\n");
  auto r = run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " --tree-json " + quote((dir / "s.json").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("generation cancelled: reading the text was cancelled after") != std::string::npos);
  auto s = read_json(dir / "s.json");
  REQUIRE(s["error"] == "");
  auto top = children(s, 1);
  REQUIRE(top.size() == 1);
  CHECK((*node(s, top[0]))["text"].get<std::string>().size() == chapter.size());
  CHECK(children(s, top[0]).empty());  // nothing generated, the pasted text kept
}

TEST_CASE("a project whose tokenizer file is gone is refused in plain words", "[gui]") {
  auto dir = wb::test::temp_dir("gui-tokenizer");
  const std::string model = wb::test::fixture(kTiny);
  fs::copy_file(wb::test::fixture("tokenizers/rwkv_vocab_v20230424.txt"), dir / "vocab.txt");
  const fs::path project = dir / "p.wbstory";
  write(dir / "a.txt", "new-project " + project.string() + " " + model + " " + (dir / "vocab.txt").string() + "\n");
  auto r = run_gui(dir, "--script " + quote((dir / "a.txt").string()) + " --tree-json " + quote((dir / "a.json").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(read_json(dir / "a.json")["project"] == project.string());

  fs::remove(dir / "vocab.txt");
  write(dir / "b.txt", "open-project " + project.string() + "\n");
  auto r2 = run_gui(dir, "--script " + quote((dir / "b.txt").string()) + " --tree-json " + quote((dir / "b.json").string()));
  INFO(r2.out);
  REQUIRE(r2.exit_code == 0);
  auto s = read_json(dir / "b.json");
  // The refused project is not opened; whatever was open before (the first-run
  // sample project on the default model, or nothing) stays as it was.
  CHECK(s["project"] != project.string());
  CHECK(s["error"].get<std::string>().find("vocab.txt") != std::string::npos);
  CHECK(r2.out.find("tokenizer is missing") != std::string::npos);
}

namespace {

std::map<std::string, double> read_key_values(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in.good());
  std::map<std::string, double> kv;
  std::string key, value;
  while (in >> key && std::getline(in, value)) {
    char* end = nullptr;
    double d = std::strtod(value.c_str(), &end);
    if (end != value.c_str()) kv[key] = d;
    else kv[key] = -1;  // text values (the device name)
  }
  return kv;
}

}  // namespace

TEST_CASE("frame-time statistics: frames while generating and idle as key value lines", "[gui]") {
  auto dir = wb::test::temp_dir("gui-frames");
  const std::string model = wb::test::fixture(kTiny);
  write(dir / "s.txt", "new-project " + (dir / "p.wbstory").string() + " " + model +
                           "\ntype Once upon a time\nframes 5\ncontinue 400\nframes 2\nwait-generation\nframes 5\n");
  auto r = run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " --frame-stats " +
                            quote((dir / "stats.txt").string()) + " --measure-frames");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  auto kv = read_key_values(dir / "stats.txt");
  for (const char* k : {"device", "frames_generating", "generating_median_ms", "generating_p95_ms", "generating_max_ms",
                        "generating_over_50ms", "frames_idle", "idle_median_ms", "frames_all", "all_max_ms",
                        "frames_loading", "phase_app_median_ms", "phase_ui_median_ms", "phase_render_median_ms",
                        "load_average"}) {
    INFO(k);
    CHECK(kv.count(k) == 1);
  }
  // `frames 2` ran while the 400 tokens were generated; `frames 5` twice without.
  CHECK(kv["frames_generating"] >= 2);
  CHECK(kv["frames_idle"] >= 10);
  CHECK(kv["frames_all"] >= kv["frames_generating"] + kv["frames_idle"]);
  for (const char* b : {"generating", "idle", "all"}) {
    const std::string s = b;
    CHECK(kv[s + "_median_ms"] > 0);
    CHECK(kv[s + "_median_ms"] <= kv[s + "_p95_ms"]);
    CHECK(kv[s + "_p95_ms"] <= kv[s + "_max_ms"]);
    CHECK(kv[s + "_over_50ms"] <= kv["frames_" + s]);
  }
  // --measure-frames prints the same lines.
  CHECK(r.out.find("frames_generating ") != std::string::npos);
  CHECK(r.out.find("phase_render_p95_ms ") != std::string::npos);
}

TEST_CASE("a model loads on a worker: the window keeps drawing and a failed load leaves the project as it was", "[gui]") {
  auto dir = wb::test::temp_dir("gui-async-load");
  const std::string model = wb::test::fixture(kTiny);
  const fs::path project = dir / "p.wbstory";
  write(dir / "not-a-model.txt", "just some words, not weights\n");
  // `frames 4` right after the project's model starts loading counts frames
  // drawn while it loads; `type`/`submit` wait for the load to finish.
  write(dir / "s.txt", "new-project " + project.string() + " " + model + "\nframes 4\ntype Hello\nsubmit\n" +
                           "open-model " + (dir / "not-a-model.txt").string() + "\nframes 3\n");
  auto r2 = run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " --tree-json " +
                             quote((dir / "s.json").string()) + " --frame-stats " + quote((dir / "stats.txt").string()),
                    true, "WB_TEST_MODEL_LOAD_DELAY_MS=1500");
  INFO(r2.out);
  REQUIRE(r2.exit_code == 0);
  auto kv = read_key_values(dir / "stats.txt");
  // Each of the three loads (the sample project's default model if shipped,
  // the project's model, the refused file) took at least 1.5 s on the worker.
  CHECK(kv["frames_loading"] >= 7);  // `frames 4` and `frames 3` at least
  CHECK(r2.out.find("loading model " + model) != std::string::npos);
  auto s = read_json(dir / "s.json");
  CHECK(s["project"] == project.string());  // untouched by the failed load
  CHECK(s["model"] == model);
  CHECK(s["error"].get<std::string>().find("not-a-model.txt") != std::string::npos);
  auto top = children(s, 1);
  REQUIRE(top.size() == 1);
  CHECK((*node(s, top[0]))["text"] == "Hello");
}

TEST_CASE("plugin canvases: a plugin's panels open by id and the wheel zooms and scrolls the host's view", "[gui]") {
  auto dir = wb::test::temp_dir("gui-canvas");
  const std::string panel = "org.rwkv.workbench.text-stats/main";
  write(dir / "s.txt", "open-panel org.rwkv.workbench.text-stats\n"
                       "canvas-wheel " + panel + " histogram 150 60 2 ctrl\n"
                       "canvas-wheel " + panel + " histogram 150 60 -1\n"
                       "frames 2\n");
  auto r = run_gui(dir, "--script " + quote((dir / "s.txt").string()) + " --tree-json " + quote((dir / "s.json").string()) +
                            " --screenshot " + quote((dir / "s.png").string()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  auto s = read_json(dir / "s.json");
  CHECK(s["open_panels"].size() == 1);
  CHECK(s["open_panels"][0] == panel);
  const auto& v = s["canvas_views"][panel + "/histogram"];
  REQUIRE(v.is_object());
  // Ctrl+wheel 2 steps: zoom 1.25^2 around (150, 60), which stays put; then
  // one step down scrolls a tenth of the visible height (120 / zoom).
  const double zoom = 1.5625;
  CHECK(v["zoom"].get<double>() == Approx(zoom));
  CHECK(v["x"].get<double>() == Approx(150 - 150 / zoom));
  CHECK(v["y"].get<double>() == Approx(60 - 60 / zoom + 0.1 * 120 / zoom));
  Png png = read_png(dir / "s.png");
  CHECK(distinct_colours(png) > 20);

  // A canvas that is not there: the script stops with a message naming it.
  write(dir / "bad.txt", "canvas-wheel " + panel + " nothing 1 1 1\n");
  auto r2 = run_gui(dir, "--script " + quote((dir / "bad.txt").string()));
  CHECK(r2.exit_code == 3);
  CHECK(r2.out.find("no canvas 'nothing'") != std::string::npos);
}

TEST_CASE("probability shading tints the model's text in the editor red where it was unsure", "[gui]") {
  auto dir = wb::test::temp_dir("gui-shade");
  const std::string model = wb::test::fixture(kTiny);
  // The tiny random model is unsure of nearly every byte: shaded, its text turns red.
  auto reddish = [](const Png& p) {
    std::size_t n = 0;
    for (std::size_t i = 0; i + 3 < p.rgba.size(); i += 4)
      if (p.rgba[i] > 180 && p.rgba[i + 1] < 140 && p.rgba[i + 2] < 140) ++n;
    return n;
  };
  std::size_t red[2] = {0, 0};
  for (int on = 0; on < 2; ++on) {
    const std::string tag = on ? "on" : "off";
    write(dir / (tag + ".txt"), "new-project " + (dir / (tag + ".wbstory")).string() + " " + model +
                                    "\ntype Once upon a time\nset seed 7\ncontinue 300\nwait-generation\nshade " + tag +
                                    "\nframes 2\n");
    auto r = run_gui(dir, "--script " + quote((dir / (tag + ".txt")).string()) + " --screenshot " +
                              quote((dir / (tag + ".png")).string()));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.out.find("created project " + (dir / (tag + ".wbstory")).string()) != std::string::npos);
    red[on] = reddish(read_png(dir / (tag + ".png")));
  }
  INFO("reddish pixels: off " << red[0] << ", on " << red[1]);
  CHECK(red[1] > red[0] + red[0] / 5 + 1000);
}
