// The editor's cached text layout (app/text_layout): an incremental update
// must place every word exactly where a fresh layout would, and lay out only
// what changed. ImGui's font code is used directly (no window, no GPU).
#include <imgui.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "app/text_layout.hpp"

using wb::app::FlowLayout;
using wb::app::FlowPiece;

namespace {

struct ImGuiFonts {
  ImGuiFonts() {
    ImGui::CreateContext();
    unsigned char* px = nullptr;
    int w = 0, h = 0;
    ImGui::GetIO().Fonts->GetTexDataAsAlpha8(&px, &w, &h);  // builds the default font
  }
  ~ImGuiFonts() { ImGui::DestroyContext(); }
  ImFont* font() const { return ImGui::GetIO().Fonts->Fonts[0]; }
};

std::string words(int n, int seed) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    int len = 1 + (i * 7 + seed) % 9;
    for (int k = 0; k < len; ++k) s.push_back(static_cast<char>('a' + (i + k + seed) % 26));
    s += (i % 17 == 16) ? "\n" : " ";
  }
  return s;
}

}  // namespace

TEST_CASE("the editor layout: incremental updates equal a fresh layout and redo only what changed", "[gui][layout]") {
  ImGuiFonts fonts;
  const float size = 13.0f, wrap = 300.0f;
  const std::string a = words(200, 1), b = words(150, 2);
  std::string streamed = words(120, 3);

  FlowLayout inc;
  inc.update({{1, a, IM_COL32_WHITE}, {2, b, IM_COL32_WHITE}}, wrap, fonts.font(), size);
  CHECK(inc.last_relayout_bytes() == a.size() + b.size());
  const std::size_t lines_ab = inc.line_count();
  CHECK(lines_ab > 10);  // 350 words do not fit on a few 300-pixel lines

  // Nothing changed: nothing laid out.
  inc.update({{1, a, IM_COL32_WHITE}, {2, b, IM_COL32_WHITE}}, wrap, fonts.font(), size);
  CHECK(inc.last_relayout_bytes() == 0);

  // Text streaming in: a third piece that grows frame by frame. Each update
  // lays out only the new piece's last line onwards, never pieces 1 and 2.
  std::size_t shown = 0;
  for (std::size_t end = 10; end <= streamed.size(); end += 37) {
    inc.update({{1, a, IM_COL32_WHITE}, {2, b, IM_COL32_WHITE}, {99, std::string_view(streamed).substr(0, end), IM_COL32_WHITE}},
               wrap, fonts.font(), size);
    CHECK(inc.last_relayout_bytes() <= end - shown + 200);  // the new text plus at most one line again
    CHECK(inc.last_relayout_bytes() < a.size());
    shown = end;
  }
  inc.update({{1, a, IM_COL32_WHITE}, {2, b, IM_COL32_WHITE}, {99, streamed, IM_COL32_WHITE}}, wrap, fonts.font(), size);

  FlowLayout fresh;
  fresh.update({{1, a, IM_COL32_WHITE}, {2, b, IM_COL32_WHITE}, {99, streamed, IM_COL32_WHITE}}, wrap, fonts.font(), size);
  CHECK(fresh.last_relayout_bytes() == a.size() + b.size() + streamed.size());
  CHECK(inc.line_count() == fresh.line_count());
  CHECK(inc.describe() == fresh.describe());  // every word at the same place
  CHECK(inc.line_count() > lines_ab);

  // The generation is accepted: the streamed piece becomes node 4, drawn
  // opaque. Same text, so nothing is laid out again; only its colour changes.
  const ImU32 accepted = IM_COL32(140, 204, 255, 255);
  inc.update({{1, a, IM_COL32_WHITE}, {2, b, IM_COL32_WHITE}, {4, streamed, accepted}}, wrap, fonts.font(), size);
  CHECK(inc.last_relayout_bytes() == 0);
  FlowLayout fresh_accepted;
  fresh_accepted.update({{1, a, IM_COL32_WHITE}, {2, b, IM_COL32_WHITE}, {4, streamed, accepted}}, wrap, fonts.font(), size);
  CHECK(inc.describe() == fresh_accepted.describe());
  CHECK(inc.describe() != fresh.describe());  // the colour did change

  // A different second piece (another branch): lines of piece 1 are kept.
  const std::string c = words(40, 5);
  inc.update({{1, a, IM_COL32_WHITE}, {3, c, IM_COL32_WHITE}}, wrap, fonts.font(), size);
  CHECK(inc.last_relayout_bytes() == c.size());
  FlowLayout fresh2;
  fresh2.update({{1, a, IM_COL32_WHITE}, {3, c, IM_COL32_WHITE}}, wrap, fonts.font(), size);
  CHECK(inc.line_count() == fresh2.line_count());
  CHECK(inc.describe() == fresh2.describe());

  // A narrower view lays everything out again, on more lines.
  inc.update({{1, a, IM_COL32_WHITE}, {3, c, IM_COL32_WHITE}}, wrap / 2, fonts.font(), size);
  CHECK(inc.last_relayout_bytes() == a.size() + c.size());
  CHECK(inc.line_count() > fresh2.line_count());
}

TEST_CASE("the editor layout: a word wider than the view is cut and newlines start lines", "[gui][layout]") {
  ImGuiFonts fonts;
  FlowLayout l;
  const std::string longword(400, 'm');
  l.update({{1, longword, IM_COL32_WHITE}}, 100.0f, fonts.font(), 13.0f);
  const float w = fonts.font()->CalcTextSizeA(13.0f, 1e9f, 0, longword.c_str()).x;
  CHECK(l.line_count() >= static_cast<std::size_t>(w / 100.0f));
  l.update({{1, "a\nb\n\nc", IM_COL32_WHITE}}, 100.0f, fonts.font(), 13.0f);
  CHECK(l.line_count() == 4);
  l.update({{1, "", IM_COL32_WHITE}}, 100.0f, fonts.font(), 13.0f);
  CHECK(l.line_count() == 1);
}
