/* Multi-character dialogue: a shipped plugin, built exactly as a community
 * plugin is (only the C ABI: wb.tree/1, wb.generate/1, wb.score/1,
 * wb.cards/1, wb.transcript/1, wb.ui/1, wb.log/1).
 *
 * A scene is a cast of characters plus a narrator and the user's persona.
 * Every message is a node "NAME: line\n\n" under the scene node;
 * alternatives (swipes) are siblings, forking is posting or generating at an
 * earlier message, editing makes a sibling branch (wb.tree/1 edit).
 *
 * Memory lanes: the model never reads the visible conversation. It reads
 * lanes, chains of hidden nodes (label "dlg.lane") under the root: one
 * shared lane "*" that witnesses everything, and, when the scene has lanes
 * on, one per character fed only the messages that character witnessed
 * (visibility: everyone, a whisper to named characters, an aside). Each
 * message records, per lane, the lane node whose state is "that lane after
 * this message", so a speaker's turn appends only what its lane has not yet
 * seen (the tree keeps the state after every node) and generates from there;
 * the result is written as the visible message too. Branching the visible
 * conversation branches the lanes the same way.
 *
 * Headless: wb plugin run org.rwkv.workbench.dialogue --help
 */
#include "dialogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEP "\n\n"

static void set_err(char* err, size_t cap, const char* what, const char* detail) {
  if (detail && *detail) snprintf(err, cap, "%s: %s", what, detail);
  else snprintf(err, cap, "%s", what);
}

static int host_fail(dlg_plugin* self, char* err, size_t cap, const char* what) {
  set_err(err, cap, what, self->host->last_error(self->host));
  return 1;
}

void dlg_gen_opts_init(dlg_gen_opts* o) {
  memset(o, 0, sizeof *o);
  o->n_tokens = 48;
  o->alternatives = 1;
}

static int ends_with(const char* s, size_t n, const char* suffix) {
  size_t k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static uint32_t node_tokens(dlg_plugin* self, wb_node_id id) {
  wb_node_info info;
  memset(&info, 0, sizeof info);
  if (self->tree->node_info(self->host, id, &info) != WB_OK) return 0;
  return info.token_count;
}

static int is_cast(const dlg_scene* sc, const char* name) { return dlg_find_character(sc, name) != NULL; }

/* ---- scenes ------------------------------------------------------------------ */

int dlg_new_scene(dlg_plugin* self, const char* title, const char* scenario, const char* user, int lanes, int mode,
                  wb_node_id* out, char* err, size_t err_cap) {
  dlg_scene sc;
  dlg_strbuf text = {NULL, 0, 0};
  wb_node_id root;
  int rc = 1;
  memset(&sc, 0, sizeof sc);
  if (self->tree->root(self->host, &root) != WB_OK) return host_fail(self, err, err_cap, "reading the root");
  if (!dlg_sb_str(&text, "Scene: ") || !dlg_sb_str(&text, title && *title ? title : "Untitled") || !dlg_sb_str(&text, SEP)) {
    set_err(err, err_cap, "out of memory", NULL);
    goto done;
  }
  if (self->tree->append(self->host, root, text.data, text.len, &sc.node) != WB_OK) {
    host_fail(self, err, err_cap, "creating the scene node");
    goto done;
  }
  sc.head = sc.node;
  sc.title = dlg_strdup(title ? title : "");
  sc.scenario = dlg_strdup(scenario ? scenario : "");
  sc.user = dlg_strdup(user && *user ? user : "User");
  sc.narrator = dlg_strdup("Narrator");
  sc.lanes = lanes;
  sc.mode = mode;
  if (dlg_scene_save(self, &sc) != 0) {
    host_fail(self, err, err_cap, "writing the scene");
    goto done;
  }
  *out = sc.node;
  rc = 0;
done:
  free(text.data);
  dlg_scene_free(&sc);
  return rc;
}

/* The last scene among the root's children. */
int dlg_latest_scene(dlg_plugin* self, wb_node_id* out) {
  wb_node_id root, kid;
  wb_node_info info;
  uint32_t i;
  if (self->tree->root(self->host, &root) != WB_OK || self->tree->node_info(self->host, root, &info) != WB_OK) return 1;
  for (i = info.child_count; i-- > 0;)
    if (self->tree->child(self->host, root, i, &kid) == WB_OK && dlg_is_scene(self, kid)) {
      *out = kid;
      return 0;
    }
  return 1;
}

/* ---- characters from cards ------------------------------------------------------ */

static char* card_field(dlg_plugin* self, const char* json, size_t len, const char* key) {
  size_t n = 0;
  char* buf;
  wb_status st = self->cards->field(self->host, json, len, key, NULL, 0, &n);
  if (st != WB_ERR_BUFFER_TOO_SMALL && st != WB_OK) return NULL;
  buf = (char*)malloc(n + 1);
  if (!buf) return NULL;
  if (self->cards->field(self->host, json, len, key, buf, n + 1, &n) != WB_OK) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Reads a card file into the five fields a scene keeps (malloc'ed). Nothing
 * is changed anywhere; a broken card only fills err. */
int dlg_card_fields(dlg_plugin* self, const char* path, char* f[DLG_F_COUNT], char** json_out, char* err,
                    size_t err_cap) {
  static const char* const keys[DLG_F_COUNT] = {"display_name", "description", "personality", "mes_example", "first_mes"};
  size_t len = 0, k;
  char* json;
  wb_status st;
  for (k = 0; k < DLG_F_COUNT; ++k) f[k] = NULL;
  if (json_out) *json_out = NULL;
  if (!self->cards) {
    set_err(err, err_cap, "the host offers no character cards (wb.cards/1)", NULL);
    return 1;
  }
  st = self->cards->load_json(self->host, path, NULL, 0, &len);
  if (st != WB_ERR_BUFFER_TOO_SMALL && st != WB_OK) return host_fail(self, err, err_cap, "card");
  json = (char*)malloc(len + 1);
  if (!json) {
    set_err(err, err_cap, "out of memory", NULL);
    return 1;
  }
  if (self->cards->load_json(self->host, path, json, len + 1, &len) != WB_OK) {
    free(json);
    return host_fail(self, err, err_cap, "card");
  }
  for (k = 0; k < DLG_F_COUNT; ++k) {
    f[k] = card_field(self, json, len, keys[k]);
    if (!f[k] || strlen(f[k]) > DLG_MAX_FIELD) {
      char what[512];
      snprintf(what, sizeof what, "card %s: field '%s' %s", path, keys[k], f[k] ? "is longer than 64 KiB" : "is unreadable");
      free(json);
      for (k = 0; k < DLG_F_COUNT; ++k) free(f[k]), f[k] = NULL;
      set_err(err, err_cap, what, NULL);
      return 1;
    }
  }
  if (!f[DLG_F_NAME][0]) {
    snprintf(err, err_cap, "card %s has no name", path);
    for (k = 0; k < DLG_F_COUNT; ++k) free(f[k]), f[k] = NULL;
    free(json);
    return 1;
  }
  /* Kept with the scene for a lossless export, unless it would crowd the
   * scene's metadata (large lorebooks, embedded assets). */
  if (json_out) *json_out = len <= DLG_MAX_FIELD ? json : NULL;
  if (!json_out || len > DLG_MAX_FIELD) free(json);
  return 0;
}

/* ---- lanes ---------------------------------------------------------------------- */

/* What a lane reads before any message: the scene, the cast, and the
 * descriptions its owner knows (all of them for the shared lane). */
static int lane_context(const dlg_scene* sc, const char* key, dlg_strbuf* b) {
  size_t i;
  int ok = dlg_sb_str(b, "Scene: ") && dlg_sb_str(b, sc->title[0] ? sc->title : "Untitled") && dlg_sb_str(b, ".");
  if (ok && sc->scenario[0]) ok = dlg_sb_str(b, " ") && dlg_sb_str(b, sc->scenario);
  ok = ok && dlg_sb_str(b, "\nCast: ");
  for (i = 0; ok && i < sc->n_cast; ++i) ok = dlg_sb_str(b, sc->cast[i].f[DLG_F_NAME]) && dlg_sb_str(b, ", ");
  ok = ok && dlg_sb_str(b, sc->user) && dlg_sb_str(b, " and ") && dlg_sb_str(b, sc->narrator) && dlg_sb_str(b, ".\n");
  for (i = 0; ok && i < sc->n_cast; ++i) {
    const dlg_character* c = &sc->cast[i];
    if (strcmp(key, DLG_SHARED_LANE) != 0 && strcmp(key, c->f[DLG_F_NAME]) != 0) continue;
    if (c->f[DLG_F_DESC][0]) ok = ok && dlg_sb_str(b, "About ") && dlg_sb_str(b, c->f[DLG_F_NAME]) && dlg_sb_str(b, " - ") &&
                                  dlg_sb_str(b, c->f[DLG_F_DESC]) && dlg_sb_str(b, "\n");
    if (c->f[DLG_F_PERS][0]) ok = ok && dlg_sb_str(b, "Personality - ") && dlg_sb_str(b, c->f[DLG_F_PERS]) && dlg_sb_str(b, "\n");
    if (c->f[DLG_F_EXAMPLES][0]) ok = ok && dlg_sb_str(b, c->f[DLG_F_EXAMPLES]) && dlg_sb_str(b, "\n");
  }
  return ok && dlg_sb_str(b, "\n");
}

static int lane_root(dlg_plugin* self, dlg_scene* sc, const char* key, wb_node_id* out, char* err, size_t err_cap) {
  wb_node_id root, id = dlg_lane_find(sc->roots, sc->n_roots, key);
  dlg_strbuf b = {NULL, 0, 0};
  if (id) {
    *out = id;
    return 0;
  }
  if (!lane_context(sc, key, &b)) {
    free(b.data);
    set_err(err, err_cap, "out of memory", NULL);
    return 1;
  }
  if (self->tree->root(self->host, &root) != WB_OK || self->tree->append(self->host, root, b.data, b.len, &id) != WB_OK ||
      self->tree->set_label(self->host, id, DLG_LANE_LABEL) != WB_OK) {
    free(b.data);
    return host_fail(self, err, err_cap, "creating a lane");
  }
  free(b.data);
  self->fed_tokens += node_tokens(self, id);
  if (!dlg_lane_set(&sc->roots, &sc->n_roots, key, id) || dlg_scene_save(self, sc) != 0)
    return host_fail(self, err, err_cap, "recording a lane");
  *out = id;
  return 0;
}

/* Brings lane `key` up to the end of `path` by appending, as one node, the
 * messages it witnessed and has not read yet; records the lane node on the
 * last message. Also sets self->history_tokens to what re-reading the whole
 * witnessed history (lane context included) would cost. */
int dlg_lane_catch_up(dlg_plugin* self, dlg_scene* sc, dlg_message* path, size_t n, const char* key,
                         wb_node_id* out, char* err, size_t err_cap) {
  wb_node_id start = 0, root = 0;
  size_t j = n, i;
  dlg_strbuf b = {NULL, 0, 0};
  while (j > 0 && !(start = dlg_lane_find(path[j - 1].lanes, path[j - 1].n_lanes, key))) --j;
  if (lane_root(self, sc, key, &root, err, err_cap) != 0) return 1;
  if (!start) start = root;
  self->history_tokens = node_tokens(self, root);
  for (i = 0; i < n; ++i)
    if (dlg_witnessed(&path[i], key)) self->history_tokens += node_tokens(self, path[i].id);
  for (i = j; i < n; ++i)
    if (dlg_witnessed(&path[i], key) && !dlg_sb_add(&b, path[i].text, path[i].text_len)) {
      free(b.data);
      set_err(err, err_cap, "out of memory", NULL);
      return 1;
    }
  if (b.len > 0) {
    wb_node_id u;
    if (self->tree->append(self->host, start, b.data, b.len, &u) != WB_OK ||
        self->tree->set_label(self->host, u, DLG_LANE_LABEL) != WB_OK) {
      free(b.data);
      return host_fail(self, err, err_cap, "feeding a lane");
    }
    self->fed_tokens += node_tokens(self, u);
    start = u;
  }
  free(b.data);
  if (n > 0 && j < n) {
    if (!dlg_lane_set(&path[n - 1].lanes, &path[n - 1].n_lanes, key, start) ||
        dlg_message_save(self, &path[n - 1], sc->node) != 0)
      return host_fail(self, err, err_cap, "recording a lane");
  }
  *out = start;
  return 0;
}

/* The lane a speaker reads and writes. */
static const char* lane_key(const dlg_scene* sc, const char* speaker) {
  return sc->lanes && is_cast(sc, speaker) ? speaker : DLG_SHARED_LANE;
}

/* The child of `lane` holding "NAME:", made when missing. */
int dlg_prompt_node(dlg_plugin* self, wb_node_id lane, const char* speaker, wb_node_id* out, char* err, size_t err_cap) {
  wb_node_info info;
  dlg_strbuf want = {NULL, 0, 0};
  uint32_t i;
  int rc = 1;
  if (!dlg_sb_str(&want, speaker) || !dlg_sb_str(&want, ":")) goto oom;
  if (self->tree->node_info(self->host, lane, &info) != WB_OK) {
    host_fail(self, err, err_cap, "reading a lane");
    goto done;
  }
  for (i = 0; i < info.child_count; ++i) {
    wb_node_id kid;
    size_t len = 0;
    char* text;
    if (self->tree->child(self->host, lane, i, &kid) != WB_OK) continue;
    text = dlg_fetch(self, self->tree->node_text, kid, &len);
    if (text && len == want.len && memcmp(text, want.data, len) == 0) {
      free(text);
      *out = kid;
      self->history_tokens += node_tokens(self, kid);
      rc = 0;
      goto done;
    }
    free(text);
  }
  if (self->tree->append(self->host, lane, want.data, want.len, out) != WB_OK ||
      self->tree->set_label(self->host, *out, DLG_LANE_LABEL) != WB_OK) {
    host_fail(self, err, err_cap, "writing the speaker prompt");
    goto done;
  }
  self->fed_tokens += node_tokens(self, *out);
  self->history_tokens += node_tokens(self, *out);
  rc = 0;
  goto done;
oom:
  set_err(err, err_cap, "out of memory", NULL);
done:
  free(want.data);
  return rc;
}

/* ---- messages ------------------------------------------------------------------ */

static int role_of(const dlg_scene* sc, const char* speaker) {
  if (strcmp(speaker, sc->user) == 0) return DLG_ROLE_USER;
  if (strcmp(speaker, sc->narrator) == 0) return DLG_ROLE_NARRATOR;
  return DLG_ROLE_CHARACTER;
}

/* Appends message node "SPEAKER: body" (body already ends the way it should). */
static int append_message(dlg_plugin* self, dlg_scene* sc, wb_node_id parent, const char* speaker, const char* body,
                          size_t body_len, int vis, char** to, size_t n_to, wb_node_id prompt, const char* key,
                          wb_node_id lane_end, wb_node_id* out, char* err, size_t err_cap) {
  dlg_strbuf t = {NULL, 0, 0};
  dlg_message m;
  int rc = 1;
  memset(&m, 0, sizeof m);
  if (!dlg_sb_str(&t, speaker) || !dlg_sb_str(&t, ":") || !dlg_sb_add(&t, body, body_len)) {
    set_err(err, err_cap, "out of memory", NULL);
    goto done;
  }
  if (!ends_with(t.data, t.len, SEP) && !dlg_sb_str(&t, ends_with(t.data, t.len, "\n") ? "\n" : SEP)) goto done;
  if (self->tree->append(self->host, parent, t.data, t.len, &m.id) != WB_OK) {
    host_fail(self, err, err_cap, "writing the message");
    goto done;
  }
  m.speaker = (char*)speaker;
  m.role = role_of(sc, speaker);
  m.vis = vis;
  m.to = to;
  m.n_to = n_to;
  m.prompt = prompt;
  if (key && lane_end) {
    dlg_lane_ref ref;
    ref.key = (char*)key;
    ref.id = lane_end;
    m.lanes = &ref;
    m.n_lanes = 1;
    rc = dlg_message_save(self, &m, sc->node);
  } else {
    rc = dlg_message_save(self, &m, sc->node);
  }
  if (rc != 0) host_fail(self, err, err_cap, "writing the message metadata");
  *out = m.id;
done:
  free(t.data);
  return rc;
}

int dlg_post(dlg_plugin* self, dlg_scene* sc, const char* speaker, const char* text, int vis, char** to, size_t n_to,
             wb_node_id* out, char* err, size_t err_cap) {
  size_t i;
  dlg_strbuf body = {NULL, 0, 0};
  int rc;
  if (!speaker) speaker = sc->user;
  if (!is_cast(sc, speaker) && strcmp(speaker, sc->user) != 0 && strcmp(speaker, sc->narrator) != 0) {
    snprintf(err, err_cap, "'%s' is not in the scene's cast (nor the user '%s' or the narrator)", speaker, sc->user);
    return 1;
  }
  for (i = 0; i < n_to; ++i)
    if (!is_cast(sc, to[i])) {
      snprintf(err, err_cap, "whisper to '%s': not in the scene's cast", to[i]);
      return 1;
    }
  if (vis == DLG_VIS_WHISPER && n_to == 0) {
    set_err(err, err_cap, "a whisper needs at least one listener", NULL);
    return 1;
  }
  if (!dlg_sb_str(&body, " ") || !dlg_sb_str(&body, text)) {
    free(body.data);
    set_err(err, err_cap, "out of memory", NULL);
    return 1;
  }
  rc = append_message(self, sc, sc->head, speaker, body.data, body.len, vis, to, n_to, 0, NULL, 0, out, err, err_cap);
  free(body.data);
  if (rc == 0) {
    sc->head = *out;
    if (dlg_scene_save(self, sc) != 0) return host_fail(self, err, err_cap, "writing the scene");
  }
  return rc;
}

/* ---- turn order ------------------------------------------------------------------ */

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }
static int word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

/* Byte offset of the first whole-word, case-insensitive mention of name in
 * hay, or -1. */
static long find_mention(const char* hay, const char* name) {
  size_t n = strlen(name), i, k;
  if (n == 0) return -1;
  for (i = 0; hay[i]; ++i) {
    if (i > 0 && word_char(hay[i - 1])) continue;
    for (k = 0; k < n && hay[i + k] && lower(hay[i + k]) == lower(name[k]); ++k) {
    }
    if (k == n && !word_char(hay[i + n])) return (long)i;
  }
  return -1;
}

int dlg_pick_speaker(dlg_plugin* self, dlg_scene* sc, const char* forced, char** out,
                     void (*score_fn)(void* user, const char* name, double logprob), void* user, char* err,
                     size_t err_cap) {
  dlg_message* path = NULL;
  size_t n = 0, i;
  const char* last = "";
  const char* pick = NULL;
  int rc = 1;
  *out = NULL;
  if (forced) {
    if (!is_cast(sc, forced) && strcmp(forced, sc->narrator) != 0) {
      snprintf(err, err_cap, "'%s' is not in the scene's cast (nor the narrator '%s')", forced, sc->narrator);
      return 1;
    }
    *out = dlg_strdup(forced);
    return 0;
  }
  if (sc->n_cast == 0) {
    set_err(err, err_cap, "the scene has no characters (add one with --add-card or --add-character)", NULL);
    return 1;
  }
  if (sc->mode == DLG_MODE_MANUAL) {
    set_err(err, err_cap, "the scene's turn mode is manual: name the speaker (--speaker NAME)", NULL);
    return 1;
  }
  if (dlg_path(self, sc, sc->head, &path, &n) != 0) return host_fail(self, err, err_cap, "reading the conversation");
  if (n > 0) last = path[n - 1].speaker;
  if (sc->mode == DLG_MODE_MENTION && n > 0) {
    char* body = dlg_body(&path[n - 1]);
    long best = -1;
    for (i = 0; body && i < sc->n_cast; ++i) {
      long at;
      if (strcmp(sc->cast[i].f[DLG_F_NAME], last) == 0) continue;
      at = find_mention(body, sc->cast[i].f[DLG_F_NAME]);
      if (at >= 0 && (best < 0 || at < best)) best = at, pick = sc->cast[i].f[DLG_F_NAME];
    }
    free(body);
  }
  if (sc->mode == DLG_MODE_MODEL) {
    /* Every candidate's "NAME:" scored in one batch from the shared lane. */
    const char* texts[DLG_MAX_CAST];
    size_t lens[DLG_MAX_CAST];
    char* owned[DLG_MAX_CAST];
    double lp[DLG_MAX_CAST];
    const char* names[DLG_MAX_CAST];
    uint32_t count = 0;
    wb_node_id lane;
    if (!self->score) {
      set_err(err, err_cap, "the host offers no scoring (wb.score/1) for model-chosen turns", NULL);
      goto done;
    }
    if (dlg_lane_catch_up(self, sc, path, n, DLG_SHARED_LANE, &lane, err, err_cap) != 0) goto done;
    for (i = 0; i < sc->n_cast && count < DLG_MAX_CAST; ++i) {
      const char* name = sc->cast[i].f[DLG_F_NAME];
      size_t len = strlen(name);
      if (sc->n_cast > 1 && strcmp(name, last) == 0) continue;
      owned[count] = (char*)malloc(len + 2);
      if (!owned[count]) break;
      memcpy(owned[count], name, len);
      owned[count][len] = ':';
      owned[count][len + 1] = '\0';
      texts[count] = owned[count];
      lens[count] = len + 1;
      names[count] = name;
      ++count;
    }
    if (count > 0 && self->score->score(self->host, lane, texts, lens, count, lp, NULL) == WB_OK) {
      uint32_t k, best = 0;
      for (k = 0; k < count; ++k) {
        if (score_fn) score_fn(user, names[k], lp[k]);
        if (lp[k] > lp[best]) best = k;
      }
      pick = names[best];
    } else {
      host_fail(self, err, err_cap, "scoring the candidate speakers");
      for (i = 0; i < count; ++i) free(owned[i]);
      goto done;
    }
    for (i = 0; i < count; ++i) free(owned[i]);
  }
  if (!pick) {
    /* Round-robin (also the fallback when nobody is mentioned). */
    pick = sc->cast[sc->next % sc->n_cast].f[DLG_F_NAME];
    if (sc->n_cast > 1 && strcmp(pick, last) == 0) pick = sc->cast[++sc->next % sc->n_cast].f[DLG_F_NAME];
    ++sc->next;
  }
  *out = dlg_strdup(pick);
  rc = *out ? 0 : 1;
done:
  dlg_messages_free(path, n);
  return rc;
}

/* ---- generation ---------------------------------------------------------------- */

static const char* const kStops[] = {SEP};

void dlg_sampler_settings(const dlg_gen_opts* o, unsigned long long default_seed, wb_sampler_settings* s) {
  wb_sampler_settings init = WB_SAMPLER_SETTINGS_INIT;
  *s = init;
  s->preset = o->preset;
  s->alternatives = (uint32_t)o->alternatives;
  s->set = WB_SAMPLER_MAX_TOKENS | WB_SAMPLER_SEED;
  s->max_tokens = (int32_t)o->n_tokens;
  s->seed = o->have_seed ? o->seed : default_seed;
  s->stop = kStops;
  s->stop_count = 1;
  if (o->have_temp) s->set |= WB_SAMPLER_TEMPERATURE, s->temperature = (float)o->temp;
  if (o->have_top_p) s->set |= WB_SAMPLER_TOP_P, s->top_p = (float)o->top_p;
}

static int run_generation(dlg_plugin* self, wb_node_id from, const dlg_gen_opts* o, unsigned long long default_seed,
                          wb_node_id* kids, size_t* n, char* err, size_t err_cap) {
  wb_sampler_settings s;
  dlg_sampler_settings(o, default_seed, &s);
  if (self->gen->generate(self->host, from, &s, NULL, NULL, kids, DLG_MAX_ALTERNATIVES, n) != WB_OK)
    return host_fail(self, err, err_cap, "generating");
  if (*n > DLG_MAX_ALTERNATIVES) *n = DLG_MAX_ALTERNATIVES;
  return 0;
}

/* Writes generated lane node `kid` as a visible message under `parent`. */
int dlg_publish(dlg_plugin* self, dlg_scene* sc, wb_node_id parent, const char* speaker, const char* key,
                   wb_node_id prompt, wb_node_id kid, wb_node_id* out, char* err, size_t err_cap) {
  size_t len = 0;
  char* text = dlg_fetch(self, self->tree->node_text, kid, &len);
  wb_node_id lane_end = kid;
  int rc;
  if (!text) return host_fail(self, err, err_cap, "reading a generated line");
  if (!ends_with(text, len, SEP)) {
    /* Cut off by the length limit: the lane reads the blank line too, so
     * that it holds exactly what the visible message says. */
    const char* tail = ends_with(text, len, "\n") ? "\n" : SEP;
    if (self->tree->append(self->host, kid, tail, strlen(tail), &lane_end) != WB_OK ||
        self->tree->set_label(self->host, lane_end, DLG_LANE_LABEL) != WB_OK) {
      free(text);
      return host_fail(self, err, err_cap, "closing a generated line");
    }
    self->fed_tokens += node_tokens(self, lane_end);
  }
  rc = append_message(self, sc, parent, speaker, text, len, DLG_VIS_ALL, NULL, 0, prompt, key, lane_end, out, err, err_cap);
  free(text);
  return rc;
}

int dlg_turn_prepare(dlg_plugin* self, dlg_scene* sc, const char* speaker, dlg_turn* t, char* err, size_t err_cap) {
  dlg_message* path = NULL;
  size_t n = 0;
  wb_node_id lane;
  int rc = 1;
  memset(t, 0, sizeof *t);
  if (dlg_path(self, sc, sc->head, &path, &n) != 0) return host_fail(self, err, err_cap, "reading the conversation");
  t->speaker = dlg_strdup(speaker);
  t->key = dlg_strdup(lane_key(sc, speaker));
  t->parent = sc->head;
  t->scene = sc->node;
  t->seed = 1 + (unsigned long long)n;
  if (!t->speaker || !t->key) set_err(err, err_cap, "out of memory", NULL);
  else if (dlg_lane_catch_up(self, sc, path, n, t->key, &lane, err, err_cap) == 0 &&
           dlg_prompt_node(self, lane, speaker, &t->prompt, err, err_cap) == 0)
    rc = 0;
  dlg_messages_free(path, n);
  if (rc != 0) dlg_turn_free(t);
  return rc;
}

int dlg_turn_publish(dlg_plugin* self, dlg_scene* sc, const dlg_turn* t, const wb_node_id* kids, size_t k,
                     wb_node_id* out, size_t* n_out, char* err, size_t err_cap) {
  size_t i;
  *n_out = 0;
  for (i = 0; i < k; ++i) {
    if (dlg_publish(self, sc, t->parent, t->speaker, t->key, t->prompt, kids[i], &out[*n_out], err, err_cap) != 0)
      return 1;
    ++*n_out;
  }
  if (*n_out > 0) sc->head = out[0];
  return dlg_scene_save(self, sc) == 0 ? 0 : host_fail(self, err, err_cap, "writing the scene");
}

void dlg_turn_free(dlg_turn* t) {
  free(t->speaker);
  free(t->key);
  memset(t, 0, sizeof *t);
}

int dlg_generate(dlg_plugin* self, dlg_scene* sc, const char* speaker, const dlg_gen_opts* o, wb_node_id* out,
                 size_t* n_out, char* err, size_t err_cap) {
  dlg_turn t;
  wb_node_id kids[DLG_MAX_ALTERNATIVES];
  size_t k = 0;
  int rc = 1;
  *n_out = 0;
  if (dlg_turn_prepare(self, sc, speaker, &t, err, err_cap) != 0) return 1;
  if (run_generation(self, t.prompt, o, t.seed, kids, &k, err, err_cap) == 0)
    rc = dlg_turn_publish(self, sc, &t, kids, k, out, n_out, err, err_cap);
  dlg_turn_free(&t);
  return rc;
}

int dlg_siblings(dlg_plugin* self, wb_node_id msg, wb_node_id** out, size_t* n) {
  wb_node_info info, pinfo;
  uint32_t i;
  *out = NULL;
  *n = 0;
  if (self->tree->node_info(self->host, msg, &info) != WB_OK ||
      self->tree->node_info(self->host, info.parent, &pinfo) != WB_OK)
    return 1;
  *out = (wb_node_id*)malloc((pinfo.child_count + 1) * sizeof **out);
  if (!*out) return 1;
  for (i = 0; i < pinfo.child_count; ++i) {
    wb_node_id kid;
    size_t len = 0;
    char* meta;
    if (self->tree->child(self->host, info.parent, i, &kid) != WB_OK) continue;
    meta = dlg_fetch(self, self->tree->metadata, kid, &len);
    if (meta && strncmp(meta, "dlg.msg 1", 9) == 0) (*out)[(*n)++] = kid;
    free(meta);
  }
  return 0;
}

int dlg_swipe(dlg_plugin* self, dlg_scene* sc, wb_node_id msg, const dlg_gen_opts* o, wb_node_id* out, size_t* n_out,
              char* err, size_t err_cap) {
  dlg_message m;
  wb_node_id kids[DLG_MAX_ALTERNATIVES];
  wb_node_info pinfo;
  const char* key;
  size_t k = 0, i;
  int r = dlg_message_load(self, msg, &m), rc = 1;
  *n_out = 0;
  if (r <= 0) {
    snprintf(err, err_cap, "node %llu is not a message of a scene", (unsigned long long)msg);
    return 1;
  }
  if (!m.prompt) {
    snprintf(err, err_cap, "message %llu was not generated; only generated messages get alternatives (edit it instead)",
             (unsigned long long)msg);
    goto done;
  }
  key = dlg_lane_find(m.lanes, m.n_lanes, m.speaker) ? m.speaker : DLG_SHARED_LANE;
  self->fed_tokens = 0;
  self->history_tokens = 0;
  if (self->tree->node_info(self->host, m.prompt, &pinfo) != WB_OK) {
    host_fail(self, err, err_cap, "reading the speaker prompt");
    goto done;
  }
  /* A new seed per swipe, so alternatives differ unless --seed pins one. */
  if (run_generation(self, m.prompt, o, 1000003ull * (pinfo.child_count + 1), kids, &k, err, err_cap) != 0) goto done;
  for (i = 0; i < k; ++i) {
    if (dlg_publish(self, sc, m.parent, m.speaker, key, m.prompt, kids[i], &out[*n_out], err, err_cap) != 0) goto done;
    ++*n_out;
  }
  if (*n_out > 0) sc->head = out[0];
  rc = dlg_scene_save(self, sc) == 0 ? 0 : host_fail(self, err, err_cap, "writing the scene");
done:
  dlg_message_free(&m);
  return rc;
}

int dlg_edit(dlg_plugin* self, dlg_scene* sc, wb_node_id msg, const char* text, wb_node_id* out, char* err,
             size_t err_cap) {
  dlg_message m, e;
  dlg_strbuf t = {NULL, 0, 0};
  int r = dlg_message_load(self, msg, &m), rc = 1;
  if (r <= 0) {
    snprintf(err, err_cap, "node %llu is not a message of a scene", (unsigned long long)msg);
    return 1;
  }
  if (!dlg_sb_str(&t, m.speaker) || !dlg_sb_str(&t, ": ") || !dlg_sb_str(&t, text) ||
      (!ends_with(t.data, t.len, SEP) && !dlg_sb_str(&t, SEP))) {
    set_err(err, err_cap, "out of memory", NULL);
    goto done;
  }
  /* Replacing from byte 0 makes the edited message a sibling: the original
   * and everything after it stay. */
  if (self->tree->edit(self->host, msg, 0, t.data, t.len, out) != WB_OK) {
    host_fail(self, err, err_cap, "editing");
    goto done;
  }
  e = m;
  e.id = *out;
  e.prompt = 0;
  e.lanes = NULL;
  e.n_lanes = 0;
  if (dlg_message_save(self, &e, sc->node) != 0) {
    host_fail(self, err, err_cap, "writing the edited message");
    goto done;
  }
  sc->head = *out;
  rc = dlg_scene_save(self, sc) == 0 ? 0 : host_fail(self, err, err_cap, "writing the scene");
done:
  free(t.data);
  dlg_message_free(&m);
  return rc;
}

/* ---- export ------------------------------------------------------------------------ */

/* A copy of s with every byte that is not part of valid UTF-8 replaced by
 * U+FFFD: a small model can emit any bytes, and JSONL wants UTF-8. */
static char* utf8_clean(const char* s) {
  dlg_strbuf b = {NULL, 0, 0};
  const unsigned char* p = (const unsigned char*)s;
  while (*p) {
    size_t need = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : 99;
    size_t k;
    int good = need != 99 && !(need == 1 && *p < 0xc2) && !(need == 3 && *p > 0xf4);
    for (k = 1; good && k <= need; ++k)
      if ((p[k] & 0xc0) != 0x80) good = 0;
    if (good && need == 2 && ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0))) good = 0;
    if (good && need == 3 && ((*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] >= 0x90))) good = 0;
    if (good) {
      if (!dlg_sb_add(&b, (const char*)p, need + 1)) break;
      p += need + 1;
    } else {
      if (!dlg_sb_str(&b, "\xEF\xBF\xBD")) break;
      ++p;
    }
  }
  if (!b.data) return dlg_strdup("");
  return b.data;
}

static char* clean_body(const dlg_message* m) {
  char* raw = dlg_body(m);
  char* clean = raw ? utf8_clean(raw) : NULL;
  free(raw);
  return clean;
}

int dlg_export(dlg_plugin* self, dlg_scene* sc, const char* path, char* err, size_t err_cap) {
  dlg_message* ms = NULL;
  size_t n = 0, i, k;
  wb_transcript_message* out = NULL;
  char** bodies = NULL;
  char** notes = NULL;
  char*** alts = NULL;
  wb_transcript t;
  int rc = 1;
  if (!self->transcript) {
    set_err(err, err_cap, "the host offers no transcript export (wb.transcript/1)", NULL);
    return 1;
  }
  if (dlg_path(self, sc, sc->head, &ms, &n) != 0) return host_fail(self, err, err_cap, "reading the conversation");
  out = (wb_transcript_message*)calloc(n + 1, sizeof *out);
  bodies = (char**)calloc(n + 1, sizeof *bodies);
  notes = (char**)calloc(n + 1, sizeof *notes);
  alts = (char***)calloc(n + 1, sizeof *alts);
  if (!out || !bodies || !notes || !alts) goto oom;
  for (i = 0; i < n; ++i) {
    wb_node_info info;
    wb_node_id* sib = NULL;
    size_t ns = 0;
    bodies[i] = clean_body(&ms[i]);
    if (!bodies[i]) goto oom;
    out[i].speaker = ms[i].speaker;
    out[i].role = ms[i].role == DLG_ROLE_USER ? WB_TRANSCRIPT_USER
                  : ms[i].role == DLG_ROLE_NARRATOR ? WB_TRANSCRIPT_NARRATOR : WB_TRANSCRIPT_CHARACTER;
    out[i].text = bodies[i];
    if (self->tree->node_info(self->host, ms[i].id, &info) == WB_OK) out[i].send_date_ms = info.created_ms;
    if (ms[i].vis != DLG_VIS_ALL) {
      dlg_strbuf b = {NULL, 0, 0};
      if (ms[i].vis == DLG_VIS_ASIDE) dlg_sb_str(&b, "aside");
      else {
        dlg_sb_str(&b, "whispers to ");
        for (k = 0; k < ms[i].n_to; ++k) dlg_sb_str(&b, k ? ", " : ""), dlg_sb_str(&b, ms[i].to[k]);
      }
      notes[i] = b.data;
      out[i].note = notes[i];
    }
    if (dlg_siblings(self, ms[i].id, &sib, &ns) == 0 && ns > 1) {
      alts[i] = (char**)calloc(ns, sizeof(char*));
      if (!alts[i]) {
        free(sib);
        goto oom;
      }
      for (k = 0; k < ns; ++k) {
        dlg_message s;
        if (dlg_message_load(self, sib[k], &s) == 1) {
          alts[i][k] = clean_body(&s);
          dlg_message_free(&s);
        }
        if (!alts[i][k]) alts[i][k] = dlg_strdup("");
        if (sib[k] == ms[i].id) out[i].chosen = (uint32_t)k;
      }
      out[i].alternatives = (const char* const*)alts[i];
      out[i].alternative_count = (uint32_t)ns;
    }
    free(sib);
  }
  memset(&t, 0, sizeof t);
  t.title = sc->title;
  t.user_name = sc->user;
  t.character_name = sc->n_cast > 0 ? sc->cast[0].f[DLG_F_NAME] : NULL;
  t.create_date_ms = (int64_t)time(NULL) * 1000;
  t.messages = out;
  t.message_count = (uint32_t)n;
  rc = self->transcript->write(self->host, &t, path) == WB_OK ? 0 : host_fail(self, err, err_cap, "export");
  goto done;
oom:
  set_err(err, err_cap, "out of memory", NULL);
done:
  for (i = 0; i < n; ++i) {
    if (bodies) free(bodies[i]);
    if (notes) free(notes[i]);
    if (alts && alts[i]) {
      for (k = 0; k < out[i].alternative_count; ++k) free(alts[i][k]);
      free(alts[i]);
    }
  }
  free(bodies);
  free(notes);
  free(alts);
  free(out);
  dlg_messages_free(ms, n);
  return rc;
}
