// Plugin manager (list, state, refusal reasons, enable/disable through the
// host) and the panels loaded plugins describe, drawn from the UiStore.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "app/views.hpp"

namespace wb::app {

namespace {

ImU32 rgba_to_imgui(uint32_t c) {
  // Plugins give 0xRRGGBBAA; ImGui packs ABGR.
  return IM_COL32((c >> 24) & 0xff, (c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff);
}

int canvas_flags(const host::UiWidget& w) {
  return (std::isfinite(w.value) && w.value >= 0 && w.value < 65536) ? static_cast<int>(w.value) : 0;
}

// What the user did in a panel this frame. Plugins answer events by changing
// their panels, so events are sent after the panel is drawn, never while the
// store's panel is being read (no per-frame copies of large draw lists).
struct UiAction {
  enum Kind { set_text, set_number, press, click, drag, wheel } kind = press;
  std::string widget, value_text;
  double number = 0;
  float x = 0, y = 0, x1 = 0, y1 = 0;
  int button = 0;
};

UiAction action(UiAction::Kind kind, const std::string& widget, double number = 0, float x = 0, float y = 0,
                float x1 = 0, float y1 = 0, int button = 0) {
  UiAction a;
  a.kind = kind;
  a.widget = widget;
  a.number = number;
  a.x = x, a.y = y, a.x1 = x1, a.y1 = y1;
  a.button = button;
  return a;
}

// Editable text of plugin widgets while the user types (the store holds the
// plugin's value; a field being edited keeps the user's).
struct TextBuf {
  std::string text;
  bool active = false;
};
std::unordered_map<ImGuiID, TextBuf> text_bufs;

void draw_canvas(App& app, const host::UiPanel& p, const host::UiWidget& w, std::vector<UiAction>& actions) {
  const int flags = canvas_flags(w);
  ImVec2 avail = ImGui::GetContentRegionAvail();
  float lw = std::max(1.0f, w.width), lh = std::max(1.0f, w.height);
  float scale = std::clamp(avail.x / lw, 0.05f, 2.0f);
  ImVec2 size(lw * scale, lh * scale);
  ImVec2 o = ImGui::GetCursorScreenPos();
  CanvasView identity;
  CanvasView& v = (flags & WB_UI_CANVAS_HOST_VIEW) ? app.canvas_views[p.plugin_id + "/" + p.id + "/" + w.id] : identity;
  ImGui::InvisibleButton(("##" + w.id).c_str(), size,
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight | ImGuiButtonFlags_MouseButtonMiddle);
  const bool hovered = ImGui::IsItemHovered(), active = ImGui::IsItemActive();
  const float k = scale * v.zoom;
  auto to_screen = [&](float x, float y) { return ImVec2(o.x + (x - v.x) * k, o.y + (y - v.y) * k); };
  auto to_canvas = [&](ImVec2 m) { return ImVec2((m.x - o.x) / k + v.x, (m.y - o.y) / k + v.y); };
  // The visible part of the canvas, in canvas units: commands wholly outside
  // it are skipped (a piano roll can send tens of thousands).
  const float vx0 = v.x, vy0 = v.y, vx1 = v.x + lw / v.zoom, vy1 = v.y + lh / v.zoom;
  const float text_h = ImGui::GetFontSize() / k;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(o, ImVec2(o.x + size.x, o.y + size.y), IM_COL32(20, 20, 26, 255));
  dl->PushClipRect(o, ImVec2(o.x + size.x, o.y + size.y), true);
  for (const auto& c : w.draw) {
    float bx0, by0, bx1, by1;
    if (c.kind == WB_DRAW_CIRCLE || c.kind == WB_DRAW_CIRCLE_FILLED) {
      bx0 = c.x0 - c.x1, bx1 = c.x0 + c.x1, by0 = c.y0 - c.x1, by1 = c.y0 + c.x1;
    } else if (c.kind == WB_DRAW_TEXT) {
      bx0 = c.x0, by0 = c.y0, by1 = c.y0 + text_h;
      bx1 = c.x0 + static_cast<float>(c.text.size()) * text_h;  // generous: no width measured for culling
    } else {
      bx0 = std::min(c.x0, c.x1), bx1 = std::max(c.x0, c.x1), by0 = std::min(c.y0, c.y1), by1 = std::max(c.y0, c.y1);
    }
    const float pad = c.thickness;
    if (bx1 + pad < vx0 || bx0 - pad > vx1 || by1 + pad < vy0 || by0 - pad > vy1) continue;
    ImVec2 a = to_screen(c.x0, c.y0), b = to_screen(c.x1, c.y1);
    ImU32 col = rgba_to_imgui(c.color);
    switch (c.kind) {
      case WB_DRAW_LINE: dl->AddLine(a, b, col, c.thickness); break;
      case WB_DRAW_RECT: dl->AddRect(a, b, col, 0, 0, c.thickness); break;
      case WB_DRAW_RECT_FILLED: dl->AddRectFilled(a, b, col); break;
      case WB_DRAW_CIRCLE: dl->AddCircle(a, c.x1 * k, col, 0, c.thickness); break;
      case WB_DRAW_CIRCLE_FILLED: dl->AddCircleFilled(a, c.x1 * k, col); break;
      case WB_DRAW_TEXT: dl->AddText(a, col, c.text.c_str()); break;
      default: break;
    }
  }
  dl->PopClipRect();
  const ImGuiIO& io = ImGui::GetIO();
  const ImVec2 m = to_canvas(io.MousePos);
  for (int button = 0; button < 2; ++button)
    if (ImGui::IsItemClicked(button)) actions.push_back(action(UiAction::click, w.id, 0, m.x, m.y, 0, 0, button));
  if (active && ImGui::IsMouseDragging(ImGuiMouseButton_Left) && (io.MouseDelta.x != 0 || io.MouseDelta.y != 0)) {
    ImVec2 start = to_canvas(io.MouseClickedPos[0]);
    actions.push_back(action(UiAction::drag, w.id, 0, m.x, m.y, start.x, start.y, 0));
  }
  if ((flags & WB_UI_CANVAS_HOST_VIEW) && active && ImGui::IsMouseDragging(ImGuiMouseButton_Middle)) {
    v.x -= io.MouseDelta.x / k;
    v.y -= io.MouseDelta.y / k;
    clamp_canvas_view(v, lw, lh);
  }
  if (hovered && (io.MouseWheel != 0 || io.MouseWheelH != 0)) {
    int mods = (io.KeyCtrl ? WB_UI_MOD_CTRL : 0) | (io.KeyShift ? WB_UI_MOD_SHIFT : 0);
    actions.push_back(action(UiAction::wheel, w.id, io.MouseWheel, m.x, m.y, io.MouseWheelH, 0, mods));
  }
  if ((flags & WB_UI_CANVAS_HOST_VIEW) && (v.zoom != 1 || v.x != 0 || v.y != 0)) {
    ImGui::TextDisabled("zoom %.1fx", static_cast<double>(v.zoom));
    ImGui::SameLine();
    if (ImGui::SmallButton("Reset view")) v = CanvasView{};
  }
}

void draw_panel(App& app, const host::UiPanel& p, std::vector<UiAction>& actions) {
  for (const auto& w : p.widgets) {
    ImGui::PushID(w.id.c_str());
    switch (w.kind) {
      case WB_UI_LABEL: ImGui::TextWrapped("%s%s%s", w.label.c_str(), w.label.empty() ? "" : ": ", w.text.c_str()); break;
      case WB_UI_TEXT_FIELD:
      case WB_UI_TEXT_AREA: {
        TextBuf& tb = text_bufs[ImGui::GetID("##text")];
        if (!tb.active && tb.text != w.text) tb.text = w.text;
        bool done = false;
        if (w.kind == WB_UI_TEXT_FIELD) {
          done = ImGui::InputText((w.label + "##text").c_str(), &tb.text, ImGuiInputTextFlags_EnterReturnsTrue);
        } else {
          ImGui::TextUnformatted(w.label.c_str());
          ImGui::InputTextMultiline("##text", &tb.text, ImVec2(-1, ImGui::GetTextLineHeight() * 6));
        }
        done = done || ImGui::IsItemDeactivatedAfterEdit();
        tb.active = ImGui::IsItemActive();
        if (done) {
          actions.push_back(action(UiAction::set_text, w.id));
          actions.back().value_text = tb.text;
        }
        break;
      }
      case WB_UI_SLIDER: {
        float v = static_cast<float>(w.value);
        if (ImGui::SliderFloat(w.label.c_str(), &v, static_cast<float>(w.min), static_cast<float>(w.max))) {
          double d = v;
          if (w.step > 0) d = w.min + std::round((d - w.min) / w.step) * w.step;
          actions.push_back(action(UiAction::set_number, w.id, d));
        }
        break;
      }
      case WB_UI_BUTTON:
        if (ImGui::Button(w.label.c_str())) actions.push_back(action(UiAction::press, w.id));
        break;
      case WB_UI_LIST: {
        int sel = static_cast<int>(w.value);
        const char* cur = (sel >= 0 && sel < static_cast<int>(w.items.size())) ? w.items[static_cast<std::size_t>(sel)].c_str() : "";
        if (ImGui::BeginCombo(w.label.c_str(), cur)) {
          for (int i = 0; i < static_cast<int>(w.items.size()); ++i)
            if (ImGui::Selectable(w.items[static_cast<std::size_t>(i)].c_str(), i == sel))
              actions.push_back(action(UiAction::set_number, w.id, i));
          ImGui::EndCombo();
        }
        break;
      }
      case WB_UI_CHECKBOX: {
        bool b = w.value != 0;
        if (ImGui::Checkbox(w.label.c_str(), &b)) actions.push_back(action(UiAction::set_number, w.id, b ? 1.0 : 0.0));
        break;
      }
      case WB_UI_CANVAS:
        if (!w.label.empty()) ImGui::TextUnformatted(w.label.c_str());
        draw_canvas(app, p, w, actions);
        break;
      default: break;
    }
    ImGui::PopID();
  }
}

void send_actions(App& app, const std::string& plugin, const std::string& panel, std::vector<UiAction>& actions) {
  for (UiAction& a : actions) {
    Status st;
    switch (a.kind) {
      case UiAction::set_text: st = app.plugins->ui_change(plugin, panel, a.widget, &a.value_text, nullptr); break;
      case UiAction::set_number: st = app.plugins->ui_change(plugin, panel, a.widget, nullptr, &a.number); break;
      case UiAction::press: st = app.plugins->ui_press(plugin, panel, a.widget); break;
      case UiAction::click: st = app.plugins->ui_canvas_click(plugin, panel, a.widget, a.x, a.y, a.button); break;
      case UiAction::drag: st = app.plugins->ui_canvas_drag(plugin, panel, a.widget, a.x, a.y, a.x1, a.y1, a.button); break;
      case UiAction::wheel:
        st = canvas_wheel(app, plugin, panel, a.widget, a.x, a.y, static_cast<float>(a.number), a.x1, a.button);
        break;
    }
    if (!st) app.log.warn("plugin {}: {}", plugin, st.error().message);
  }
  actions.clear();
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
  // Every open plugin panel, each a window, drawn straight from the store;
  // what the user did is sent once all are drawn (answers may change panels).
  struct PanelActions {
    std::string plugin, panel;
    std::vector<UiAction> actions;
  };
  static std::vector<UiAction> actions;
  std::vector<PanelActions> pending;
  for (const host::UiPanel* p : app.plugins->ui().panels()) {
    const std::string key = p->plugin_id + "/" + p->id;
    if (!app.open_panels.count(key)) continue;
    std::string title = (p->title.empty() ? p->id : p->title) + " (" + p->plugin_id + ")###" + key;
    if (app.focus_panel == key) {
      ImGui::SetNextWindowFocus();
      ImGui::SetNextWindowCollapsed(false);
      app.focus_panel.clear();
    }
    {
      // First opening: room for its canvases at their own size (a piano roll).
      float w = 420, h = 300;
      for (const auto& wd : p->widgets)
        if (wd.kind == WB_UI_CANVAS) {
          w = std::max(w, wd.width + 40);
          h += wd.height;
        }
      const ImVec2 vp = ImGui::GetMainViewport()->Size;
      ImGui::SetNextWindowSize(ImVec2(std::min(w, vp.x * 0.8f), std::min(h, vp.y * 0.8f)), ImGuiCond_FirstUseEver);
    }
    bool open = true;
    if (ImGui::Begin(title.c_str(), &open)) draw_panel(app, *p, actions);
    ImGui::End();
    if (!open) app.open_panels.erase(key);
    if (!actions.empty()) {
      pending.push_back({p->plugin_id, p->id, std::move(actions)});
      actions.clear();
    }
  }
  for (PanelActions& pa : pending) send_actions(app, pa.plugin, pa.panel, pa.actions);
}

void clamp_canvas_view(CanvasView& v, float width, float height) {
  v.zoom = std::clamp(v.zoom, 1.0f, 64.0f);
  v.x = std::clamp(v.x, 0.0f, width - width / v.zoom);
  v.y = std::clamp(v.y, 0.0f, height - height / v.zoom);
}

Status canvas_wheel(App& app, const std::string& plugin, const std::string& panel, const std::string& canvas, float x,
                    float y, float steps, float sideways, int mods) {
  if (!app.plugins) return make_error(Errc::invalid_argument, "no plugins are loaded");
  const host::UiPanel* p = nullptr;
  for (const host::UiPanel* q : app.plugins->ui().panels(plugin))
    if (q->id == panel) p = q;
  const host::UiWidget* w = p ? p->find(canvas) : nullptr;
  if (!w || w->kind != WB_UI_CANVAS)
    return make_error(Errc::invalid_argument, "plugin {} has no canvas '{}' in panel '{}'", plugin, canvas, panel);
  if (canvas_flags(*w) & WB_UI_CANVAS_HOST_VIEW) {
    CanvasView& v = app.canvas_views[plugin + "/" + panel + "/" + canvas];
    const float lw = std::max(1.0f, w->width), lh = std::max(1.0f, w->height);
    if (mods & WB_UI_MOD_CTRL) {
      // Zoom around the pointer: the canvas point under it stays put.
      const float z0 = v.zoom;
      v.zoom = std::clamp(z0 * std::pow(1.25f, steps), 1.0f, 64.0f);
      v.x = x - (x - v.x) * z0 / v.zoom;
      v.y = y - (y - v.y) * z0 / v.zoom;
    } else if (mods & WB_UI_MOD_SHIFT) {
      v.x -= (steps + sideways) * 0.1f * lw / v.zoom;
    } else {
      v.y -= steps * 0.1f * lh / v.zoom;
      v.x += sideways * 0.1f * lw / v.zoom;
    }
    clamp_canvas_view(v, lw, lh);
  }
  return app.plugins->ui_canvas_wheel(plugin, panel, canvas, x, y, steps, sideways, mods);
}

}  // namespace wb::app
