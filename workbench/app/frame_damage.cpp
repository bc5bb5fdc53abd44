#include "app/frame_damage.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace wb::app {

TileSet::TileSet(int w, int h)
    : w_(std::max(0, w)), h_(std::max(0, h)), cols_((w_ + kTile - 1) / kTile), rows_((h_ + kTile - 1) / kTile),
      bits_(static_cast<size_t>(cols_) * rows_, 0) {}

void TileSet::add(const IRect& r) {
  const int x0 = std::max(r.x0, 0), y0 = std::max(r.y0, 0), x1 = std::min(r.x1, w_), y1 = std::min(r.y1, h_);
  if (x1 <= x0 || y1 <= y0) return;
  for (int ty = y0 / kTile; ty <= (y1 - 1) / kTile; ++ty)
    for (int tx = x0 / kTile; tx <= (x1 - 1) / kTile; ++tx) bits_[static_cast<size_t>(ty) * cols_ + tx] = 1;
}

void TileSet::add(const TileSet& o) {
  if (o.w_ != w_ || o.h_ != h_) return fill();
  for (size_t i = 0; i < bits_.size(); ++i) bits_[i] |= o.bits_[i];
}

void TileSet::fill() { std::fill(bits_.begin(), bits_.end(), 1); }

bool TileSet::empty() const { return std::find(bits_.begin(), bits_.end(), 1) == bits_.end(); }

bool TileSet::full() const { return std::find(bits_.begin(), bits_.end(), 0) == bits_.end(); }

long TileSet::pixels() const {
  long n = 0;
  for (const IRect& r : rects()) n += r.area();
  return n;
}

std::vector<IRect> TileSet::rects() const {
  // Runs of marked tiles per row; a run equal to one in the row above extends it.
  std::vector<IRect> out;
  std::vector<size_t> open;  // indices into out of the previous row's runs
  for (int ty = 0; ty < rows_; ++ty) {
    std::vector<size_t> now;
    for (int tx = 0; tx < cols_;) {
      if (!bits_[static_cast<size_t>(ty) * cols_ + tx]) {
        ++tx;
        continue;
      }
      int end = tx;
      while (end < cols_ && bits_[static_cast<size_t>(ty) * cols_ + end]) ++end;
      const int x0 = tx * kTile, x1 = std::min(end * kTile, w_), y1 = std::min((ty + 1) * kTile, h_);
      auto same = std::find_if(open.begin(), open.end(), [&](size_t i) { return out[i].x0 == x0 && out[i].x1 == x1; });
      if (same != open.end()) {
        out[*same].y1 = y1;
        now.push_back(*same);
      } else {
        out.push_back({x0, ty * kTile, x1, y1});
        now.push_back(out.size() - 1);
      }
      tx = end;
    }
    open = std::move(now);
  }
  return out;
}

namespace {

// FNV-1a over bytes: draw commands are hashed, not stored.
struct Hash {
  uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  template <class T>
  void value(const T& v) { bytes(&v, sizeof v); }
};

}  // namespace

IRect FrameDamage::box_of(const Cmd& c, size_t t0, size_t t1) const {
  float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
  for (size_t i = 3 * t0; i < 3 * t1 && i < c.verts.size(); ++i) {
    x0 = std::min(x0, c.verts[i].x), y0 = std::min(y0, c.verts[i].y);
    x1 = std::max(x1, c.verts[i].x), y1 = std::max(y1, c.verts[i].y);
  }
  x0 = std::max(x0, c.clip[0]), y0 = std::max(y0, c.clip[1]);
  x1 = std::min(x1, c.clip[2]), y1 = std::min(y1, c.clip[3]);
  if (x1 <= x0 || y1 <= y0) return {};
  // In framebuffer pixels, one pixel wider on each side (antialiased edges and
  // the rasteriser's rounding stay inside).
  return {static_cast<int>(std::floor((x0 - off_[0]) * scale_[0])) - 1,
          static_cast<int>(std::floor((y0 - off_[1]) * scale_[1])) - 1,
          static_cast<int>(std::ceil((x1 - off_[0]) * scale_[0])) + 1,
          static_cast<int>(std::ceil((y1 - off_[1]) * scale_[1])) + 1};
}

void FrameDamage::diff(const Cmd& a, const Cmd& b, TileSet& out) const {
  if (a.texture != b.texture || std::memcmp(a.clip, b.clip, sizeof a.clip) != 0) {
    out.add(a.box);
    out.add(b.box);
    return;
  }
  const size_t na = a.verts.size() / 3, nb = b.verts.size() / 3;
  auto same = [&](size_t ta, size_t tb) {
    return a.verts[3 * ta] == b.verts[3 * tb] && a.verts[3 * ta + 1] == b.verts[3 * tb + 1] &&
           a.verts[3 * ta + 2] == b.verts[3 * tb + 2];
  };
  size_t pre = 0;
  while (pre < na && pre < nb && same(pre, pre)) ++pre;
  size_t suf = 0;
  while (suf < na - pre && suf < nb - pre && same(na - 1 - suf, nb - 1 - suf)) ++suf;
  out.add(box_of(a, pre, na - suf));
  out.add(box_of(b, pre, nb - suf));
}

TileSet FrameDamage::update(const ImDrawData& dd) {
  const ImVec2 off = dd.DisplayPos, scale = dd.FramebufferScale;
  const int w = static_cast<int>(dd.DisplaySize.x * scale.x), h = static_cast<int>(dd.DisplaySize.y * scale.y);
  off_[0] = off.x, off_[1] = off.y, scale_[0] = scale.x, scale_[1] = scale.y;
  std::vector<List> cur(static_cast<size_t>(std::max(0, dd.CmdListsCount)));
  bool whole = !valid_ || w != w_ || h != h_;
  for (int l = 0; l < dd.CmdListsCount; ++l) {
    const ImDrawList* list = dd.CmdLists[l];
    List& out = cur[static_cast<size_t>(l)];
    out.owner = list->_OwnerName ? list->_OwnerName : "";
    for (const ImDrawCmd& cmd : list->CmdBuffer) {
      if (cmd.UserCallback) {  // draws something we cannot see: everything may change
        whole = true;
        continue;
      }
      Cmd k;
      k.texture = cmd.TextureId;
      std::memcpy(k.clip, &cmd.ClipRect, sizeof k.clip);
      k.verts.reserve(cmd.ElemCount);
      Hash hs;
      hs.value(cmd.TextureId);
      hs.value(cmd.ClipRect);
      for (unsigned i = 0; i < cmd.ElemCount; ++i) {
        const ImDrawVert& v =
            list->VtxBuffer[static_cast<int>(cmd.VtxOffset + list->IdxBuffer[static_cast<int>(cmd.IdxOffset + i)])];
        k.verts.push_back({v.pos.x, v.pos.y, v.uv.x, v.uv.y, v.col});
      }
      hs.bytes(k.verts.data(), k.verts.size() * sizeof(Vert));
      k.sig = hs.h;
      k.box = box_of(k, 0, k.verts.size() / 3);
      out.cmds.push_back(std::move(k));
    }
  }
  TileSet damage(w, h);
  if (!whole && cur.size() != prev_.size()) whole = true;
  for (size_t l = 0; !whole && l < cur.size(); ++l) whole = cur[l].owner != prev_[l].owner;
  if (whole) {
    damage.fill();
  } else {
    auto same = [](const Cmd& a, const Cmd& b) {
      return a.sig == b.sig && a.box.x0 == b.box.x0 && a.box.y0 == b.box.y0 && a.box.x1 == b.box.x1 &&
             a.box.y1 == b.box.y1;
    };
    for (size_t l = 0; l < cur.size(); ++l) {
      const std::vector<Cmd>&a = prev_[l].cmds, &b = cur[l].cmds;
      size_t pre = 0;
      while (pre < a.size() && pre < b.size() && same(a[pre], b[pre])) ++pre;
      size_t suf = 0;
      while (suf < a.size() - pre && suf < b.size() - pre && same(a[a.size() - 1 - suf], b[b.size() - 1 - suf])) ++suf;
      // The changed middles: in the same place (as many in both), command by
      // command; else whole boxes.
      const size_t ma = a.size() - pre - suf, mb = b.size() - pre - suf;
      if (ma == mb) {
        for (size_t i = pre; i < pre + ma; ++i) diff(a[i], b[i], damage);
      } else {
        for (size_t i = pre; i + suf < a.size(); ++i) damage.add(a[i].box);
        for (size_t i = pre; i + suf < b.size(); ++i) damage.add(b[i].box);
      }
    }
  }
  prev_ = std::move(cur);
  w_ = w, h_ = h;
  valid_ = true;
  return damage;
}

}  // namespace wb::app
