// Fuzz target for the character card reader: any bytes (PNG or JSON) must
// parse or fail with an error, never crash; a card that parses must also
// write back as JSON and parse again with the same name.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/card/card.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wb::card::Limits limits;
  limits.max_image_side = 1024;  // keeps each run fast; the logic is the same
  auto card = wb::card::parse_card_bytes(std::span<const uint8_t>(data, size), "fuzz", limits);
  if (!card) return 0;
  for (auto spec : {wb::card::Spec::v2, wb::card::Spec::v3}) {
    auto json = wb::card::card_to_json(*card, spec, -1, limits);
    if (!json) continue;  // e.g. a name that is not valid UTF-8
    auto again = wb::card::parse_card_json(*json, "fuzz-again", limits);
    if (!again || again->name != card->name) __builtin_trap();
  }
  return 0;
}
