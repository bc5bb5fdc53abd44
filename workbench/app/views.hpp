// The views: one file each, each a function that draws from App and calls
// App actions. No model logic here.
//
//   wb::app::draw_main_menu(app);
//   wb::app::draw_editor(app);   // ... once per frame, between NewFrame and Render
#pragma once
#include <string>

#include "app/app.hpp"

namespace wb::app {

void draw_main_menu(App& app);       // view_project.cpp: menus, project dialogs, first run, error modal
void draw_project_dialogs(App& app);
void draw_error_modal(App& app);
void draw_first_run(App& app);
void draw_editor(App& app);          // view_editor.cpp
void draw_tree(App& app);            // view_tree.cpp
void draw_generation(App& app);      // view_generation.cpp
void draw_log(App& app);             // view_log.cpp
void draw_status_bar(App& app);      // view_status.cpp
void draw_model_manager(App& app);   // view_model.cpp
void draw_loading(App& app);         // view_model.cpp: a model loading on the worker (spinner, elapsed time)
void draw_plugins(App& app);         // view_plugins.cpp: manager + plugin panels
void handle_shortcuts(App& app);     // view_editor.cpp

// view_plugins.cpp: a wheel turn over a plugin canvas at (x, y) canvas units
// (the GUI and scripts alike): pans or zooms the host's view of it when the
// canvas has WB_UI_CANVAS_HOST_VIEW, and tells the plugin when it has
// WB_UI_CANVAS_WHEEL_EVENTS. mods: WB_UI_MOD_* bits.
Status canvas_wheel(App& app, const std::string& plugin, const std::string& panel, const std::string& canvas, float x,
                    float y, float steps, float sideways, int mods);
void clamp_canvas_view(CanvasView& v, float width, float height);

// A small in-app file browser (ImGui has none): returns true when the user
// picked a file (written to `out`). `dir` is the folder shown and is updated
// as the user navigates. `save` lets the user type a new file name.
bool file_browser(const char* id, std::string& dir, std::string& name, std::string& out, bool save);

// Before ImGui::Begin of a main pane: its place in the default layout, applied
// on the first frame and after the window is resized (App::relayout). Returns
// the flags to begin it with: while every pane is where the layout put it
// (App::panes_tiled), no background of its own (on a CPU renderer a window
// background is a full-size blended quad: about a third of a frame's
// rasterising) and never brought in front of floating windows.
int place_window(App& app, const char* name);
// Right after ImGui::Begin of a main pane: notes whether it still sits where
// the layout puts it (a pane the user moved or resized turns backgrounds back on).
void note_pane_place(App& app, const char* name);

}  // namespace wb::app
