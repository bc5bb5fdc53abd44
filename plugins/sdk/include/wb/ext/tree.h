/* Host extension "wb.tree/1": the story tree of the open project. Nodes are
 * text a path adds; the host keeps the model state after each, so reading,
 * forking and continuing cost no recomputation.
 *
 *   const wb_host_tree* t = (const wb_host_tree*)host->get_extension(host, WB_EXT_TREE);
 *   wb_node_id cur, kid; char buf[4096]; size_t len;
 *   t->open_project(host, "novel.wbstory", "model.bin", true);   // headless; the GUI has one open
 *   t->current(host, &cur);
 *   t->append(host, cur, "The door opened.", 16, &kid);          // origin: this plugin's id
 *   t->path_text(host, kid, buf, sizeof buf, &len);              // root..kid
 *
 * Text getters write a NUL-terminated string: *out_len is its length without
 * the NUL; WB_ERR_BUFFER_TOO_SMALL when capacity < *out_len + 1 (call again).
 * Every call returns WB_ERR_UNSUPPORTED ("no project is open") until a
 * project is open, and WB_ERR_NOT_FOUND for an unknown node id.
 * Every change is undoable in the app and written to the project at once.
 */
#ifndef WB_EXT_TREE_H
#define WB_EXT_TREE_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_TREE "wb.tree/1"

typedef uint64_t wb_node_id; /* 0 is "no node" */

typedef struct wb_node_info {
  wb_node_id id;
  wb_node_id parent; /* 0 for the root */
  uint32_t child_count;
  uint32_t token_count;
  uint64_t text_bytes;
  uint64_t seed;       /* generated nodes: the sampler seed */
  int64_t created_ms;  /* Unix time */
  bool bookmark;
  bool generated;      /* has per-token alternatives (made by the model) */
} wb_node_info;

typedef struct wb_token_prob {
  int32_t token;
  float prob;
} wb_token_prob;

typedef struct wb_host_tree {
  /* [main-thread] Opens (create: or creates) a project file and makes it the
   * host's story; model_path (may be NULL) names the model to load, else the
   * project's remembered model; the tokenizer is the project's (bytes for
   * 256-token models). In the GUI the open project is used and this returns
   * WB_ERR_UNSUPPORTED unless path is that project. */
  wb_status (*open_project)(const wb_host* host, const char* path, const char* model_path, bool create);

  /* [main-thread] The root / the node the user is at. */
  wb_status (*root)(const wb_host* host, wb_node_id* out);
  wb_status (*current)(const wb_host* host, wb_node_id* out);
  /* [main-thread] Makes `id` current (restores its model state). */
  wb_status (*switch_to)(const wb_host* host, wb_node_id id);

  /* [main-thread] Reading. */
  wb_status (*node_info)(const wb_host* host, wb_node_id id, wb_node_info* out);
  wb_status (*child)(const wb_host* host, wb_node_id id, uint32_t index, wb_node_id* out);
  wb_status (*node_text)(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len);
  wb_status (*path_text)(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len);
  wb_status (*origin)(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len);
  wb_status (*label)(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len);
  wb_status (*metadata)(const wb_host* host, wb_node_id id, char* buf, size_t capacity, size_t* out_len);
  /* [main-thread] The first node (in tree order) whose label is `label`. */
  wb_status (*find_label)(const wb_host* host, const char* label, wb_node_id* out);
  /* [main-thread] Byte offset in the node's text where token `index` starts. */
  wb_status (*token_offset)(const wb_host* host, wb_node_id id, uint32_t index, uint64_t* out);
  /* [main-thread] The model's most likely tokens at generated token `index`
   * of node `id` (most likely first; the sampled one is among them only if it
   * was likely). Copies up to `capacity`; *out_count is the number stored. */
  wb_status (*alternatives)(const wb_host* host, wb_node_id id, uint32_t index, wb_token_prob* out, size_t capacity,
                            size_t* out_count);

  /* [main-thread] Changes (origin of new nodes: the calling plugin's id). */
  wb_status (*append)(const wb_host* host, wb_node_id parent, const char* text, size_t len, wb_node_id* out);
  /* Non-destructive edit: the text of `id` from `byte_offset` on is replaced
   * by `text` in a new branch; the original stays. */
  wb_status (*edit)(const wb_host* host, wb_node_id id, uint64_t byte_offset, const char* text, size_t len,
                    wb_node_id* out);
  wb_status (*set_label)(const wb_host* host, wb_node_id id, const char* label);
  wb_status (*set_metadata)(const wb_host* host, wb_node_id id, const char* metadata);
  /* [main-thread] Removes `id` and its subtree (undoable in the app; not the root). */
  wb_status (*remove)(const wb_host* host, wb_node_id id);
} wb_host_tree;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_TREE_H */
