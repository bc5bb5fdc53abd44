#include "core/card/card_png.hpp"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace wb::card {
namespace {

// Shared by the libpng callbacks of one read or write. Only plain data is
// touched between a libpng call and a longjmp out of it.
struct IoCtx {
  std::span<const uint8_t> in;
  std::size_t pos = 0;
  std::vector<uint8_t>* out = nullptr;
  char error[256] = {0};
  std::vector<std::string>* warnings = nullptr;
  std::size_t max_alloc = std::size_t{16} << 20;  // per libpng allocation
};

// libpng allocates a chunk's buffer from the length in its header before
// reading it, and its chunk size limit does not cover text chunks, so a
// 4-byte lie could cost gigabytes. Every libpng allocation goes through here.
png_voidp bounded_malloc(png_structp png, png_alloc_size_t size) {
  auto* ctx = static_cast<IoCtx*>(png_get_mem_ptr(png));
  if (ctx && size > ctx->max_alloc) return nullptr;  // libpng turns this into an error
  return std::malloc(size);
}

void plain_free(png_structp, png_voidp p) { std::free(p); }

void on_error(png_structp png, png_const_charp msg) {
  auto* ctx = static_cast<IoCtx*>(png_get_error_ptr(png));
  std::snprintf(ctx->error, sizeof ctx->error, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_warning(png_structp png, png_const_charp msg) {
  auto* ctx = static_cast<IoCtx*>(png_get_error_ptr(png));
  if (ctx->warnings == nullptr || ctx->warnings->size() >= 16) return;
  try {
    ctx->warnings->emplace_back(msg ? msg : "");
  } catch (...) {
    // A lost warning is harmless; an exception through libpng is not.
  }
}

void read_bytes(png_structp png, png_bytep dst, std::size_t n) {
  auto* ctx = static_cast<IoCtx*>(png_get_io_ptr(png));
  if (n > ctx->in.size() - ctx->pos) png_error(png, "file is truncated");
  std::memcpy(dst, ctx->in.data() + ctx->pos, n);
  ctx->pos += n;
}

void write_bytes(png_structp png, png_bytep src, std::size_t n) {
  auto* ctx = static_cast<IoCtx*>(png_get_io_ptr(png));
  bool ok = true;
  try {
    ctx->out->insert(ctx->out->end(), src, src + n);
  } catch (...) {
    ok = false;
  }
  if (!ok) png_error(png, "out of memory while writing");
}

void flush_bytes(png_structp) {}

// Runs one libpng call sequence; false when libpng reported an error (the
// message is in the IoCtx). `f` must not own objects with destructors.
template <class F>
bool guarded(png_structp png, F&& f) {
  if (setjmp(png_jmpbuf(png))) return false;
  f();
  return true;
}

struct ReadHandle {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadHandle() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

struct WriteHandle {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~WriteHandle() {
    if (png) png_destroy_write_struct(&png, info ? &info : nullptr);
  }
};

// Known ancillary chunks that a rewrite copies byte for byte: libpng hands them
// over as "unknown" chunks with their position, so nothing is re-encoded.
// libpng wants the list as 5-byte entries (name and a NUL).
constexpr png_byte kPassThrough[] =
    "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0oFFs\0pCAL\0pHYs\0sBIT\0sCAL\0sPLT\0sRGB\0sTER\0tIME\0tRNS";
constexpr int kPassThroughCount = static_cast<int>(sizeof kPassThrough / 5);
static_assert(sizeof kPassThrough % 5 == 0, "chunk list entries are 5 bytes");

Error png_fault(const std::string& origin, const IoCtx& ctx) {
  return make_error(Errc::format, "{}: broken PNG: {}", origin, ctx.error[0] ? ctx.error : "unknown fault");
}

// Opens a read struct over `bytes` with strict CRC checking and our limits.
Result<bool> open_read(ReadHandle& h, IoCtx& ctx, const std::string& origin, const Limits& limits) {
  h.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning, &ctx, bounded_malloc,
                                   plain_free);
  if (!h.png) return make_error(Errc::internal, "{}: cannot create a PNG reader", origin);
  h.info = png_create_info_struct(h.png);
  if (!h.info) return make_error(Errc::internal, "{}: cannot create a PNG reader", origin);
  bool ok = guarded(h.png, [&] {
    png_set_read_fn(h.png, &ctx, read_bytes);
    // A bad CRC anywhere is an error, also in ancillary chunks such as the
    // card's own text chunk (libpng would otherwise drop those quietly).
    png_set_crc_action(h.png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_set_user_limits(h.png, limits.max_image_side, limits.max_image_side);
    // Room for a base64 card at the card limit; bounds zTXt/iCCP inflation too.
    png_set_chunk_malloc_max(h.png, limits.max_card_bytes / 3 * 4 + 4096);
  });
  if (!ok) return png_fault(origin, ctx);
  return true;
}

}  // namespace

bool looks_like_png(std::span<const uint8_t> bytes) {
  return bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0;
}

Result<PngTexts> read_png_texts(std::span<const uint8_t> bytes, const std::string& origin,
                                const Limits& limits) {
  if (!looks_like_png(bytes)) return make_error(Errc::format, "{}: not a PNG file (bad signature)", origin);
  PngTexts out;
  IoCtx ctx;
  ctx.in = bytes;
  ctx.warnings = &out.warnings;
  ReadHandle h;
  WB_CHECK(open_read(h, ctx, origin, limits));

  // Read the header, then every row (one row buffer, reused) so that a
  // truncated or corrupt image stream is found, then the chunks after IDAT.
  std::vector<png_byte> row;
  bool ok = guarded(h.png, [&] { png_read_info(h.png, h.info); });
  if (!ok) return png_fault(origin, ctx);
  png_uint_32 height = png_get_image_height(h.png, h.info);
  int passes = 1;
  ok = guarded(h.png, [&] {
    passes = png_set_interlace_handling(h.png);
    png_read_update_info(h.png, h.info);
  });
  if (!ok) return png_fault(origin, ctx);
  row.resize(png_get_rowbytes(h.png, h.info));  // bounded by max_image_side
  ok = guarded(h.png, [&] {
    for (int p = 0; p < passes; ++p)
      for (png_uint_32 y = 0; y < height; ++y) png_read_row(h.png, row.data(), nullptr);
    png_read_end(h.png, h.info);
  });
  if (!ok) return png_fault(origin, ctx);

  png_textp text = nullptr;
  int n = png_get_text(h.png, h.info, &text, nullptr);
  for (int i = 0; i < n; ++i) {
    // iTXt keeps its length in itxt_length; tEXt/zTXt in text_length.
    std::size_t len = text[i].compression > 0 ? text[i].itxt_length : text[i].text_length;
    out.texts.push_back({text[i].key ? text[i].key : "", std::string(text[i].text ? text[i].text : "", len)});
  }
  return out;
}

Result<std::vector<uint8_t>> write_png_texts(std::span<const uint8_t> avatar,
                                             const std::vector<PngText>& replace,
                                             const std::string& origin, const Limits& limits) {
  if (!looks_like_png(avatar)) return make_error(Errc::format, "{}: not a PNG file (bad signature)", origin);
  for (const PngText& t : replace)
    if (t.key.empty() || t.key.size() > 79)
      return make_error(Errc::invalid_argument, "{}: PNG text key '{}' must be 1 to 79 bytes", origin, t.key);

  IoCtx rctx;
  rctx.in = avatar;
  std::vector<std::string> warnings;
  rctx.warnings = &warnings;
  ReadHandle r;
  WB_CHECK(open_read(r, rctx, origin, limits));
  bool ok = guarded(r.png, [&] {
    png_set_keep_unknown_chunks(r.png, PNG_HANDLE_CHUNK_ALWAYS, nullptr, 0);
    png_set_keep_unknown_chunks(r.png, PNG_HANDLE_CHUNK_ALWAYS, kPassThrough,
                                kPassThroughCount);
    png_read_info(r.png, r.info);
  });
  if (!ok) return png_fault(origin, rctx);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0, compression = 0, filter = 0;
  png_get_IHDR(r.png, r.info, &width, &height, &bit_depth, &color_type, &interlace, &compression, &filter);
  std::size_t rowbytes = png_get_rowbytes(r.png, r.info);
  constexpr std::size_t kMaxPixelBytes = std::size_t{512} << 20;
  if (rowbytes == 0 || height == 0 || rowbytes > kMaxPixelBytes / height)
    return make_error(Errc::limit, "{}: image {}x{} is too large to re-encode", origin, width, height);
  std::vector<png_byte> pixels(rowbytes * height);
  std::vector<png_bytep> rows(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = pixels.data() + std::size_t{y} * rowbytes;
  ok = guarded(r.png, [&] {
    png_set_interlace_handling(r.png);
    png_read_update_info(r.png, r.info);
    png_read_image(r.png, rows.data());
    png_read_end(r.png, r.info);
  });
  if (!ok) return png_fault(origin, rctx);

  // Text chunks: the old ones minus the replaced keys, then the new ones.
  std::vector<png_text> texts;
  png_textp old_text = nullptr;
  int n_old = png_get_text(r.png, r.info, &old_text, nullptr);
  for (int i = 0; i < n_old; ++i) {
    bool replaced = false;
    for (const PngText& t : replace) replaced = replaced || (old_text[i].key && t.key == old_text[i].key);
    if (!replaced) texts.push_back(old_text[i]);
  }
  for (const PngText& t : replace) {
    png_text pt{};
    pt.compression = PNG_TEXT_COMPRESSION_NONE;
    pt.key = const_cast<png_charp>(t.key.c_str());  // libpng copies, never writes
    pt.text = const_cast<png_charp>(t.text.c_str());
    pt.text_length = t.text.size();
    texts.push_back(pt);
  }

  std::vector<uint8_t> out;
  out.reserve(avatar.size() + 64);
  IoCtx wctx;
  wctx.out = &out;
  wctx.warnings = &warnings;
  WriteHandle w;
  w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &wctx, on_error, on_warning);
  if (!w.png) return make_error(Errc::internal, "{}: cannot create a PNG writer", origin);
  w.info = png_create_info_struct(w.png);
  if (!w.info) return make_error(Errc::internal, "{}: cannot create a PNG writer", origin);
  ok = guarded(w.png, [&] {
    png_set_write_fn(w.png, &wctx, write_bytes, flush_bytes);
    png_set_keep_unknown_chunks(w.png, PNG_HANDLE_CHUNK_ALWAYS, nullptr, 0);
    png_set_keep_unknown_chunks(w.png, PNG_HANDLE_CHUNK_ALWAYS, kPassThrough,
                                kPassThroughCount);
    png_set_IHDR(w.png, w.info, width, height, bit_depth, color_type, interlace, compression, filter);
    png_colorp palette = nullptr;
    int n_palette = 0;
    if (png_get_PLTE(r.png, r.info, &palette, &n_palette) != 0) png_set_PLTE(w.png, w.info, palette, n_palette);
    png_unknown_chunkp unknown = nullptr;
    int n_unknown = png_get_unknown_chunks(r.png, r.info, &unknown);
    if (n_unknown > 0) png_set_unknown_chunks(w.png, w.info, unknown, n_unknown);
    if (!texts.empty()) png_set_text(w.png, w.info, texts.data(), static_cast<int>(texts.size()));
    png_write_info(w.png, w.info);
    png_set_interlace_handling(w.png);
    png_write_image(w.png, rows.data());
    png_write_end(w.png, w.info);
  });
  if (!ok)
    return make_error(Errc::io, "{}: cannot write PNG: {}", origin, wctx.error[0] ? wctx.error : "unknown fault");
  return out;
}

Result<std::vector<uint8_t>> placeholder_png(std::string_view seed) {
  // FNV-1a of the seed picks two colours for a diagonal blend.
  uint32_t hsh = 2166136261u;
  for (char c : seed) hsh = (hsh ^ static_cast<unsigned char>(c)) * 16777619u;
  const uint8_t a[3] = {static_cast<uint8_t>(64 + (hsh & 127)), static_cast<uint8_t>(64 + (hsh >> 7 & 127)),
                        static_cast<uint8_t>(64 + (hsh >> 14 & 127))};
  const uint8_t b[3] = {static_cast<uint8_t>(255 - a[1]), static_cast<uint8_t>(255 - a[2]),
                        static_cast<uint8_t>(255 - a[0])};
  constexpr png_uint_32 kSide = 64;
  std::vector<png_byte> pixels(kSide * kSide * 3);
  std::vector<png_bytep> rows(kSide);
  for (png_uint_32 y = 0; y < kSide; ++y) {
    rows[y] = pixels.data() + y * kSide * 3;
    for (png_uint_32 x = 0; x < kSide; ++x)
      for (int c = 0; c < 3; ++c) {
        unsigned t = x + y;  // 0 .. 126
        rows[y][x * 3 + c] = static_cast<png_byte>((a[c] * (126 - t) + b[c] * t) / 126);
      }
  }
  std::vector<uint8_t> out;
  IoCtx ctx;
  ctx.out = &out;
  WriteHandle w;
  w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (!w.png) return make_error(Errc::internal, "cannot create a PNG writer");
  w.info = png_create_info_struct(w.png);
  if (!w.info) return make_error(Errc::internal, "cannot create a PNG writer");
  bool ok = guarded(w.png, [&] {
    png_set_write_fn(w.png, &ctx, write_bytes, flush_bytes);
    png_set_IHDR(w.png, w.info, kSide, kSide, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(w.png, w.info);
    png_write_image(w.png, rows.data());
    png_write_end(w.png, w.info);
  });
  if (!ok) return make_error(Errc::internal, "cannot write placeholder PNG: {}", ctx.error);
  return out;
}

}  // namespace wb::card
