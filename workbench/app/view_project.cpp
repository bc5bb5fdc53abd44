// Main menu, project dialogs (new / open / save as, recent files), the
// first-run window, the error modal and the default window layout.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "app/views.hpp"

namespace wb::app {

namespace {

// Where the default layout puts pane `name`; false for a name it does not place.
bool layout_rect(const char* name, ImVec2& pos, ImVec2& size) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const float w = vp->Size.x, h = vp->Size.y;
  const float top = ImGui::GetFrameHeight(), bottom = ImGui::GetFrameHeight();
  const float left = w * 0.26f, right = w * 0.26f, log_h = h * 0.2f;
  auto at = [&](float x, float y, float ww, float hh) {
    pos = ImVec2(vp->Pos.x + x, vp->Pos.y + y);
    size = ImVec2(ww, hh);
    return true;
  };
  const std::string n = name;
  if (n == "Story tree") return at(0, top, left, h - top - bottom);
  if (n == "Story") return at(left, top, w - left - right, h - top - bottom - log_h);
  if (n == "Log") return at(left, h - bottom - log_h, w - left - right, log_h);
  if (n == "Generation") return at(w - right, top, right, h - top - bottom);
  return false;
}

}  // namespace

int place_window(App& app, const char* name) {
  ImVec2 pos, size;
  if (!layout_rect(name, pos, size)) return 0;
  if (app.relayout) {
    ImGui::SetNextWindowPos(pos, ImGuiCond_Always);
    ImGui::SetNextWindowSize(size, ImGuiCond_Always);
  }
  // WB_PANE_BACKGROUNDS=1 draws them all the same (for measuring what skipping them saves).
  static const bool always_bg = [] {
    const char* v = std::getenv("WB_PANE_BACKGROUNDS");
    return v && *v == '1';
  }();
  const bool tiled = app.panes_tiled && !app.relayout && !always_bg;
  return tiled ? (ImGuiWindowFlags_NoBackground | ImGuiWindowFlags_NoBringToFrontOnFocus) : 0;
}

void note_pane_place(App& app, const char* name) {
  ImVec2 pos, size;
  if (!layout_rect(name, pos, size)) return;
  const ImVec2 p = ImGui::GetWindowPos(), s = ImGui::GetWindowSize();
  // ImGui rounds window positions and sizes down to whole pixels.
  auto near = [](float a, float b) { return a - b < 1.0f && b - a < 1.0f; };
  if (!near(p.x, pos.x) || !near(p.y, pos.y) || !near(s.x, size.x) || !near(s.y, size.y) || ImGui::IsWindowCollapsed())
    app.panes_tiled_next = false;
}

void draw_main_menu(App& app) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("Project")) {
    if (ImGui::MenuItem("New project...")) app.show_new_project = true;
    if (ImGui::MenuItem("Open project...")) app.show_open_project = true;
    if (ImGui::MenuItem("Save as...", nullptr, false, app.story != nullptr)) app.show_save_as = true;
    if (ImGui::MenuItem("Save", "Ctrl+S", false, app.story != nullptr)) {
      (void)app.story->store_snapshots();
      app.log.info("saved (every change is written as it happens)");
    }
    if (ImGui::BeginMenu("Recent", !app.settings.recent_projects.empty())) {
      std::string pick;
      for (const auto& p : app.settings.recent_projects)
        if (ImGui::MenuItem(p.c_str())) pick = p;
      ImGui::EndMenu();
      if (!pick.empty()) app.open_project(pick);
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Edit")) {
    if (ImGui::MenuItem("Undo", "Ctrl+Z")) app.undo();
    if (ImGui::MenuItem("Redo", "Ctrl+Y")) app.redo();
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    ImGui::MenuItem("Story tree", nullptr, &app.show_tree);
    ImGui::MenuItem("Generation", nullptr, &app.show_generation);
    ImGui::MenuItem("Log", nullptr, &app.show_log);
    ImGui::MenuItem("Model manager", nullptr, &app.show_model);
    ImGui::MenuItem("Plugins", nullptr, &app.show_plugins);
    if (app.plugins && ImGui::BeginMenu("Plugin panels")) {
      for (const host::UiPanel* p : app.plugins->ui().panels()) {
        const std::string key = p->plugin_id + "/" + p->id;
        bool on = app.open_panels.count(key) > 0;
        std::string label = (p->title.empty() ? p->id : p->title) + " (" + p->plugin_id + ")";
        if (ImGui::MenuItem(label.c_str(), nullptr, &on)) {
          if (on) app.open_panels.insert(key);
          else app.open_panels.erase(key);
        }
      }
      ImGui::EndMenu();
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Model")) {
    if (ImGui::MenuItem("Open model...")) app.show_model = true;
    ImGui::EndMenu();
  }
  ImGui::EndMainMenuBar();
}

void draw_project_dialogs(App& app) {
  static std::string dir, name, picked, model_file, tokenizer;
  auto dialog = [&](const char* title, bool& open, bool save, auto on_pick) {
    if (!open) return;
    ImGui::SetNextWindowSize(ImVec2(620, 460), ImGuiCond_Appearing);
    if (ImGui::Begin(title, &open)) {
      if (dir.empty()) dir = app.settings.browse_dir;
      if (file_browser(title, dir, name, picked, save)) {
        if (on_pick(picked)) open = false;
      }
    }
    ImGui::End();
  };
  dialog("New project", app.show_new_project, true, [&](const std::string& p) {
    std::string path = std::filesystem::path(p).extension().empty() ? p + ".wbstory" : p;
    return app.new_project(path, "", "");
  });
  dialog("Open project", app.show_open_project, false, [&](const std::string& p) { return app.open_project(p); });
  dialog("Save project as", app.show_save_as, true, [&](const std::string& p) { return app.save_project_as(p); });
}

void draw_error_modal(App& app) {
  if (!app.error.empty() && !ImGui::IsPopupOpen("Problem")) ImGui::OpenPopup("Problem");
  ImGui::SetNextWindowSize(ImVec2(520, 0), ImGuiCond_Appearing);
  if (ImGui::BeginPopupModal("Problem", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::PushTextWrapPos(500);
    ImGui::TextColored(ImVec4(1, 0.6f, 0.5f, 1), "%s", app.error_title.c_str());
    ImGui::Spacing();
    ImGui::TextUnformatted(app.error.c_str());
    ImGui::Spacing();
    ImGui::TextDisabled("Nothing was changed in the open project.");
    ImGui::PopTextWrapPos();
    if (ImGui::Button("OK", ImVec2(120, 0))) {
      app.error.clear();
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

void draw_first_run(App& app) {
  if (!app.first_run) return;
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(ImVec2(vp->Pos.x + vp->Size.x * 0.5f, vp->Pos.y + vp->Size.y * 0.4f), ImGuiCond_Appearing,
                          ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowSize(ImVec2(560, 0), ImGuiCond_Appearing);
  if (ImGui::Begin("Welcome to RWKV Workbench", &app.first_run, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::PushTextWrapPos(540);
    ImGui::TextUnformatted("Write together with an RWKV language model. Every continuation is kept as a branch "
                           "of a story tree; switch between them at any time.");
    ImGui::Spacing();
    if (!app.first_run_note.empty()) ImGui::TextColored(ImVec4(1, 0.8f, 0.4f, 1), "%s", app.first_run_note.c_str());
    ImGui::PopTextWrapPos();
    ImGui::Spacing();
    if (ImGui::Button("Open a model...")) app.show_model = true;
    ImGui::SameLine();
    if (ImGui::Button("New project...")) app.show_new_project = true;
    ImGui::SameLine();
    if (ImGui::Button("Open project...")) app.show_open_project = true;
    if (!app.settings.recent_projects.empty()) {
      ImGui::Separator();
      ImGui::TextUnformatted("Recent projects");
      std::string pick;
      for (const auto& p : app.settings.recent_projects)
        if (ImGui::Selectable(p.c_str())) pick = p;
      if (!pick.empty()) app.open_project(pick);
    }
  }
  ImGui::End();
}

}  // namespace wb::app
