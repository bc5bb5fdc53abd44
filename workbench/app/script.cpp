// The script runner (see script.hpp for the commands).
#include "app/script.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "app/views.hpp"
#include "core/sampling/sampler.hpp"

namespace wb::app {

namespace {

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

template <class T>
bool parse_num(std::string_view s, T& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

}  // namespace

Result<Script> Script::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(Errc::io, "cannot read script {}", path);
  Script s;
  s.path_ = path;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.size() > 1'000'000) return make_error(Errc::limit, "{}:{}: line over 1 MB", path, n);
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::size_t sp = t.find_first_of(" \t");
    Line l{n, t.substr(0, sp), sp == std::string::npos ? std::string() : trim(t.substr(sp + 1))};
    s.lines_.push_back(std::move(l));
  }
  return s;
}

bool Script::ready(App& app) {
  if (frames_left_ > 0) {
    --frames_left_;
    return false;
  }
  if (waiting_gen_) {
    if (app.generating()) return false;
    waiting_gen_ = false;
  }
  if (pos_ >= lines_.size()) return false;
  const std::string& c = lines_[pos_].cmd;
  // A generation or a model load in flight: the next command waits for it
  // (frames still count while it runs, so a script can watch the UI meanwhile).
  if ((app.generating() || app.loading()) && c != "frames" && c != "cancel" && c != "wait-generation") return false;
  return true;
}

Status Script::step(App& app, Renderer& r) {
  const Line& l = lines_[pos_++];
  auto bad = [&](const char* what) { return make_error(Errc::invalid_argument, "{}:{}: {}: {}", path_, l.number, l.cmd, what); };
  auto id_arg = [&](NodeId& id) { return parse_num(trim(l.rest), id); };
  auto w = words(l.rest);
  app.log.info("script: {} {}", l.cmd, l.rest);
  if (l.cmd == "new-project") {
    if (w.empty() || w.size() > 3) return bad("expects PATH [MODEL [TOKENIZER]]");
    app.new_project(w[0], w.size() > 1 ? w[1] : "", w.size() > 2 ? w[2] : "");
  } else if (l.cmd == "open-project") {
    if (l.rest.empty()) return bad("expects PATH");
    app.open_project(l.rest);
  } else if (l.cmd == "save-as") {
    if (l.rest.empty()) return bad("expects PATH");
    app.save_project_as(l.rest);
  } else if (l.cmd == "open-model") {
    if (l.rest.empty()) return bad("expects PATH");
    app.open_model(l.rest);
  } else if (l.cmd == "type") {
    app.input += unescape(l.rest);
  } else if (l.cmd == "clear-input") {
    app.input.clear();
  } else if (l.cmd == "submit") {
    if (app.append_user_text(app.input)) app.input.clear();
  } else if (l.cmd == "continue") {
    int n = 0;
    if (!parse_num(trim(l.rest), n) || n <= 0) return bad("expects a token count");
    if (!app.input.empty() && app.append_user_text(app.input)) app.input.clear();
    app.continue_generation(n, 1);
  } else if (l.cmd == "alternatives") {
    int k = 0, n = 0;
    if (w.size() != 2 || !parse_num(w[0], k) || !parse_num(w[1], n) || k <= 0 || n <= 0) return bad("expects K N");
    if (!app.input.empty() && app.append_user_text(app.input)) app.input.clear();
    app.continue_generation(n, k);
  } else if (l.cmd == "wait-generation") {
    waiting_gen_ = true;
  } else if (l.cmd == "cancel") {
    app.cancel_generation();
  } else if (l.cmd == "select-node" || l.cmd == "switch-branch") {
    NodeId id = 0;
    if (!id_arg(id)) return bad("expects a node id");
    app.select(id);
  } else if (l.cmd == "fork") {
    std::string text = l.rest.empty() ? app.input : unescape(l.rest);
    if (app.fork(text) && l.rest.empty()) app.input.clear();
  } else if (l.cmd == "navigate") {
    if (l.rest == "parent") app.navigate(0, -1);
    else if (l.rest == "child") app.navigate(0, 1);
    else if (l.rest == "prev") app.navigate(-1, 0);
    else if (l.rest == "next") app.navigate(1, 0);
    else return bad("expects parent, child, prev or next");
  } else if (l.cmd == "branch-token") {
    NodeId id = 0;
    std::size_t index = 0;
    int32_t token = 0;
    if (w.size() != 3 || !parse_num(w[0], id) || !parse_num(w[1], index) || !parse_num(w[2], token))
      return bad("expects NODE INDEX TOKEN");
    app.branch_at_token(id, index, token);
  } else if (l.cmd == "delete-node") {
    NodeId id = 0;
    if (!id_arg(id)) return bad("expects a node id");
    app.remove_node(id);
  } else if (l.cmd == "undo") {
    app.undo();
  } else if (l.cmd == "redo") {
    app.redo();
  } else if (l.cmd == "label") {
    NodeId id = 0;
    if (w.size() < 2 || !parse_num(w[0], id)) return bad("expects ID TEXT");
    app.set_label(id, trim(l.rest.substr(w[0].size())));
  } else if (l.cmd == "bookmark") {
    NodeId id = 0;
    if (!id_arg(id)) return bad("expects a node id");
    app.toggle_bookmark(id);
  } else if (l.cmd == "preset") {
    if (!app.apply_preset(trim(l.rest))) return bad("no such preset");
  } else if (l.cmd == "set") {
    if (w.size() < 2) return bad("expects KEY VALUE");
    if (w[0] == "length") {
      if (!parse_num(w[1], app.settings.length)) return bad("length must be a number");
    } else if (auto st = sampling::set_option(app.gen_opts.settings, w[0], trim(l.rest.substr(w[0].size()))); !st) {
      return make_error(Errc::invalid_argument, "{}:{}: {}", path_, l.number, st.error().message);
    }
  } else if (l.cmd == "open-panel" || l.cmd == "close-panel") {
    bool on = l.cmd == "open-panel";
    const std::string& n = l.rest;
    if (n == "tree") app.show_tree = on;
    else if (n == "generation") app.show_generation = on;
    else if (n == "log") app.show_log = on;
    else if (n == "model") app.show_model = on;
    else if (n == "plugins") app.show_plugins = on;
    else if (n.find('/') != std::string::npos) {
      if (on) app.open_panels.insert(n), app.focus_panel = n;
      else app.open_panels.erase(n);
    } else if (app.plugins && !app.plugins->ui().panels(n).empty()) {
      // A plugin id alone: all of its panels (e.g. the composer's piano roll).
      for (const host::UiPanel* p : app.plugins->ui().panels(n)) {
        const std::string key = n + "/" + p->id;
        if (on) app.open_panels.insert(key), app.focus_panel = key;
        else app.open_panels.erase(key);
      }
    } else {
      return bad("unknown panel (tree, generation, log, model, plugins, PLUGIN/PANEL or a plugin id with panels)");
    }
  } else if (l.cmd == "canvas-wheel" || l.cmd == "canvas-click") {
    // canvas-wheel PLUGIN/PANEL CANVAS X Y STEPS [ctrl|shift]    canvas-click PLUGIN/PANEL CANVAS X Y [BUTTON]
    const bool wheel = l.cmd == "canvas-wheel";
    float x = 0, y = 0, steps = 0;
    int button = 0;
    std::size_t slash = w.empty() ? std::string::npos : w[0].rfind('/');
    bool ok = w.size() >= 4 && slash != std::string::npos && parse_num(w[2], x) && parse_num(w[3], y);
    if (wheel) ok = ok && w.size() >= 5 && w.size() <= 6 && parse_num(w[4], steps);
    else ok = ok && w.size() <= 5 && (w.size() < 5 || parse_num(w[4], button));
    if (!ok) return bad(wheel ? "expects PLUGIN/PANEL CANVAS X Y STEPS [ctrl|shift]" : "expects PLUGIN/PANEL CANVAS X Y [BUTTON]");
    const std::string plugin = w[0].substr(0, slash), panel = w[0].substr(slash + 1);
    Status st;
    if (wheel) {
      int mods = 0;
      if (w.size() == 6) {
        if (w[5] == "ctrl") mods = WB_UI_MOD_CTRL;
        else if (w[5] == "shift") mods = WB_UI_MOD_SHIFT;
        else return bad("the modifier is ctrl or shift");
      }
      st = canvas_wheel(app, plugin, panel, w[1], x, y, steps, 0, mods);
    } else if (!app.plugins) {
      st = make_error(Errc::invalid_argument, "no plugins are loaded");
    } else {
      st = app.plugins->ui_canvas_click(plugin, panel, w[1], x, y, button);
    }
    if (!st) return make_error(Errc::invalid_argument, "{}:{}: {}", path_, l.number, st.error().message);
  } else if (l.cmd == "resize") {
    int ww = 0, hh = 0;
    if (w.size() != 2 || !parse_num(w[0], ww) || !parse_num(w[1], hh) || ww < 200 || hh < 150 || ww > 8192 || hh > 8192)
      return bad("expects W H (200..8192 x 150..8192)");
    r.set_size(ww, hh);
    frames_left_ = 3;  // let the window system and the swapchain catch up
  } else if (l.cmd == "frames") {
    int n = 0;
    if (!parse_num(trim(l.rest), n) || n < 0 || n > 100000) return bad("expects a frame count");
    frames_left_ = n;
  } else if (l.cmd == "shade") {
    if (l.rest != "on" && l.rest != "off") return bad("expects on or off");
    app.settings.shade_probability = l.rest == "on";
  } else if (l.cmd == "dismiss-error") {
    app.error.clear();
  } else {
    return bad("unknown command");
  }
  return {};
}

}  // namespace wb::app
