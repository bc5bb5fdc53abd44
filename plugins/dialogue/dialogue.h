/* Internal header of the dialogue plugin (not part of the SDK): the scene
 * model shared by dialogue.c (headless + actions), dialogue_store.c
 * (reading and writing scenes and messages in the story tree) and
 * dialogue_ui.c (the panel).
 *
 *   dlg_scene sc;
 *   if (dlg_scene_load(self, scene_node, &sc) == 0) { ... dlg_scene_save(self, &sc); }
 *   dlg_scene_free(&sc);
 *
 * Storage (all in the project, through wb.tree/1):
 *   scene node    child of the root, text "Scene: TITLE\n\n", metadata lines
 *                 "dlg.scene 1", "title ...", "lanes 0|1", "mode ...", "head ID",
 *                 "char NAME\tDESCRIPTION\tPERSONALITY\tEXAMPLES\tGREETING", ...,
 *                 "card NAME\tJSON" (the imported card, so an exported card keeps its extensions)
 *   message node  text "NAME: line\n\n"; metadata "dlg.msg 1", "speaker NAME",
 *                 "role ...", "vis all|whisper|aside", "to A\tB", "prompt ID",
 *                 "lane KEY\tNODE" (the state of lane KEY after this message)
 *   lane nodes    label "dlg.lane": a chain per character (key: the name; "*"
 *                 for the shared/omniscient lane) under the root, fed only the
 *                 messages that character witnessed; generation runs there.
 * Metadata values escape '\\', '\n', '\t' and '\r' with a backslash.
 */
#ifndef WB_DIALOGUE_H
#define WB_DIALOGUE_H

#include <wb/plugin_all.h>

#include <stddef.h>

#define DLG_ID "org.rwkv.workbench.dialogue"
#define DLG_LANE_LABEL "dlg.lane"
#define DLG_SHARED_LANE "*"
#define DLG_MAX_ALTERNATIVES 16
#define DLG_MAX_FIELD (64u * 1024u) /* a character field kept in a scene */
#define DLG_MAX_CAST 256

enum { DLG_F_NAME, DLG_F_DESC, DLG_F_PERS, DLG_F_EXAMPLES, DLG_F_GREETING, DLG_F_COUNT };
enum { DLG_MODE_MANUAL, DLG_MODE_ROUND, DLG_MODE_MENTION, DLG_MODE_MODEL };
enum { DLG_VIS_ALL, DLG_VIS_WHISPER, DLG_VIS_ASIDE };
enum { DLG_ROLE_CHARACTER, DLG_ROLE_USER, DLG_ROLE_NARRATOR };

typedef struct dlg_strbuf {
  char* data;
  size_t len, cap;
} dlg_strbuf;

int dlg_sb_add(dlg_strbuf* b, const char* s, size_t n);
int dlg_sb_str(dlg_strbuf* b, const char* s);
int dlg_sb_esc(dlg_strbuf* b, const char* s); /* escaped for a metadata value */
int dlg_sb_json(dlg_strbuf* b, const char* s); /* JSON string body */
char* dlg_strdup(const char* s);
char* dlg_strndup(const char* s, size_t n);

typedef struct dlg_character {
  char* f[DLG_F_COUNT];
  char* card; /* the card it came from as normalised JSON (unknown fields kept), or NULL */
} dlg_character;

typedef struct dlg_lane_ref {
  char* key;
  wb_node_id id;
} dlg_lane_ref;

typedef struct dlg_scene {
  wb_node_id node, head;
  char *title, *scenario, *user, *narrator;
  int lanes, mode;
  unsigned long next; /* round-robin position */
  dlg_character* cast;
  size_t n_cast;
  dlg_lane_ref* roots; /* lane roots by key */
  size_t n_roots;
} dlg_scene;

typedef struct dlg_message {
  wb_node_id id, parent, prompt;
  char* speaker;
  int role, vis;
  char** to;
  size_t n_to;
  dlg_lane_ref* lanes;
  size_t n_lanes;
  char* text; /* the node's whole text, "NAME: line\n\n" */
  size_t text_len;
} dlg_message;

/* A turn in two halves, so that the panel can generate on a host worker
 * (wb.generate/1 start/poll/finish) between them: dlg_turn_prepare feeds the
 * speaker's lane and writes its "NAME:" prompt; dlg_turn_publish writes the
 * generated lane nodes as visible messages. */
typedef struct dlg_turn {
  char* speaker;
  char* key; /* the lane */
  wb_node_id scene, prompt, parent;
  unsigned long long seed; /* default seed when the options name none */
} dlg_turn;

typedef struct dlg_plugin {
  wb_plugin plugin;
  const wb_host* host;
  const wb_host_log* log;
  const wb_host_tree* tree;
  const wb_host_generate* gen;
  const wb_host_ui* ui;
  const wb_host_cards* cards;
  const wb_host_score* score;
  const wb_host_transcript* transcript;
  /* Tokens the lanes fed to the model in the last turn (unseen messages +
   * the "NAME:" prompt), and what re-reading the speaker's whole visible
   * history would have cost. */
  size_t fed_tokens, history_tokens;
  int panel_built; /* the panel exists, so its widgets can be read back */
  /* The panel's turn generating on a host worker (session 0: none). */
  wb_session_id session;
  dlg_turn turn;
} dlg_plugin;

/* ---- dialogue_store.c ---------------------------------------------------- */
char* dlg_fetch(const dlg_plugin* self, wb_status (*fn)(const wb_host*, wb_node_id, char*, size_t, size_t*),
                wb_node_id id, size_t* out_len);
int dlg_is_scene(const dlg_plugin* self, wb_node_id id);
/* Parsing a node's metadata text (no host calls; fuzzed by tests/fuzz/fuzz_dialogue_meta.cpp). */
int dlg_scene_parse(const char* meta, size_t len, wb_node_id id, dlg_scene* out); /* 0 ok */
int dlg_message_parse(const char* meta, size_t len, dlg_message* out); /* 1 ok, 0 not a message, -1 error */
int dlg_scene_load(const dlg_plugin* self, wb_node_id id, dlg_scene* out);
int dlg_scene_save(const dlg_plugin* self, const dlg_scene* sc);
void dlg_scene_free(dlg_scene* sc);
const dlg_character* dlg_find_character(const dlg_scene* sc, const char* name);
int dlg_add_character(dlg_scene* sc, const char* const f[DLG_F_COUNT]);
wb_node_id dlg_lane_find(const dlg_lane_ref* refs, size_t n, const char* key);
int dlg_lane_set(dlg_lane_ref** refs, size_t* n, const char* key, wb_node_id id);

int dlg_message_load(const dlg_plugin* self, wb_node_id id, dlg_message* out); /* 1 ok, 0 not a message, -1 error */
int dlg_message_save(const dlg_plugin* self, const dlg_message* m, wb_node_id scene);
void dlg_message_free(dlg_message* m);
void dlg_messages_free(dlg_message* ms, size_t n);
/* The messages from the scene to `head`, oldest first. 0 ok, -1 error. */
int dlg_path(const dlg_plugin* self, const dlg_scene* sc, wb_node_id head, dlg_message** out, size_t* n);
/* The body of a message: its text without "NAME: " and the trailing blank line. */
char* dlg_body(const dlg_message* m);
int dlg_witnessed(const dlg_message* m, const char* key);

/* ---- dialogue.c: the actions (headless and panel share them) ------------------ */
typedef struct dlg_gen_opts {
  long n_tokens, alternatives;
  int have_seed, have_temp, have_top_p;
  unsigned long long seed;
  double temp, top_p;
  const char* preset;
} dlg_gen_opts;
void dlg_gen_opts_init(dlg_gen_opts* o);

/* Each returns 0 on success, else fills err (naming the fault) and returns 1. */
int dlg_new_scene(dlg_plugin* self, const char* title, const char* scenario, const char* user, int lanes, int mode,
                  wb_node_id* out, char* err, size_t err_cap);
int dlg_latest_scene(dlg_plugin* self, wb_node_id* out); /* 0 found */
/* *json (may be NULL) gets the card as normalised JSON, malloc'ed. */
int dlg_card_fields(dlg_plugin* self, const char* path, char* f[DLG_F_COUNT], char** json, char* err, size_t err_cap);
int dlg_post(dlg_plugin* self, dlg_scene* sc, const char* speaker, const char* text, int vis, char** to, size_t n_to,
             wb_node_id* out, char* err, size_t err_cap);
/* Picks the next speaker by the scene's mode (or `forced`); *out is malloc'ed.
 * score_fn (may be NULL) receives each candidate's log-likelihood (model mode). */
int dlg_pick_speaker(dlg_plugin* self, dlg_scene* sc, const char* forced, char** out,
                     void (*score_fn)(void* user, const char* name, double logprob), void* user, char* err,
                     size_t err_cap);
int dlg_generate(dlg_plugin* self, dlg_scene* sc, const char* speaker, const dlg_gen_opts* o, wb_node_id* out,
                 size_t* n_out, char* err, size_t err_cap);
int dlg_swipe(dlg_plugin* self, dlg_scene* sc, wb_node_id msg, const dlg_gen_opts* o, wb_node_id* out, size_t* n_out,
              char* err, size_t err_cap);
int dlg_edit(dlg_plugin* self, dlg_scene* sc, wb_node_id msg, const char* text, wb_node_id* out, char* err,
             size_t err_cap);
int dlg_turn_prepare(dlg_plugin* self, dlg_scene* sc, const char* speaker, dlg_turn* t, char* err, size_t err_cap);
int dlg_turn_publish(dlg_plugin* self, dlg_scene* sc, const dlg_turn* t, const wb_node_id* kids, size_t k,
                     wb_node_id* out, size_t* n_out, char* err, size_t err_cap);
void dlg_turn_free(dlg_turn* t);
void dlg_sampler_settings(const dlg_gen_opts* o, unsigned long long default_seed, wb_sampler_settings* s);

/* The message siblings of `msg` (itself included), in tree order. */
int dlg_siblings(dlg_plugin* self, wb_node_id msg, wb_node_id** out, size_t* n);
int dlg_export(dlg_plugin* self, dlg_scene* sc, const char* path, char* err, size_t err_cap);

/* Lane plumbing (the benchmark drives it step by step). */
int dlg_lane_catch_up(dlg_plugin* self, dlg_scene* sc, dlg_message* path, size_t n, const char* key, wb_node_id* out,
                      char* err, size_t err_cap);
int dlg_prompt_node(dlg_plugin* self, wb_node_id lane, const char* speaker, wb_node_id* out, char* err, size_t err_cap);
int dlg_publish(dlg_plugin* self, dlg_scene* sc, wb_node_id parent, const char* speaker, const char* key,
                wb_node_id prompt, wb_node_id kid, wb_node_id* out, char* err, size_t err_cap);

/* ---- dialogue_ui.c --------------------------------------------------------------- */
extern const wb_plugin_ui dlg_ui;

#endif /* WB_DIALOGUE_H */
