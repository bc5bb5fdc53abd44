// `wb card show` and `wb card convert`, run as a user would run them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/card/base64.hpp"
#include "png_helpers.hpp"
#include "support/fixtures.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}
void write_file(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::string q(const fs::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}

const char* kCard = R"({"spec":"chara_card_v2","spec_version":"2.0","data":{"name":"Cli",
  "description":"From the command line.","extensions":{"my_tool":{"keep":[1,"two"]}},"odd_field":"kept"},
  "root_extra":7})";

}  // namespace

TEST_CASE("wb card show prints normalised JSON with extensions", "[card][cli]") {
  auto dir = wb::test::temp_dir("card_cli_show");
  write_file(dir / "c.json", std::string(kCard));
  auto r = wb::test::run_wb("card show " + q(dir / "c.json"));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["spec"] == "chara_card_v3");
  CHECK(j["data"]["name"] == "Cli");
  CHECK(j["data"]["personality"] == "");
  CHECK(j["data"]["extensions"]["my_tool"]["keep"][1] == "two");
  CHECK(j["data"]["odd_field"] == "kept");
  CHECK(j["root_extra"] == 7);

  auto v2 = wb::test::run_wb("card show --spec v2 " + q(dir / "c.json"));
  REQUIRE(v2.exit_code == 0);
  CHECK(json::parse(v2.out)["spec"] == "chara_card_v2");

  // A PNG card shows the same way.
  wb::test::PngSpec s;
  s.texts_before = {{"chara", wb::card::base64_encode(kCard)}};
  write_file(dir / "c.png", wb::test::make_png(s));
  auto p = wb::test::run_wb("card show " + q(dir / "c.png"));
  REQUIRE(p.exit_code == 0);
  CHECK(json::parse(p.out) == j);
}

TEST_CASE("wb card convert JSON -> PNG -> JSON keeps unknown fields", "[card][cli][roundtrip]") {
  auto dir = wb::test::temp_dir("card_cli_convert");
  write_file(dir / "in.json", std::string(kCard));
  auto a = wb::test::run_wb("card convert " + q(dir / "in.json") + " " + q(dir / "out.png"));
  INFO(a.out);
  REQUIRE(a.exit_code == 0);
  auto png = wb::test::read_bytes((dir / "out.png").string());
  auto decoded = wb::test::decode_png(std::vector<uint8_t>(png.begin(), png.end()));
  REQUIRE(decoded);
  int chunks = 0;
  for (const auto& [k, v] : decoded->texts) chunks += (k == "chara") + (k == "ccv3");
  CHECK(chunks == 2);

  auto b = wb::test::run_wb("card convert " + q(dir / "out.png") + " " + q(dir / "back.json"));
  REQUIRE(b.exit_code == 0);
  std::ifstream f(dir / "back.json");
  json back = json::parse(f);
  json in = json::parse(kCard);
  CHECK(back["data"]["odd_field"] == "kept");
  CHECK(back["root_extra"] == 7);
  CHECK(back["data"]["extensions"] == in["data"]["extensions"]);
  CHECK(back["data"]["description"] == in["data"]["description"]);

  // With an avatar picture: its pixels are used.
  wb::test::PngSpec s;
  s.width = 7;
  s.height = 3;
  auto avatar = wb::test::make_png(s);
  write_file(dir / "face.png", avatar);
  auto c = wb::test::run_wb("card convert " + q(dir / "in.json") + " " + q(dir / "face-card.png") + " --avatar " +
                            q(dir / "face.png"));
  REQUIRE(c.exit_code == 0);
  auto fc = wb::test::read_bytes((dir / "face-card.png").string());
  auto fd = wb::test::decode_png(std::vector<uint8_t>(fc.begin(), fc.end()));
  REQUIRE(fd);
  CHECK(fd->pixels == wb::test::decode_png(avatar)->pixels);
}

TEST_CASE("wb card fails cleanly on bad input and writes nothing", "[card][cli][bad-input]") {
  auto dir = wb::test::temp_dir("card_cli_bad");
  wb::test::PngSpec good_spec;
  good_spec.texts_before = {{"chara", wb::card::base64_encode(kCard)}};
  auto good = wb::test::make_png(good_spec);

  auto bad_crc = good;
  bad_crc[wb::test::find_chunk(bad_crc, "tEXt", "chara") + 20] ^= 1;
  wb::test::PngSpec no_card;
  wb::test::PngSpec not_b64;
  not_b64.texts_before = {{"chara", "***"}};
  wb::test::PngSpec not_json;
  not_json.texts_before = {{"ccv3", wb::card::base64_encode("hello")}};
  json huge = json::parse(kCard);
  huge["data"]["description"] = std::string((1u << 20) + 10, 'x');

  struct Case {
    const char* file;
    std::vector<uint8_t> bytes;
    const char* fault;
  };
  auto text = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  std::vector<Case> cases = {
      {"crc.png", bad_crc, "CRC"},
      {"cut.png", std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(good.size() / 2)), "truncated"},
      {"nocard.png", wb::test::make_png(no_card), "no character card"},
      {"b64.png", wb::test::make_png(not_b64), "not valid base64"},
      {"json.png", wb::test::make_png(not_json), "not valid JSON"},
      {"missing.json", text(R"({"spec":"chara_card_v2","data":{}})"), "missing required field 'data.name'"},
      {"typed.json", text(R"({"spec":"chara_card_v2","data":{"name":"x","tags":7}})"), "must be an array"},
      {"huge.json", text(huge.dump()), "over the limit"},
      {"photo.jpg", text("\xFF\xD8\xFF\xE0 not a png"), "neither a PNG nor a JSON"},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    write_file(dir / c.file, c.bytes);
    auto show = wb::test::run_wb("card show " + q(dir / c.file));
    INFO(show.out);
    CHECK(show.exit_code != 0);
    CHECK_THAT(show.out, Catch::Contains(c.file) && Catch::Contains(c.fault));
    for (const char* ext : {".json", ".png"}) {
      fs::path out = dir / (std::string("out-") + c.file + ext);
      auto conv = wb::test::run_wb("card convert " + q(dir / c.file) + " " + q(out));
      CHECK(conv.exit_code != 0);
      CHECK_THAT(conv.out, Catch::Contains(c.fault));
      CHECK_FALSE(fs::exists(out));
    }
  }

  // An existing output file is left untouched by a failed convert.
  write_file(dir / "keep.json", std::string("precious"));
  CHECK(wb::test::run_wb("card convert " + q(dir / "b64.png") + " " + q(dir / "keep.json")).exit_code != 0);
  std::ifstream keep(dir / "keep.json");
  std::string kept((std::istreambuf_iterator<char>(keep)), std::istreambuf_iterator<char>());
  CHECK(kept == "precious");

  // Usage errors.
  CHECK(wb::test::run_wb("card").exit_code != 0);
  CHECK(wb::test::run_wb("card frobnicate x").exit_code != 0);
  CHECK(wb::test::run_wb("card show").exit_code != 0);
  CHECK(wb::test::run_wb("card show " + q(dir / "nope.json")).exit_code != 0);
  write_file(dir / "ok.json", std::string(kCard));
  CHECK(wb::test::run_wb("card convert " + q(dir / "ok.json") + " " + q(dir / "x.gif")).exit_code != 0);
  CHECK(wb::test::run_wb("card show --spec v7 " + q(dir / "ok.json")).exit_code != 0);
  CHECK(wb::test::run_wb("card show --bogus " + q(dir / "ok.json")).exit_code != 0);
  // Leftovers: no temporary files from any failed write.
  for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}
