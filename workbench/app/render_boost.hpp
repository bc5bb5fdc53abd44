// While the renderer rasterises a frame, the model's threads step aside.
//
//   wb::app::RenderBoost boost;
//   boost.refresh();            // on the UI thread, once a generation runs: finds the model's threads
//   boost.begin();              // before end_frame: model threads -> SCHED_IDLE
//   r.end_frame(nullptr);
//   boost.end();                // back to SCHED_OTHER at their background nice value
//
// Why: on a CPU renderer (lavapipe) the frame is drawn by Mesa's rasteriser
// threads. Linux's scheduler (EEVDF, HZ=250) lets a running model thread keep
// its CPU for its whole slice (up to a 4 ms tick) even at nice 19, while a
// rasteriser thread waits and the other CPU may sit idle; traced with
// `perf sched` on the 2-core build machine. A SCHED_IDLE thread is preempted
// at once by any normal thread that wakes, so the rasteriser runs the moment
// it has work. Only for the length of the render: the rest of the time the
// model keeps its normal (lowered) priority, so other programs' work cannot
// starve the generation, and no lock the UI thread takes is held by a thread
// that could be starved (the UI thread only presents during that time).
//
// The model's threads are found as this process's threads that run at a
// higher nice value than the calling (UI) thread: the app lowers every thread
// that loads or runs a model (threads they create inherit it), while Mesa's
// threads inherit the UI thread's. Each keeps its own nice value.
#pragma once
#include <vector>

namespace wb::app {

class RenderBoost {
 public:
  void refresh();  // re-reads the list of background threads (one /proc walk, ~0.1 ms)
  void begin();
  void end();
  std::size_t threads() const { return threads_.size(); }
  bool enabled = true;

 private:
  struct Thread {
    int tid, nice;
  };
  std::vector<Thread> threads_;
  bool boosted_ = false;
};

}  // namespace wb::app
