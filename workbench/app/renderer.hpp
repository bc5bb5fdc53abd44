// The window and its Vulkan renderer: GLFW window, Vulkan instance/device,
// swapchain (recreated on resize) or offscreen images, Dear ImGui's GLFW +
// Vulkan backends, and a screenshot of the whole window as PNG.
//
//   wb::Log log;
//   WB_TRY(r, wb::app::Renderer::create({.width = 1280, .height = 800}, log, setup_fonts));
//   while (!r->should_close()) {
//     r->poll_events(/*wait_s=*/0);        // input (waits up to wait_s for one)
//     r->begin_frame();                    // starts an ImGui frame
//     draw_ui();
//     WB_CHECK(r->end_frame(nullptr));     // or a path: also writes a PNG of this frame
//   }
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/util/log.hpp"
#include "core/util/result.hpp"

struct GLFWwindow;

namespace wb::app {

struct RendererOptions {
  int width = 1280;
  int height = 800;
  std::string title = "RWKV Workbench";
  // Draw every frame into images of our own instead of a swapchain (the window
  // stays hidden and nothing is presented): frame times on a GPU machine with no
  // display, where a window surface cannot be presented (GLFW still needs an X
  // display for the window: Xvfb).
  bool offscreen = false;
};

class Renderer {
 public:
  // `setup_fonts` runs after the ImGui context exists and before the font
  // atlas is uploaded (it adds fonts to ImGui::GetIO().Fonts).
  static Result<std::unique_ptr<Renderer>> create(const RendererOptions& opt, Log& log,
                                                  const std::function<void()>& setup_fonts);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  GLFWwindow* window() const;
  bool should_close() const;
  // Processes window events, waiting up to `wait_s` seconds for one (an idle
  // window need not redraw 60 times a second); 0: only those already queued.
  void poll_events(double wait_s);
  // Recreates the swapchain after a resize and starts a new ImGui frame.
  void begin_frame();
  // Renders and presents the frame. With `screenshot`, the same frame is also
  // drawn into an offscreen image of the window's size and written as PNG.
  Status end_frame(const std::string* screenshot);
  void set_size(int w, int h);
  std::string device_name() const;
  // The Vulkan device rasterises on the CPU (lavapipe): its frames take CPU
  // time the model's threads would otherwise use.
  bool cpu_device() const;
  int width() const;
  int height() const;

  // Where the last end_frame spent its time (ms) and what it drew, for the
  // per-frame log (--frame-log): acquiring the swapchain image, waiting for
  // the fence of the frame that last used it, recording ImGui's draw data,
  // submitting, presenting (offscreen: waiting for the frame to be drawn).
  struct FrameTimings {
    double acquire = 0, fence = 0, record = 0, submit = 0, present = 0;
    int vertices = 0, indices = 0, draw_lists = 0;
    double fill_px = 0;  // pixels the frame's triangles cover (clipped, approximate): raster work; see measure_fill
    double damage_px = 0;  // pixels in the tiles the frame changed (frame_damage.hpp): partial frames or measure_fill
    double drawn_px = 0;   // pixels cleared and drawn (whole frames: the window; partial: the image's region)
  };
  const FrameTimings& last_timings() const;
  // Whether end_frame also estimates fill_px and damage_px (passes over every
  // triangle: only for the per-frame log; partial frames compute damage anyway).
  void measure_fill(bool on);

  struct Impl;

 private:
  Renderer() = default;
  std::unique_ptr<Impl> impl_;
};

// RGBA8 pixels, rows top to bottom.
Status write_png(const std::string& path, const unsigned char* rgba, int w, int h);

}  // namespace wb::app
