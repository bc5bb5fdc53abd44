/* "wb.ui/1": plugins describe panels; the host draws them (ImGui in the
 * workbench, nothing in the CLI) and sends back events. So a plugin works in
 * the GUI and headless alike, and no ImGui type crosses the ABI.
 *
 *   static const char* const modes[] = {"words", "tokens"};
 *   const wb_ui_widget w[] = {
 *       {WB_UI_TEXT_AREA, "input", "Text", "", 0, 0, 0, 0, NULL, 0, 0, 0},
 *       {WB_UI_LIST, "mode", "Count", NULL, 0, 0, 0, 0, modes, 2, 0, 0},
 *       {WB_UI_BUTTON, "go", "Count", NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
 *       {WB_UI_CANVAS, "roll", "Piano roll", NULL, 0, 0, 0, 0, NULL, 0, 640, 240},
 *   };
 *   const wb_ui_panel panel = {"main", "Text statistics", w, 4};
 *   ui->set_panel(host, &panel);                  // host deep-copies
 *   const wb_ui_draw_cmd notes[] = {{WB_DRAW_RECT_FILLED, 10, 20, 50, 28, 0x3080ffff, 1, NULL}};
 *   ui->set_canvas(host, "main", "roll", notes, 1);
 *
 * The plugin side answers the same id: wb_plugin.get_extension(p, WB_EXT_UI)
 * returns a wb_plugin_ui whose build() publishes panels and on_event()
 * receives presses, edits and canvas clicks.
 */
#ifndef WB_EXT_UI_H
#define WB_EXT_UI_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_UI "wb.ui/1"

#define WB_UI_MAX_WIDGETS 256
#define WB_UI_MAX_ITEMS 4096
#define WB_UI_MAX_DRAW_CMDS 65536

typedef enum wb_ui_widget_kind {
  WB_UI_LABEL = 0,      /* read-only text */
  WB_UI_TEXT_FIELD = 1, /* one line of editable text; text = initial value */
  WB_UI_TEXT_AREA = 2,  /* several lines of editable text */
  WB_UI_SLIDER = 3,     /* min..max, value, step (0 = continuous) */
  WB_UI_BUTTON = 4,
  WB_UI_LIST = 5,       /* items[item_count], value = selected index (-1 none) */
  WB_UI_CHECKBOX = 6,   /* value 0 or 1 */
  WB_UI_CANVAS = 7      /* width x height logical units; drawn with set_canvas;
                           value = WB_UI_CANVAS_* flags (since 0.2; 0 before) */
} wb_ui_widget_kind;

/* Canvas flags (since ABI 0.2), in wb_ui_widget.value of a WB_UI_CANVAS.
 * WHEEL_EVENTS: the host sends WB_UI_EVENT_CANVAS_WHEEL when the wheel turns
 * over the canvas (a plugin that scrolls or zooms its own drawing, e.g. a
 * piano roll redrawing the visible bars). HOST_VIEW: the host itself pans and
 * zooms the draw list (wheel scrolls, Shift+wheel scrolls sideways,
 * Ctrl+wheel zooms around the pointer, middle-drag pans); event coordinates
 * stay in canvas units and text keeps its size. Hosts older than 0.2 ignore
 * both, so a plugin may always set them. */
#define WB_UI_CANVAS_WHEEL_EVENTS 1
#define WB_UI_CANVAS_HOST_VIEW 2

/* Modifier bits in wb_ui_event.button of WB_UI_EVENT_CANVAS_WHEEL. */
#define WB_UI_MOD_CTRL 1
#define WB_UI_MOD_SHIFT 2

/* One widget; borrowed by set_panel for the call. Unused fields are 0/NULL. */
typedef struct wb_ui_widget {
  int32_t kind;      /* wb_ui_widget_kind */
  const char* id;    /* unique in its panel, [A-Za-z0-9._-], required */
  const char* label; /* may be NULL */
  const char* text;  /* label text or initial text value; may be NULL */
  double min, max, value, step;
  const char* const* items; /* list entries (WB_UI_LIST) */
  uint32_t item_count;
  float width, height;      /* canvas size */
} wb_ui_widget;

typedef struct wb_ui_panel {
  const char* id;    /* unique per plugin, [A-Za-z0-9._-], required */
  const char* title; /* required */
  const wb_ui_widget* widgets;
  uint32_t widget_count; /* at most WB_UI_MAX_WIDGETS */
} wb_ui_panel;

typedef enum wb_ui_draw_kind {
  WB_DRAW_LINE = 0,        /* (x0,y0)-(x1,y1), thickness */
  WB_DRAW_RECT = 1,        /* outline, corners (x0,y0) and (x1,y1) */
  WB_DRAW_RECT_FILLED = 2,
  WB_DRAW_CIRCLE = 3,      /* centre (x0,y0), radius x1, outline */
  WB_DRAW_CIRCLE_FILLED = 4,
  WB_DRAW_TEXT = 5         /* text at (x0,y0) */
} wb_ui_draw_kind;

/* One draw command in canvas coordinates (origin top-left). Colour is
 * 0xRRGGBBAA. Borrowed by set_canvas for the call. */
typedef struct wb_ui_draw_cmd {
  int32_t kind; /* wb_ui_draw_kind */
  float x0, y0, x1, y1;
  uint32_t color;
  float thickness;
  const char* text; /* WB_DRAW_TEXT only */
} wb_ui_draw_cmd;

typedef struct wb_host_ui {
  /* [main-thread] Publishes (or replaces) a panel; the host deep-copies it.
   * WB_ERR_INVALID_ARGUMENT for missing ids, duplicate widget ids, unknown
   * kinds, a slider with min > max, too many widgets or items. */
  wb_status (*set_panel)(const wb_host* host, const wb_ui_panel* panel);

  /* [main-thread] Removes a panel. WB_ERR_NOT_FOUND for an unknown id. */
  wb_status (*remove_panel)(const wb_host* host, const char* panel_id);

  /* [main-thread] Replaces a canvas's draw list (deep-copied). */
  wb_status (*set_canvas)(const wb_host* host, const char* panel_id, const char* canvas_id,
                          const wb_ui_draw_cmd* cmds, uint32_t count);

  /* [main-thread] Sets a widget's text (label, text field/area). */
  wb_status (*set_text)(const wb_host* host, const char* panel_id, const char* widget_id, const char* text);

  /* [main-thread] Sets a widget's number (slider, checkbox, list selection). */
  wb_status (*set_number)(const wb_host* host, const char* panel_id, const char* widget_id, double value);

  /* [main-thread] Reads a widget's current text (as the user left it) into
   * the caller's buffer with a terminating NUL; *out_len is the length
   * without it; WB_ERR_BUFFER_TOO_SMALL when len+1 > capacity. */
  wb_status (*get_text)(const wb_host* host, const char* panel_id, const char* widget_id, char* buf,
                        size_t capacity, size_t* out_len);

  /* [main-thread] Reads a widget's current number. */
  wb_status (*get_number)(const wb_host* host, const char* panel_id, const char* widget_id, double* out_value);
} wb_host_ui;

typedef enum wb_ui_event_kind {
  WB_UI_EVENT_CHANGED = 0,      /* text, slider, checkbox or list changed (already stored) */
  WB_UI_EVENT_PRESSED = 1,      /* button pressed */
  WB_UI_EVENT_CANVAS_CLICK = 2, /* x, y in canvas units; button 0 left, 1 right */
  WB_UI_EVENT_CANVAS_DRAG = 3,  /* x, y current position; x1, y1 start; button */
  /* Since 0.2, only for canvases with WB_UI_CANVAS_WHEEL_EVENTS: x, y the
   * pointer in canvas units; value the wheel steps (positive: up / away from
   * the user); x1 sideways steps (positive: right); button WB_UI_MOD_* bits. */
  WB_UI_EVENT_CANVAS_WHEEL = 4
} wb_ui_event_kind;

/* Owned by the host, valid during on_event only. */
typedef struct wb_ui_event {
  int32_t kind;
  const char* panel_id;
  const char* widget_id;
  const char* text; /* new text for CHANGED text widgets, else NULL */
  double value;     /* new number for CHANGED numeric widgets */
  float x, y, x1, y1;
  int32_t button;
} wb_ui_event;

typedef struct wb_plugin_ui {
  /* [main-thread] Publish every panel now with wb_host_ui.set_panel (called
   * after init and whenever the host rebuilds its UI). */
  void (*build)(const wb_plugin* plugin);
  /* [main-thread] A user action on one of the plugin's widgets. */
  void (*on_event)(const wb_plugin* plugin, const wb_ui_event* event);
  /* [main-thread] Called once per GUI frame (may be NULL): the place to poll
   * running work such as wb.generate/1 sessions and update widgets. Must
   * return quickly; never block in it. */
  void (*on_frame)(const wb_plugin* plugin);
} wb_plugin_ui;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_UI_H */
