// The window's pixels as the X server holds them (Xvfb has no compositor, so
// that is what was presented last): how partial frames on screen are checked
// against a whole frame (renderer.cpp). Kept apart because Xlib's macros
// (Status, None, ...) clash with the app's names.
#pragma once
#include <cstdint>
#include <vector>

struct GLFWwindow;

namespace wb::app {

// w x h pixels from the window's top left, 4 bytes each in the frame's byte
// order (`bgr`: B, G, R, x; else R, G, B, x). False when the window is not on
// X11 or the server's pixels are not 32-bit TrueColor.
bool read_x11_window(GLFWwindow* window, uint32_t w, uint32_t h, bool bgr, std::vector<unsigned char>& out);

}  // namespace wb::app
