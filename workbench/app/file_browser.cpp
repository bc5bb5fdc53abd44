// A minimal file browser for the model manager and project dialogs: lists a
// folder (folders first), navigates on click, returns the chosen path.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "app/views.hpp"

namespace fs = std::filesystem;

namespace wb::app {

bool file_browser(const char* id, std::string& dir, std::string& name, std::string& out, bool save) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) dir = fs::current_path(ec).string();
  ImGui::PushID(id);
  bool picked = false;
  if (ImGui::Button("Up")) dir = fs::path(dir).parent_path().string();
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  ImGui::InputText("##dir", &dir);
  struct Entry {
    std::string name;
    bool is_dir;
    uintmax_t size;
  };
  std::vector<Entry> entries;
  for (auto it = fs::directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string n = it->path().filename().string();
    if (n.empty() || n[0] == '.') continue;
    bool d = it->is_directory(ec);
    entries.push_back({n, d, d ? 0 : it->file_size(ec)});
    if (entries.size() > 5000) break;  // a huge folder: show the first ones
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.is_dir != b.is_dir ? a.is_dir : a.name < b.name; });
  ImGui::BeginChild("##list", ImVec2(0, -ImGui::GetFrameHeightWithSpacing() * 1.2f), true);
  for (const Entry& e : entries) {
    std::string label = e.is_dir ? "[dir] " + e.name : e.name;
    if (!e.is_dir) label += "  (" + std::to_string(e.size / 1024) + " KiB)";
    if (ImGui::Selectable(label.c_str(), !e.is_dir && e.name == name, ImGuiSelectableFlags_AllowDoubleClick)) {
      if (e.is_dir) {
        dir = (fs::path(dir) / e.name).string();
      } else {
        name = e.name;
        if (ImGui::IsMouseDoubleClicked(0)) { out = (fs::path(dir) / name).string(); picked = true; }
      }
    }
  }
  ImGui::EndChild();
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - 100);
  ImGui::InputText("##name", &name);
  ImGui::SameLine();
  if (ImGui::Button(save ? "Save" : "Open", ImVec2(-1, 0)) && !name.empty()) {
    out = fs::path(name).is_absolute() ? name : (fs::path(dir) / name).string();
    picked = true;
  }
  ImGui::PopID();
  return picked;
}

}  // namespace wb::app
