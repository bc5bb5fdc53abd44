// Status bar: model, backend, tokens/s, snapshot cache memory, project.
#include <imgui.h>

#include <filesystem>

#include "app/views.hpp"

namespace wb::app {

void draw_status_bar(App& app) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const float h = ImGui::GetFrameHeight();
  ImGui::SetNextWindowPos(ImVec2(vp->Pos.x, vp->Pos.y + vp->Size.y - h));
  ImGui::SetNextWindowSize(ImVec2(vp->Size.x, h));
  ImGuiWindowFlags f = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                       ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav;
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 2));
  ImGui::Begin("##status", nullptr, f);
  std::string model = app.model ? std::filesystem::path(app.model_path).filename().string() : std::string("no model");
  double tps = app.generating() ? app.progress.tokens_per_s : app.last_tokens_per_s;
  double cache_mb = app.story ? static_cast<double>(app.story->cache_bytes()) / (1024.0 * 1024.0) : 0.0;
  std::string project = app.story ? std::filesystem::path(app.story->project().path()).filename().string() : "no project";
  ImGui::Text("Model: %s | Backend: %s | %.1f tokens/s | Cache: %.1f MiB (%zu states) | Project: %s | %.0f fps",
              model.c_str(), app.backend_name().c_str(), tps, cache_mb, app.story ? app.story->cache_count() : 0,
              project.c_str(), static_cast<double>(ImGui::GetIO().Framerate));
  ImGui::End();
  ImGui::PopStyleVar();
}

}  // namespace wb::app
