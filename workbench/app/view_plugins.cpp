// Plugin manager (list, state, refusal reasons, enable/disable through the
// host) and the panels loaded plugins describe, drawn from the UiStore.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>

#include "app/views.hpp"

namespace wb::app {

namespace {

ImU32 rgba_to_imgui(uint32_t c) {
  // Plugins give 0xRRGGBBAA; ImGui packs ABGR.
  return IM_COL32((c >> 24) & 0xff, (c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff);
}

void draw_canvas(App& app, const host::UiPanel& p, const host::UiWidget& w) {
  ImVec2 avail = ImGui::GetContentRegionAvail();
  float lw = std::max(1.0f, w.width), lh = std::max(1.0f, w.height);
  float scale = std::min(avail.x / lw, 2.0f);
  ImVec2 size(lw * scale, lh * scale);
  ImVec2 o = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton(("##" + w.id).c_str(), size, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(o, ImVec2(o.x + size.x, o.y + size.y), IM_COL32(20, 20, 26, 255));
  dl->PushClipRect(o, ImVec2(o.x + size.x, o.y + size.y), true);
  for (const auto& c : w.draw) {
    ImVec2 a(o.x + c.x0 * scale, o.y + c.y0 * scale), b(o.x + c.x1 * scale, o.y + c.y1 * scale);
    ImU32 col = rgba_to_imgui(c.color);
    switch (c.kind) {
      case WB_DRAW_LINE: dl->AddLine(a, b, col, c.thickness); break;
      case WB_DRAW_RECT: dl->AddRect(a, b, col, 0, 0, c.thickness); break;
      case WB_DRAW_RECT_FILLED: dl->AddRectFilled(a, b, col); break;
      case WB_DRAW_CIRCLE: dl->AddCircle(a, c.x1 * scale, col, 0, c.thickness); break;
      case WB_DRAW_CIRCLE_FILLED: dl->AddCircleFilled(a, c.x1 * scale, col); break;
      case WB_DRAW_TEXT: dl->AddText(a, col, c.text.c_str()); break;
      default: break;
    }
  }
  dl->PopClipRect();
  for (int button = 0; button < 2; ++button)
    if (ImGui::IsItemClicked(button)) {
      ImVec2 m = ImGui::GetIO().MousePos;
      auto st = app.plugins->ui_canvas_click(p.plugin_id, p.id, w.id, (m.x - o.x) / scale, (m.y - o.y) / scale, button);
      if (!st) app.log.warn("{}", st.error().message);
    }
}

void draw_panel(App& app, const host::UiPanel& p) {
  // Copies: a plugin's answer to an event may replace the panel we iterate.
  std::vector<host::UiWidget> widgets = p.widgets;
  const std::string plugin = p.plugin_id, panel = p.id;
  for (auto& w : widgets) {
    ImGui::PushID(w.id.c_str());
    Status st;
    switch (w.kind) {
      case WB_UI_LABEL: ImGui::TextWrapped("%s%s%s", w.label.c_str(), w.label.empty() ? "" : ": ", w.text.c_str()); break;
      case WB_UI_TEXT_FIELD:
        if (ImGui::InputText(w.label.c_str(), &w.text, ImGuiInputTextFlags_EnterReturnsTrue))
          st = app.plugins->ui_change(plugin, panel, w.id, &w.text, nullptr);
        break;
      case WB_UI_TEXT_AREA:
        ImGui::TextUnformatted(w.label.c_str());
        ImGui::InputTextMultiline("##t", &w.text, ImVec2(-1, ImGui::GetTextLineHeight() * 6));
        if (ImGui::IsItemDeactivatedAfterEdit()) st = app.plugins->ui_change(plugin, panel, w.id, &w.text, nullptr);
        break;
      case WB_UI_SLIDER: {
        float v = static_cast<float>(w.value);
        if (ImGui::SliderFloat(w.label.c_str(), &v, static_cast<float>(w.min), static_cast<float>(w.max))) {
          double d = v;
          if (w.step > 0) d = w.min + std::round((d - w.min) / w.step) * w.step;
          st = app.plugins->ui_change(plugin, panel, w.id, nullptr, &d);
        }
        break;
      }
      case WB_UI_BUTTON:
        if (ImGui::Button(w.label.c_str())) st = app.plugins->ui_press(plugin, panel, w.id);
        break;
      case WB_UI_LIST: {
        int sel = static_cast<int>(w.value);
        const char* cur = (sel >= 0 && sel < static_cast<int>(w.items.size())) ? w.items[static_cast<std::size_t>(sel)].c_str() : "";
        if (ImGui::BeginCombo(w.label.c_str(), cur)) {
          for (int i = 0; i < static_cast<int>(w.items.size()); ++i)
            if (ImGui::Selectable(w.items[static_cast<std::size_t>(i)].c_str(), i == sel)) {
              double d = i;
              st = app.plugins->ui_change(plugin, panel, w.id, nullptr, &d);
            }
          ImGui::EndCombo();
        }
        break;
      }
      case WB_UI_CHECKBOX: {
        bool b = w.value != 0;
        if (ImGui::Checkbox(w.label.c_str(), &b)) {
          double d = b ? 1 : 0;
          st = app.plugins->ui_change(plugin, panel, w.id, nullptr, &d);
        }
        break;
      }
      case WB_UI_CANVAS:
        if (!w.label.empty()) ImGui::TextUnformatted(w.label.c_str());
        draw_canvas(app, p, w);
        break;
      default: break;
    }
    if (!st) app.log.warn("plugin {}: {}", plugin, st.error().message);
    ImGui::PopID();
  }
}

}  // namespace

void draw_plugins(App& app) {
  if (!app.plugins) return;
  if (app.show_plugins) {
    ImGui::SetNextWindowSize(ImVec2(640, 360), ImGuiCond_FirstUseEver);
    if (ImGui::Begin("Plugins", &app.show_plugins)) {
      if (ImGui::Button("Rescan")) {
        app.plugins->scan();
        app.plugins->load_enabled();
      }
      if (ImGui::BeginTable("##plugins", 4, ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_Resizable)) {
        ImGui::TableSetupColumn("Plugin");
        ImGui::TableSetupColumn("State");
        ImGui::TableSetupColumn("Notes");
        ImGui::TableSetupColumn("");
        ImGui::TableHeadersRow();
        std::string enable, disable;
        for (const auto& p : app.plugins->plugins()) {
          ImGui::TableNextRow();
          ImGui::TableNextColumn();
          ImGui::Text("%s %s", p.id.c_str(), p.version.c_str());
          if (!p.description.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", p.description.c_str());
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(host::state_name(p.state));
          ImGui::TableNextColumn();
          ImGui::TextWrapped("%s%s", p.shipped ? "shipped. " : "", p.reason.c_str());
          ImGui::TableNextColumn();
          ImGui::PushID(p.file_name.c_str());
          if (p.state == host::PluginState::not_enabled) {
            if (ImGui::SmallButton("Enable")) enable = p.id;
          } else if (ImGui::SmallButton("Disable")) {
            disable = p.id;
          }
          ImGui::PopID();
        }
        ImGui::EndTable();
        // After the loop: enabling rescans, which replaces the records we iterated.
        if (!enable.empty()) {
          if (auto st = app.plugins->enable(enable); !st) app.fail("Plugin not enabled", st.error().message);
          else app.plugins->load_enabled();
        }
        if (!disable.empty())
          if (auto st = app.plugins->disable(disable); !st) app.fail("Plugin not disabled", st.error().message);
      }
    }
    ImGui::End();
  }
  // Every loaded plugin's panels, each a window.
  // Copies: a plugin's answer to an event may replace or remove a panel.
  std::vector<host::UiPanel> panels;
  for (const host::UiPanel* p : app.plugins->ui().panels()) panels.push_back(*p);
  for (const host::UiPanel& panel : panels) {
    const host::UiPanel* p = &panel;
    const std::string key = p->plugin_id + "/" + p->id;
    if (!app.open_panels.count(key)) continue;
    std::string title = (p->title.empty() ? p->id : p->title) + " (" + p->plugin_id + ")###" + key;
    if (app.focus_panel == key) {
      ImGui::SetNextWindowFocus();
      ImGui::SetNextWindowCollapsed(false);
      app.focus_panel.clear();
    }
    ImGui::SetNextWindowSize(ImVec2(420, 300), ImGuiCond_FirstUseEver);
    bool open = true;
    if (ImGui::Begin(title.c_str(), &open)) draw_panel(app, *p);
    ImGui::End();
    if (!open) app.open_panels.erase(key);
  }
}

}  // namespace wb::app
