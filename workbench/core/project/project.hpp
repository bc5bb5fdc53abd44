// The project file: one SQLite database (WAL) holding a story tree, its
// settings and compressed model snapshots.
//
//   WB_TRY(p, wb::project::Project::create("novel.wbstory"));   // refuses an existing file
//   WB_CHECK(p->set_meta("model", "/models/rwkv7.pth"));
//   WB_CHECK(p->sync(tree, tree.take_dirty()));                  // after every change
//   ...
//   WB_TRY(q, wb::project::Project::open("novel.wbstory"));      // refuses foreign / corrupt files
//   WB_TRY(tree, q->load_tree());
//
// Every call that changes something is its own transaction, committed before
// it returns, so a killed process loses nothing that a call had returned from.
// A file that is not ours (another application id, a newer schema) or that is
// damaged is refused with a message naming it, and nothing is written to it.
//
// Schema history (migrations run in order on open, in one transaction):
//   1: meta, nodes
//   2: snapshots (compressed State + logits per node and model key), node index
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/tree/snapshot_cache.hpp"
#include "core/tree/tree.hpp"
#include "core/util/result.hpp"

struct sqlite3;

namespace wb::project {

inline constexpr int kSchemaVersion = 3;
inline constexpr int32_t kApplicationId = 0x57425354;  // "WBST"

class Project {
 public:
  ~Project();
  Project(const Project&) = delete;
  Project& operator=(const Project&) = delete;

  static Result<std::unique_ptr<Project>> create(const std::string& path);
  static Result<std::unique_ptr<Project>> open(const std::string& path);

  const std::string& path() const { return path_; }
  int schema_version() const { return version_; }

  Status set_meta(const std::string& key, const std::string& value);
  Result<std::optional<std::string>> meta(const std::string& key);

  Result<tree::Tree> load_tree();
  // Writes the nodes named in `ids` as they are in `t` (deleting those `t`
  // no longer has, with their snapshots). One transaction.
  Status sync(const tree::Tree& t, std::span<const tree::NodeId> ids);
  // Writes nodes that are not (yet) in the tree: generations in flight, so a
  // killed process keeps them. The first write stores each node; later ones
  // append only what it gained since (its text, tokens and alternatives only
  // grow at the end), so a write costs what is new, not the whole draft.
  // `written` (one per node, zeroed before the first write) records what is
  // stored. load_tree() joins the parts; the node's next full write (sync)
  // replaces them. One transaction for all nodes.
  struct DraftMark {
    std::size_t tokens = 0, bytes = 0;
    bool stored = false;
  };
  Status write_drafts(std::span<const tree::Node> nodes, std::span<const std::size_t> ords, std::span<DraftMark> written);
  // Rows in the draft_parts table (tests).
  Result<int64_t> draft_part_count();
  Status delete_node_row(tree::NodeId id);

  // Compressed with zlib. A stored snapshot is only ever returned for the same model_key.
  Status save_snapshot(const tree::Snapshot& s);
  Status delete_snapshots(tree::NodeId node);  // every stored snapshot of `node`
  Result<std::optional<tree::Snapshot>> load_snapshot(tree::NodeId node, std::size_t pos, const std::string& model_key);
  // (node, pos) of every snapshot stored for model_key.
  Result<std::vector<std::pair<tree::NodeId, std::size_t>>> snapshot_keys(const std::string& model_key);
  Result<int64_t> snapshot_bytes_on_disk();

 private:
  Project() = default;
  Status exec(const char* sql);
  Status migrate();
  Status write_node(const tree::Node& n, std::size_t ord);
  Status delete_draft_parts(tree::NodeId id);
  Status join_draft_parts(std::vector<tree::Node>& nodes);

  sqlite3* db_ = nullptr;
  std::string path_;
  int version_ = 0;
  std::mutex mu_;  // one connection, used from the caller and a generation worker
};

}  // namespace wb::project
