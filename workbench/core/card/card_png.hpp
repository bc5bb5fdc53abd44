// PNG side of character cards, through libpng: read the text chunks of a PNG
// (checking every CRC and the whole image stream, so a broken file is noticed
// even when its card chunk is intact), and write a PNG with replaced text
// chunks while keeping the picture and the other chunks.
//
//   auto texts = wb::card::read_png_texts(bytes, "alice.png", limits);
//   for (auto& t : texts->texts) if (t.key == "ccv3") ...
//   auto png = wb::card::write_png_texts(avatar, {{"chara", b64}}, "alice.png", limits);
//
// libpng reports errors by longjmp; every libpng call here runs under its own
// setjmp guard, and the error text is returned as a Result naming the origin.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/card/card.hpp"
#include "core/util/result.hpp"

namespace wb::card {

struct PngText {
  std::string key;
  std::string text;
};

struct PngTexts {
  std::vector<PngText> texts;           // tEXt, zTXt and iTXt, in file order
  std::vector<std::string> warnings;    // libpng warnings (benign faults)
};

bool looks_like_png(std::span<const uint8_t> bytes);

// Validates the whole PNG (signature, chunk CRCs, image data to IEND) and
// returns its text chunks. Text chunks larger than the card limit are refused.
Result<PngTexts> read_png_texts(std::span<const uint8_t> bytes, const std::string& origin,
                                const Limits& limits);

// Re-encodes `avatar` (a PNG file's bytes) with identical pixels and
// ancillary chunks, dropping any text chunk whose key is in `replace` and
// adding `replace` as tEXt chunks.
Result<std::vector<uint8_t>> write_png_texts(std::span<const uint8_t> avatar,
                                             const std::vector<PngText>& replace,
                                             const std::string& origin, const Limits& limits);

// A small opaque RGB picture whose colour follows from `seed` (the card name),
// so that placeholder avatars of different characters differ.
Result<std::vector<uint8_t>> placeholder_png(std::string_view seed);

}  // namespace wb::card
