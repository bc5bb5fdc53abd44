// The log view: the core Log's lines, newest at the bottom, coloured by level.
#include <imgui.h>

#include "app/views.hpp"

namespace wb::app {

void draw_log(App& app) {
  if (!app.show_log) return;
  const int pane_flags = place_window(app, "Log");
  const bool pane_open = ImGui::Begin("Log", &app.show_log, pane_flags);
  note_pane_place(app, "Log");
  if (!pane_open) {
    ImGui::End();
    return;
  }
  if (ImGui::SmallButton("Clear")) {
    std::lock_guard<std::mutex> lk(app.log_mu);
    app.log_lines.clear();
  }
  ImGui::BeginChild("##lines");
  {
    std::lock_guard<std::mutex> lk(app.log_mu);
    ImGuiListClipper clip;
    clip.Begin(static_cast<int>(app.log_lines.size()));
    while (clip.Step())
      for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
        const LogLine& l = app.log_lines[static_cast<std::size_t>(i)];
        ImVec4 c = l.level == LogLevel::error  ? ImVec4(1, 0.45f, 0.45f, 1)
                   : l.level == LogLevel::warn ? ImVec4(1, 0.8f, 0.4f, 1)
                                               : ImVec4(0.8f, 0.8f, 0.8f, 1);
        ImGui::TextColored(c, "%s: %s", log_level_name(l.level), l.text.c_str());
      }
  }
  if (ImGui::GetScrollY() >= ImGui::GetScrollMaxY()) ImGui::SetScrollHereY(1.0f);
  ImGui::EndChild();
  ImGui::End();
}

}  // namespace wb::app
