// Character cards: the community "Character Card" format, V1 (flat), V2
// (spec chara_card_v2) and V3 (spec chara_card_v3), as JSON files or as PNG
// images that carry the card as base64 JSON in a `chara` (V2) or `ccv3` (V3)
// text chunk. V3 wins when a PNG carries both.
//
//   auto card = wb::card::load_card("alice.png");          // Result<Card>
//   if (!card) { log.error("{}", card.error().message); return; }
//   card->description += "\nLikes tea.";                    // edit fields
//   WB_CHECK(wb::card::save_card(*card, "alice.json"));      // JSON or PNG by extension
//
// Lossless: a Card remembers the whole JSON object it was read from
// (`original_json`); writing overlays the normalised fields onto that object,
// so unknown top-level fields, unknown `data` fields and every extension
// survive a round trip. JSON-valued fields (extensions, character_book, ...)
// are held as JSON text so that this header needs no JSON library.
//
// Bad input never crashes and never allocates absurdly: every error names the
// file (the `origin` argument) and the fault. Writes go to a temporary file and
// are renamed into place, so a failed write leaves nothing half-written.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace wb::card {

// The spec a card was read as, or is to be written as.
enum class Spec { v1, v2, v3 };
const char* spec_name(Spec s);  // "v1", "v2", "v3"

enum class Container { json, png };

struct Limits {
  std::size_t max_field_bytes = 1u << 20;  // any single string anywhere in the card
  std::size_t max_card_bytes = 8u << 20;   // the card's JSON text
  std::size_t max_file_bytes = 64u << 20;  // a PNG avatar may be larger than its card
  int max_json_depth = 64;                 // nesting inside extensions / lorebooks
  uint32_t max_image_side = 8192;          // PNG width and height
};

struct Card {
  // --- where it came from -------------------------------------------------
  Spec spec = Spec::v3;               // spec it was read as (v3 for new cards)
  Container container = Container::json;
  std::string spec_version;           // as found ("2.0", "3.0"; empty for v1)
  std::string png_chunk;              // PNG: the chunk read ("ccv3" or "chara")

  // --- V2 fields (V3 keeps them) ------------------------------------------
  std::string name;
  std::string description;
  std::string personality;
  std::string scenario;
  std::string first_mes;
  std::string mes_example;
  std::string creator_notes;
  std::string system_prompt;
  std::string post_history_instructions;
  std::vector<std::string> alternate_greetings;
  std::vector<std::string> tags;
  std::string creator;
  std::string character_version;
  std::string extensions_json = "{}";   // JSON object text
  std::string character_book_json;      // JSON object text; empty = absent

  // --- V3 additions -------------------------------------------------------
  std::string nickname;                         // empty = absent
  std::vector<std::string> group_only_greetings;
  std::vector<std::string> source;
  std::string creator_notes_multilingual_json;  // JSON object text; empty = absent
  std::string assets_json;                      // JSON array text; empty = absent
  std::optional<int64_t> creation_date;         // unix seconds
  std::optional<int64_t> modification_date;

  // The complete card object as read (compact JSON text); empty for a card
  // made from scratch. Writers overlay the fields above onto it.
  std::string original_json;

  // The PNG file the card was read from (kept so that PNG -> PNG keeps the
  // picture); empty for JSON cards.
  std::vector<uint8_t> avatar_png;

  // Non-fatal observations while reading (e.g. libpng warnings, a `chara`
  // chunk ignored because `ccv3` won).
  std::vector<std::string> warnings;

  // The name to put in prompts: the V3 nickname when set, else the name.
  const std::string& display_name() const { return nickname.empty() ? name : nickname; }
};

// Parses a card from JSON text (V1, V2 or V3). `origin` names the source in
// errors ("alice.json", "alice.png: chunk 'ccv3'").
Result<Card> parse_card_json(std::string_view json_text, const std::string& origin,
                             const Limits& limits = {});

// Parses a card from the bytes of a PNG or JSON file (sniffed by content).
Result<Card> parse_card_bytes(std::span<const uint8_t> bytes, const std::string& origin,
                              const Limits& limits = {});

// Reads and parses a card file (PNG or JSON).
Result<Card> load_card(const std::string& path, const Limits& limits = {});

// The card as one JSON object of the given spec: every normalised field
// present, unknown fields and extensions of the original kept.
// indent < 0: compact.
Result<std::string> card_to_json(const Card& card, Spec target, int indent = 2,
                                 const Limits& limits = {});

struct PngOptions {
  // Picture to embed the card in: a PNG file's bytes. Empty: the card's own
  // avatar_png, or else a generated placeholder.
  std::vector<uint8_t> avatar_png;
};

// A PNG carrying the card in both a `chara` (V2) and a `ccv3` (V3) chunk.
// Pixels and other chunks of the avatar are kept; old card chunks are replaced.
Result<std::vector<uint8_t>> card_to_png(const Card& card, const PngOptions& options = {},
                                         const Limits& limits = {});

struct SaveOptions {
  // Spec of a JSON file; nullopt: the card's own spec (v1 is written as v2).
  // PNG files always get both a V2 and a V3 chunk.
  std::optional<Spec> json_spec;
  PngOptions png;
};

// Writes by the extension of `path` (.png or .json, case-insensitive) through
// a temporary file renamed into place.
Status save_card(const Card& card, const std::string& path, const SaveOptions& options = {},
                 const Limits& limits = {});

}  // namespace wb::card
