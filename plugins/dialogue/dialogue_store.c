/* Scenes and messages of the dialogue plugin as node metadata (see dialogue.h
 * for the layout). Line-based "key value" metadata keeps the C side free of a
 * JSON parser; values are escaped so that any text survives. */
#include "dialogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- strings ----------------------------------------------------------------- */

int dlg_sb_add(dlg_strbuf* b, const char* s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char* d = (char*)realloc(b->data, cap);
    if (!d) return 0;
    b->data = d;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 1;
}

int dlg_sb_str(dlg_strbuf* b, const char* s) { return dlg_sb_add(b, s ? s : "", s ? strlen(s) : 0); }

int dlg_sb_esc(dlg_strbuf* b, const char* s) {
  for (; s && *s; ++s) {
    const char* e = NULL;
    if (*s == '\\') e = "\\\\";
    else if (*s == '\n') e = "\\n";
    else if (*s == '\t') e = "\\t";
    else if (*s == '\r') e = "\\r";
    if (e ? !dlg_sb_add(b, e, 2) : !dlg_sb_add(b, s, 1)) return 0;
  }
  return 1;
}

int dlg_sb_json(dlg_strbuf* b, const char* s) {
  char esc[8];
  for (; s && *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      esc[0] = '\\', esc[1] = (char)c;
      if (!dlg_sb_add(b, esc, 2)) return 0;
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      if (!dlg_sb_str(b, esc)) return 0;
    } else if (!dlg_sb_add(b, (const char*)&c, 1)) {
      return 0;
    }
  }
  return 1;
}

char* dlg_strndup(const char* s, size_t n) {
  char* d = (char*)malloc(n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char* dlg_strdup(const char* s) { return dlg_strndup(s ? s : "", s ? strlen(s) : 0); }

/* Unescapes s[0..n). */
static char* unescape(const char* s, size_t n) {
  char* d = (char*)malloc(n + 1);
  size_t i, k = 0;
  if (!d) return NULL;
  for (i = 0; i < n; ++i) {
    if (s[i] == '\\' && i + 1 < n) {
      char c = s[++i];
      d[k++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
    } else {
      d[k++] = s[i];
    }
  }
  d[k] = '\0';
  return d;
}

/* Splits value v[0..n) at raw tabs into up to `max` unescaped fields;
 * returns how many (missing trailing fields are ""). */
static size_t split_fields(const char* v, size_t n, char** out, size_t max) {
  size_t count = 0;
  const char* end = v + n;
  while (count < max) {
    const char* tab = (const char*)memchr(v, '\t', (size_t)(end - v));
    const char* e = tab ? tab : end;
    out[count++] = unescape(v, (size_t)(e - v));
    if (!tab) break;
    v = tab + 1;
  }
  return count;
}

static int parse_u64(const char* s, size_t n, unsigned long long* out) {
  unsigned long long v = 0;
  size_t i;
  if (n == 0 || n > 19) return 0;
  for (i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (unsigned long long)(s[i] - '0');
  }
  *out = v;
  return 1;
}

/* Calls fn(user, key, keylen, value, valuelen) for each "key value" line. */
typedef int (*line_fn)(void* user, const char* k, size_t kn, const char* v, size_t vn);
static int each_line(const char* text, size_t len, line_fn fn, void* user) {
  const char* p = text;
  const char* end = text + len;
  while (p < end) {
    const char* nl = (const char*)memchr(p, '\n', (size_t)(end - p));
    const char* eol = nl ? nl : end;
    const char* sp = (const char*)memchr(p, ' ', (size_t)(eol - p));
    if (eol > p && !fn(user, p, (size_t)((sp ? sp : eol) - p), sp ? sp + 1 : eol, sp ? (size_t)(eol - sp - 1) : 0)) return 0;
    p = eol + 1;
  }
  return 1;
}

static int key_is(const char* k, size_t kn, const char* want) { return strlen(want) == kn && memcmp(k, want, kn) == 0; }

char* dlg_fetch(const dlg_plugin* self, wb_status (*fn)(const wb_host*, wb_node_id, char*, size_t, size_t*),
                wb_node_id id, size_t* out_len) {
  size_t len = 0;
  char* buf;
  wb_status st = fn(self->host, id, NULL, 0, &len);
  if (st != WB_ERR_BUFFER_TOO_SMALL && st != WB_OK) return NULL;
  buf = (char*)malloc(len + 1);
  if (!buf) return NULL;
  if (fn(self->host, id, buf, len + 1, &len) != WB_OK) {
    free(buf);
    return NULL;
  }
  if (out_len) *out_len = len;
  return buf;
}

/* ---- lanes -------------------------------------------------------------------- */

wb_node_id dlg_lane_find(const dlg_lane_ref* refs, size_t n, const char* key) {
  size_t i;
  for (i = 0; i < n; ++i)
    if (strcmp(refs[i].key, key) == 0) return refs[i].id;
  return 0;
}

int dlg_lane_set(dlg_lane_ref** refs, size_t* n, const char* key, wb_node_id id) {
  size_t i;
  dlg_lane_ref* r;
  for (i = 0; i < *n; ++i)
    if (strcmp((*refs)[i].key, key) == 0) {
      (*refs)[i].id = id;
      return 1;
    }
  r = (dlg_lane_ref*)realloc(*refs, (*n + 1) * sizeof *r);
  if (!r) return 0;
  *refs = r;
  r[*n].key = dlg_strdup(key);
  r[*n].id = id;
  if (!r[*n].key) return 0;
  ++*n;
  return 1;
}

static void lanes_free(dlg_lane_ref* refs, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) free(refs[i].key);
  free(refs);
}

static int lane_line(dlg_lane_ref** refs, size_t* n, const char* v, size_t vn) {
  char* f[2] = {NULL, NULL};
  unsigned long long id = 0;
  int ok = split_fields(v, vn, f, 2) == 2 && f[1] && parse_u64(f[1], strlen(f[1]), &id) && f[0] &&
           dlg_lane_set(refs, n, f[0], (wb_node_id)id);
  free(f[0]);
  free(f[1]);
  return ok;
}

/* ---- scenes -------------------------------------------------------------------- */

static const char* const kModes[] = {"manual", "round", "mention", "model"};

static int scene_line(void* user, const char* k, size_t kn, const char* v, size_t vn) {
  dlg_scene* sc = (dlg_scene*)user;
  unsigned long long u = 0;
  size_t i;
  if (key_is(k, kn, "title")) free(sc->title), sc->title = unescape(v, vn);
  else if (key_is(k, kn, "scenario")) free(sc->scenario), sc->scenario = unescape(v, vn);
  else if (key_is(k, kn, "user")) free(sc->user), sc->user = unescape(v, vn);
  else if (key_is(k, kn, "narrator")) free(sc->narrator), sc->narrator = unescape(v, vn);
  else if (key_is(k, kn, "lanes")) sc->lanes = vn == 1 && v[0] == '1';
  else if (key_is(k, kn, "next") && parse_u64(v, vn, &u)) sc->next = (unsigned long)u;
  else if (key_is(k, kn, "head") && parse_u64(v, vn, &u)) sc->head = (wb_node_id)u;
  else if (key_is(k, kn, "laneroot")) return lane_line(&sc->roots, &sc->n_roots, v, vn);
  else if (key_is(k, kn, "mode")) {
    for (i = 0; i < 4; ++i)
      if (key_is(v, vn, kModes[i])) sc->mode = (int)i;
  } else if (key_is(k, kn, "char")) {
    char* f[DLG_F_COUNT] = {NULL, NULL, NULL, NULL, NULL};
    dlg_character* c;
    size_t got = split_fields(v, vn, f, DLG_F_COUNT);
    c = (dlg_character*)realloc(sc->cast, (sc->n_cast + 1) * sizeof *c);
    if (!c) {
      for (i = 0; i < got; ++i) free(f[i]);
      return 0;
    }
    sc->cast = c;
    for (i = 0; i < DLG_F_COUNT; ++i) c[sc->n_cast].f[i] = f[i] ? f[i] : dlg_strdup("");
    c[sc->n_cast].card = NULL;
    ++sc->n_cast;
  } else if (key_is(k, kn, "card")) {
    char* f[2] = {NULL, NULL};
    size_t got = split_fields(v, vn, f, 2);
    for (i = 0; got == 2 && f[0] && f[1] && i < sc->n_cast; ++i)
      if (strcmp(sc->cast[i].f[DLG_F_NAME], f[0]) == 0 && !sc->cast[i].card) {
        sc->cast[i].card = f[1];
        f[1] = NULL;
      }
    free(f[0]);
    free(f[1]);
  }
  return 1;
}

int dlg_is_scene(const dlg_plugin* self, wb_node_id id) {
  size_t len = 0;
  char* meta = dlg_fetch(self, self->tree->metadata, id, &len);
  int yes = meta && strncmp(meta, "dlg.scene 1", 11) == 0;
  free(meta);
  return yes;
}

int dlg_scene_parse(const char* meta, size_t len, wb_node_id id, dlg_scene* out) {
  int ok;
  memset(out, 0, sizeof *out);
  if (len < 11 || strncmp(meta, "dlg.scene 1", 11) != 0) return -1;
  out->node = id;
  out->head = id;
  out->mode = DLG_MODE_ROUND;
  ok = each_line(meta, len, scene_line, out);
  if (!out->title) out->title = dlg_strdup("");
  if (!out->scenario) out->scenario = dlg_strdup("");
  if (!out->user) out->user = dlg_strdup("User");
  if (!out->narrator) out->narrator = dlg_strdup("Narrator");
  if (!ok || !out->title || !out->scenario || !out->user || !out->narrator) {
    dlg_scene_free(out);
    return -1;
  }
  return 0;
}

int dlg_scene_load(const dlg_plugin* self, wb_node_id id, dlg_scene* out) {
  size_t len = 0;
  char* meta = dlg_fetch(self, self->tree->metadata, id, &len);
  int rc;
  memset(out, 0, sizeof *out);
  if (!meta) return -1;
  rc = dlg_scene_parse(meta, len, id, out);
  free(meta);
  return rc;
}

int dlg_scene_save(const dlg_plugin* self, const dlg_scene* sc) {
  dlg_strbuf b = {NULL, 0, 0};
  char num[64];
  size_t i, k;
  int ok = dlg_sb_str(&b, "dlg.scene 1\ntitle ") && dlg_sb_esc(&b, sc->title) && dlg_sb_str(&b, "\nscenario ") &&
           dlg_sb_esc(&b, sc->scenario) && dlg_sb_str(&b, "\nuser ") && dlg_sb_esc(&b, sc->user) &&
           dlg_sb_str(&b, "\nnarrator ") && dlg_sb_esc(&b, sc->narrator) && dlg_sb_str(&b, "\nlanes ") &&
           dlg_sb_str(&b, sc->lanes ? "1" : "0") && dlg_sb_str(&b, "\nmode ") && dlg_sb_str(&b, kModes[sc->mode & 3]);
  snprintf(num, sizeof num, "\nnext %lu\nhead %llu", sc->next, (unsigned long long)sc->head);
  ok = ok && dlg_sb_str(&b, num);
  for (i = 0; ok && i < sc->n_roots; ++i) {
    snprintf(num, sizeof num, "\t%llu", (unsigned long long)sc->roots[i].id);
    ok = dlg_sb_str(&b, "\nlaneroot ") && dlg_sb_esc(&b, sc->roots[i].key) && dlg_sb_str(&b, num);
  }
  for (i = 0; ok && i < sc->n_cast; ++i) {
    ok = dlg_sb_str(&b, "\nchar ");
    for (k = 0; ok && k < DLG_F_COUNT; ++k) ok = (k == 0 || dlg_sb_str(&b, "\t")) && dlg_sb_esc(&b, sc->cast[i].f[k]);
  }
  for (i = 0; ok && i < sc->n_cast; ++i)
    if (sc->cast[i].card)
      ok = dlg_sb_str(&b, "\ncard ") && dlg_sb_esc(&b, sc->cast[i].f[DLG_F_NAME]) && dlg_sb_str(&b, "\t") &&
           dlg_sb_esc(&b, sc->cast[i].card);
  ok = ok && dlg_sb_str(&b, "\n") && self->tree->set_metadata(self->host, sc->node, b.data) == WB_OK;
  free(b.data);
  return ok ? 0 : -1;
}

void dlg_scene_free(dlg_scene* sc) {
  size_t i, k;
  free(sc->title);
  free(sc->scenario);
  free(sc->user);
  free(sc->narrator);
  for (i = 0; i < sc->n_cast; ++i) {
    for (k = 0; k < DLG_F_COUNT; ++k) free(sc->cast[i].f[k]);
    free(sc->cast[i].card);
  }
  free(sc->cast);
  lanes_free(sc->roots, sc->n_roots);
  memset(sc, 0, sizeof *sc);
}

const dlg_character* dlg_find_character(const dlg_scene* sc, const char* name) {
  size_t i;
  for (i = 0; i < sc->n_cast; ++i)
    if (strcmp(sc->cast[i].f[DLG_F_NAME], name) == 0) return &sc->cast[i];
  return NULL;
}

/* Adds (or, for a name already in the cast, replaces) a character. */
int dlg_add_character(dlg_scene* sc, const char* const f[DLG_F_COUNT]) {
  dlg_character c;
  size_t i, k;
  for (k = 0; k < DLG_F_COUNT; ++k) {
    c.f[k] = dlg_strdup(f[k]);
    if (!c.f[k]) {
      while (k-- > 0) free(c.f[k]);
      return 0;
    }
  }
  c.card = NULL;
  for (i = 0; i < sc->n_cast; ++i)
    if (strcmp(sc->cast[i].f[DLG_F_NAME], f[DLG_F_NAME]) == 0) {
      /* Edited in the panel: the card it came from stays (its extensions). */
      for (k = 0; k < DLG_F_COUNT; ++k) free(sc->cast[i].f[k]);
      c.card = sc->cast[i].card;
      sc->cast[i] = c;
      return 1;
    }
  {
    dlg_character* d = (dlg_character*)realloc(sc->cast, (sc->n_cast + 1) * sizeof *d);
    if (!d) {
      for (k = 0; k < DLG_F_COUNT; ++k) free(c.f[k]);
      return 0;
    }
    sc->cast = d;
    d[sc->n_cast++] = c;
  }
  return 1;
}

/* ---- messages ------------------------------------------------------------------ */

static const char* const kVis[] = {"all", "whisper", "aside"};
static const char* const kRoles[] = {"character", "user", "narrator"};

static int message_line(void* user, const char* k, size_t kn, const char* v, size_t vn) {
  dlg_message* m = (dlg_message*)user;
  unsigned long long u = 0;
  size_t i;
  if (key_is(k, kn, "speaker")) free(m->speaker), m->speaker = unescape(v, vn);
  else if (key_is(k, kn, "prompt") && parse_u64(v, vn, &u)) m->prompt = (wb_node_id)u;
  else if (key_is(k, kn, "lane")) return lane_line(&m->lanes, &m->n_lanes, v, vn);
  else if (key_is(k, kn, "vis")) {
    for (i = 0; i < 3; ++i)
      if (key_is(v, vn, kVis[i])) m->vis = (int)i;
  } else if (key_is(k, kn, "role")) {
    for (i = 0; i < 3; ++i)
      if (key_is(v, vn, kRoles[i])) m->role = (int)i;
  } else if (key_is(k, kn, "to") && vn > 0) {
    char* f[64];
    size_t n = split_fields(v, vn, f, 64);
    char** to = (char**)realloc(m->to, (m->n_to + n) * sizeof *to);
    if (!to) {
      for (i = 0; i < n; ++i) free(f[i]);
      return 0;
    }
    m->to = to;
    for (i = 0; i < n; ++i) to[m->n_to++] = f[i];
  }
  return 1;
}

int dlg_message_parse(const char* meta, size_t len, dlg_message* out) {
  memset(out, 0, sizeof *out);
  if (len < 9 || strncmp(meta, "dlg.msg 1", 9) != 0) return 0;
  if (!each_line(meta, len, message_line, out)) {
    dlg_message_free(out);
    return -1;
  }
  if (!out->speaker) out->speaker = dlg_strdup("");
  if (!out->speaker) return -1;
  return 1;
}

int dlg_message_load(const dlg_plugin* self, wb_node_id id, dlg_message* out) {
  size_t len = 0;
  char* meta;
  wb_node_info info;
  int r;
  memset(out, 0, sizeof *out);
  meta = dlg_fetch(self, self->tree->metadata, id, &len);
  if (!meta) return -1;
  r = dlg_message_parse(meta, len, out);
  free(meta);
  if (r <= 0) return r;
  out->id = id;
  if (self->tree->node_info(self->host, id, &info) != WB_OK) {
    dlg_message_free(out);
    return -1;
  }
  out->parent = info.parent;
  out->text = dlg_fetch(self, self->tree->node_text, id, &out->text_len);
  if (!out->text) {
    dlg_message_free(out);
    return -1;
  }
  return 1;
}

int dlg_message_save(const dlg_plugin* self, const dlg_message* m, wb_node_id scene) {
  dlg_strbuf b = {NULL, 0, 0};
  char num[64];
  size_t i;
  int ok;
  snprintf(num, sizeof num, "dlg.msg 1\nscene %llu\nspeaker ", (unsigned long long)scene);
  ok = dlg_sb_str(&b, num) && dlg_sb_esc(&b, m->speaker) && dlg_sb_str(&b, "\nrole ") &&
       dlg_sb_str(&b, kRoles[m->role % 3]) && dlg_sb_str(&b, "\nvis ") && dlg_sb_str(&b, kVis[m->vis % 3]);
  if (ok && m->n_to > 0) {
    ok = dlg_sb_str(&b, "\nto ");
    for (i = 0; ok && i < m->n_to; ++i) ok = (i == 0 || dlg_sb_str(&b, "\t")) && dlg_sb_esc(&b, m->to[i]);
  }
  if (ok && m->prompt) {
    snprintf(num, sizeof num, "\nprompt %llu", (unsigned long long)m->prompt);
    ok = dlg_sb_str(&b, num);
  }
  for (i = 0; ok && i < m->n_lanes; ++i) {
    snprintf(num, sizeof num, "\t%llu", (unsigned long long)m->lanes[i].id);
    ok = dlg_sb_str(&b, "\nlane ") && dlg_sb_esc(&b, m->lanes[i].key) && dlg_sb_str(&b, num);
  }
  ok = ok && dlg_sb_str(&b, "\n") && self->tree->set_metadata(self->host, m->id, b.data) == WB_OK;
  free(b.data);
  return ok ? 0 : -1;
}

void dlg_message_free(dlg_message* m) {
  size_t i;
  free(m->speaker);
  for (i = 0; i < m->n_to; ++i) free(m->to[i]);
  free(m->to);
  lanes_free(m->lanes, m->n_lanes);
  free(m->text);
  memset(m, 0, sizeof *m);
}

void dlg_messages_free(dlg_message* ms, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) dlg_message_free(&ms[i]);
  free(ms);
}

int dlg_path(const dlg_plugin* self, const dlg_scene* sc, wb_node_id head, dlg_message** out, size_t* n) {
  dlg_message* ms = NULL;
  size_t count = 0, cap = 0, i;
  wb_node_id id = head;
  *out = NULL;
  *n = 0;
  while (id && id != sc->node) {
    dlg_message m;
    int r = dlg_message_load(self, id, &m);
    if (r < 0) {
      dlg_messages_free(ms, count);
      return -1;
    }
    if (r == 0) {
      /* Not ours: the head is outside this scene. */
      dlg_messages_free(ms, count);
      return -1;
    }
    if (count == cap) {
      dlg_message* d;
      cap = cap ? cap * 2 : 16;
      d = (dlg_message*)realloc(ms, cap * sizeof *d);
      if (!d) {
        dlg_message_free(&m);
        dlg_messages_free(ms, count);
        return -1;
      }
      ms = d;
    }
    ms[count++] = m;
    id = m.parent;
  }
  if (id != sc->node) {
    dlg_messages_free(ms, count);
    return -1;
  }
  for (i = 0; i < count / 2; ++i) {
    dlg_message t = ms[i];
    ms[i] = ms[count - 1 - i];
    ms[count - 1 - i] = t;
  }
  *out = ms;
  *n = count;
  return 0;
}

char* dlg_body(const dlg_message* m) {
  const char* s = m->text;
  size_t n = m->text_len, sp = strlen(m->speaker);
  if (sp > 0 && n > sp && memcmp(s, m->speaker, sp) == 0 && s[sp] == ':') {
    s += sp + 1;
    n -= sp + 1;
    if (n > 0 && *s == ' ') ++s, --n;
  }
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) --n;
  return dlg_strndup(s, n);
}

/* Did the owner of lane `key` witness message m? The shared lane sees all. */
int dlg_witnessed(const dlg_message* m, const char* key) {
  size_t i;
  if (strcmp(key, DLG_SHARED_LANE) == 0 || m->vis == DLG_VIS_ALL) return 1;
  if (strcmp(m->speaker, key) == 0) return 1;
  if (m->vis == DLG_VIS_ASIDE) return 0;
  for (i = 0; i < m->n_to; ++i)
    if (strcmp(m->to[i], key) == 0) return 1;
  return 0;
}
