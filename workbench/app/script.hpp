// Scripted mode: UI actions from a text file, one per line, replayed one per
// frame so the window draws between them (what a person would see).
//
//   WB_TRY(script, wb::app::Script::load("demo.txt"));
//   while (!script.done()) { if (script.ready(app)) WB_CHECK(script.step(app, renderer)); draw(); }
//
// Commands ('#' starts a comment; TEXT may use \n, \t, \\ escapes):
//   new-project PATH [MODEL [TOKENIZER]]   open-project PATH   save-as PATH
//   open-model PATH          type TEXT          clear-input       submit
//   continue N               alternatives K N   wait-generation   cancel
//   select-node ID           switch-branch ID   fork [TEXT]       navigate parent|child|prev|next
//   branch-token NODE INDEX TOKEN (a generated token replaced by another, then continue)
//   delete-node ID           undo               redo              label ID TEXT     bookmark ID
//   preset NAME              set KEY VALUE      (sampling options, as in presets/)
//   open-panel tree|generation|log|model|plugins|PLUGIN/PANEL|PLUGIN (all its panels)     close-panel NAME
//   canvas-wheel PLUGIN/PANEL CANVAS X Y STEPS [ctrl|shift]   (the wheel over a canvas point, canvas units)
//   canvas-click PLUGIN/PANEL CANVAS X Y [BUTTON]
//   resize W H               frames N           dismiss-error     shade on|off (editor probability tint)
// Every command but frames / wait-generation / cancel first waits for a
// generation or a model load in flight to finish, so scripts are
// deterministic.
#pragma once
#include <string>
#include <vector>

#include "app/app.hpp"
#include "app/renderer.hpp"

namespace wb::app {

class Script {
 public:
  static Result<Script> load(const std::string& path);
  bool done() const { return pos_ >= lines_.size() && frames_left_ <= 0; }
  // False while the script waits (frames to draw, a generation to finish).
  bool ready(App& app);
  Status step(App& app, Renderer& r);

 private:
  struct Line {
    int number;
    std::string cmd, rest;
  };
  std::string path_;
  std::vector<Line> lines_;
  std::size_t pos_ = 0;
  int frames_left_ = 0;
  bool waiting_gen_ = false;
};

}  // namespace wb::app
