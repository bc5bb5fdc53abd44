// Finds a readable Latin + CJK font among Debian's font packages at run time
// (fonts-dejavu-core, fonts-wqy-microhei, fonts-noto-cjk), falling back to
// ImGui's built-in font with a log line.
#include <imgui.h>

#include <filesystem>

#include "app/fonts.hpp"

namespace wb::app {

namespace {

std::string first_existing(std::initializer_list<const char*> paths) {
  std::error_code ec;
  for (const char* p : paths)
    if (std::filesystem::is_regular_file(p, ec)) return p;
  return {};
}

}  // namespace

void setup_fonts(float size, Log& log) {
  ImGuiIO& io = ImGui::GetIO();
  const std::string latin = first_existing({"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                                            "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"});
  const std::string cjk = first_existing({"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                                          "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                                          "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"});
  // Latin, Latin-1, Latin Extended-A/B, general punctuation (quotes, dashes).
  static const ImWchar latin_ranges[] = {0x0020, 0x024F, 0x2000, 0x206F, 0x20AC, 0x20AC, 0};
  ImFont* main = nullptr;
  if (!latin.empty()) main = io.Fonts->AddFontFromFileTTF(latin.c_str(), size, nullptr, latin_ranges);
  if (!cjk.empty()) {
    ImFontConfig cfg;
    cfg.MergeMode = main != nullptr;
    cfg.OversampleH = 1;  // thousands of glyphs: keep the atlas small and fast to build
    cfg.OversampleV = 1;
    // Common simplified Chinese plus kana and Japanese kanji; the full CJK
    // range would take seconds to rasterise at start-up.
    ImFont* f = io.Fonts->AddFontFromFileTTF(cjk.c_str(), size, &cfg, io.Fonts->GetGlyphRangesChineseSimplifiedCommon());
    if (f && !main) main = f;
    ImFontConfig cfg2 = cfg;
    cfg2.MergeMode = true;
    if (f) io.Fonts->AddFontFromFileTTF(cjk.c_str(), size, &cfg2, io.Fonts->GetGlyphRangesJapanese());
  }
  if (!main) {
    io.Fonts->AddFontDefault();
    log.warn("no Latin or CJK font found (install fonts-dejavu-core and fonts-wqy-microhei); using ImGui's built-in font");
    return;
  }
  log.info("fonts: {}{}{}", latin.empty() ? "" : latin, (!latin.empty() && !cjk.empty()) ? " + " : "", cjk);
  if (cjk.empty()) log.warn("no CJK font found (install fonts-wqy-microhei or fonts-noto-cjk); CJK text shows as '?'");
}

}  // namespace wb::app
