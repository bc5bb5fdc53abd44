// Character cards as JSON: V1/V2/V3 reading, normalisation, lossless writing,
// and refusal of bad cards with errors that name the file and the fault.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/card/base64.hpp"
#include "core/card/card.hpp"

using nlohmann::ordered_json;
using namespace wb::card;

namespace {

ordered_json v2_card() {
  return ordered_json::parse(R"({
    "spec": "chara_card_v2", "spec_version": "2.0",
    "top_level_extra": {"from": "some app"},
    "data": {
      "name": "Mira", "description": "A lighthouse keeper.", "personality": "patient",
      "scenario": "A stormy night.", "first_mes": "Come in, quick!", "mes_example": "<START>\n{{char}}: Tea?",
      "creator_notes": "Be kind.", "system_prompt": "You are Mira.", "post_history_instructions": "Stay in character.",
      "alternate_greetings": ["Who goes there?", "Another storm..."],
      "character_book": {"name": "Coast", "entries": [{"keys": ["lamp"], "content": "The lamp is old.", "extensions": {}}]},
      "tags": ["fantasy", "sea"], "creator": "anon", "character_version": "1.2",
      "extensions": {"talkativeness": "0.7", "depth_prompt": {"prompt": "Mira hums.", "depth": 4}, "other_app": [1, 2, {"x": null}]},
      "unknown_data_field": true
    }
  })");
}

ordered_json v3_card() {
  auto j = v2_card();
  j["spec"] = "chara_card_v3";
  j["spec_version"] = "3.0";
  j["data"]["nickname"] = "Mimi";
  j["data"]["group_only_greetings"] = {"Hello, all of you."};
  j["data"]["source"] = {"https://example.invalid/mira"};
  j["data"]["creator_notes_multilingual"] = {{"en", "Be kind."}, {"fr", "Soyez gentil."}};
  j["data"]["assets"] = ordered_json::parse(R"([{"type":"icon","uri":"ccdefault:","name":"main","ext":"png"}])");
  j["data"]["creation_date"] = 1700000000;
  j["data"]["modification_date"] = 1700000500;
  return j;
}

Card parse_ok(const ordered_json& j) {
  auto c = parse_card_json(j.dump(), "test.json");
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c);
  return *c;
}

std::string parse_err(const std::string& text, wb::Errc* code = nullptr) {
  auto c = parse_card_json(text, "bad.json");
  REQUIRE_FALSE(c);
  if (code) *code = c.error().code;
  return c.error().message;
}

}  // namespace

TEST_CASE("V2 JSON card reads every field", "[card]") {
  Card c = parse_ok(v2_card());
  CHECK(c.spec == Spec::v2);
  CHECK(c.spec_version == "2.0");
  CHECK(c.name == "Mira");
  CHECK(c.description == "A lighthouse keeper.");
  CHECK(c.personality == "patient");
  CHECK(c.scenario == "A stormy night.");
  CHECK(c.first_mes == "Come in, quick!");
  CHECK(c.mes_example == "<START>\n{{char}}: Tea?");
  CHECK(c.creator_notes == "Be kind.");
  CHECK(c.system_prompt == "You are Mira.");
  CHECK(c.post_history_instructions == "Stay in character.");
  CHECK(c.alternate_greetings == std::vector<std::string>{"Who goes there?", "Another storm..."});
  CHECK(c.tags == std::vector<std::string>{"fantasy", "sea"});
  CHECK(c.creator == "anon");
  CHECK(c.character_version == "1.2");
  CHECK(ordered_json::parse(c.extensions_json) == v2_card()["data"]["extensions"]);
  CHECK(ordered_json::parse(c.character_book_json) == v2_card()["data"]["character_book"]);
  CHECK(c.nickname.empty());
  CHECK(c.display_name() == "Mira");
}

TEST_CASE("V3 JSON card reads the V3 additions", "[card]") {
  Card c = parse_ok(v3_card());
  CHECK(c.spec == Spec::v3);
  CHECK(c.nickname == "Mimi");
  CHECK(c.display_name() == "Mimi");
  CHECK(c.group_only_greetings == std::vector<std::string>{"Hello, all of you."});
  CHECK(c.source == std::vector<std::string>{"https://example.invalid/mira"});
  CHECK(ordered_json::parse(c.creator_notes_multilingual_json)["fr"] == "Soyez gentil.");
  CHECK(ordered_json::parse(c.assets_json)[0]["uri"] == "ccdefault:");
  REQUIRE(c.creation_date);
  CHECK(*c.creation_date == 1700000000);
  REQUIRE(c.modification_date);
  CHECK(*c.modification_date == 1700000500);
}

TEST_CASE("V1 flat card is read and written as V2 with its flat fields kept", "[card]") {
  auto j = ordered_json::parse(R"({"name":"Old","description":"d","personality":"p","scenario":"s",
      "first_mes":"hi","mes_example":"ex","creatorcomment":"notes","talkativeness":"0.5","fav":false})");
  Card c = parse_ok(j);
  CHECK(c.spec == Spec::v1);
  CHECK(c.name == "Old");
  CHECK(c.creator_notes == "notes");
  c.description = "edited";
  auto out = card_to_json(c, Spec::v2);
  REQUIRE(out);
  auto o = ordered_json::parse(*out);
  CHECK(o["spec"] == "chara_card_v2");
  CHECK(o["data"]["name"] == "Old");
  CHECK(o["data"]["description"] == "edited");
  CHECK(o["description"] == "edited");  // the flat copy follows the edit
  CHECK(o["talkativeness"] == "0.5");
  CHECK(o["fav"] == false);
  CHECK_FALSE(card_to_json(c, Spec::v1));
}

TEST_CASE("missing optional fields normalise to empty values", "[card]") {
  Card c = parse_ok(ordered_json::parse(R"({"spec":"chara_card_v2","data":{"name":"Bare"}})"));
  CHECK(c.description.empty());
  CHECK(c.tags.empty());
  CHECK(c.extensions_json == "{}");
  auto out = card_to_json(c, Spec::v3);
  REQUIRE(out);
  auto d = ordered_json::parse(*out)["data"];
  for (const char* k : {"name", "description", "personality", "scenario", "first_mes", "mes_example", "creator_notes",
                        "system_prompt", "post_history_instructions", "creator", "character_version"}) {
    INFO(k);
    CHECK(d[k].is_string());
  }
  CHECK(d["alternate_greetings"].is_array());
  CHECK(d["tags"].is_array());
  CHECK(d["group_only_greetings"].is_array());
  CHECK(d["extensions"].is_object());
  CHECK_FALSE(d.contains("character_book"));
  CHECK_FALSE(d.contains("nickname"));
}

TEST_CASE("JSON round trip keeps unknown fields and extensions", "[card]") {
  for (auto original : {v2_card(), v3_card()}) {
    Card c = parse_ok(original);
    Spec spec = c.spec;
    auto out = card_to_json(c, spec);
    REQUIRE(out);
    // Same content as the original (key order aside): nothing dropped,
    // nothing invented; these full cards need no normalised empties.
    CHECK(nlohmann::json::parse(*out) == nlohmann::json::parse(original.dump()));
  }
}

TEST_CASE("edits overlay the original object", "[card]") {
  Card c = parse_ok(v3_card());
  c.description = "Retired keeper.";
  c.tags.push_back("retired");
  c.nickname.clear();
  c.character_book_json.clear();
  auto ext = ordered_json::parse(c.extensions_json);
  ext["workbench"] = {{"voice", "low"}};
  c.extensions_json = ext.dump();
  auto out = card_to_json(c, Spec::v3);
  REQUIRE(out);
  auto o = ordered_json::parse(*out);
  CHECK(o["data"]["description"] == "Retired keeper.");
  CHECK(o["data"]["tags"].size() == 3);
  CHECK(o["data"]["nickname"] == "");  // was present: kept, now empty
  CHECK_FALSE(o["data"].contains("character_book"));
  CHECK(o["data"]["extensions"]["workbench"]["voice"] == "low");
  CHECK(o["data"]["extensions"]["other_app"] == v2_card()["data"]["extensions"]["other_app"]);
  CHECK(o["data"]["unknown_data_field"] == true);
  CHECK(o["top_level_extra"]["from"] == "some app");
}

TEST_CASE("a V3 card written as V2 keeps its data and says V2", "[card]") {
  Card c = parse_ok(v3_card());
  auto out = card_to_json(c, Spec::v2);
  REQUIRE(out);
  auto o = ordered_json::parse(*out);
  CHECK(o["spec"] == "chara_card_v2");
  CHECK(o["spec_version"] == "2.0");
  CHECK(o["data"]["nickname"] == "Mimi");
  // A fresh V2 card gets no V3 fields it never had.
  Card fresh;
  fresh.name = "New";
  auto f = card_to_json(fresh, Spec::v2);
  REQUIRE(f);
  CHECK_FALSE(ordered_json::parse(*f)["data"].contains("group_only_greetings"));
}

TEST_CASE("bad JSON cards are refused with a clear error", "[card][bad-input]") {
  wb::Errc code{};
  CHECK_THAT(parse_err("{\"spec\":\"chara_card_v2\",\"data\":", &code), Catch::Contains("bad.json") && Catch::Contains("not valid JSON"));
  CHECK(code == wb::Errc::format);
  CHECK_THAT(parse_err("[1,2]"), Catch::Contains("not a character card"));
  CHECK_THAT(parse_err("{\"hello\":1}"), Catch::Contains("not a character card"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v9","data":{"name":"x"}})"), Catch::Contains("unknown card spec 'chara_card_v9'"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v2","spec_version":"2.0"})"), Catch::Contains("missing required field 'data'"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v2","data":[]})"), Catch::Contains("'data' must be an object"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v2","data":{"description":"no name"}})"), Catch::Contains("missing required field 'data.name'"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v2","data":{"name":5}})"), Catch::Contains("'data.name' must be a string, not number"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v2","data":{"name":"x","tags":"a,b"}})"), Catch::Contains("'data.tags' must be an array of strings"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v2","data":{"name":"x","tags":["a",3]}})"), Catch::Contains("'data.tags[1]' must be a string"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v2","data":{"name":"x","extensions":"no"}})"), Catch::Contains("'data.extensions' must be an object"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v2","data":{"name":"x","character_book":{"entries":{}}}})"), Catch::Contains("'data.character_book.entries' must be an array"));
  CHECK_THAT(parse_err(R"({"spec":"chara_card_v3","data":{"name":"x","creation_date":"yesterday"}})"), Catch::Contains("'data.creation_date' must be a number"));
  CHECK_THAT(parse_err(R"({"spec":7,"data":{"name":"x"}})"), Catch::Contains("'spec' must be a string"));
}

TEST_CASE("null optional fields read as absent", "[card]") {
  Card c = parse_ok(ordered_json::parse(R"({"spec":"chara_card_v2","data":{"name":"x","character_book":null,"tags":null}})"));
  CHECK(c.character_book_json.empty());
  CHECK(c.tags.empty());
}

TEST_CASE("huge fields, huge cards and deep nesting are refused", "[card][bad-input][limits]") {
  ordered_json j = {{"spec", "chara_card_v2"}, {"data", {{"name", "Big"}}}};
  j["data"]["description"] = std::string((1u << 20) + 1, 'a');
  wb::Errc code{};
  CHECK_THAT(parse_err(j.dump(), &code), Catch::Contains("'data.description'") && Catch::Contains("over the limit"));
  CHECK(code == wb::Errc::limit);
  // Exactly at the limit is fine.
  j["data"]["description"] = std::string(1u << 20, 'a');
  CHECK(parse_card_json(j.dump(), "ok.json"));

  // Huge strings hidden inside extensions count too.
  ordered_json e = {{"spec", "chara_card_v2"}, {"data", {{"name", "x"}, {"extensions", {{"blob", {{"deep", std::string((1u << 20) + 5, 'b')}}}}}}}};
  CHECK_THAT(parse_err(e.dump()), Catch::Contains("'data.extensions.blob.deep'"));

  // Total size: smaller limits keep the test fast; the rule is the same.
  Limits small;
  small.max_card_bytes = 1000;
  small.max_field_bytes = 100;
  ordered_json t = {{"spec", "chara_card_v2"}, {"data", {{"name", "x"}}}};
  for (int i = 0; i < 20; ++i) t["data"][std::to_string(i) + "f"] = std::string(90, 'c');
  auto r = parse_card_json(t.dump(), "total.json", small);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == wb::Errc::limit);
  CHECK_THAT(r.error().message, Catch::Contains("total.json") && Catch::Contains("over the limit of 1000 bytes"));

  std::string deep = R"({"spec":"chara_card_v2","data":{"name":"x","extensions":{"a":)";
  for (int i = 0; i < 200; ++i) deep += "[";
  for (int i = 0; i < 200; ++i) deep += "]";
  deep += "}}}";
  CHECK_THAT(parse_err(deep, &code), Catch::Contains("nested deeper"));
  CHECK(code == wb::Errc::limit);
}

TEST_CASE("writing refuses fields edited past the limits or to bad JSON", "[card][limits]") {
  Card c;
  c.name = "x";
  c.description = std::string((1u << 20) + 1, 'd');
  auto r = card_to_json(c, Spec::v3);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("data.description"));
  c.description.clear();
  c.extensions_json = "[1]";
  CHECK_FALSE(card_to_json(c, Spec::v3));
  c.extensions_json = "{broken";
  CHECK_FALSE(card_to_json(c, Spec::v3));
  c.extensions_json = "{}";
  c.name = std::string("\xff\xfe", 2);  // not UTF-8
  CHECK_FALSE(card_to_json(c, Spec::v3));
}

TEST_CASE("parse_card_bytes sniffs JSON and refuses other bytes", "[card][bad-input]") {
  std::string bom = "\xEF\xBB\xBF  " + v2_card().dump();
  std::vector<uint8_t> bytes(bom.begin(), bom.end());
  auto c = parse_card_bytes(bytes, "bom.json");
  REQUIRE(c);
  CHECK(c->name == "Mira");
  std::string junk = "GIF89a....";
  auto r = parse_card_bytes(std::vector<uint8_t>(junk.begin(), junk.end()), "x.gif");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("x.gif") && Catch::Contains("neither a PNG nor a JSON"));
  CHECK_FALSE(parse_card_bytes({}, "empty"));
}

TEST_CASE("base64 round trips every length and rejects junk", "[card][base64]") {
  std::string s;
  for (int n = 0; n < 70; ++n) {
    auto enc = base64_encode(s);
    CHECK(enc.size() == (s.size() + 2) / 3 * 4);
    auto dec = base64_decode(enc);
    REQUIRE(dec);
    CHECK(*dec == s);
    s += static_cast<char>(n * 37 + 11);
  }
  CHECK(base64_encode("Man") == "TWFu");
  CHECK(base64_encode("Ma") == "TWE=");
  CHECK(*base64_decode("TW\nE=") == "Ma");
  CHECK(*base64_decode("TWE") == "Ma");  // unpadded
  CHECK_FALSE(base64_decode("TW*u"));
  CHECK_FALSE(base64_decode("T"));
  CHECK_FALSE(base64_decode("TWE=x"));
  CHECK_FALSE(base64_decode("=TWE"));
  CHECK_FALSE(base64_decode("TW==="));
  CHECK_THAT(base64_decode("abc!").error().message, Catch::Contains("offset 3"));
}
