// `wb story` end to end, including a real SIGKILL in the middle of a generation.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/project/project.hpp"
#include "helpers.hpp"

using namespace wb;

namespace {

const std::string& tiny_path() {
  static const std::string p = test::fixture("rwkv-cpp-tiny/tiny-rwkv-7v0-834K-FP32.bin");
  return p;
}

std::string q(const std::string& s) { return "'" + s + "'"; }

// Longest model-written node in the file, read the way any other process would.
int64_t longest_model_node(const std::string& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db, 1000);
  int64_t best = -1;
  sqlite3_stmt* st = nullptr;
  // A generation in flight stores its node once, then appends draft parts.
  const char* sql =
      "SELECT MAX((LENGTH(tokens) + (SELECT COALESCE(SUM(LENGTH(p.tokens)), 0) FROM draft_parts p"
      " WHERE p.node = nodes.id)) / 4) FROM nodes WHERE origin = 'model'";
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    best = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return best;
}

}  // namespace

TEST_CASE("wb story create append continue list export and JSON round trip", "[tree][cli][rwkv]") {
  auto dir = test::temp_dir("cli_story");
  std::string file = (dir / "s.wbstory").string();
  auto r = test::run_wb("story new " + q(file) + " --model " + q(tiny_path()) + " --text 'The tide turned. '");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "2\n");
  r = test::run_wb("story continue " + q(file) + " 2 -n 12 --alternatives 2 --seed 5");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(("\n" + r.out).find("\n3\t") != std::string::npos);  // stdout: "ID<TAB>text" per new node
  CHECK(("\n" + r.out).find("\n4\t") != std::string::npos);
  r = test::run_wb("story append " + q(file) + " 3 --text ' And then?'");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "5\n");
  r = test::run_wb("story label " + q(file) + " 4 other");
  REQUIRE(r.exit_code == 0);
  r = test::run_wb("story list " + q(file));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("[other]") != std::string::npos);
  CHECK(r.out.find("5 * user") != std::string::npos);  // appended node is current
  r = test::run_wb("story switch " + q(file) + " other");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("recomputed 0 tokens") != std::string::npos);  // 4 is a stored leaf
  r = test::run_wb("story export " + q(file) + " 5 --format txt");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("The tide turned. ", 0) == 0);
  CHECK(r.out.find(" And then?") != std::string::npos);

  std::string j1 = (dir / "a.json").string(), j2 = (dir / "b.json").string(), copy = (dir / "copy.wbstory").string();
  REQUIRE(test::run_wb("story export " + q(file) + " --out " + q(j1)).exit_code == 0);
  r = test::run_wb("story import " + q(copy) + " --json " + q(j1) + " --model " + q(tiny_path()));
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  REQUIRE(test::run_wb("story export " + q(copy) + " --out " + q(j2)).exit_code == 0);
  CHECK(test::read_bytes(j1) == test::read_bytes(j2));

  // Errors are clear and non-zero.
  r = test::run_wb("story continue " + q(file) + " 999 -n 3");
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("no node 999") != std::string::npos);
  r = test::run_wb("story new " + q(file) + " --model " + q(tiny_path()));
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("already exists") != std::string::npos);
}

TEST_CASE("wb generate continues a prompt deterministically", "[tree][cli][rwkv]") {
  // run_wb merges stderr (the speed line) after the text: compare the text.
  auto a = test::run_wb("generate " + q(tiny_path()) + " --prompt 'Once upon a time' -n 30 --seed 3");
  auto b = test::run_wb("generate " + q(tiny_path()) + " --prompt 'Once upon a time' -n 30 --seed 3");
  auto c = test::run_wb("generate " + q(tiny_path()) + " --prompt 'Once upon a time' -n 30 --seed 4");
  REQUIRE(a.exit_code == 0);
  REQUIRE(a.out.size() > 31);
  CHECK(a.out[30] == '\n');  // 30 byte tokens, then a newline
  CHECK(a.out.find("generated 30 tokens") != std::string::npos);
  CHECK(a.out.substr(0, 30) == b.out.substr(0, 30));
  CHECK(a.out.substr(0, 30) != c.out.substr(0, 30));
  auto bad = test::run_wb("generate " + q(tiny_path()) + " --prompt x -n 3 --top-p 7");
  CHECK(bad.exit_code != 0);
  CHECK(bad.out.find("top_p") != std::string::npos);
}

TEST_CASE("SIGKILL in the middle of a generation loses at most the tokens in flight", "[tree][cli][project][rwkv]") {
  auto dir = test::temp_dir("cli_sigkill");
  std::string file = (dir / "s.wbstory").string();
  auto r = test::run_wb("story new " + q(file) + " --model " + q(tiny_path()) + " --text 'Night fell on the harbour. '");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);

  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(WB_CLI_PATH, "wb", "story", "continue", file.c_str(), "-n", "1000000", "--seed", "8", nullptr);
    _exit(127);
  }
  // Wait until the child has written a good number of tokens, then kill it.
  int64_t seen = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    seen = longest_model_node(file);
    if (seen >= 40) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(seen >= 40);

  // The file opens cleanly and holds at least everything seen before the kill.
  auto p = project::Project::open(file);
  INFO((p ? "" : p.error().message));
  REQUIRE(p.ok());
  auto parts = (*p)->draft_part_count();
  REQUIRE(parts.ok());
  CHECK(*parts >= 1);  // the draft grew by appended parts, which load_tree joins
  auto t = (*p)->load_tree();
  REQUIRE(t.ok());
  const tree::Node* gen = nullptr;
  for (auto id : t->ids())
    if (t->find(id)->origin == "model") gen = t->find(id);
  REQUIRE(gen != nullptr);
  CHECK(static_cast<int64_t>(gen->tokens.size()) >= seen);
  CHECK(gen->tokens == test::bytes_of(gen->text));  // text and tokens agree
  CHECK(gen->alternatives.size() == gen->tokens.size());
  p->reset();

  // And the story goes on from the recovered node.
  r = test::run_wb("story continue " + q(file) + " " + std::to_string(gen->id) + " -n 5");
  INFO(r.out);
  CHECK(r.exit_code == 0);
}
