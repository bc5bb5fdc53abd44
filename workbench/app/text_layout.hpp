// Word-wrapped text of several colours flowing as one paragraph, laid out
// once and drawn many times: the editor shows the whole active path, which
// grows to book length, and laying it out again every frame made frames slow.
//
//   wb::app::FlowLayout layout;
//   std::vector<wb::app::FlowPiece> pieces = {{node_id, text, IM_COL32_WHITE}, ...};
//   layout.update(pieces, wrap_width, ImGui::GetFont(), ImGui::GetFontSize());  // cheap when nothing changed
//   layout.draw();   // inside a scrolling child window; draws only the visible lines
//
// update() keeps the lines of the unchanged leading pieces and lays out only
// from the first piece that changed; a piece that only grew (text streaming
// in) is continued from the start of its last line.
#pragma once
#include <imgui.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wb::app {

struct FlowPiece {
  uint64_t key = 0;        // identity of the piece (a node id); text under one key may only grow
  std::string_view text;   // borrowed for the update() call; the layout keeps a copy
  ImU32 colour = IM_COL32_WHITE;
};

class FlowLayout {
 public:
  void update(const std::vector<FlowPiece>& pieces, float wrap_width, ImFont* font, float font_size);
  void draw() const;
  std::size_t line_count() const { return line_start_.size(); }
  // Bytes laid out again by the last update() (0 when nothing changed): for tests and stats.
  std::size_t last_relayout_bytes() const { return relaid_; }
  void clear();
  // Each line's text and the x and colour of its runs ("120#4294967295:text"),
  // lines joined by '\n': what tests compare between an incremental and a
  // fresh layout.
  std::string describe() const;

 private:
  struct Piece {
    uint64_t key;
    std::string text;
    ImU32 colour;
    std::size_t runs_after = 0, lines_after = 0;  // layout state once this piece is placed
    float x_after = 0;
  };
  struct Run {
    uint32_t piece, begin, end;
    float x;
  };
  void layout_from(std::size_t piece, std::size_t offset);
  float width(const char* b, const char* e) const;
  void new_line(std::size_t piece, std::size_t offset);

  std::vector<Piece> pieces_;
  std::vector<Run> runs_;
  std::vector<uint32_t> line_start_;  // first run of each line
  struct Origin {
    uint32_t piece, offset;  // where each line's text starts
  };
  std::vector<Origin> line_origin_;
  float x_ = 0, wrap_ = 0, font_size_ = 0;
  ImFont* font_ = nullptr;
  std::size_t relaid_ = 0;
};

}  // namespace wb::app
