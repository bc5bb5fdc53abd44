// Character cards in PNG files: chara / ccv3 chunks (V3 wins), lossless
// PNG -> JSON -> PNG, pixels and other chunks kept, broken PNGs refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/card/base64.hpp"
#include "core/card/card.hpp"
#include "png_helpers.hpp"
#include "support/fixtures.hpp"

using nlohmann::json;
using namespace wb::card;
using wb::test::PngSpec;

namespace {

std::string card_json(const std::string& spec, const std::string& name, const std::string& extra_ext = "v") {
  json j = {{"spec", spec},
            {"spec_version", spec == "chara_card_v3" ? "3.0" : "2.0"},
            {"data",
             {{"name", name},
              {"description", "desc of " + name},
              {"first_mes", "Hi, I am " + name},
              {"tags", {"t1"}},
              {"extensions", {{"my_app", {{"mood", extra_ext}}}}},
              {"mystery", {1, 2, 3}}}},
            {"root_mystery", "kept"}};
  return j.dump();
}

std::string b64(const std::string& s) { return base64_encode(s); }

Card parse_png(const std::vector<uint8_t>& png) {
  auto c = parse_card_bytes(png, "card.png");
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c);
  return *c;
}

std::string parse_png_err(const std::vector<uint8_t>& png) {
  auto c = parse_card_bytes(png, "broken.png");
  REQUIRE_FALSE(c);
  return c.error().message;
}

// The card JSON stored under `key` in a PNG, decoded.
json chunk_json(const std::vector<uint8_t>& png, const std::string& key) {
  auto d = wb::test::decode_png(png);
  REQUIRE(d);
  for (const auto& [k, v] : d->texts)
    if (k == key) {
      auto raw = base64_decode(v);
      REQUIRE(raw);
      return json::parse(*raw);
    }
  FAIL("no chunk " << key);
  return {};
}

// True when every member of `part` is in `whole` with the same value (objects
// compared member by member, so normalised additions in `whole` are allowed).
bool includes(const json& whole, const json& part) {
  if (!part.is_object()) return whole == part;
  if (!whole.is_object()) return false;
  for (auto it = part.begin(); it != part.end(); ++it)
    if (!whole.contains(it.key()) || !includes(whole[it.key()], it.value())) return false;
  return true;
}

}  // namespace

TEST_CASE("PNG with a chara chunk reads as V2", "[card][png]") {
  PngSpec s;
  s.texts_before = {{"Comment", "hello"}, {"chara", b64(card_json("chara_card_v2", "Vee"))}};
  auto png = wb::test::make_png(s);
  REQUIRE_FALSE(png.empty());
  Card c = parse_png(png);
  CHECK(c.spec == Spec::v2);
  CHECK(c.container == Container::png);
  CHECK(c.png_chunk == "chara");
  CHECK(c.name == "Vee");
  CHECK(json::parse(c.extensions_json)["my_app"]["mood"] == "v");
  CHECK(c.avatar_png == png);
}

TEST_CASE("PNG with a ccv3 chunk reads as V3", "[card][png]") {
  PngSpec s;
  s.texts_before = {{"ccv3", b64(card_json("chara_card_v3", "Three"))}};
  Card c = parse_png(wb::test::make_png(s));
  CHECK(c.spec == Spec::v3);
  CHECK(c.png_chunk == "ccv3");
  CHECK(c.name == "Three");
}

TEST_CASE("PNG with both chunks: ccv3 wins, wherever it sits", "[card][png]") {
  SECTION("both before IDAT, chara first") {
    PngSpec s;
    s.texts_before = {{"chara", b64(card_json("chara_card_v2", "OldName"))},
                      {"ccv3", b64(card_json("chara_card_v3", "NewName"))}};
    Card c = parse_png(wb::test::make_png(s));
    CHECK(c.name == "NewName");
    CHECK(c.spec == Spec::v3);
  }
  SECTION("ccv3 after IDAT") {
    PngSpec s;
    s.texts_before = {{"chara", b64(card_json("chara_card_v2", "OldName"))}};
    s.texts_after = {{"ccv3", b64(card_json("chara_card_v3", "NewName"))}};
    Card c = parse_png(wb::test::make_png(s));
    CHECK(c.name == "NewName");
    CHECK(c.png_chunk == "ccv3");
  }
  SECTION("compressed zTXt chunk") {
    PngSpec s;
    s.ztxt_before = {{"chara", b64(card_json("chara_card_v2", "Zipped"))}};
    CHECK(parse_png(wb::test::make_png(s)).name == "Zipped");
  }
}

TEST_CASE("a broken ccv3 chunk falls back to chara with a warning", "[card][png]") {
  PngSpec s;
  s.texts_before = {{"chara", b64(card_json("chara_card_v2", "Backup"))}, {"ccv3", "%%% not base64 %%%"}};
  Card c = parse_png(wb::test::make_png(s));
  CHECK(c.name == "Backup");
  CHECK(c.png_chunk == "chara");
  REQUIRE_FALSE(c.warnings.empty());
  CHECK_THAT(c.warnings.back(), Catch::Contains("ccv3") && Catch::Contains("base64"));
}

TEST_CASE("writing a PNG puts the card in both chara and ccv3 chunks", "[card][png]") {
  auto c = parse_card_json(card_json("chara_card_v3", "Both"), "in.json");
  REQUIRE(c);
  auto png = card_to_png(*c);  // no avatar: a generated placeholder
  REQUIRE(png);
  json v2 = chunk_json(*png, "chara");
  json v3 = chunk_json(*png, "ccv3");
  CHECK(v2["spec"] == "chara_card_v2");
  CHECK(v2["spec_version"] == "2.0");
  CHECK(v3["spec"] == "chara_card_v3");
  CHECK(v2["data"]["name"] == "Both");
  CHECK(v3["data"]["extensions"]["my_app"]["mood"] == "v");
  CHECK(v3["data"]["mystery"] == json({1, 2, 3}));
  CHECK(v3["root_mystery"] == "kept");
  auto d = wb::test::decode_png(*png);
  REQUIRE(d);
  CHECK(d->width == 64);
  CHECK(d->height == 64);
  // Different names give different placeholder pictures.
  Card other = *c;
  other.name = "Someone else";
  auto png2 = card_to_png(other);
  REQUIRE(png2);
  CHECK(wb::test::decode_png(*png2)->pixels != d->pixels);
}

TEST_CASE("PNG -> JSON -> PNG is lossless for the card, picture and other chunks", "[card][png][roundtrip]") {
  PngSpec s;
  s.with_extras = true;
  s.texts_before = {{"Title", "portrait"}, {"chara", b64(card_json("chara_card_v2", "Round"))},
                    {"ccv3", b64(card_json("chara_card_v3", "Round", "v3-only"))}};
  auto dir = wb::test::temp_dir("card_png_roundtrip");
  // Three pixel layouts: plain RGB, interlaced 16-bit RGBA, palette with tRNS.
  std::vector<PngSpec> specs(3, s);
  specs[1].color_type = PNG_COLOR_TYPE_RGBA;
  specs[1].bit_depth = 16;
  specs[1].interlaced = true;
  specs[1].width = 11;
  specs[1].height = 9;
  specs[2].color_type = PNG_COLOR_TYPE_PALETTE;
  specs[2].bit_depth = 4;
  specs[2].width = 6;  // whole bytes per row: padding bits are not image data
  for (std::size_t i = 0; i < specs.size(); ++i) {
    INFO("layout " << i);
    auto png = wb::test::make_png(specs[i]);
    REQUIRE_FALSE(png.empty());
    auto before = wb::test::decode_png(png);
    REQUIRE(before);
    REQUIRE(before->has_phys);
    Card c = parse_png(png);

    // PNG -> JSON file -> Card -> PNG (with the original picture as avatar).
    std::string json_path = (dir / ("card" + std::to_string(i) + ".json")).string();
    REQUIRE(save_card(c, json_path));
    auto from_json = load_card(json_path);
    REQUIRE(from_json);
    CHECK(from_json->name == "Round");
    SaveOptions opt;
    opt.png.avatar_png = png;
    std::string png_path = (dir / ("card" + std::to_string(i) + ".png")).string();
    REQUIRE(save_card(*from_json, png_path, opt));
    auto out = wb::test::read_bytes(png_path);
    std::vector<uint8_t> out_bytes(out.begin(), out.end());

    // The card: every original member kept with its value; nothing else but
    // the normalised empty fields added.
    json in_card = chunk_json(png, "ccv3");
    json out_card = chunk_json(out_bytes, "ccv3");
    CHECK(includes(out_card, in_card));
    CHECK(out_card["data"].size() == in_card["data"].size() + 10);  // the 10 absent spec fields, now empty
    CHECK(out_card["data"]["personality"] == "");
    CHECK(chunk_json(out_bytes, "chara")["data"]["extensions"]["my_app"]["mood"] == "v3-only");
    // The picture: same header and pixels.
    auto after = wb::test::decode_png(out_bytes);
    REQUIRE(after);
    CHECK(after->width == before->width);
    CHECK(after->height == before->height);
    CHECK(after->bit_depth == before->bit_depth);
    CHECK(after->color_type == before->color_type);
    CHECK(after->interlace == before->interlace);
    CHECK(after->pixels == before->pixels);
    CHECK(after->palette_alpha == before->palette_alpha);
    // Other chunks: kept.
    CHECK(after->has_phys);
    CHECK(after->has_gama);
    CHECK(after->has_time);
    CHECK(std::count(after->unknown.begin(), after->unknown.end(), "prVt") == 1);
    int titles = 0, charas = 0, ccv3s = 0;
    for (const auto& [k, v] : after->texts) {
      titles += k == "Title" && v == "portrait";
      charas += k == "chara";
      ccv3s += k == "ccv3";
    }
    CHECK(titles == 1);
    CHECK(charas == 1);  // replaced, not duplicated
    CHECK(ccv3s == 1);

    // And once more PNG -> PNG from the card's own picture: byte-identical.
    Card again = parse_png(out_bytes);
    auto png3 = card_to_png(again);
    REQUIRE(png3);
    CHECK(*png3 == out_bytes);
  }
}

TEST_CASE("broken PNGs are refused with a clear error", "[card][png][bad-input]") {
  PngSpec s;
  s.texts_before = {{"chara", b64(card_json("chara_card_v2", "Victim"))}};
  auto good = wb::test::make_png(s);
  REQUIRE(parse_card_bytes(good, "good.png"));

  SECTION("bad CRC in the card chunk") {
    auto bad = good;
    std::size_t at = wb::test::find_chunk(bad, "tEXt", "chara");
    REQUIRE(at != std::string::npos);
    bad[at + 8 + 10] ^= 0x01;  // a byte of the base64 text; the CRC no longer matches
    CHECK_THAT(parse_png_err(bad), Catch::Contains("broken.png") && Catch::Contains("CRC"));
  }
  SECTION("bad CRC in the image data") {
    auto bad = good;
    std::size_t at = wb::test::find_chunk(bad, "IDAT");
    REQUIRE(at != std::string::npos);
    std::size_t len = std::size_t{bad[at]} << 24 | std::size_t{bad[at + 1]} << 16 | std::size_t{bad[at + 2]} << 8 | bad[at + 3];
    bad[at + 8 + len + 3] ^= 0x40;  // the stored CRC itself
    CHECK_THAT(parse_png_err(bad), Catch::Contains("broken PNG") && Catch::Contains("CRC"));
  }
  SECTION("truncated at every length") {
    for (std::size_t n = 0; n + 1 < good.size(); n += (n < 64 ? 1 : 37)) {
      std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
      auto r = parse_card_bytes(cut, "cut.png");
      INFO("length " << n);
      REQUIRE_FALSE(r);
      CHECK_THAT(r.error().message, Catch::Contains("cut.png"));
    }
    std::vector<uint8_t> cut(good.begin(), good.end() - 6);
    CHECK_THAT(parse_png_err(cut), Catch::Contains("truncated"));
  }
  SECTION("chunk is not base64") {
    PngSpec t;
    t.texts_before = {{"chara", "this is {not} base64!"}};
    CHECK_THAT(parse_png_err(wb::test::make_png(t)),
               Catch::Contains("broken.png: chunk 'chara'") && Catch::Contains("not valid base64"));
  }
  SECTION("base64 of something that is not JSON") {
    PngSpec t;
    t.texts_before = {{"ccv3", b64("name: Alice\nthis is yaml")}};
    CHECK_THAT(parse_png_err(wb::test::make_png(t)),
               Catch::Contains("chunk 'ccv3'") && Catch::Contains("not valid JSON"));
  }
  SECTION("card JSON with a wrong-typed field") {
    PngSpec t;
    t.texts_before = {{"chara", b64(R"({"spec":"chara_card_v2","data":{"name":"x","alternate_greetings":{"a":1}}})")}};
    CHECK_THAT(parse_png_err(wb::test::make_png(t)), Catch::Contains("'data.alternate_greetings' must be an array"));
  }
  SECTION("both chunks broken: the error names both") {
    PngSpec t;
    t.texts_before = {{"chara", b64("[]")}, {"ccv3", "???"}};
    CHECK_THAT(parse_png_err(wb::test::make_png(t)), Catch::Contains("'chara'") && Catch::Contains("'ccv3'"));
  }
  SECTION("PNG without a card") {
    PngSpec t;
    t.texts_before = {{"Comment", "just a picture"}};
    CHECK_THAT(parse_png_err(wb::test::make_png(t)), Catch::Contains("PNG has no character card"));
  }
  SECTION("huge card chunk") {
    Limits small;
    small.max_card_bytes = 100;
    auto r = parse_card_bytes(good, "big.png", small);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("big.png"));
  }
  SECTION("absurd image size in the header") {
    PngSpec t;
    t.width = 9000;  // over the 8192 side limit, refused before any pixel memory
    t.height = 1;
    t.texts_before = s.texts_before;
    CHECK_THAT(parse_png_err(wb::test::make_png(t)), Catch::Contains("broken.png"));
  }
  SECTION("a chunk length far beyond the file") {
    auto bad = good;
    std::size_t at = wb::test::find_chunk(bad, "tEXt", "chara");
    REQUIRE(at != std::string::npos);
    bad[at] = 0x5B;  // claims about 1.5 GB; must fail without allocating it
    CHECK_THAT(parse_png_err(bad), Catch::Contains("broken.png: broken PNG"));
  }
  SECTION("bad signature") {
    auto bad = good;
    bad[5] = 'X';
    CHECK_THAT(parse_png_err(bad), Catch::Contains("broken PNG signature"));
  }
}

TEST_CASE("a broken avatar PNG is refused when writing", "[card][png][bad-input]") {
  Card c;
  c.name = "x";
  PngOptions opt;
  opt.avatar_png = {0x89, 'P', 'N', 'G', 1, 2, 3};
  CHECK_FALSE(card_to_png(c, opt));
  auto good = wb::test::make_png(PngSpec{});
  opt.avatar_png.assign(good.begin(), good.end() - 20);
  auto r = card_to_png(c, opt);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("avatar PNG") && Catch::Contains("truncated"));
}

TEST_CASE("save_card writes nothing on failure", "[card][bad-input]") {
  auto dir = wb::test::temp_dir("card_save_fail");
  Card c;
  c.name = "x";
  c.extensions_json = "[not an object]";
  std::string path = (dir / "out.json").string();
  CHECK_FALSE(save_card(c, path));
  CHECK_FALSE(std::filesystem::exists(path));
  c.extensions_json = "{}";
  CHECK_FALSE(save_card(c, (dir / "no-such-dir" / "out.json").string()));
  auto r = save_card(c, (dir / "out.txt").string());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("use .png or .json"));
  // Only the files we meant to create exist: no temporary leftovers.
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 0);
  REQUIRE(save_card(c, (dir / "OUT.PNG").string()));
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
}
