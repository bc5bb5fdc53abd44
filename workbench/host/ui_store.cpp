#include "host/ui_store.hpp"

#include <cmath>
#include <cstring>
#include <set>

namespace wb::host {
namespace {

// A bounded copy of a plugin's string: NULL is "", longer than the limit is
// an error (never read past it).
Result<std::string> bounded(const char* s, const char* what, std::size_t limit = WB_MAX_TEXT_LENGTH) {
  if (!s) return std::string();
  std::size_t n = strnlen(s, limit + 1);
  if (n > limit) return make_error(Errc::invalid_argument, "{} is longer than {} bytes", what, limit);
  return std::string(s, n);
}

bool valid_widget_id(const std::string& id) {
  if (id.empty() || id.size() > WB_MAX_ID_LENGTH) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == '_'))
      return false;
  return true;
}

}  // namespace

UiWidget* UiPanel::find(const std::string& widget_id) {
  for (auto& w : widgets)
    if (w.id == widget_id) return &w;
  return nullptr;
}

const UiWidget* UiPanel::find(const std::string& widget_id) const {
  return const_cast<UiPanel*>(this)->find(widget_id);
}

Result<UiPanel> copy_panel(const wb_ui_panel* panel) {
  if (!panel) return make_error(Errc::invalid_argument, "panel is NULL");
  UiPanel out;
  WB_TRY(id, bounded(panel->id, "panel id", WB_MAX_ID_LENGTH));
  if (!valid_widget_id(id)) return make_error(Errc::invalid_argument, "panel id '{}' is missing or not [A-Za-z0-9._-]", id);
  WB_TRY(title, bounded(panel->title, "panel title"));
  if (!panel->title) return make_error(Errc::invalid_argument, "panel '{}' has no title", id);
  if (panel->widget_count > WB_UI_MAX_WIDGETS)
    return make_error(Errc::invalid_argument, "panel '{}' has {} widgets, more than {}", id, panel->widget_count,
                      WB_UI_MAX_WIDGETS);
  if (panel->widget_count > 0 && !panel->widgets)
    return make_error(Errc::invalid_argument, "panel '{}' has widget_count {} but widgets is NULL", id, panel->widget_count);
  out.id = std::move(id);
  out.title = std::move(title);
  std::set<std::string> seen;
  for (uint32_t i = 0; i < panel->widget_count; ++i) {
    const wb_ui_widget& w = panel->widgets[i];
    UiWidget c;
    if (w.kind < WB_UI_LABEL || w.kind > WB_UI_CANVAS)
      return make_error(Errc::invalid_argument, "panel '{}' widget #{}: unknown kind {}", out.id, i, w.kind);
    c.kind = w.kind;
    WB_TRY(wid, bounded(w.id, "widget id", WB_MAX_ID_LENGTH));
    if (!valid_widget_id(wid))
      return make_error(Errc::invalid_argument, "panel '{}' widget #{}: id '{}' is missing or not [A-Za-z0-9._-]", out.id, i, wid);
    if (!seen.insert(wid).second)
      return make_error(Errc::invalid_argument, "panel '{}': duplicate widget id '{}'", out.id, wid);
    c.id = std::move(wid);
    WB_TRY(label, bounded(w.label, "widget label"));
    WB_TRY(text, bounded(w.text, "widget text"));
    c.label = std::move(label);
    c.text = std::move(text);
    if (!std::isfinite(w.min) || !std::isfinite(w.max) || !std::isfinite(w.value) || !std::isfinite(w.step))
      return make_error(Errc::invalid_argument, "panel '{}' widget '{}': non-finite number", out.id, c.id);
    c.min = w.min;
    c.max = w.max;
    c.value = w.value;
    c.step = w.step;
    if (c.kind == WB_UI_SLIDER && (c.min > c.max || c.step < 0))
      return make_error(Errc::invalid_argument, "panel '{}' slider '{}': min {} > max {} or negative step", out.id, c.id,
                        c.min, c.max);
    if (c.kind == WB_UI_LIST) {
      if (w.item_count > WB_UI_MAX_ITEMS)
        return make_error(Errc::invalid_argument, "panel '{}' list '{}': {} items, more than {}", out.id, c.id,
                          w.item_count, WB_UI_MAX_ITEMS);
      if (w.item_count > 0 && !w.items)
        return make_error(Errc::invalid_argument, "panel '{}' list '{}': items is NULL", out.id, c.id);
      for (uint32_t k = 0; k < w.item_count; ++k) {
        if (!w.items[k]) return make_error(Errc::invalid_argument, "panel '{}' list '{}': item {} is NULL", out.id, c.id, k);
        WB_TRY(item, bounded(w.items[k], "list item"));
        c.items.push_back(std::move(item));
      }
    }
    if (c.kind == WB_UI_CANVAS) {
      if (!(w.width > 0 && w.height > 0 && w.width <= 1e6f && w.height <= 1e6f))
        return make_error(Errc::invalid_argument, "panel '{}' canvas '{}': size {}x{} is not positive and finite", out.id,
                          c.id, w.width, w.height);
      c.width = w.width;
      c.height = w.height;
    }
    out.widgets.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<UiDrawCmd>> copy_draw_list(const wb_ui_draw_cmd* cmds, uint32_t count) {
  if (count > WB_UI_MAX_DRAW_CMDS)
    return make_error(Errc::invalid_argument, "{} draw commands, more than {}", count, WB_UI_MAX_DRAW_CMDS);
  if (count > 0 && !cmds) return make_error(Errc::invalid_argument, "draw commands are NULL with count {}", count);
  std::vector<UiDrawCmd> out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const wb_ui_draw_cmd& d = cmds[i];
    if (d.kind < WB_DRAW_LINE || d.kind > WB_DRAW_TEXT)
      return make_error(Errc::invalid_argument, "draw command #{}: unknown kind {}", i, d.kind);
    if (!std::isfinite(d.x0) || !std::isfinite(d.y0) || !std::isfinite(d.x1) || !std::isfinite(d.y1) ||
        !std::isfinite(d.thickness))
      return make_error(Errc::invalid_argument, "draw command #{}: non-finite coordinate", i);
    UiDrawCmd c{d.kind, d.x0, d.y0, d.x1, d.y1, d.color, d.thickness, {}};
    if (d.kind == WB_DRAW_TEXT) {
      if (!d.text) return make_error(Errc::invalid_argument, "draw command #{}: text is NULL", i);
      WB_TRY(t, bounded(d.text, "draw text"));
      c.text = std::move(t);
    }
    out.push_back(std::move(c));
  }
  return out;
}

Status UiStore::set_panel(const std::string& plugin_id, UiPanel panel) {
  panel.plugin_id = plugin_id;
  panel.revision = next_revision_++;
  auto key = std::make_pair(plugin_id, panel.id);
  panels_[key] = std::move(panel);
  return {};
}

Status UiStore::remove_panel(const std::string& plugin_id, const std::string& panel_id) {
  if (panels_.erase({plugin_id, panel_id}) == 0)
    return make_error(Errc::out_of_range, "no panel '{}'", panel_id);
  return {};
}

void UiStore::remove_plugin(const std::string& plugin_id) {
  for (auto it = panels_.begin(); it != panels_.end();)
    it = it->first.first == plugin_id ? panels_.erase(it) : std::next(it);
}

UiPanel* UiStore::panel(const std::string& plugin_id, const std::string& panel_id) {
  auto it = panels_.find({plugin_id, panel_id});
  return it == panels_.end() ? nullptr : &it->second;
}

Result<UiWidget*> UiStore::widget(const std::string& plugin_id, const std::string& panel_id,
                                  const std::string& widget_id) {
  UiPanel* p = panel(plugin_id, panel_id);
  if (!p) return make_error(Errc::out_of_range, "no panel '{}'", panel_id);
  UiWidget* w = p->find(widget_id);
  if (!w) return make_error(Errc::out_of_range, "panel '{}' has no widget '{}'", panel_id, widget_id);
  p->revision = next_revision_++;  // callers get the widget to change it
  return w;
}

std::vector<const UiPanel*> UiStore::panels(const std::string& plugin_id) const {
  std::vector<const UiPanel*> out;
  for (const auto& [key, p] : panels_)
    if (plugin_id.empty() || key.first == plugin_id) out.push_back(&p);
  return out;
}

}  // namespace wb::host
