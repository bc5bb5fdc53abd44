// Test-side PNG making and reading, written against libpng directly so that
// the card code is checked against an independent writer and reader.
#pragma once
#include <png.h>

#include <csetjmp>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wb::test {

using TextList = std::vector<std::pair<std::string, std::string>>;

struct PngSpec {
  uint32_t width = 5;
  uint32_t height = 4;
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlaced = false;
  bool with_extras = false;       // pHYs, gAMA, tIME and a private chunk
  TextList texts_before;          // tEXt before IDAT
  TextList texts_after;           // tEXt after IDAT
  TextList ztxt_before;           // zTXt before IDAT
  uint32_t seed = 1;
};

inline uint8_t pixel_byte(uint32_t x, uint32_t y, uint32_t i, uint32_t seed) {
  return static_cast<uint8_t>((x * 37 + y * 101 + i * 13 + seed * 71) & 0xff);
}

namespace detail {
inline void append(png_structp png, png_bytep p, size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), p, p + n);
}
inline void no_flush(png_structp) {}
inline void quiet(png_structp, png_const_charp) {}
inline png_text text_entry(const std::pair<std::string, std::string>& t, int compression) {
  png_text e{};
  e.compression = compression;
  e.key = const_cast<char*>(t.first.c_str());
  e.text = const_cast<char*>(t.second.c_str());
  e.text_length = t.second.size();
  return e;
}
struct ReadBuf {
  const std::vector<uint8_t>* in;
  size_t pos = 0;
};
inline void take(png_structp png, png_bytep dst, size_t n) {
  auto* b = static_cast<ReadBuf*>(png_get_io_ptr(png));
  if (n > b->in->size() - b->pos) png_error(png, "truncated");
  std::memcpy(dst, b->in->data() + b->pos, n);
  b->pos += n;
}
}  // namespace detail

inline std::vector<uint8_t> make_png(const PngSpec& s) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, detail::quiet);
  png_infop info = png_create_info_struct(png);
  int channels = s.color_type == PNG_COLOR_TYPE_RGB ? 3 : s.color_type == PNG_COLOR_TYPE_RGBA ? 4 : 1;
  size_t rowbytes = (static_cast<size_t>(s.width) * channels * s.bit_depth + 7) / 8;
  std::vector<uint8_t> pixels(rowbytes * s.height);
  for (uint32_t y = 0; y < s.height; ++y)
    for (size_t i = 0; i < rowbytes; ++i) pixels[y * rowbytes + i] = pixel_byte(static_cast<uint32_t>(i), y, 0, s.seed);
  if (s.color_type == PNG_COLOR_TYPE_PALETTE)  // keep indices inside the palette
    for (auto& p : pixels) p &= 0x0f;
  std::vector<png_bytep> rows(s.height);
  for (uint32_t y = 0; y < s.height; ++y) rows[y] = pixels.data() + y * rowbytes;
  std::vector<png_text> before, after;
  for (const auto& t : s.texts_before) before.push_back(detail::text_entry(t, PNG_TEXT_COMPRESSION_NONE));
  for (const auto& t : s.ztxt_before) before.push_back(detail::text_entry(t, PNG_TEXT_COMPRESSION_zTXt));
  for (const auto& t : s.texts_after) after.push_back(detail::text_entry(t, PNG_TEXT_COMPRESSION_NONE));
  png_color palette[16];
  png_byte alpha[16];
  for (int i = 0; i < 16; ++i) {
    palette[i] = png_color{static_cast<png_byte>(i * 16), static_cast<png_byte>(255 - i * 16), static_cast<png_byte>(i * 7)};
    alpha[i] = static_cast<png_byte>(255 - i);
  }
  png_unknown_chunk priv{};
  std::memcpy(priv.name, "prVt", 5);
  png_byte priv_data[3] = {1, 2, 3};
  priv.data = priv_data;
  priv.size = 3;
  priv.location = PNG_HAVE_IHDR;
  png_time when{2024, 5, 6, 7, 8, 9};
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return {};
  }
  png_set_write_fn(png, &out, detail::append, detail::no_flush);
  png_set_IHDR(png, info, s.width, s.height, s.bit_depth, s.color_type,
               s.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (s.color_type == PNG_COLOR_TYPE_PALETTE) {
    png_set_PLTE(png, info, palette, 16);
    png_set_tRNS(png, info, alpha, 16, nullptr);
  }
  if (s.with_extras) {
    png_set_pHYs(png, info, 2835, 2835, PNG_RESOLUTION_METER);
    png_set_gAMA_fixed(png, info, 45455);
    png_set_tIME(png, info, &when);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, nullptr, 0);
    png_set_unknown_chunks(png, info, &priv, 1);
  }
  if (!before.empty()) png_set_text(png, info, before.data(), static_cast<int>(before.size()));
  png_write_info(png, info);
  if (s.interlaced) png_set_interlace_handling(png);
  png_write_image(png, rows.data());
  if (!after.empty()) png_set_text(png, info, after.data(), static_cast<int>(after.size()));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

struct DecodedPng {
  uint32_t width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  std::vector<uint8_t> pixels;
  TextList texts;
  bool has_phys = false, has_gama = false, has_time = false;
  std::vector<std::string> unknown;  // names of unknown chunks
  std::vector<uint8_t> palette_alpha;
};

inline std::optional<DecodedPng> decode_png(const std::vector<uint8_t>& bytes) {
  DecodedPng d;
  detail::ReadBuf buf{&bytes};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, detail::quiet);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return std::nullopt;
  }
  png_set_read_fn(png, &buf, detail::take);
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, nullptr, 0);
  png_read_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_get_IHDR(png, info, &d.width, &d.height, &d.bit_depth, &d.color_type, &d.interlace, nullptr, nullptr);
  png_bytepp rows = png_get_rows(png, info);
  size_t rowbytes = png_get_rowbytes(png, info);
  for (uint32_t y = 0; y < d.height; ++y) d.pixels.insert(d.pixels.end(), rows[y], rows[y] + rowbytes);
  png_textp text = nullptr;
  int n = png_get_text(png, info, &text, nullptr);
  for (int i = 0; i < n; ++i) d.texts.emplace_back(text[i].key, std::string(text[i].text, text[i].text_length));
  d.has_phys = png_get_valid(png, info, PNG_INFO_pHYs) != 0;
  d.has_gama = png_get_valid(png, info, PNG_INFO_gAMA) != 0;
  d.has_time = png_get_valid(png, info, PNG_INFO_tIME) != 0;
  png_unknown_chunkp unk = nullptr;
  int nu = png_get_unknown_chunks(png, info, &unk);
  for (int i = 0; i < nu; ++i) d.unknown.emplace_back(reinterpret_cast<const char*>(unk[i].name));
  png_bytep trans = nullptr;
  int ntrans = 0;
  if (png_get_tRNS(png, info, &trans, &ntrans, nullptr) != 0 && trans) d.palette_alpha.assign(trans, trans + ntrans);
  png_destroy_read_struct(&png, &info, nullptr);
  return d;
}

// Offset of the chunk of `type` (and, for text, keyword `key`); npos if none.
// Test-only scanning, used to damage a chosen chunk on purpose.
inline size_t find_chunk(const std::vector<uint8_t>& b, const char* type, const std::string& key = "") {
  size_t i = 8;
  while (i + 12 <= b.size()) {
    uint32_t n = uint32_t{b[i]} << 24 | uint32_t{b[i + 1]} << 16 | uint32_t{b[i + 2]} << 8 | b[i + 3];
    if (std::memcmp(&b[i + 4], type, 4) == 0 &&
        (key.empty() || (n > key.size() && std::memcmp(&b[i + 8], key.data(), key.size()) == 0 && b[i + 8 + key.size()] == 0)))
      return i;
    i += 12 + size_t{n};
  }
  return std::string::npos;
}

}  // namespace wb::test
