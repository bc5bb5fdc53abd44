// Model manager: an in-app file browser to open a model, backend and threads,
// the model's facts and memory.
#include <imgui.h>

#include <cmath>
#include <filesystem>
#include <thread>

#include "app/views.hpp"
#include "core/backend/vulkan/vulkan_backend.hpp"

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
    if (const vk::VulkanModel* vm = vk::as_vulkan(*app.model)) {
      const vk::VulkanMemory mem = vm->memory();
      constexpr double MiB = 1048576.0;
      ImGui::TextWrapped("Device %s: weights %.1f MiB, states %.1f MiB, scratch %.1f MiB", mem.device.c_str(),
                  static_cast<double>(mem.weights) / MiB, static_cast<double>(mem.states) / MiB,
                  static_cast<double>(mem.scratch) / MiB);
      ImGui::TextWrapped("Decode: %s", app.model_decode_facts.c_str());
    }
    if (app.story)
      ImGui::Text("Snapshot cache: %.1f MiB in %zu states", static_cast<double>(app.story->cache_bytes()) / 1048576.0,
                  app.story->cache_count());
  } else {
    ImGui::TextWrapped("No model is open.");
  }
  ImGui::Separator();
  // auto: a GPU through Vulkan when there is one, else the CPU backend.
  const char* backends[] = {"auto", "cpu", "vulkan"};
  int b = app.settings.backend == "cpu" ? 1 : app.settings.backend == "vulkan" ? 2 : 0;
  if (ImGui::Combo("Backend", &b, backends, 3)) app.settings.backend = backends[b];
  int max_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ImGui::SliderInt("Threads (0 = all)", &app.settings.threads, 0, max_threads);
  ImGui::TextDisabled("Backend and threads apply to the next model opened.");
  if (!app.settings.recent_models.empty() && ImGui::BeginCombo("Recent", "recent models")) {
    for (const auto& m : app.settings.recent_models)
      if (ImGui::Selectable(m.c_str()) && !app.loading()) app.open_model(m);
    ImGui::EndCombo();
  }
  static std::string name, picked;
  if (app.loading()) ImGui::TextColored(ImVec4(1, 0.8f, 0.4f, 1), "Loading %s ...", app.model_load()->path.c_str());
  ImGui::BeginChild("##browser", ImVec2(0, 0));
  if (file_browser("model", app.settings.browse_dir, name, picked, false) && !app.loading()) app.open_model(picked);
  ImGui::EndChild();
  ImGui::End();
}

void draw_loading(App& app) {
  const ModelLoad* l = app.model_load();
  if (!l) return;
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(ImVec2(vp->Pos.x + vp->Size.x * 0.5f, vp->Pos.y + vp->Size.y * 0.4f), ImGuiCond_Always,
                          ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowBgAlpha(0.92f);
  ImGuiWindowFlags f = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings |
                       ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav | ImGuiWindowFlags_NoMove;
  if (ImGui::Begin("##loading", nullptr, f)) {
    // A spinner: an arc turning with time, so a stuck UI thread would show.
    const float r = ImGui::GetTextLineHeight() * 0.8f;
    ImVec2 p = ImGui::GetCursorScreenPos();
    ImVec2 c(p.x + r + 2, p.y + r + 2);
    const float t = static_cast<float>(ImGui::GetTime()) * 6.0f;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->PathArcTo(c, r, t, t + 4.2f, 24);
    dl->PathStroke(ImGui::GetColorU32(ImGuiCol_PlotHistogram), 0, 3.0f);
    ImGui::Dummy(ImVec2(2 * r + 4, 2 * r + 4));
    ImGui::SameLine();
    ImGui::BeginGroup();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - l->started).count();
    ImGui::Text("Opening model %s", std::filesystem::path(l->path).filename().string().c_str());
    ImGui::TextDisabled("%.1f MiB, %.1f s; the current project stays usable", static_cast<double>(l->bytes) / 1048576.0, s);
    ImGui::EndGroup();
  }
  ImGui::End();
}

}  // namespace wb::app
