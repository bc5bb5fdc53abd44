// Transcript export: .txt, .md and SillyTavern JSONL shapes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/dialogue/transcript.hpp"
#include "support/fixtures.hpp"

using namespace wb::dialogue;
using nlohmann::json;

namespace {

Transcript scene() {
  Transcript t;
  t.title = "Storm at the lighthouse";
  t.user_name = "Ada";
  t.character_name = "Mira";
  t.create_date_ms = 1700000000123;
  TranscriptMessage narr;
  narr.role = Role::narrator;
  narr.text = "Rain hammers the glass.";
  TranscriptMessage mira;
  mira.speaker = "Mira";
  mira.text = "Come in, quick!\nThe lamp is failing.";
  mira.send_date_ms = 1700000001000;
  mira.alternatives = {"Who's there?", "Come in, quick!\nThe lamp is failing."};
  mira.chosen = 1;
  TranscriptMessage ada;
  ada.speaker = "Ada";
  ada.role = Role::user;
  ada.text = "# not a heading, *not bold*";
  ada.note = "whispers to Mira";
  t.messages = {narr, mira, ada};
  return t;
}

TranscriptMessage msg(const std::string& speaker, const std::string& text) {
  TranscriptMessage m;
  m.speaker = speaker;
  m.text = text;
  return m;
}

std::vector<json> lines(const std::string& jsonl) {
  std::vector<json> out;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("plain text transcript", "[dialogue][transcript]") {
  std::string s = to_text(scene());
  CHECK(s.rfind("Storm at the lighthouse\n\n", 0) == 0);
  CHECK_THAT(s, Catch::Contains("\n\nRain hammers the glass.\n\n"));
  CHECK_THAT(s, Catch::Contains("Mira: Come in, quick!\nThe lamp is failing.\n\n"));
  CHECK_THAT(s, Catch::Contains("Ada (whispers to Mira): # not a heading"));
}

TEST_CASE("Markdown transcript escapes message text", "[dialogue][transcript]") {
  std::string s = to_markdown(scene());
  CHECK(s.rfind("# Storm at the lighthouse\n\n", 0) == 0);
  CHECK_THAT(s, Catch::Contains("*Rain hammers the glass.*"));
  CHECK_THAT(s, Catch::Contains("**Mira:** Come in, quick!  \nThe lamp is failing."));
  CHECK_THAT(s, Catch::Contains("**Ada (whispers to Mira):** \\# not a heading, \\*not bold\\*"));
  Transcript t;
  t.messages.push_back(msg("X", "intro\n1. not a list\n- nor this\n> nor a quote"));
  std::string m = to_markdown(t);
  CHECK_THAT(m, Catch::Contains("1\\. not a list"));
  CHECK_THAT(m, Catch::Contains("\\- nor this"));
  CHECK_THAT(m, Catch::Contains("\\> nor a quote"));
}

TEST_CASE("SillyTavern JSONL: header line then one object per message", "[dialogue][transcript]") {
  auto r = to_sillytavern_jsonl(scene());
  REQUIRE(r);
  auto l = lines(*r);
  REQUIRE(l.size() == 4);
  CHECK(l[0]["user_name"] == "Ada");
  CHECK(l[0]["character_name"] == "Mira");
  CHECK(l[0]["create_date"] == "2023-11-14T22:13:20.123Z");
  CHECK(l[0]["chat_metadata"].is_object());
  CHECK(l[1]["is_system"] == true);
  CHECK(l[1]["is_user"] == false);
  CHECK(l[2]["name"] == "Mira");
  CHECK(l[2]["mes"] == "Come in, quick!\nThe lamp is failing.");
  CHECK(l[2]["send_date"] == "2023-11-14T22:13:21.000Z");
  CHECK(l[2]["swipes"].size() == 2);
  CHECK(l[2]["swipe_id"] == 1);
  CHECK(l[2]["swipes"][l[2]["swipe_id"].get<int>()] == l[2]["mes"]);
  CHECK(l[3]["is_user"] == true);
  CHECK(l[3]["extra"]["workbench_note"] == "whispers to Mira");
  CHECK_FALSE(l[3].contains("swipes"));

  Transcript bad;
  bad.messages.push_back(msg("X", std::string("\xff\xfe", 2)));
  CHECK_FALSE(to_sillytavern_jsonl(bad));
}

TEST_CASE("export_transcript picks the format by extension", "[dialogue][transcript]") {
  auto dir = wb::test::temp_dir("transcript_export");
  for (const char* ext : {".txt", ".md", ".jsonl"}) {
    std::string p = (dir / (std::string("scene") + ext)).string();
    REQUIRE(export_transcript(scene(), p));
    std::ifstream f(p);
    std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK_FALSE(content.empty());
    if (std::string(ext) == ".jsonl") CHECK(lines(content).size() == 4);
    if (std::string(ext) == ".md") CHECK(content == to_markdown(scene()));
  }
  auto r = export_transcript(scene(), (dir / "scene.docx").string());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("scene.docx"));
  CHECK_FALSE(std::filesystem::exists(dir / "scene.docx"));
  CHECK_FALSE(export_transcript(scene(), (dir / "missing" / "x.md").string()));
}
