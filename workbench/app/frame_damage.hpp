// Which parts of the window a frame changes, from ImGui's draw data. On a CPU
// renderer (lavapipe) rasterising is most of a frame's cost, and while the
// model writes, most of the window stays as it was: drawing only the changed
// tiles saves that work (renderer.cpp, partial frames).
//
//   FrameDamage damage;
//   TileSet changed = damage.update(*ImGui::GetDrawData());   // against the last frame
//   for (const IRect& r : changed.rects()) clear_and_draw(r);  // disjoint rectangles
//
// A draw command is unchanged when its texture, clip rectangle and every
// vertex it draws (position, uv, colour) are. Commands are matched per draw
// list (one per ImGui window), by their common prefix and suffix; a different
// list of windows (opened, closed, reordered) changes all. ImGui puts most of
// a window in one command, so two commands in the same place with the same
// texture and clip are compared triangle by triangle: only the triangles
// between their common first and last ones mark tiles (text appended to a
// story changes a few lines, not the pane); other changed commands mark their
// whole clipped bounding boxes, in both frames. A texture whose pixels change
// under the same id would go unseen: the app has one texture, the font atlas,
// built once at start (fonts.cpp); draw callbacks make a frame change all.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

struct ImDrawData;

namespace wb::app {

struct IRect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // pixels [x0, x1) x [y0, y1)
  bool empty() const { return x1 <= x0 || y1 <= y0; }
  long area() const { return empty() ? 0 : long(x1 - x0) * (y1 - y0); }
};

// Tiles of kTile x kTile pixels over a w x h window, each marked or not.
class TileSet {
 public:
  static constexpr int kTile = 32;
  TileSet() = default;
  TileSet(int w, int h);
  int width() const { return w_; }
  int height() const { return h_; }
  void add(const IRect& r);  // marks every tile r touches
  void add(const TileSet& o);  // same size
  void fill();
  bool empty() const;
  bool full() const;
  // Pixels in the marked tiles (clipped to the window).
  long pixels() const;
  // Disjoint rectangles covering exactly the marked tiles (clipped to the
  // window): runs of tiles along each row, merged with equal runs below.
  std::vector<IRect> rects() const;

 private:
  int w_ = 0, h_ = 0, cols_ = 0, rows_ = 0;
  std::vector<uint8_t> bits_;
};

class FrameDamage {
 public:
  // The tiles this frame changes against the last update's frame: all of them
  // for the first frame, after reset() or when the window's size changed.
  TileSet update(const ImDrawData& dd);
  void reset() { valid_ = false; }

 private:
  struct Vert {  // one vertex as drawn, per index: position, uv, colour
    float x, y, u, v;
    uint32_t col;
    bool operator==(const Vert& o) const { return x == o.x && y == o.y && u == o.u && v == o.v && col == o.col; }
  };
  struct Cmd {
    uint64_t sig = 0;
    IRect box;  // the clipped bounding box, in framebuffer pixels
    void* texture = nullptr;
    float clip[4] = {0, 0, 0, 0};
    std::vector<Vert> verts;  // 3 per triangle
  };
  // Marks what differs between two commands in the same place.
  void diff(const Cmd& a, const Cmd& b, TileSet& out) const;
  // The pixel box of triangles [t0, t1) of c, clipped to its clip rectangle.
  IRect box_of(const Cmd& c, size_t t0, size_t t1) const;
  struct List {
    std::string owner;
    std::vector<Cmd> cmds;
  };
  std::vector<List> prev_;
  int w_ = 0, h_ = 0;
  float off_[2] = {0, 0}, scale_[2] = {1, 1};  // ImGui coordinates to framebuffer pixels
  bool valid_ = false;
};

}  // namespace wb::app
