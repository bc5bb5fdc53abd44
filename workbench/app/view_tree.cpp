// Story tree navigator (Loom-like): every node with a preview, siblings are
// alternatives, the current path highlighted; select, generate alternatives,
// label, bookmark, delete (undoable).
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "app/views.hpp"

namespace wb::app {

namespace {

std::string preview(const tree::Node& n) {
  std::string s = n.text.substr(0, 48);
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  // Do not cut a UTF-8 character in half.
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0xC0) s.pop_back();
  if (n.text.size() > 48) s += "...";
  return s;
}

// Labels and the current path, rebuilt only when the tree or the current
// node changed (not every frame: a tree can hold thousands of nodes).
struct TreeCache {
  uint64_t tree_version = ~0ull;
  NodeId current = tree::kNoNode;
  std::unordered_map<NodeId, std::string> labels;
  std::unordered_set<NodeId> path;
};
TreeCache tree_cache;

void update_cache(App& app) {
  TreeCache& c = tree_cache;
  if (c.tree_version != app.tree_version) {
    c.labels.clear();
    for (NodeId id : app.tree.ids()) {
      const tree::Node* n = app.tree.find(id);
      std::string label = id == tree::kRootId ? std::string("(start)") : preview(*n);
      if (n->bookmark) label = "* " + label;
      if (!n->label.empty()) label = "[" + n->label + "] " + label;
      label += "##" + std::to_string(id);
      c.labels.emplace(id, std::move(label));
    }
  }
  if (c.tree_version != app.tree_version || c.current != app.current()) {
    auto p = app.tree.path_to_root(app.current());
    c.path = std::unordered_set<NodeId>(p.begin(), p.end());
  }
  c.tree_version = app.tree_version;
  c.current = app.current();
}

void draw_node(App& app, NodeId id, NodeId& to_select, NodeId& to_delete) {
  const tree::Node* n = app.tree.find(id);
  if (!n) return;
  // Plugins' hidden machinery (the dialogue plugin's memory lanes: label
  // prefix "dlg.lane") is not a story branch; its subtrees stay out of view.
  if (n->label.rfind("dlg.lane", 0) == 0) return;
  const bool on_path = tree_cache.path.count(id) != 0;
  ImGuiTreeNodeFlags f = ImGuiTreeNodeFlags_OpenOnArrow | ImGuiTreeNodeFlags_SpanAvailWidth;
  if (n->children.empty()) f |= ImGuiTreeNodeFlags_Leaf;
  if (on_path) f |= ImGuiTreeNodeFlags_DefaultOpen;
  if (id == app.selected) f |= ImGuiTreeNodeFlags_Selected;
  auto li = tree_cache.labels.find(id);
  const char* label = li != tree_cache.labels.end() ? li->second.c_str() : "?";
  if (on_path) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.85f, 0.4f, 1.0f));
  else if (n->origin == "model") ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.6f, 0.8f, 1.0f, 1.0f));
  else ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_Text));
  if (on_path) ImGui::SetNextItemOpen(true, ImGuiCond_Once);
  bool open = ImGui::TreeNodeEx(label, f);
  ImGui::PopStyleColor();
  if (ImGui::IsItemClicked() && !ImGui::IsItemToggledOpen()) to_select = id;
  if (ImGui::IsItemHovered() && !n->text.empty()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
    ImGui::TextUnformatted(n->text.c_str());
    ImGui::TextDisabled("node %llu, %s, %zu tokens", static_cast<unsigned long long>(id), n->origin.c_str(), n->tokens.size());
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
  if (ImGui::BeginPopupContextItem()) {
    if (ImGui::MenuItem("Make current")) to_select = id;
    if (ImGui::MenuItem(n->bookmark ? "Remove bookmark" : "Bookmark")) app.toggle_bookmark(id);
    static std::string label_buf;
    if (ImGui::IsWindowAppearing()) label_buf = n->label;
    ImGui::SetNextItemWidth(160);
    if (ImGui::InputText("Label", &label_buf, ImGuiInputTextFlags_EnterReturnsTrue)) {
      app.set_label(id, label_buf);
      ImGui::CloseCurrentPopup();
    }
    if (id != tree::kRootId && ImGui::MenuItem("Delete subtree (Ctrl+Z undoes)")) to_delete = id;
    ImGui::EndPopup();
  }
  if (open) {
    for (NodeId c : n->children) draw_node(app, c, to_select, to_delete);
    ImGui::TreePop();
  }
}

}  // namespace

void draw_tree(App& app) {
  if (!app.show_tree) return;
  const int pane_flags = place_window(app, "Story tree");
  const bool pane_open = ImGui::Begin("Story tree", &app.show_tree, pane_flags);
  note_pane_place(app, "Story tree");
  if (!pane_open) {
    ImGui::End();
    return;
  }
  if (!app.story) {
    ImGui::TextDisabled("No project open.");
    ImGui::End();
    return;
  }
  ImGui::BeginDisabled(app.generating());
  if (ImGui::Button("Parent")) app.navigate(0, -1);
  ImGui::SameLine();
  if (ImGui::Button("Prev")) app.navigate(-1, 0);
  ImGui::SameLine();
  if (ImGui::Button("Next")) app.navigate(1, 0);
  ImGui::SameLine();
  if (ImGui::Button("Child")) app.navigate(0, 1);
  ImGui::SameLine();
  if (ImGui::Button("Undo")) app.undo();
  ImGui::SameLine();
  if (ImGui::Button("Redo")) app.redo();
  if (ImGui::Button("Alternatives here")) app.continue_generation(app.settings.length, std::max(2, app.settings.alternatives));
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::TextDisabled("%zu nodes  (Alt+arrows)", app.tree.size());
  ImGui::Separator();
  ImGui::BeginChild("##tree");
  update_cache(app);
  NodeId to_select = tree::kNoNode, to_delete = tree::kNoNode;
  draw_node(app, tree::kRootId, to_select, to_delete);
  ImGui::EndChild();
  if (to_select != tree::kNoNode && !app.generating()) app.select(to_select);
  if (to_delete != tree::kNoNode) app.remove_node(to_delete);
  ImGui::End();
}

}  // namespace wb::app
