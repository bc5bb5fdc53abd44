#include "app/x11_window.hpp"

#include <cstring>
#include <utility>

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#define GLFW_EXPOSE_NATIVE_X11
#include <GLFW/glfw3native.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace wb::app {

bool read_x11_window(GLFWwindow* window, uint32_t w, uint32_t h, bool bgr, std::vector<unsigned char>& out) {
  Display* dpy = glfwGetX11Display();
  const ::Window win = glfwGetX11Window(window);
  if (!dpy || !win) return false;
  XSync(dpy, False);
  XImage* img = XGetImage(dpy, win, 0, 0, w, h, AllPlanes, ZPixmap);
  if (!img) return false;
  const bool ok = img->bits_per_pixel == 32 && img->red_mask == 0xff0000 && img->blue_mask == 0xff;
  if (ok) {
    out.resize(std::size_t(w) * h * 4);
    for (uint32_t y = 0; y < h; ++y)
      std::memcpy(&out[std::size_t(y) * w * 4], img->data + std::size_t(y) * img->bytes_per_line, std::size_t(w) * 4);
    if (!bgr)
      for (std::size_t i = 0; i < out.size(); i += 4) std::swap(out[i], out[i + 2]);
  }
  XDestroyImage(img);
  return ok;
}

}  // namespace wb::app
