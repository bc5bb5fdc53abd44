#include "core/project/project.hpp"

#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

namespace wb::project {
namespace {

using tree::Node;
using tree::NodeId;

// Limits on what we accept from a file, so a damaged one cannot make us
// allocate absurd amounts.
constexpr std::size_t kMaxTokensPerNode = 64u << 20;
constexpr std::size_t kMaxSnapshotFloats = 1u << 30;  // 4 GiB of state + logits

// RAII prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK && s_; }
  sqlite3_stmt* get() { return s_; }
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void bind_blob(int i, const void* p, std::size_t n) {
    sqlite3_bind_blob64(s_, i, n ? p : "", static_cast<sqlite3_uint64>(n), SQLITE_TRANSIENT);
  }
  int step() { return sqlite3_step(s_); }
  int64_t i64(int c) { return sqlite3_column_int64(s_, c); }
  std::string text(int c) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_blob(s_, c));
    int n = sqlite3_column_bytes(s_, c);
    return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

Error db_error(sqlite3* db, const std::string& path, const char* what) {
  return make_error(Errc::io, "project file '{}': {} failed: {}", path, what, db ? sqlite3_errmsg(db) : "no database");
}

std::string tokens_blob(std::span<const int32_t> t) {
  std::string b(t.size() * 4, '\0');
  for (std::size_t i = 0; i < t.size(); ++i) {
    uint32_t v = static_cast<uint32_t>(t[i]);
    for (int k = 0; k < 4; ++k) b[i * 4 + k] = static_cast<char>((v >> (8 * k)) & 0xff);
  }
  return b;
}

uint32_t rd32(const std::string& b, std::size_t off) {
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v |= static_cast<uint32_t>(static_cast<unsigned char>(b[off + k])) << (8 * k);
  return v;
}

// Per token: one byte n, then n pairs (int32 token, float32 probability).
std::string alts_blob(std::span<const std::vector<sampling::TokenProb>> alts) {
  std::string b;
  for (const auto& a : alts) {
    std::size_t n = std::min<std::size_t>(a.size(), 255);
    b += static_cast<char>(n);
    for (std::size_t i = 0; i < n; ++i) {
      uint32_t t = static_cast<uint32_t>(a[i].token), p;
      std::memcpy(&p, &a[i].prob, 4);
      for (int k = 0; k < 4; ++k) b += static_cast<char>((t >> (8 * k)) & 0xff);
      for (int k = 0; k < 4; ++k) b += static_cast<char>((p >> (8 * k)) & 0xff);
    }
  }
  return b;
}

Result<std::vector<std::vector<sampling::TokenProb>>> parse_alts(const std::string& b, NodeId id) {
  std::vector<std::vector<sampling::TokenProb>> out;
  std::size_t off = 0;
  while (off < b.size()) {
    std::size_t n = static_cast<unsigned char>(b[off++]);
    if (off + n * 8 > b.size()) return make_error(Errc::format, "node {}: alternatives are truncated", id);
    std::vector<sampling::TokenProb> a(n);
    for (std::size_t i = 0; i < n; ++i, off += 8) {
      a[i].token = static_cast<int32_t>(rd32(b, off));
      uint32_t p = rd32(b, off + 4);
      std::memcpy(&a[i].prob, &p, 4);
    }
    out.push_back(std::move(a));
  }
  return out;
}

// Migration i takes the schema from version i to i + 1.
const char* const kMigrations[] = {
    // 0 -> 1
    "CREATE TABLE schema_version(version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES(0);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE nodes(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, ord INTEGER NOT NULL,"
    " text BLOB NOT NULL, tokens BLOB NOT NULL, origin TEXT NOT NULL, sampler TEXT NOT NULL,"
    " seed INTEGER NOT NULL, alternatives BLOB NOT NULL, created_ms INTEGER NOT NULL,"
    " label TEXT NOT NULL, bookmark INTEGER NOT NULL, metadata TEXT NOT NULL);",
    // 1 -> 2
    "CREATE TABLE snapshots(node INTEGER NOT NULL, pos INTEGER NOT NULL, model_key TEXT NOT NULL,"
    " n_state INTEGER NOT NULL, n_logits INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY(node, pos, model_key));"
    "CREATE INDEX nodes_parent ON nodes(parent);",
    // 2 -> 3: a generation in flight appends its growth here (write_drafts).
    "CREATE TABLE draft_parts(node INTEGER NOT NULL, seq INTEGER NOT NULL, text BLOB NOT NULL,"
    " tokens BLOB NOT NULL, alternatives BLOB NOT NULL, PRIMARY KEY(node, seq));",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

}  // namespace

Project::~Project() {
  if (db_) sqlite3_close_v2(db_);
}

Status Project::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return make_error(Errc::io, "project file '{}': {}", path_, m);
  }
  return {};
}

Status Project::migrate() {
  if (version_ >= kSchemaVersion) return {};
  WB_CHECK(exec("BEGIN IMMEDIATE"));
  for (int v = version_; v < kSchemaVersion; ++v) {
    auto st = exec(kMigrations[v]);
    if (st) st = exec(fmt::format("UPDATE schema_version SET version = {}; PRAGMA user_version = {};", v + 1, v + 1).c_str());
    if (!st) {
      (void)exec("ROLLBACK");
      return make_error(Errc::io, "project file '{}': migrating the schema from version {} to {} failed: {}", path_, v,
                        v + 1, st.error().message);
    }
  }
  WB_CHECK(exec("COMMIT"));
  version_ = kSchemaVersion;
  return {};
}

Result<std::unique_ptr<Project>> Project::create(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    return make_error(Errc::invalid_argument, "'{}' already exists: a new project is never written over a file", path);
  std::unique_ptr<Project> p(new Project());
  p->path_ = path;
  if (sqlite3_open_v2(path.c_str(), &p->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK)
    return db_error(p->db_, path, "creating");
  WB_CHECK(p->exec(fmt::format("PRAGMA application_id = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                               kApplicationId).c_str()));
  sqlite3_busy_timeout(p->db_, 5000);
  WB_CHECK(p->migrate());
  tree::Tree empty;  // the root row
  WB_CHECK(p->sync(empty, empty.take_dirty()));
  return p;
}

Result<std::unique_ptr<Project>> Project::open(const std::string& path) {
  // Look at the header ourselves first: a file that is not SQLite at all is
  // refused before SQLite touches it.
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error(Errc::io, "cannot open project file '{}'", path);
  char head[100] = {};
  f.read(head, sizeof head);
  if (f.gcount() < 100 || std::memcmp(head, "SQLite format 3", 16) != 0)
    return make_error(Errc::format, "'{}' is not a workbench project (not an SQLite database)", path);
  uint32_t app = (static_cast<uint32_t>(static_cast<unsigned char>(head[68])) << 24) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(head[69])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(head[70])) << 8) |
                 static_cast<uint32_t>(static_cast<unsigned char>(head[71]));
  if (app != static_cast<uint32_t>(kApplicationId))
    return make_error(Errc::format, "'{}' is an SQLite database of another application (id {:#x}), not a workbench project",
                      path, app);
  f.close();

  std::unique_ptr<Project> p(new Project());
  p->path_ = path;
  if (sqlite3_open_v2(path.c_str(), &p->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK)
    return db_error(p->db_, path, "opening");
  sqlite3_busy_timeout(p->db_, 5000);
  {
    Stmt q(p->db_, "PRAGMA quick_check");
    if (!q.ok() || q.step() != SQLITE_ROW || q.text(0) != "ok")
      return make_error(Errc::format, "project file '{}' is damaged ({})", path,
                        q.ok() ? q.text(0) : std::string(sqlite3_errmsg(p->db_)));
  }
  {
    Stmt q(p->db_, "SELECT version FROM schema_version");
    if (!q.ok() || q.step() != SQLITE_ROW)
      return make_error(Errc::format, "project file '{}' has no schema version: damaged or not a workbench project", path);
    p->version_ = static_cast<int>(q.i64(0));
  }
  if (p->version_ < 1 || p->version_ > kSchemaVersion)
    return make_error(Errc::unsupported, "project file '{}' has schema version {}; this build reads 1 to {}", path,
                      p->version_, kSchemaVersion);
  WB_CHECK(p->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"));
  WB_CHECK(p->migrate());
  return p;
}

Status Project::set_meta(const std::string& key, const std::string& value) {
  std::lock_guard lk(mu_);
  Stmt s(db_, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!s.ok()) return db_error(db_, path_, "writing settings");
  s.bind(1, key);
  s.bind(2, value);
  if (s.step() != SQLITE_DONE) return db_error(db_, path_, "writing settings");
  return {};
}

Result<std::optional<std::string>> Project::meta(const std::string& key) {
  std::lock_guard lk(mu_);
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?");
  if (!s.ok()) return db_error(db_, path_, "reading settings");
  s.bind(1, key);
  int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(s.text(0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return db_error(db_, path_, "reading settings");
}

Status Project::write_node(const Node& n, std::size_t ord) {
  Stmt s(db_,
         "INSERT OR REPLACE INTO nodes(id, parent, ord, text, tokens, origin, sampler, seed, alternatives, created_ms,"
         " label, bookmark, metadata) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok()) return db_error(db_, path_, "writing a node");
  s.bind(1, static_cast<int64_t>(n.id));
  s.bind(2, static_cast<int64_t>(n.parent));
  s.bind(3, static_cast<int64_t>(ord));
  s.bind_blob(4, n.text.data(), n.text.size());
  std::string tb = tokens_blob(n.tokens);
  s.bind_blob(5, tb.data(), tb.size());
  s.bind(6, n.origin);
  s.bind(7, n.sampler);
  s.bind(8, static_cast<int64_t>(n.seed));
  std::string ab = alts_blob(n.alternatives);
  s.bind_blob(9, ab.data(), ab.size());
  s.bind(10, n.created_ms);
  s.bind(11, n.label);
  s.bind(12, n.bookmark ? 1 : 0);
  s.bind(13, n.metadata);
  if (s.step() != SQLITE_DONE) return db_error(db_, path_, "writing a node");
  return delete_draft_parts(n.id);  // the whole node is stored now
}

Status Project::delete_draft_parts(NodeId id) {
  Stmt s(db_, "DELETE FROM draft_parts WHERE node = ?");
  if (!s.ok()) return db_error(db_, path_, "removing draft parts");
  s.bind(1, static_cast<int64_t>(id));
  if (s.step() != SQLITE_DONE) return db_error(db_, path_, "removing draft parts");
  return {};
}

Status Project::sync(const tree::Tree& t, std::span<const NodeId> ids) {
  if (ids.empty()) return {};
  std::lock_guard lk(mu_);
  WB_CHECK(exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    for (NodeId id : ids) {
      if (const Node* n = t.find(id)) {
        std::size_t ord = 0;
        if (const Node* p = t.find(n->parent))
          ord = static_cast<std::size_t>(std::find(p->children.begin(), p->children.end(), id) - p->children.begin());
        WB_CHECK(write_node(*n, ord));
      } else {
        for (const char* sql : {"DELETE FROM nodes WHERE id = ?", "DELETE FROM snapshots WHERE node = ?",
                                "DELETE FROM draft_parts WHERE node = ?"}) {
          Stmt s(db_, sql);
          if (!s.ok()) return db_error(db_, path_, "deleting a node");
          s.bind(1, static_cast<int64_t>(id));
          if (s.step() != SQLITE_DONE) return db_error(db_, path_, "deleting a node");
        }
      }
    }
    return {};
  };
  auto st = body();
  if (!st) {
    (void)exec("ROLLBACK");
    return st;
  }
  return exec("COMMIT");
}

Status Project::write_drafts(std::span<const Node> nodes, std::span<const std::size_t> ords,
                             std::span<DraftMark> written) {
  if (written.size() != nodes.size()) return make_error(Errc::internal, "write_drafts: one mark per node");
  std::lock_guard lk(mu_);
  WB_CHECK(exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const Node& n = nodes[i];
      DraftMark& m = written[i];
      const bool grew_at_end = m.stored && n.tokens.size() >= m.tokens && n.text.size() >= m.bytes &&
                               n.alternatives.size() == n.tokens.size();
      if (!grew_at_end) {  // first write, or a shape appending cannot express: the whole node
        WB_CHECK(write_node(n, i < ords.size() ? ords[i] : 0));
        m = DraftMark{n.tokens.size(), n.text.size(), true};
        continue;
      }
      if (n.tokens.size() == m.tokens && n.text.size() == m.bytes) continue;
      Stmt s(db_,
             "INSERT INTO draft_parts(node, seq, text, tokens, alternatives)"
             " VALUES(?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM draft_parts WHERE node = ?1), ?2, ?3, ?4)");
      if (!s.ok()) return db_error(db_, path_, "writing a draft");
      s.bind(1, static_cast<int64_t>(n.id));
      s.bind_blob(2, n.text.data() + m.bytes, n.text.size() - m.bytes);
      std::string tb = tokens_blob(std::span<const int32_t>(n.tokens).subspan(m.tokens));
      s.bind_blob(3, tb.data(), tb.size());
      std::string ab = alts_blob(std::span<const std::vector<sampling::TokenProb>>(n.alternatives).subspan(m.tokens));
      s.bind_blob(4, ab.data(), ab.size());
      if (s.step() != SQLITE_DONE) return db_error(db_, path_, "writing a draft");
      m.tokens = n.tokens.size();
      m.bytes = n.text.size();
    }
    return {};
  };
  auto st = body();
  if (!st) {
    (void)exec("ROLLBACK");
    return st;
  }
  return exec("COMMIT");
}

// Appends the parts a generation in flight wrote (write_drafts) to their
// nodes, in order. Parts of a node that no longer exists are ignored.
Status Project::join_draft_parts(std::vector<Node>& nodes) {
  Stmt s(db_, "SELECT node, text, tokens, alternatives FROM draft_parts ORDER BY node, seq");
  if (!s.ok()) return db_error(db_, path_, "reading the tree");
  std::map<NodeId, std::size_t> at;  // built at the first part: most files have none
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    if (at.empty())
      for (std::size_t i = 0; i < nodes.size(); ++i) at[nodes[i].id] = i;
    auto it = at.find(static_cast<NodeId>(s.i64(0)));
    if (it == at.end()) continue;
    Node& n = nodes[it->second];
    const std::string tb = s.text(2);
    if (tb.size() % 4 != 0 || n.tokens.size() + tb.size() / 4 > kMaxTokensPerNode)
      return make_error(Errc::format, "project file '{}': a draft part of node {} has a token list of {} bytes", path_,
                        n.id, tb.size());
    auto alts = parse_alts(s.text(3), n.id);
    if (!alts) return make_error(Errc::format, "project file '{}': {}", path_, alts.error().message);
    if (alts->size() != tb.size() / 4 || n.alternatives.size() != n.tokens.size())
      return make_error(Errc::format, "project file '{}': a draft part of node {} does not match its tokens", path_, n.id);
    n.text += s.text(1);
    for (std::size_t i = 0; i < tb.size(); i += 4) n.tokens.push_back(static_cast<int32_t>(rd32(tb, i)));
    for (auto& a : *alts) n.alternatives.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return db_error(db_, path_, "reading the tree");
  return {};
}

Result<int64_t> Project::draft_part_count() {
  std::lock_guard lk(mu_);
  Stmt s(db_, "SELECT COUNT(*) FROM draft_parts");
  if (!s.ok() || s.step() != SQLITE_ROW) return db_error(db_, path_, "counting draft parts");
  return s.i64(0);
}

Status Project::delete_node_row(NodeId id) {
  std::lock_guard lk(mu_);
  Stmt s(db_, "DELETE FROM nodes WHERE id = ?");
  if (!s.ok()) return db_error(db_, path_, "deleting a node");
  s.bind(1, static_cast<int64_t>(id));
  if (s.step() != SQLITE_DONE) return db_error(db_, path_, "deleting a node");
  return delete_draft_parts(id);
}

Result<tree::Tree> Project::load_tree() {
  std::vector<Node> nodes;
  std::map<NodeId, std::vector<std::pair<int64_t, NodeId>>> kids;
  {
    std::lock_guard lk(mu_);
    Stmt s(db_,
           "SELECT id, parent, ord, text, tokens, origin, sampler, seed, alternatives, created_ms, label, bookmark,"
           " metadata FROM nodes ORDER BY id");
    if (!s.ok()) return db_error(db_, path_, "reading the tree");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      Node n;
      int64_t id = s.i64(0), parent = s.i64(1);
      if (id <= 0 || parent < 0) return make_error(Errc::format, "project file '{}': node id {} / parent {} is invalid", path_, id, parent);
      n.id = static_cast<NodeId>(id);
      n.parent = static_cast<NodeId>(parent);
      n.text = s.text(3);
      std::string tb = s.text(4);
      if (tb.size() % 4 != 0 || tb.size() / 4 > kMaxTokensPerNode)
        return make_error(Errc::format, "project file '{}': node {} has a token list of {} bytes", path_, id, tb.size());
      n.tokens.resize(tb.size() / 4);
      for (std::size_t i = 0; i < n.tokens.size(); ++i) n.tokens[i] = static_cast<int32_t>(rd32(tb, i * 4));
      n.origin = s.text(5);
      n.sampler = s.text(6);
      n.seed = static_cast<uint64_t>(s.i64(7));
      auto alts = parse_alts(s.text(8), n.id);
      if (!alts) return make_error(Errc::format, "project file '{}': {}", path_, alts.error().message);
      n.alternatives = std::move(*alts);
      n.created_ms = s.i64(9);
      n.label = s.text(10);
      n.bookmark = s.i64(11) != 0;
      n.metadata = s.text(12);
      if (n.parent != tree::kNoNode) kids[n.parent].emplace_back(s.i64(2), n.id);
      nodes.push_back(std::move(n));
    }
    if (rc != SQLITE_DONE) return db_error(db_, path_, "reading the tree");
    WB_CHECK(join_draft_parts(nodes));
  }
  for (Node& n : nodes) {
    auto it = kids.find(n.id);
    if (it == kids.end()) continue;
    std::stable_sort(it->second.begin(), it->second.end());
    for (auto& [ord, c] : it->second) n.children.push_back(c);
  }
  auto t = tree::Tree::from_nodes(std::move(nodes));
  if (!t) return make_error(Errc::format, "project file '{}': {}", path_, t.error().message);
  return std::move(*t);
}

Status Project::save_snapshot(const tree::Snapshot& s) {
  auto st = s.state.data();
  std::string raw(st.size_bytes() + s.logits.size() * sizeof(float), '\0');
  std::memcpy(raw.data(), st.data(), st.size_bytes());
  if (!s.logits.empty()) std::memcpy(raw.data() + st.size_bytes(), s.logits.data(), s.logits.size() * sizeof(float));
  // Huffman coding only: states are noisy floats, where string matching finds
  // next to nothing; it compresses as well as level 1 (ratio 0.93 on normal
  // floats) in a third of the time (13 MB: 252 against 709 ms on the 2-vCPU VM,
  // the same zlib through Python). Still a zlib stream: uncompress() reads old
  // and new snapshots alike.
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15, 8, Z_HUFFMAN_ONLY) != Z_OK)
    return make_error(Errc::internal, "compressing a snapshot for '{}' failed", path_);
  std::string comp(deflateBound(&zs, static_cast<uLong>(raw.size())), '\0');
  // In pieces of at most 1 GiB each way: zlib counts in 32 bits.
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  std::size_t in_pos = 0;
  int zr = Z_OK;
  while (zr == Z_OK) {
    if (zs.avail_in == 0 && in_pos < raw.size()) {
      const std::size_t n = std::min(kPiece, raw.size() - in_pos);
      zs.next_in = reinterpret_cast<Bytef*>(raw.data() + in_pos);
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    if (zs.avail_out == 0) {
      const std::size_t used = zs.total_out;
      zs.next_out = reinterpret_cast<Bytef*>(comp.data() + used);
      zs.avail_out = static_cast<uInt>(std::min(kPiece, comp.size() - used));
    }
    zr = deflate(&zs, in_pos == raw.size() ? Z_FINISH : Z_NO_FLUSH);
  }
  comp.resize(zs.total_out);
  deflateEnd(&zs);
  if (zr != Z_STREAM_END) return make_error(Errc::internal, "compressing a snapshot for '{}' failed", path_);
  std::lock_guard lk(mu_);
  Stmt q(db_, "INSERT OR REPLACE INTO snapshots(node, pos, model_key, n_state, n_logits, data) VALUES(?,?,?,?,?,?)");
  if (!q.ok()) return db_error(db_, path_, "writing a snapshot");
  q.bind(1, static_cast<int64_t>(s.node));
  q.bind(2, static_cast<int64_t>(s.pos));
  q.bind(3, s.model_key);
  q.bind(4, static_cast<int64_t>(st.size()));
  q.bind(5, static_cast<int64_t>(s.logits.size()));
  q.bind_blob(6, comp.data(), comp.size());
  if (q.step() != SQLITE_DONE) return db_error(db_, path_, "writing a snapshot");
  return {};
}

Status Project::delete_snapshots(tree::NodeId node) {
  std::lock_guard lk(mu_);
  Stmt q(db_, "DELETE FROM snapshots WHERE node = ?");
  if (!q.ok()) return db_error(db_, path_, "deleting snapshots");
  q.bind(1, static_cast<int64_t>(node));
  if (q.step() != SQLITE_DONE) return db_error(db_, path_, "deleting snapshots");
  return {};
}

Result<std::optional<tree::Snapshot>> Project::load_snapshot(NodeId node, std::size_t pos, const std::string& model_key) {
  std::lock_guard lk(mu_);
  Stmt q(db_, "SELECT n_state, n_logits, data FROM snapshots WHERE node = ? AND pos = ? AND model_key = ?");
  if (!q.ok()) return db_error(db_, path_, "reading a snapshot");
  q.bind(1, static_cast<int64_t>(node));
  q.bind(2, static_cast<int64_t>(pos));
  q.bind(3, model_key);
  int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<tree::Snapshot>();
  if (rc != SQLITE_ROW) return db_error(db_, path_, "reading a snapshot");
  int64_t ns = q.i64(0), nl = q.i64(1);
  if (ns < 0 || nl < 0 || static_cast<uint64_t>(ns) + static_cast<uint64_t>(nl) > kMaxSnapshotFloats)
    return make_error(Errc::format, "project file '{}': snapshot of node {} claims {} + {} floats", path_, node, ns, nl);
  std::string comp = q.text(2);
  uLongf len = static_cast<uLongf>((ns + nl) * 4);
  std::vector<float> raw(static_cast<std::size_t>(ns + nl));
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &len, reinterpret_cast<const Bytef*>(comp.data()),
                 static_cast<uLong>(comp.size())) != Z_OK ||
      len != static_cast<uLongf>((ns + nl) * 4))
    return make_error(Errc::format, "project file '{}': snapshot of node {} is damaged", path_, node);
  tree::Snapshot s;
  s.node = node;
  s.pos = pos;
  s.model_key = model_key;
  s.state = State(static_cast<std::size_t>(ns));
  std::copy(raw.begin(), raw.begin() + ns, s.state.data().begin());
  s.logits.assign(raw.begin() + ns, raw.end());
  return std::optional<tree::Snapshot>(std::move(s));
}

Result<std::vector<std::pair<NodeId, std::size_t>>> Project::snapshot_keys(const std::string& model_key) {
  std::lock_guard lk(mu_);
  Stmt q(db_, "SELECT node, pos FROM snapshots WHERE model_key = ?");
  if (!q.ok()) return db_error(db_, path_, "listing snapshots");
  q.bind(1, model_key);
  std::vector<std::pair<NodeId, std::size_t>> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW)
    out.emplace_back(static_cast<NodeId>(q.i64(0)), static_cast<std::size_t>(q.i64(1)));
  if (rc != SQLITE_DONE) return db_error(db_, path_, "listing snapshots");
  return out;
}

Result<int64_t> Project::snapshot_bytes_on_disk() {
  std::lock_guard lk(mu_);
  Stmt q(db_, "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM snapshots");
  if (!q.ok() || q.step() != SQLITE_ROW) return db_error(db_, path_, "measuring snapshots");
  return q.i64(0);
}

}  // namespace wb::project
