// Fuzz target for a project file's node rows: the blobs load_tree parses
// (token lists, recorded alternatives, and the draft parts a generation in
// flight appends). The input is split into the blobs of one node row and one
// draft part, written into a fresh project file with plain SQL (as a damaged
// or hostile file could hold them), then opened and loaded. Loading must
// either fail with an error or give a tree whose nodes' tokens and
// alternatives agree with what the parts added.
//
// Input: 4 length bytes (each blob up to 255 bytes), then the node's tokens, node's alternatives, part's
// tokens, part's alternatives, and the rest as the part's text.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/project/project.hpp"

namespace {

std::string take(const uint8_t*& p, const uint8_t* end, std::size_t n) {
  n = std::min<std::size_t>(n, static_cast<std::size_t>(end - p));
  std::string s(reinterpret_cast<const char*>(p), n);
  p += n;
  return s;
}

bool bind_exec(sqlite3* db, const char* sql, const std::string* blobs, int n) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return false;
  for (int i = 0; i < n; ++i) sqlite3_bind_blob64(st, i + 1, blobs[i].data(), blobs[i].size(), SQLITE_TRANSIENT);
  const bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  if (size < 4) return 0;
  const uint8_t* p = data + 4;
  const uint8_t* end = data + size;
  std::string node_tokens = take(p, end, data[0]), node_alts = take(p, end, data[1]);
  std::string part[3];
  part[1] = take(p, end, data[2]);
  part[2] = take(p, end, data[3]);
  part[0] = take(p, end, static_cast<std::size_t>(end - p));

  static const fs::path file = fs::temp_directory_path() / ("wb-fuzz-project-" + std::to_string(getpid()) + ".wbstory");
  fs::remove(file);
  fs::remove(file.string() + "-wal");
  fs::remove(file.string() + "-shm");
  {
    auto created = wb::project::Project::create(file.string());
    if (!created) __builtin_trap();  // a fresh file in the temp folder must work
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) __builtin_trap();
  const std::string node_blobs[2] = {node_tokens, node_alts};
  // Node 2 under the root row the new project holds.
  bool ok = bind_exec(db,
                      "INSERT INTO nodes VALUES(2, (SELECT MIN(id) FROM nodes), 0, x'6869', ?1, 'model', '', 0, ?2, 0,"
                      " '', 0, '')",
                      node_blobs, 2);
  ok = ok && bind_exec(db, "INSERT INTO draft_parts VALUES(2, 1, ?1, ?2, ?3)", part, 3);
  sqlite3_close(db);
  if (!ok) __builtin_trap();

  auto project = wb::project::Project::open(file.string());
  if (!project) return 0;
  auto tree = (*project)->load_tree();
  if (!tree) return 0;
  const wb::tree::Node* n = tree->find(2);
  if (!n) __builtin_trap();
  // A part is only joined to a node whose alternatives match its tokens, and
  // only when its own do: what loads is consistent.
  if (n->alternatives.size() != n->tokens.size() && !(n->alternatives.empty() && part[1].empty()))
    __builtin_trap();
  return 0;
}
