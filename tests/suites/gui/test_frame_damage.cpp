// Partial frames (app/frame_damage): which tiles a frame changes, from ImGui
// draw lists built here directly (no window, no GPU). The pixels themselves are
// checked in test_gui.cpp: the frame shown against a whole frame.
#include <imgui.h>

#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "app/frame_damage.hpp"

using wb::app::FrameDamage;
using wb::app::IRect;
using wb::app::TileSet;

namespace {

constexpr int kW = 300, kH = 200;  // not a multiple of the tile size: edge tiles are clipped

struct Context {
  Context() {
    ImGui::CreateContext();
    unsigned char* px = nullptr;
    int w = 0, h = 0;
    ImGui::GetIO().Fonts->GetTexDataAsAlpha8(&px, &w, &h);
  }
  ~Context() { ImGui::DestroyContext(); }
};

// One window's draw list: filled rectangles (x0, y0, x1, y1, colour).
struct Rect {
  float x0, y0, x1, y1;
  ImU32 col;
};
std::unique_ptr<ImDrawList> window(const char* name, const std::vector<Rect>& rects) {
  auto dl = std::make_unique<ImDrawList>(ImGui::GetDrawListSharedData());
  dl->_ResetForNewFrame();
  dl->_OwnerName = name;
  dl->PushClipRect(ImVec2(0, 0), ImVec2(kW, kH));
  for (const Rect& r : rects) dl->AddRectFilled(ImVec2(r.x0, r.y0), ImVec2(r.x1, r.y1), r.col);
  // A second command (another clip rectangle), as ImGui windows have.
  dl->PushClipRect(ImVec2(0, 0), ImVec2(kW / 2, kH));
  dl->AddRectFilled(ImVec2(2, 2), ImVec2(10, 10), IM_COL32(1, 2, 3, 255));
  dl->PopClipRect();
  dl->PopClipRect();
  return dl;
}

struct Frame {
  std::vector<std::unique_ptr<ImDrawList>> lists;
  std::vector<ImDrawList*> ptrs;
  ImDrawData dd;
  Frame& add(std::unique_ptr<ImDrawList> l) {
    lists.push_back(std::move(l));
    ptrs.push_back(lists.back().get());
    dd.Valid = true;
    dd.CmdLists = ptrs.data();
    dd.CmdListsCount = static_cast<int>(ptrs.size());
    dd.DisplayPos = ImVec2(0, 0);
    dd.DisplaySize = ImVec2(kW, kH);
    dd.FramebufferScale = ImVec2(1, 1);
    return *this;
  }
};

bool marked(const TileSet& t, int x, int y) {
  for (const IRect& r : t.rects())
    if (x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1) return true;
  return false;
}

}  // namespace

TEST_CASE("tile sets: disjoint rectangles covering exactly the marked tiles, clipped to the window", "[gui][damage]") {
  TileSet t(kW, kH);
  CHECK(t.empty());
  t.add({40, 40, 41, 41});     // one tile: (32..64) x (32..64)
  t.add({290, 190, 400, 400});  // the bottom-right edge tile, clipped to 300 x 200
  t.add({0, 100, 100, 170});    // a block of 4 x 3 tiles (0..128) x (96..192)
  auto rects = t.rects();
  long area = 0;
  for (size_t i = 0; i < rects.size(); ++i) {
    area += rects[i].area();
    CHECK(rects[i].x1 <= kW);
    CHECK(rects[i].y1 <= kH);
    for (size_t j = i + 1; j < rects.size(); ++j) {  // disjoint
      const IRect &a = rects[i], &b = rects[j];
      CHECK((a.x1 <= b.x0 || b.x1 <= a.x0 || a.y1 <= b.y0 || b.y1 <= a.y0));
    }
  }
  CHECK(area == t.pixels());
  CHECK(area == 32 * 32 + (300 - 288) * (200 - 160) + 128 * 96);  // the edge tiles: y 160..192 and 192..200
  CHECK(rects.size() <= 4);  // the block's rows merged into one rectangle
  CHECK(marked(t, 40, 40));
  CHECK(!marked(t, 70, 40));
  CHECK(marked(t, 299, 199));
  TileSet all(kW, kH);
  all.fill();
  CHECK(all.full());
  CHECK(all.pixels() == long(kW) * kH);
}

TEST_CASE("frame damage: only what a frame changed, both where it was and where it is", "[gui][damage]") {
  Context ctx;
  FrameDamage damage;
  const std::vector<Rect> base = {{20, 20, 60, 60, IM_COL32(200, 0, 0, 255)}, {150, 100, 200, 150, IM_COL32(0, 200, 0, 255)}};
  auto frame = [&](const std::vector<Rect>& a, const std::vector<Rect>& b) {
    auto f = std::make_unique<Frame>();
    f->add(window("A", a)).add(window("B", b));
    return f;
  };
  auto f0 = frame(base, {{250, 10, 290, 40, IM_COL32(0, 0, 200, 255)}});
  CHECK(damage.update(f0->dd).full());  // the first frame: everything

  auto f1 = frame(base, {{250, 10, 290, 40, IM_COL32(0, 0, 200, 255)}});
  CHECK(damage.update(f1->dd).empty());  // the same commands: nothing

  // A colour change in window A's second rectangle: its tiles, not the others'
  // (both rectangles are one draw command: compared triangle by triangle).
  auto changed = base;
  changed[1].col = IM_COL32(0, 100, 0, 255);
  auto f2 = frame(changed, {{250, 10, 290, 40, IM_COL32(0, 0, 200, 255)}});
  TileSet d2 = damage.update(f2->dd);
  CHECK(marked(d2, 175, 125));
  CHECK(!marked(d2, 40, 40));
  CHECK(!marked(d2, 270, 20));
  CHECK(d2.pixels() < long(kW) * kH / 4);

  // Window B's rectangle moves: the old and the new place.
  auto f3 = frame(changed, {{250, 150, 290, 190, IM_COL32(0, 0, 200, 255)}});
  TileSet d3 = damage.update(f3->dd);
  CHECK(marked(d3, 270, 20));
  CHECK(marked(d3, 270, 170));
  CHECK(!marked(d3, 175, 125));

  // A rectangle appended to window B's command (text streaming in): only its tiles.
  auto f3b = frame(changed, {{250, 150, 290, 190, IM_COL32(0, 0, 200, 255)}, {20, 150, 40, 170, IM_COL32(5, 5, 5, 255)}});
  TileSet d3b = damage.update(f3b->dd);
  CHECK(marked(d3b, 30, 160));
  CHECK(!marked(d3b, 270, 170));
  CHECK(!marked(d3b, 40, 40));
  CHECK(d3b.pixels() <= 4 * 32 * 32);  // its box, a pixel wider, touches 2 x 2 tiles
  auto f3c = frame(changed, {{250, 150, 290, 190, IM_COL32(0, 0, 200, 255)}});  // and removed again
  TileSet d3c = damage.update(f3c->dd);
  CHECK(marked(d3c, 30, 160));
  CHECK(!marked(d3c, 270, 170));

  // A window more (a popup opens): everything, as the drawing order changed.
  auto f4 = frame(changed, {{250, 150, 290, 190, IM_COL32(0, 0, 200, 255)}});
  f4->add(window("Popup", {{100, 20, 120, 30, IM_COL32(9, 9, 9, 255)}}));
  CHECK(damage.update(f4->dd).full());

  // reset() (the images were recreated) also means everything.
  auto f5 = frame(changed, {{250, 150, 290, 190, IM_COL32(0, 0, 200, 255)}});
  damage.reset();
  CHECK(damage.update(f5->dd).full());
}
