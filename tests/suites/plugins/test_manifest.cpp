// Manifest parsing and the consent store, without any plugin library.
#include "host/consent.hpp"
#include "host/file_hash.hpp"
#include "host/manifest.hpp"
#include "sandbox.hpp"

using namespace wb;
using namespace wb::host;

TEST_CASE("manifests parse and bad ones are refused with the field named", "[plugin][manifest]") {
  auto m = parse_manifest(
      R"({"id":"org.example.a","name":"A","version":"1.2.3","abi_version":"0.1.4","description":"d","library":"a.so","extra":1})",
      "a.json");
  REQUIRE(m);
  CHECK(m->id == "org.example.a");
  CHECK(m->abi_version.major == 0);
  CHECK(m->abi_version.minor == 1);
  CHECK(m->abi_version.patch == 4);
  CHECK(m->library == "a.so");

  struct Bad {
    const char* json;
    const char* message;
  };
  const Bad bad[] = {
      {"", "not valid JSON"},
      {"[]", "not a JSON object"},
      {R"({"version":"1.0.0","abi_version":"0.1.0","library":"a.so"})", "lacks \"id\""},
      {R"({"id":"Org.Example","version":"1.0.0","abi_version":"0.1.0","library":"a.so"})", "not a reverse-DNS id"},
      {R"({"id":"nodots","version":"1.0.0","abi_version":"0.1.0","library":"a.so"})", "not a reverse-DNS id"},
      {R"({"id":"org..x","version":"1.0.0","abi_version":"0.1.0","library":"a.so"})", "not a reverse-DNS id"},
      {R"({"id":"org.x","version":"1.0.0","abi_version":"0.1","library":"a.so"})", "abi_version: bad version"},
      {R"({"id":"org.x","version":"1.0.0","abi_version":"0.1.99999999999","library":"a.so"})", "bad version"},
      {R"({"id":"org.x","version":"1.0.0","abi_version":"0.1.0","library":"../a.so"})", "must be a file name"},
      {R"({"id":"org.x","version":2,"abi_version":"0.1.0","library":"a.so"})", "\"version\" is not a string"},
  };
  for (const auto& b : bad) {
    auto r = parse_manifest(b.json, "bad.json");
    INFO(b.json);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.rfind("bad.json: ", 0) == 0);
    CHECK(r.error().message.find(b.message) != std::string::npos);
  }
}

TEST_CASE("oversized manifests are refused unread", "[plugin][manifest]") {
  auto dir = wb::test::temp_dir("plugins-manifest-size");
  auto p = dir / "huge.wbplugin.json";
  std::ofstream(p) << std::string(kMaxManifestBytes + 1, ' ');
  auto r = read_manifest(p);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::limit);
  CHECK(r.error().message.find("huge.wbplugin.json") != std::string::npos);
}

TEST_CASE("the consent store remembers libraries with their SHA-256", "[plugin][consent]") {
  auto dir = wb::test::temp_dir("plugins-consent-store");
  auto file = dir / "sub" / "plugins.json";
  {
    ConsentStore s(file);
    REQUIRE(s.load());  // missing file: empty
    CHECK(s.consent("/x/a.so", "aa") == Consent::unknown);
    s.enable("/x/a.so", "org.x.a", "aa");
    s.set_shipped_disabled("/y/b.so", true);
    REQUIRE(s.save());
  }
  ConsentStore s(file);
  REQUIRE(s.load());
  CHECK(s.consent("/x/a.so", "aa") == Consent::enabled);
  CHECK(s.consent("/x/a.so", "ab") == Consent::changed);
  CHECK(s.shipped_disabled("/y/b.so"));
  CHECK_FALSE(s.shipped_disabled("/x/a.so"));
  std::ofstream(file, std::ios::trunc) << R"({"enabled":[{"library":"/x/a.so"}]})";
  auto st = s.load();
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("lacks library or sha256") != std::string::npos);
  CHECK(s.consent("/x/a.so", "aa") == Consent::unknown);  // nothing trusted after a bad load
}

TEST_CASE("SHA-256 matches the published test vector", "[plugin][consent]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_FALSE(sha256_file("/nonexistent/file"));
}
