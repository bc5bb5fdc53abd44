// Panels that plugins describe through "wb.ui/1", deep-copied into C++ values
// the GUI draws (and tests inspect). No ImGui here: the store is plain data.
//
//   wb::host::UiStore ui;
//   WB_CHECK(ui.set_panel("org.x.plugin", panel_from_c));
//   for (const UiPanel* p : ui.panels("org.x.plugin")) draw(*p);
#pragma once
#include <wb/ext/ui.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/util/result.hpp"

namespace wb::host {

struct UiDrawCmd {
  int32_t kind = WB_DRAW_LINE;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  uint32_t color = 0;
  float thickness = 1;
  std::string text;
};

struct UiWidget {
  int32_t kind = WB_UI_LABEL;
  std::string id, label, text;
  double min = 0, max = 0, value = 0, step = 0;
  std::vector<std::string> items;
  float width = 0, height = 0;
  std::vector<UiDrawCmd> draw;  // canvas only
};

struct UiPanel {
  std::string plugin_id;
  std::string id, title;
  std::vector<UiWidget> widgets;
  uint64_t revision = 0;  // bumped on every change, so a GUI can skip redraws

  UiWidget* find(const std::string& widget_id);
  const UiWidget* find(const std::string& widget_id) const;
};

// Validating copies from the C structs (errors name the offending field).
Result<UiPanel> copy_panel(const wb_ui_panel* panel);
Result<std::vector<UiDrawCmd>> copy_draw_list(const wb_ui_draw_cmd* cmds, uint32_t count);

class UiStore {
 public:
  Status set_panel(const std::string& plugin_id, UiPanel panel);
  Status remove_panel(const std::string& plugin_id, const std::string& panel_id);
  void remove_plugin(const std::string& plugin_id);

  // nullptr when absent.
  UiPanel* panel(const std::string& plugin_id, const std::string& panel_id);
  Result<UiWidget*> widget(const std::string& plugin_id, const std::string& panel_id, const std::string& widget_id);

  // Every panel of one plugin, or of all plugins when plugin_id is empty.
  std::vector<const UiPanel*> panels(const std::string& plugin_id = {}) const;

 private:
  std::map<std::pair<std::string, std::string>, UiPanel> panels_;
  uint64_t next_revision_ = 1;
};

}  // namespace wb::host
