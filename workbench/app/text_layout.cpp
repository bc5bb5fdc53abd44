// FlowLayout (see text_layout.hpp).
#include "app/text_layout.hpp"

#include <algorithm>
#include <cfloat>

namespace wb::app {

namespace {

// Bytes of the UTF-8 character starting with lead byte c (1 for stray bytes).
std::size_t char_len(unsigned char c) {
  if (c >= 0xF0 && c < 0xF8) return 4;
  if (c >= 0xE0) return c < 0xF0 ? 3 : 1;
  if (c >= 0xC0) return 2;
  return 1;
}

}  // namespace

void FlowLayout::clear() {
  pieces_.clear();
  runs_.clear();
  line_start_.assign(1, 0);
  line_origin_.assign(1, Origin{0, 0});
  x_ = 0;
}

float FlowLayout::width(const char* b, const char* e) const {
  return font_->CalcTextSizeA(font_size_, FLT_MAX, 0.0f, b, e).x;
}

void FlowLayout::new_line(std::size_t piece, std::size_t offset) {
  line_start_.push_back(static_cast<uint32_t>(runs_.size()));
  line_origin_.push_back(Origin{static_cast<uint32_t>(piece), static_cast<uint32_t>(offset)});
  x_ = 0;
}

void FlowLayout::update(const std::vector<FlowPiece>& pieces, float wrap_width, ImFont* font, float font_size) {
  relaid_ = 0;
  wrap_width = std::max(wrap_width, font_size * 2);
  if (font != font_ || font_size != font_size_ || wrap_width != wrap_) {
    font_ = font;
    font_size_ = font_size;
    wrap_ = wrap_width;
    clear();
  }
  if (line_start_.empty() || line_origin_.size() != line_start_.size()) clear();
  // Lines depend only on the text and where it starts, so a piece whose text
  // is unchanged keeps its lines under a new key or colour: when a generation
  // is accepted, the streamed continuation becomes its node in place (laying
  // a 12,000-token continuation out again took ~40 ms, one long frame).
  std::size_t k = 0;
  while (k < pieces_.size() && k < pieces.size() && pieces_[k].text == pieces[k].text) {
    pieces_[k].key = pieces[k].key;
    pieces_[k].colour = pieces[k].colour;
    ++k;
  }
  if (k == pieces_.size() && k == pieces.size()) return;

  // The layout state after piece k-1 (or the empty start).
  std::size_t runs = 0, lines = 1;
  float x = 0;
  if (k > 0) {
    runs = pieces_[k - 1].runs_after;
    lines = pieces_[k - 1].lines_after;
    x = pieces_[k - 1].x_after;
  }
  std::size_t offset = 0;
  // A piece that only grew: continue from the start of its last line, when
  // that line began inside it (nothing before the line changes).
  if (k < pieces_.size() && k < pieces.size() && pieces_[k].key == pieces[k].key &&
      pieces[k].text.size() > pieces_[k].text.size() && pieces[k].text.substr(0, pieces_[k].text.size()) == pieces_[k].text) {
    const std::size_t last = pieces_[k].lines_after - 1;
    if (last >= lines && line_origin_[last].piece == k) {
      runs = line_start_[last];
      lines = last + 1;
      x = 0;
      offset = line_origin_[last].offset;
    }
  }
  runs_.resize(runs);
  line_start_.resize(lines);
  line_origin_.resize(lines);
  x_ = x;
  pieces_.resize(k);
  for (std::size_t i = k; i < pieces.size(); ++i)
    pieces_.push_back(Piece{pieces[i].key, std::string(pieces[i].text), pieces[i].colour});
  layout_from(k, offset);
}

void FlowLayout::layout_from(std::size_t first, std::size_t offset) {
  for (std::size_t p = first; p < pieces_.size(); ++p, offset = 0) {
    const std::string& t = pieces_[p].text;
    relaid_ += t.size() - offset;
    std::size_t i = offset;
    while (i < t.size()) {
      if (t[i] == '\n') {
        new_line(p, i + 1);
        ++i;
        continue;
      }
      // A word and the space after it; CJK text has no spaces, so every
      // character from U+3000 on (3-byte UTF-8, lead 0xE3..0xEF) may wrap.
      std::size_t j = i;
      while (j < t.size() && t[j] != ' ' && t[j] != '\n') {
        const auto c = static_cast<unsigned char>(t[j]);
        if (c >= 0xE3 && c < 0xF0) {
          if (j == i) j = std::min(t.size(), j + 3);
          break;
        }
        j += char_len(c);
      }
      j = std::min(j, t.size());
      if (j < t.size() && t[j] == ' ') ++j;
      float w = width(t.data() + i, t.data() + j);
      if (x_ > 0 && x_ + w > wrap_) new_line(p, i);
      if (x_ == 0 && w > wrap_) {
        // A word wider than the view: as many characters as fit (at least one).
        std::size_t cut = i + char_len(static_cast<unsigned char>(t[i]));
        while (cut < j) {
          std::size_t next = std::min(j, cut + char_len(static_cast<unsigned char>(t[cut])));
          if (width(t.data() + i, t.data() + next) > wrap_) break;
          cut = next;
        }
        cut = std::min(cut, j);
        w = width(t.data() + i, t.data() + cut);
        j = cut;
      }
      // Words of one piece on one line make one run (one AddText call).
      const bool line_has_runs = line_start_.back() < runs_.size();
      if (line_has_runs && runs_.back().piece == p && runs_.back().end == i) {
        runs_.back().end = static_cast<uint32_t>(j);
      } else {
        runs_.push_back(Run{static_cast<uint32_t>(p), static_cast<uint32_t>(i), static_cast<uint32_t>(j), x_});
      }
      x_ += w;
      i = j;
    }
    pieces_[p].runs_after = runs_.size();
    pieces_[p].lines_after = line_start_.size();
    pieces_[p].x_after = x_;
  }
}

std::string FlowLayout::describe() const {
  std::string out;
  for (std::size_t l = 0; l < line_start_.size(); ++l) {
    const std::size_t e = l + 1 < line_start_.size() ? line_start_[l + 1] : runs_.size();
    for (std::size_t r = line_start_[l]; r < e; ++r) {
      const Run& run = runs_[r];
      out += std::to_string(static_cast<int>(run.x * 10)) + "#" + std::to_string(pieces_[run.piece].colour) + ":" +
             pieces_[run.piece].text.substr(run.begin, run.end - run.begin) + "|";
    }
    out += "\n";
  }
  return out;
}

void FlowLayout::draw() const {
  if (!font_) return;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float line_h = ImGui::GetTextLineHeight();
  ImGuiListClipper clip;
  clip.Begin(static_cast<int>(line_start_.size()), ImGui::GetTextLineHeightWithSpacing());
  while (clip.Step()) {
    for (int l = clip.DisplayStart; l < clip.DisplayEnd; ++l) {
      const ImVec2 p = ImGui::GetCursorScreenPos();
      const std::size_t b = line_start_[static_cast<std::size_t>(l)];
      const std::size_t e = static_cast<std::size_t>(l) + 1 < line_start_.size() ? line_start_[static_cast<std::size_t>(l) + 1] : runs_.size();
      for (std::size_t r = b; r < e; ++r) {
        const Run& run = runs_[r];
        const Piece& pc = pieces_[run.piece];
        dl->AddText(font_, font_size_, ImVec2(p.x + run.x, p.y), pc.colour, pc.text.data() + run.begin, pc.text.data() + run.end);
      }
      ImGui::Dummy(ImVec2(1.0f, line_h));
    }
  }
}

}  // namespace wb::app
