// Editor: the active path's text, user text and model text tinted apart, a
// box to type the next part, Ctrl+Enter to add it and continue; plus the
// global shortcuts.
#include <imgui.h>

#include <imgui_stdlib.h>

#include <algorithm>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>  // ImGui 1.86 has no ImGuiKey_S; its GLFW backend indexes keys by GLFW code

#include "app/text_layout.hpp"
#include "app/views.hpp"

namespace wb::app {

namespace {

ImU32 origin_colour(const std::string& origin) {
  if (origin == "user") return IM_COL32(237, 237, 237, 255);
  if (origin == "model") return IM_COL32(140, 204, 255, 255);
  return IM_COL32(217, 191, 115, 255);  // plugins
}

// The active path laid out once and redrawn from the cache (see
// text_layout.hpp); the pieces are rebuilt only when the tree, the current
// node or the streamed text changed.
struct EditorCache {
  FlowLayout layout;
  std::vector<FlowPiece> pieces;
  uint64_t tree_version = ~0ull;
  NodeId current = tree::kNoNode;
  std::size_t preview_bytes = ~std::size_t{0};
  bool generating = false, shade = false;
  std::vector<std::string> token_text;  // per-token pieces when shading (FlowPiece borrows them)
};
EditorCache editor_cache;

// A model node as one piece per token, blue where the model was sure and red
// where it was not (the probability it gave the token it chose). False when
// the tokens do not spell the node's text (then it is drawn plainly).
bool add_shaded(EditorCache& c, const tree::Node& n, const session::TextCodec& codec) {
  const std::size_t first = c.token_text.size();
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < n.tokens.size(); ++i) {
    c.token_text.push_back(codec.piece(n.tokens[i]));
    bytes += c.token_text.back().size();
  }
  bool spells = bytes == n.text.size();
  for (std::size_t i = 0, at = 0; spells && i < n.tokens.size(); at += c.token_text[first + i].size(), ++i)
    spells = n.text.compare(at, c.token_text[first + i].size(), c.token_text[first + i]) == 0;
  if (!spells) {
    c.token_text.resize(first);
    return false;
  }
  // Tokens that end inside a UTF-8 character (byte-level models) join the
  // next ones, so no character is split between two draw calls; the group
  // takes its least likely token's tint.
  std::string_view text = n.text;
  std::size_t at = 0, group_start = 0, group_first = 0;
  float group_p = 1.0f;
  for (std::size_t i = 0; i < n.tokens.size(); ++i) {
    float p = 1.0f;
    if (i < n.alternatives.size() && !n.alternatives[i].empty()) {
      p = 0.0f;  // not in the recorded top list: less likely than all of them
      for (const auto& tp : n.alternatives[i])
        if (tp.token == n.tokens[i]) p = tp.prob;
    }
    group_p = std::min(group_p, std::clamp(p, 0.0f, 1.0f));
    at += c.token_text[first + i].size();
    // Complete when the last lead byte's character fits before `at`.
    std::size_t k = at;
    while (k > group_start && (static_cast<unsigned char>(text[k - 1]) & 0xC0) == 0x80 && at - k < 3) --k;
    bool complete = true;
    if (k > group_start) {
      const auto lead = static_cast<unsigned char>(text[k - 1]);
      const std::size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      complete = at - (k - 1) >= need;
    }
    if (!complete && i + 1 < n.tokens.size()) continue;
    const float u = 1.0f - group_p;
    ImU32 col = IM_COL32(static_cast<int>(140 + 115 * u), static_cast<int>(204 - 120 * u), static_cast<int>(255 - 170 * u), 255);
    // Keys: the node id in the high bits, the first token's index in the low ones.
    c.pieces.push_back(FlowPiece{(n.id << 24) | group_first, text.substr(group_start, at - group_start), col});
    group_start = at;
    group_first = i + 1;
    group_p = 1.0f;
  }
  return true;
}

void draw_path(App& app, NodeId cur) {
  EditorCache& c = editor_cache;
  const bool gen = app.generating() && !app.progress.preview.empty();
  const std::size_t preview = gen ? app.progress.preview[0].size() : 0;
  const bool shade = app.settings.shade_probability;
  if (c.tree_version != app.tree_version || c.current != cur || c.preview_bytes != preview || c.generating != gen ||
      c.shade != shade) {
    c.tree_version = app.tree_version;
    c.current = cur;
    c.preview_bytes = preview;
    c.generating = gen;
    c.shade = shade;
    c.pieces.clear();
    c.token_text.clear();
    const auto path = app.tree.path_to_root(cur);
    if (shade) {
      // One piece per generated token, so each gets its own tint; reserved
      // first, as the pieces borrow these strings.
      std::size_t tokens = 0;
      for (NodeId id : path)
        if (const tree::Node* n = app.tree.find(id)) tokens += n->tokens.size();
      c.token_text.reserve(tokens);
    }
    for (NodeId id : path) {
      const tree::Node* n = app.tree.find(id);
      if (!n || n->text.empty()) continue;
      if (shade && !n->alternatives.empty() && add_shaded(c, *n, app.story->codec())) continue;
      c.pieces.push_back(FlowPiece{id, n->text, origin_colour(n->origin)});
    }
    // The generation in flight, shown as it streams (alternative 1); its key
    // names the node it grows from, so a new generation starts a new piece.
    if (gen) c.pieces.push_back(FlowPiece{~app.progress.from, app.progress.preview[0], IM_COL32(140, 204, 255, 153)});
  }
  const float wrap = ImGui::GetContentRegionAvail().x - 4;
  c.layout.update(c.pieces, wrap, ImGui::GetFont(), ImGui::GetFontSize());
  c.layout.draw();
}

// The current node's generated tokens, shaded by how likely the model found
// each; clicking one lists the alternatives it recorded and branches there.
// Labels, shades and rows are cached per node and width; only the visible
// rows are drawn (a continuation can have thousands of tokens).
struct TokenCache {
  uint64_t tree_version = ~0ull;
  NodeId node = tree::kNoNode;
  float width = -1;
  std::vector<std::string> labels;
  std::vector<float> prob;
  std::vector<uint32_t> row_start;
  std::size_t popup_token = 0;
};
TokenCache token_cache;
bool tokens_open = false;  // whether the tokens header was open last frame (for the layout)

void build_token_cache(App& app, const tree::Node& n, float width) {
  TokenCache& c = token_cache;
  if (c.tree_version != app.tree_version || c.node != n.id) {
    const auto& codec = app.story->codec();
    c.labels.assign(n.tokens.size(), std::string());
    c.prob.assign(n.tokens.size(), 1.0f);
    for (std::size_t i = 0; i < n.tokens.size(); ++i) {
      for (char ch : codec.piece(n.tokens[i])) {
        if (ch == '\n') c.labels[i].append("\\n");
        else c.labels[i].push_back(ch);
      }
      if (c.labels[i].empty()) c.labels[i].push_back('?');
      // A token missing from the recorded top list was less likely than all of them.
      if (i < n.alternatives.size() && !n.alternatives[i].empty()) {
        c.prob[i] = 0.0f;
        for (const auto& tp : n.alternatives[i])
          if (tp.token == n.tokens[i]) c.prob[i] = tp.prob;
      }
    }
    c.width = -1;
  }
  if (c.width != width) {
    c.row_start.assign(1, 0);
    const ImGuiStyle& st = ImGui::GetStyle();
    float x = 0;
    for (std::size_t i = 0; i < c.labels.size(); ++i) {
      float w = ImGui::CalcTextSize(c.labels[i].c_str()).x + st.FramePadding.x * 2;
      if (x > 0 && x + 2 + w > width) {
        c.row_start.push_back(static_cast<uint32_t>(i));
        x = 0;
      }
      x += (x > 0 ? 2 : 0) + w;
    }
  }
  c.tree_version = app.tree_version;
  c.node = n.id;
  c.width = width;
}

void draw_tokens(App& app) {
  const tree::Node* n = app.tree.find(app.current());
  if (!n || n->alternatives.empty() || app.generating()) return;
  tokens_open = ImGui::CollapsingHeader("Tokens of this continuation (click one for its alternatives)",
                                        ImGuiTreeNodeFlags_DefaultOpen);
  if (!tokens_open) return;
  ImGui::BeginChild("##tokens", ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 4), true);
  TokenCache& c = token_cache;
  build_token_cache(app, *n, ImGui::GetContentRegionAvail().x);
  bool open_popup = false;
  ImGuiListClipper clip;
  clip.Begin(static_cast<int>(c.row_start.size()), ImGui::GetTextLineHeightWithSpacing());
  while (clip.Step())
    for (int row = clip.DisplayStart; row < clip.DisplayEnd; ++row) {
      const std::size_t b = c.row_start[static_cast<std::size_t>(row)];
      const std::size_t e = static_cast<std::size_t>(row) + 1 < c.row_start.size() ? c.row_start[static_cast<std::size_t>(row) + 1] : c.labels.size();
      for (std::size_t i = b; i < e; ++i) {
        // Likely tokens dark, unlikely ones red: where the model was unsure.
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.25f + 0.6f * (1 - c.prob[i]), 0.25f, 0.3f, 1.0f));
        ImGui::PushID(static_cast<int>(i));
        if (i > b) ImGui::SameLine(0, 2);
        if (ImGui::SmallButton(c.labels[i].c_str())) {
          c.popup_token = i;
          open_popup = true;
        }
        ImGui::PopID();
        ImGui::PopStyleColor();
      }
    }
  if (open_popup) ImGui::OpenPopup("alts");
  if (ImGui::BeginPopup("alts")) {
    const std::size_t i = c.popup_token;
    ImGui::TextDisabled("token %zu: the model's choices here", i);
    if (i < n->alternatives.size() && i < n->tokens.size()) {
      const auto& codec = app.story->codec();
      for (const auto& tp : n->alternatives[i]) {
        std::string label = codec.piece(tp.token);
        for (char& ch : label)
          if (ch == '\n') ch = ' ';
        label = fmt::format("\"{}\"  {:.1f}%##{}", label, static_cast<double>(tp.prob) * 100.0, tp.token);
        if (ImGui::Selectable(label.c_str(), tp.token == n->tokens[i]) && tp.token != n->tokens[i]) {
          const NodeId id = n->id;
          const int32_t token = tp.token;
          ImGui::CloseCurrentPopup();
          ImGui::EndPopup();
          ImGui::EndChild();
          app.branch_at_token(id, i, token);  // changes the tree: n is not used after this
          return;
        }
      }
    }
    ImGui::EndPopup();
  }
  ImGui::EndChild();
}

}  // namespace

// While the model writes, the story pane follows the end of the text. A
// generation starts following (the writer asked for it and wants to see it,
// wherever the pane was); scrolling up stops it until the end is back in view.
static void follow_generation(App& app) {
  static bool following = false, was_generating = false;
  static int after = 0;  // frames still following once the generation ended: its last tokens land then
  static float last_scroll = 0, last_max = 0;
  const bool gen = app.generating();
  const float view_h = ImGui::GetWindowHeight(), end_y = ImGui::GetCursorPosY(), scroll = ImGui::GetScrollY();
  // The writer scrolled up: the view moved up while the text did not get shorter
  // (when the streamed text becomes its node, ImGui may pull the view up for a frame).
  const float max = ImGui::GetScrollMaxY();
  const bool moved_up = scroll < last_scroll - 0.5f && max >= last_max - 0.5f;
  last_scroll = scroll;
  last_max = max;
  const bool shows_end = end_y <= scroll + view_h;
  app.editor_shows_end = shows_end;
  if (gen && !was_generating) following = true;
  if (!gen && was_generating) after = following ? 3 : 0;
  was_generating = gen;
  if (!gen && after == 0) return;
  if (!gen) --after;
  if (moved_up) {
    following = false;
    after = 0;
  } else if (!following) following = shows_end;
  if (following) ImGui::SetScrollHereY(1.0f);
}

void handle_shortcuts(App& app) {
  ImGuiIO& io = ImGui::GetIO();
  if (io.KeyCtrl && ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter), false)) {
    if (!app.input.empty() && app.append_user_text(app.input)) app.input.clear();
    app.continue_generation(app.settings.length, app.settings.alternatives);
  }
  if (io.KeyCtrl && !io.WantTextInput && ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Z), false)) app.undo();
  if (io.KeyCtrl && !io.WantTextInput && ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Y), false)) app.redo();
  if (io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_S, false)) {
    if (app.story) {
      (void)app.story->store_snapshots();
      app.log.info("saved {} (every change is already in the file; snapshots stored)", app.story->project().path());
    }
  }
  if (io.KeyAlt && !app.generating()) {
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) app.navigate(0, -1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) app.navigate(0, 1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) app.navigate(-1, 0);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) app.navigate(1, 0);
  }
}

void draw_editor(App& app) {
  const int pane_flags = place_window(app, "Story");
  const bool pane_open = ImGui::Begin("Story", nullptr, pane_flags);
  note_pane_place(app, "Story");
  if (!pane_open) {
    ImGui::End();
    return;
  }
  if (!app.story) {
    ImGui::TextWrapped("No project is open. Use Project > New project... or Project > Open project...");
    ImGui::End();
    return;
  }
  static bool editing = false;
  static std::string edit_buf;
  NodeId cur = app.current();
  float input_h = ImGui::GetTextLineHeightWithSpacing() * 5 + ImGui::GetFrameHeightWithSpacing() * 2;
  if (const tree::Node* cn = app.tree.find(cur); cn && !cn->alternatives.empty() && !app.generating())
    input_h += ImGui::GetFrameHeightWithSpacing() + (tokens_open ? ImGui::GetTextLineHeightWithSpacing() * 4 + 8 : 0);
  ImGui::BeginChild("##path", ImVec2(0, -input_h), true);
  if (editing) {
    ImGui::InputTextMultiline("##edit", &edit_buf, ImVec2(-1, -1));
  } else {
    draw_path(app, cur);
    follow_generation(app);
  }
  ImGui::EndChild();
  draw_tokens(app);
  if (!editing) {
    if (ImGui::Button("Edit text")) {
      editing = true;
      edit_buf = app.tree.path_text(cur);
    }
    ImGui::SameLine();
    if (ImGui::Checkbox("Shade by probability", &app.settings.shade_probability)) app.save_settings();
    ImGui::SameLine();
    ImGui::TextDisabled(app.settings.shade_probability ? "white: yours   blue->red: the model's, sure->unsure   gold: plugins"
                                                       : "white: your text   blue: the model's   gold: plugins");
  } else {
    if (ImGui::Button("Apply edit (new branch)")) {
      if (app.edit_path_text(edit_buf)) editing = false;
    }
    ImGui::SameLine();
    if (ImGui::Button("Discard")) editing = false;
  }
  ImGui::InputTextMultiline("##input", &app.input, ImVec2(-1, ImGui::GetTextLineHeightWithSpacing() * 4));
  ImGui::BeginDisabled(app.generating());
  if (ImGui::Button("Continue (Ctrl+Enter)")) {
    if (!app.input.empty() && app.append_user_text(app.input)) app.input.clear();
    app.continue_generation(app.settings.length, app.settings.alternatives);
  }
  ImGui::SameLine();
  if (ImGui::Button("Add text only") && !app.input.empty()) {
    if (app.append_user_text(app.input)) app.input.clear();
  }
  ImGui::EndDisabled();
  ImGui::End();
}

}  // namespace wb::app
