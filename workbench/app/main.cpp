// workbench: the ImGui + GLFW application.
// Status: the GUI arrives with issue 10. Until then this program checks for a
// display (and says so in one line when there is none) and hands over to the
// `wb` command-line tool next to it.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  const char* x11 = std::getenv("DISPLAY");
  const char* wl = std::getenv("WAYLAND_DISPLAY");
  if ((x11 == nullptr || *x11 == '\0') && (wl == nullptr || *wl == '\0')) {
    std::fprintf(stderr, "workbench: no display found (DISPLAY and WAYLAND_DISPLAY are unset); "
                         "use the command-line tool `wb` instead\n");
    return 1;
  }
  std::fprintf(stderr, "workbench: the GUI is not built yet (issue 10); running the `wb` tool instead\n");
  std::string self(argv[0]);
  std::string dir = self.substr(0, self.find_last_of('/') + 1);
  std::string wb = dir + "wb";  // built next to this program
  (void)argc;
  execl(wb.c_str(), wb.c_str(), "--help", static_cast<char*>(nullptr));
  std::perror("workbench: cannot run wb");
  return 1;
}
