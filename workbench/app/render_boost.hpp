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
//
// The app enables it only when asked (WB_RENDER_BOOST=1) and the Vulkan device
// is a CPU (lavapipe): on a GPU the frame needs no CPU to speak of. Its cost:
// while frames rasterise, other programs' work (even at nice 19) runs before
// the model, so on a busy machine the generation slows down far more than at
// nice +5 alone; measured there, that cost was clear and the frame-time gain
// was not (workbench/app/README.md).
#pragma once
#include <vector>

namespace wb::app {

// Asks the kernel for short time slices (`slice_us`, 100..100000) for every
// thread this process has now, each keeping its nice value (the app does it
// only when WB_RENDER_SLICE_US is set): on a kernel with
// EEVDF (Linux 6.12+) a waking thread with a shorter slice than the running
// one preempts it at once instead of waiting up to a tick (4 ms at HZ=250)
// for the running thread's slice to end. Call it right after the renderer is
// made, so the UI thread and Mesa's rasteriser threads get it; threads created
// later inherit it (reset_this_thread_slice() undoes that for model work).
// Their CPU share is unchanged (that is the nice value). Returns how many
// threads took it; 0 where the kernel has no such setting (older kernels).
int shorten_time_slices(int slice_us);
// Back to the kernel's default slice for the calling thread (0 on success).
int reset_this_thread_slice();

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
