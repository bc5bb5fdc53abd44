// Model manager: an in-app file browser to open a model, backend and threads,
// the model's facts and memory.
#include <imgui.h>

#include <filesystem>
#include <thread>

#include "app/views.hpp"

namespace wb::app {

void draw_model_manager(App& app) {
  if (!app.show_model) return;
  ImGui::SetNextWindowSize(ImVec2(620, 520), ImGuiCond_FirstUseEver);
  if (!ImGui::Begin("Model manager", &app.show_model)) {
    ImGui::End();
    return;
  }
  if (app.model) {
    const ModelInfo& i = app.model->info();
    std::error_code ec;
    auto bytes = std::filesystem::file_size(app.model_path, ec);
    ImGui::Text("File: %s", app.model_path.c_str());
    ImGui::Text("%s, %d layers, width %d, vocabulary %d, %.2f M parameters", arch_name(i.arch), i.n_layer, i.n_embd,
                i.n_vocab, static_cast<double>(i.params) / 1e6);
    ImGui::Text("Format %s, weights %s, file %.1f MiB (memory-mapped), backend %s", i.format.c_str(), i.dtype.c_str(),
                ec ? 0.0 : static_cast<double>(bytes) / 1048576.0, std::string(app.model->backend()).c_str());
    if (app.story)
      ImGui::Text("Snapshot cache: %.1f MiB in %zu states", static_cast<double>(app.story->cache_bytes()) / 1048576.0,
                  app.story->cache_count());
  } else {
    ImGui::TextWrapped("No model is open.");
  }
  ImGui::Separator();
  const char* backends[] = {"cpu", "vulkan"};
  int b = app.settings.backend == "vulkan" ? 1 : 0;
  if (ImGui::Combo("Backend", &b, backends, 2)) app.settings.backend = backends[b];
  int max_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ImGui::SliderInt("Threads (0 = all)", &app.settings.threads, 0, max_threads);
  ImGui::TextDisabled("Backend and threads apply to the next model opened.");
  if (!app.settings.recent_models.empty() && ImGui::BeginCombo("Recent", "recent models")) {
    for (const auto& m : app.settings.recent_models)
      if (ImGui::Selectable(m.c_str())) app.open_model(m);
    ImGui::EndCombo();
  }
  static std::string name, picked;
  ImGui::BeginChild("##browser", ImVec2(0, 0));
  if (file_browser("model", app.settings.browse_dir, name, picked, false)) app.open_model(picked);
  ImGui::EndChild();
  ImGui::End();
}

}  // namespace wb::app
