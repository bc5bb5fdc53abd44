// Editor: the active path's text, user text and model text tinted apart, a
// box to type the next part, Ctrl+Enter to add it and continue; plus the
// global shortcuts.
#include <imgui.h>

#include <imgui_stdlib.h>

#include <algorithm>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>  // ImGui 1.86 has no ImGuiKey_S; its GLFW backend indexes keys by GLFW code

#include "app/views.hpp"

namespace wb::app {

namespace {

ImVec4 origin_colour(const std::string& origin) {
  if (origin == "user") return ImVec4(0.93f, 0.93f, 0.93f, 1.0f);
  if (origin == "model") return ImVec4(0.55f, 0.80f, 1.00f, 1.0f);
  return ImVec4(0.85f, 0.75f, 0.45f, 1.0f);  // plugins
}

// Draws `text` word by word so segments of different colours flow together
// like one paragraph (ImGui's TextWrapped cannot change colour mid-line).
void flow_text(const std::string& text, ImVec4 colour, float wrap_x) {
  ImGui::PushStyleColor(ImGuiCol_Text, colour);
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n') {
      ImGui::NewLine();
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n') {
      // CJK text has no spaces: every character from U+3000 on (3-byte
      // UTF-8, lead byte 0xE3..0xEF) is a place where the line may wrap.
      const auto c = static_cast<unsigned char>(text[j]);
      if (c >= 0xE3 && c < 0xF0) {
        if (j == i) j = std::min(text.size(), j + 3);
        break;
      }
      ++j;
    }
    if (j < text.size() && text[j] == ' ') ++j;  // keep the space with its word
    const char* b = text.data() + i;
    const char* e = text.data() + j;
    float w = ImGui::CalcTextSize(b, e).x;
    float x = ImGui::GetCursorPosX();
    ImGui::SameLine(0, 0);
    if (ImGui::GetCursorPosX() + w > wrap_x && ImGui::GetCursorPosX() > ImGui::GetStyle().WindowPadding.x + 1) {
      ImGui::NewLine();
    }
    (void)x;
    ImGui::TextUnformatted(b, e);
    i = j;
  }
  ImGui::PopStyleColor();
}

// The current node's generated tokens, shaded by how likely the model found
// each; clicking one lists the alternatives it recorded and branches there.
bool tokens_open = false;  // whether the tokens header was open last frame (for the layout)

void draw_tokens(App& app) {
  const tree::Node* n = app.tree.find(app.current());
  if (!n || n->alternatives.empty() || app.generating()) return;
  tokens_open = ImGui::CollapsingHeader("Tokens of this continuation (click one for its alternatives)",
                                        ImGuiTreeNodeFlags_DefaultOpen);
  if (!tokens_open) return;
  ImGui::BeginChild("##tokens", ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 4), true);
  const auto& codec = app.story->codec();
  const float right = ImGui::GetContentRegionAvail().x;
  for (std::size_t i = 0; i < n->tokens.size(); ++i) {
    std::string piece = codec.piece(n->tokens[i]);
    std::string shown;
    for (char c : piece) {
      if (c == '\n') shown.append("\\n");
      else shown.push_back(c);
    }
    if (shown.empty()) shown.push_back('?');
    // A token missing from the recorded top list was less likely than all of them.
    float p = (i < n->alternatives.size() && !n->alternatives[i].empty()) ? 0.0f : 1.0f;
    if (i < n->alternatives.size())
      for (const auto& tp : n->alternatives[i])
        if (tp.token == n->tokens[i]) p = tp.prob;
    // Likely tokens dark, unlikely ones red: where the model was unsure.
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.25f + 0.6f * (1 - p), 0.25f, 0.3f, 1.0f));
    ImGui::PushID(static_cast<int>(i));
    if (i > 0 && ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x + ImGui::CalcTextSize(shown.c_str()).x + 12 < right)
      ImGui::SameLine(0, 2);
    if (ImGui::SmallButton(shown.c_str())) ImGui::OpenPopup("alts");
    if (ImGui::BeginPopup("alts")) {
      ImGui::TextDisabled("token %zu: the model's choices here", i);
      if (i < n->alternatives.size())
        for (const auto& tp : n->alternatives[i]) {
          std::string label = codec.piece(tp.token);
          for (char& c : label)
            if (c == '\n') c = ' ';
          label = fmt::format("\"{}\"  {:.1f}%", label, static_cast<double>(tp.prob) * 100.0);
          if (ImGui::Selectable(label.c_str(), tp.token == n->tokens[i]) && tp.token != n->tokens[i]) {
            app.branch_at_token(n->id, i, tp.token);
            ImGui::EndPopup();
            ImGui::PopID();
            ImGui::PopStyleColor();
            ImGui::EndChild();
            return;
          }
        }
      ImGui::EndPopup();
    }
    ImGui::PopID();
    ImGui::PopStyleColor();
  }
  ImGui::EndChild();
}

}  // namespace

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
  place_window(app, "Story");
  if (!ImGui::Begin("Story")) {
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
    const float wrap = ImGui::GetContentRegionAvail().x + ImGui::GetCursorPosX() - 4;
    ImGui::NewLine();
    for (NodeId id : app.tree.path_to_root(cur)) {
      const tree::Node* n = app.tree.find(id);
      if (!n || n->text.empty()) continue;
      flow_text(n->text, origin_colour(n->origin), wrap);
    }
    // The generation in flight, shown as it streams (alternative 1).
    if (app.generating() && !app.progress.preview.empty())
      flow_text(app.progress.preview[0], ImVec4(0.55f, 0.80f, 1.0f, 0.6f), wrap);
    if (app.generating() && ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 20) ImGui::SetScrollHereY(1.0f);
  }
  ImGui::EndChild();
  draw_tokens(app);
  if (!editing) {
    if (ImGui::Button("Edit text")) {
      editing = true;
      edit_buf = app.tree.path_text(cur);
    }
    ImGui::SameLine();
    ImGui::TextDisabled("white: your text   blue: the model's   gold: plugins");
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
