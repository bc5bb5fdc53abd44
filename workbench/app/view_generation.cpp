// Generation controls: preset, sampling settings, length, alternatives;
// progress with tokens/s and Cancel while the worker runs.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>

#include "app/views.hpp"
#include "core/sampling/sampler.hpp"

namespace wb::app {

void draw_generation(App& app) {
  if (!app.show_generation) return;
  const int pane_flags = place_window(app, "Generation");
  const bool pane_open = ImGui::Begin("Generation", &app.show_generation, pane_flags);
  note_pane_place(app, "Generation");
  if (!pane_open) {
    ImGui::End();
    return;
  }
  auto& s = app.gen_opts.settings;
  ImGui::PushItemWidth(ImGui::GetContentRegionAvail().x * 0.5f);  // the other half for the labels
  if (ImGui::BeginCombo("Preset", app.settings.preset.c_str())) {
    for (const auto& name : app.preset_names)
      if (ImGui::Selectable(name.c_str(), name == app.settings.preset)) {
        app.apply_preset(name);
        app.save_settings();
      }
    ImGui::EndCombo();
  }
  ImGui::SliderFloat("Temperature", &s.temperature, 0.0f, 2.5f, "%.2f");
  ImGui::SliderFloat("Top-p", &s.top_p, 0.0f, 1.0f, "%.2f");
  ImGui::SliderInt("Top-k", &s.top_k, 0, 200);
  ImGui::SliderFloat("Min-p", &s.min_p, 0.0f, 0.5f, "%.3f");
  ImGui::SliderFloat("Presence penalty", &s.presence_penalty, 0.0f, 2.0f, "%.2f");
  ImGui::SliderFloat("Frequency penalty", &s.frequency_penalty, 0.0f, 2.0f, "%.2f");
  int seed = static_cast<int>(s.seed & 0x7fffffff);
  if (ImGui::InputInt("Seed", &seed)) s.seed = static_cast<uint64_t>(std::max(0, seed));
  // Stop strings in the preset form: comma separated, C escapes (\n).
  static std::string stop_text;
  if (ImGui::InputText("Stop at", &stop_text, ImGuiInputTextFlags_EnterReturnsTrue) || ImGui::IsItemDeactivatedAfterEdit()) {
    if (auto st = sampling::set_option(s, "stop", stop_text); !st) app.fail("Stop strings not set", st.error().message);
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("comma separated; \\n is a line break (e.g. \\n\\n)");
  ImGui::SliderInt("Length (tokens)", &app.settings.length, 1, 1024);
  ImGui::SliderInt("Alternatives", &app.settings.alternatives, 1, 8);
  ImGui::PopItemWidth();
  ImGui::Separator();
  if (app.generating()) {
    const auto& p = app.progress;
    float frac = p.max_tokens > 0 ? std::min(1.0f, static_cast<float>(p.tokens) / static_cast<float>(p.max_tokens)) : 0.0f;
    char overlay[96];
    if (p.tokens == 0 && p.to_read > 0 && p.read < p.to_read) {
      // A deferred switch: the text before the new node is read first (Cancel works here too).
      frac = static_cast<float>(p.read) / static_cast<float>(p.to_read);
      std::snprintf(overlay, sizeof overlay, "reading the story: %zu / %zu tokens", p.read, p.to_read);
    } else {
      std::snprintf(overlay, sizeof overlay, "%d / %d tokens, %.1f tokens/s", p.tokens, p.max_tokens, p.tokens_per_s);
    }
    ImGui::ProgressBar(frac, ImVec2(-1, 0), overlay);
    if (ImGui::Button("Cancel", ImVec2(-1, 0))) app.cancel_generation();
  } else {
    ImGui::BeginDisabled(!app.story || !app.model);
    if (ImGui::Button("Continue", ImVec2(-1, 0))) {
      if (!app.input.empty() && app.append_user_text(app.input)) app.input.clear();
      app.continue_generation(app.settings.length, app.settings.alternatives);
    }
    ImGui::EndDisabled();
    if (app.last_tokens_per_s > 0) ImGui::TextDisabled("last run: %.1f tokens/s", app.last_tokens_per_s);
  }
  ImGui::End();
}

}  // namespace wb::app
