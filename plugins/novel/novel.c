/* Novel continuation: a shipped plugin, built exactly as a community plugin
 * is (only the C ABI: wb.tree/1, wb.generate/1, wb.log/1).
 *
 * Headless:
 *   wb plugin run org.rwkv.workbench.novel --project P [--model M] [--create] ACTION...
 * actions (in this order when several are given):
 *   --memory TEXT       text the model always sees first: the first node under
 *                       the root (label "novel.memory"), so its state is cached
 *                       by the tree and costs nothing per generation
 *   --append TEXT       the writer's text after the current node (becomes current)
 *   --regenerate NODE --at I [--alt K]
 *                       "regenerate from this token": token I of NODE is
 *                       replaced by stored alternative K (default: the most
 *                       likely one that was not chosen) in a new branch, which
 *                       becomes current and is continued when --continue is given
 *   --continue [-n N] [--alternatives K] [--preset NAME] [--seed S] [--temp T] [--top-p P]
 *              [--note TEXT] [--lore FILE]
 *                       continue the current node (or --node ID); prints each
 *                       alternative with its node id. --note is an author's
 *                       note (style instruction) and --lore a lorebook: lines
 *                       "key, key: entry", an entry joining the context when a
 *                       key occurs in the last 4 KiB of the story. Both are
 *                       read by the model right before it writes, then left
 *                       out of the story: the continuations are re-attached
 *                       to the current node (metadata records the context;
 *                       per-token alternatives are not kept for these)
 *   --switch ID         make ID current
 *   --show              print the current path's text
 *   --words             word count of the current path (memory excluded)
 */
#include <wb/plugin_all.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOVEL_ID "org.rwkv.workbench.novel"
#define MEMORY_LABEL "novel.memory"
#define MAX_ALTERNATIVES 16
#define CONTEXT_LABEL "novel.context"
#define LORE_WINDOW 4096
#define MAX_LORE_BYTES (1u << 20)

typedef struct novel {
  wb_plugin plugin;
  const wb_host* host;
  const wb_host_log* log;
  const wb_host_tree* tree;
  const wb_host_generate* gen;
  const wb_host_ui* ui;
  /* The GUI's running continuation (0: none). */
  wb_session_id session;
  wb_node_id from, ctx_node;
  char* ctx_text;
  char* preview;  /* alternative 1 as it streams */
  size_t preview_len, preview_cap;
  size_t tokens;
  double tokens_per_s;
} novel;

typedef struct options {
  const char* project;
  const char* model;
  int create;
  const char* memory;
  const char* append;
  int do_continue, show, words;
  unsigned long long node, switch_to, regen_node;
  long regen_at, regen_alt;
  long n_tokens, alternatives;
  const char* preset;
  const char* note;
  const char* lore;
  int have_seed, have_temp, have_top_p;
  unsigned long long seed;
  double temp, top_p;
} options;

/* ---- small helpers -------------------------------------------------------- */

static void put(const wb_output* out, const char* s) { out->write(out, s, strlen(s)); }

static int fail(const novel* self, const wb_output* out, const char* what) {
  char line[1024];
  snprintf(line, sizeof line, "novel: %s: %s\n", what, self->host->last_error(self->host));
  out->write_error(out, line, strlen(line));
  return 1;
}

static int usage(const wb_output* out, const char* what) {
  char line[1024];
  snprintf(line, sizeof line, "novel: %s\n", what);
  out->write_error(out, line, strlen(line));
  return 2;
}

/* A node's text or path text in a malloc'ed, NUL-terminated buffer; *len
 * (may be NULL) gets the full length, which counts any NUL bytes a byte-level
 * model wrote. */
typedef wb_status (*text_fn)(const wb_host*, wb_node_id, char*, size_t, size_t*);
static char* fetch_text_len(const novel* self, text_fn fn, wb_node_id id, size_t* out_len) {
  size_t len = 0;
  char* buf;
  if (fn(self->host, id, NULL, 0, &len) != WB_ERR_BUFFER_TOO_SMALL) return NULL;
  buf = (char*)malloc(len + 1);
  if (!buf) return NULL;
  if (fn(self->host, id, buf, len + 1, &len) != WB_OK) {
    free(buf);
    return NULL;
  }
  if (out_len) *out_len = len;
  return buf;
}

static char* fetch_text(const novel* self, text_fn fn, wb_node_id id) { return fetch_text_len(self, fn, id, NULL); }

static size_t count_words(const char* s) {
  size_t n = 0;
  int in_word = 0;
  for (; *s; ++s) {
    int space = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

static int parse_u64(const char* s, unsigned long long* out) {
  char* end = NULL;
  if (!s || !*s || *s == '-') return 0;
  *out = strtoull(s, &end, 10);
  return end && *end == '\0';
}

static int parse_long(const char* s, long lo, long hi, long* out) {
  char* end = NULL;
  long v;
  if (!s || !*s) return 0;
  v = strtol(s, &end, 10);
  if (!end || *end != '\0' || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

static int parse_double(const char* s, double* out) {
  char* end = NULL;
  if (!s || !*s) return 0;
  *out = strtod(s, &end);
  return end && *end == '\0';
}

/* Returns 0 on success, 2 with a message on a usage error. */
static int parse_args(uint32_t argc, const char* const* argv, options* o, const wb_output* out) {
  uint32_t i;
  memset(o, 0, sizeof *o);
  o->n_tokens = 200;
  o->alternatives = 1;
  o->regen_alt = -1;
  o->regen_at = -1;
  for (i = 0; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = 1;
    if (strcmp(a, "--create") == 0) o->create = 1, takes = 0;
    else if (strcmp(a, "--continue") == 0) o->do_continue = 1, takes = 0;
    else if (strcmp(a, "--show") == 0) o->show = 1, takes = 0;
    else if (strcmp(a, "--words") == 0) o->words = 1, takes = 0;
    else if (!v) return usage(out, "an option needs a value (see --help)");
    else if (strcmp(a, "--project") == 0) o->project = v;
    else if (strcmp(a, "--model") == 0) o->model = v;
    else if (strcmp(a, "--memory") == 0) o->memory = v;
    else if (strcmp(a, "--append") == 0) o->append = v;
    else if (strcmp(a, "--preset") == 0) o->preset = v;
    else if (strcmp(a, "--note") == 0) o->note = v;
    else if (strcmp(a, "--lore") == 0) o->lore = v;
    else if (strcmp(a, "--node") == 0) { if (!parse_u64(v, &o->node)) return usage(out, "--node expects a node id"); }
    else if (strcmp(a, "--switch") == 0) { if (!parse_u64(v, &o->switch_to)) return usage(out, "--switch expects a node id"); }
    else if (strcmp(a, "--regenerate") == 0) { if (!parse_u64(v, &o->regen_node)) return usage(out, "--regenerate expects a node id"); }
    else if (strcmp(a, "--at") == 0) { if (!parse_long(v, 0, 1L << 30, &o->regen_at)) return usage(out, "--at expects a token index"); }
    else if (strcmp(a, "--alt") == 0) { if (!parse_long(v, 0, 1000, &o->regen_alt)) return usage(out, "--alt expects an alternative index"); }
    else if (strcmp(a, "-n") == 0) { if (!parse_long(v, 0, 1L << 20, &o->n_tokens)) return usage(out, "-n expects 0..1048576"); }
    else if (strcmp(a, "--alternatives") == 0) {
      if (!parse_long(v, 1, MAX_ALTERNATIVES, &o->alternatives)) return usage(out, "--alternatives expects 1..16");
    }
    else if (strcmp(a, "--seed") == 0) { if (!parse_u64(v, &o->seed)) return usage(out, "--seed expects a number"); o->have_seed = 1; }
    else if (strcmp(a, "--temp") == 0) { if (!parse_double(v, &o->temp)) return usage(out, "--temp expects a number"); o->have_temp = 1; }
    else if (strcmp(a, "--top-p") == 0) { if (!parse_double(v, &o->top_p)) return usage(out, "--top-p expects a number"); o->have_top_p = 1; }
    else {
      char line[256];
      snprintf(line, sizeof line, "unknown option '%s'", a);
      return usage(out, line);
    }
    i += (uint32_t)takes;
  }
  if (!o->project) return usage(out, "--project P is required");
  if (o->regen_node && o->regen_at < 0) return usage(out, "--regenerate needs --at TOKEN");
  return 0;
}


/* ---- context: author's note and lorebook ---------------------------------------- */

typedef struct strbuf {
  char* data;
  size_t len, cap;
} strbuf;

static int sb_add(strbuf* b, const char* s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char* d = (char*)realloc(b->data, cap);
    if (!d) return 0;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 1;
}

static int sb_str(strbuf* b, const char* s) { return sb_add(b, s, strlen(s)); }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Case-insensitive (ASCII) search of key[0..n) in hay. */
static int contains_ci(const char* hay, const char* key, size_t n) {
  size_t i, j;
  if (n == 0) return 0;
  for (i = 0; hay[i]; ++i) {
    for (j = 0; j < n && hay[i + j] && lower(hay[i + j]) == lower(key[j]); ++j) {
    }
    if (j == n) return 1;
  }
  return 0;
}

static const char* skip_space(const char* s, const char* end) {
  while (s < end && (*s == ' ' || *s == '\t')) ++s;
  return s;
}

static const char* trim_end(const char* s, const char* end) {
  while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) --end;
  return end;
}

/* Appends the lore entries whose keys occur in `recent` to `ctx`; returns
 * the number triggered, or -1 with a message when the file is unusable. */
static int add_lore(const char* path, const char* recent, strbuf* ctx, char* err, size_t err_cap) {
  FILE* f = fopen(path, "rb");
  char* data;
  size_t n;
  const char* line;
  int hits = 0;
  if (!f) {
    snprintf(err, err_cap, "lorebook %s cannot be opened", path);
    return -1;
  }
  data = (char*)malloc(MAX_LORE_BYTES + 1);
  if (!data) {
    fclose(f);
    snprintf(err, err_cap, "out of memory");
    return -1;
  }
  n = fread(data, 1, MAX_LORE_BYTES + 1, f);
  fclose(f);
  if (n > MAX_LORE_BYTES) {
    free(data);
    snprintf(err, err_cap, "lorebook %s is larger than 1 MiB", path);
    return -1;
  }
  data[n] = '\0';
  for (line = data; line < data + n;) {
    const char* nl = (const char*)memchr(line, '\n', (size_t)(data + n - line));
    const char* eol = nl ? nl : data + n;
    const char* colon = (const char*)memchr(line, ':', (size_t)(eol - line));
    const char* start = skip_space(line, eol);
    if (colon && start < colon && *start != '#') {
      const char* k = start;
      int hit = 0;
      while (k < colon && !hit) {
        const char* comma = (const char*)memchr(k, ',', (size_t)(colon - k));
        const char* kend = comma ? comma : colon;
        const char* ks = skip_space(k, kend);
        const char* ke = trim_end(ks, kend);
        hit = contains_ci(recent, ks, (size_t)(ke - ks));
        k = kend + 1;
      }
      if (hit) {
        const char* ts = skip_space(colon + 1, eol);
        const char* te = trim_end(ts, eol);
        if (te > ts && (!sb_str(ctx, "\n") || !sb_add(ctx, ts, (size_t)(te - ts)))) {
          free(data);
          snprintf(err, err_cap, "out of memory");
          return -1;
        }
        hits += te > ts;
      }
    }
    line = eol + 1;
  }
  free(data);
  return hits;
}

/* JSON string body for `s` (quotes, backslashes and control bytes escaped). */
static int sb_json(strbuf* b, const char* s) {
  char esc[8];
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      esc[0] = '\\', esc[1] = (char)c;
      if (!sb_add(b, esc, 2)) return 0;
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      if (!sb_str(b, esc)) return 0;
    } else if (!sb_add(b, (const char*)&c, 1)) {
      return 0;
    }
  }
  return 1;
}

/* ---- actions ------------------------------------------------------------------ */

static int set_memory(const novel* self, const char* text, const wb_output* out) {
  wb_node_id root, mem;
  wb_node_info info;
  if (self->tree->find_label(self->host, MEMORY_LABEL, &mem) == WB_OK)
    return usage(out, "memory is already set (it is the story's first node; edit it in the tree)");
  if (self->tree->root(self->host, &root) != WB_OK || self->tree->node_info(self->host, root, &info) != WB_OK)
    return fail(self, out, "reading the root");
  if (info.child_count > 0) return usage(out, "memory must be set before the story starts (the project has text)");
  {
    /* The story follows the memory directly: end it with a blank line so the
     * two never run into one word. */
    size_t n = strlen(text);
    int ends_blank = n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ');
    char* body = (char*)malloc(n + 3);
    wb_status st;
    if (!body) return usage(out, "out of memory");
    memcpy(body, text, n);
    if (!ends_blank) body[n++] = '\n', body[n++] = '\n';
    st = self->tree->append(self->host, root, body, n, &mem);
    free(body);
    if (st != WB_OK) return fail(self, out, "memory");
  }
  if (self->tree->set_label(self->host, mem, MEMORY_LABEL) != WB_OK) return fail(self, out, "memory label");
  if (self->tree->switch_to(self->host, mem) != WB_OK) return fail(self, out, "switching to the memory");
  return 0;
}

static int append_text(const novel* self, const char* text, const wb_output* out) {
  wb_node_id cur, kid;
  char line[128];
  if (self->tree->current(self->host, &cur) != WB_OK) return fail(self, out, "current node");
  if (self->tree->append(self->host, cur, text, strlen(text), &kid) != WB_OK) return fail(self, out, "append");
  if (self->tree->switch_to(self->host, kid) != WB_OK) return fail(self, out, "switch");
  snprintf(line, sizeof line, "appended node %llu\n", (unsigned long long)kid);
  put(out, line);
  return 0;
}

/* Replaces token `at` of `node` by a stored alternative in a new branch. */
static int regenerate(const novel* self, const options* o, const wb_output* out) {
  wb_token_prob alts[32];
  size_t n = 0, k;
  uint64_t offset = 0;
  wb_node_id id = (wb_node_id)o->regen_node, branch;
  const wb_host_tokenizer* tok = (const wb_host_tokenizer*)self->host->get_extension(self->host, WB_EXT_TOKENIZER);
  char piece[256], sampled[256], line[512];
  size_t piece_len = 0, sampled_len = 0;
  char* node_text;
  uint32_t chosen;
  if (!tok) return usage(out, "the host has no tokenizer (wb.tokenizer/1)");
  if (self->tree->alternatives(self->host, id, (uint32_t)o->regen_at, alts, 32, &n) != WB_OK)
    return fail(self, out, "stored alternatives");
  if (self->tree->token_offset(self->host, id, (uint32_t)o->regen_at, &offset) != WB_OK) return fail(self, out, "token offset");
  node_text = fetch_text(self, self->tree->node_text, id);
  if (!node_text) return fail(self, out, "node text");
  /* The sampled token's bytes: up to the next token's offset. */
  {
    uint64_t next = 0;
    if (self->tree->token_offset(self->host, id, (uint32_t)o->regen_at + 1, &next) != WB_OK) next = offset;
    sampled_len = (size_t)(next - offset) < sizeof sampled ? (size_t)(next - offset) : sizeof sampled - 1;
    memcpy(sampled, node_text + offset, sampled_len);
  }
  free(node_text);
  if (o->regen_alt >= 0) {
    if ((size_t)o->regen_alt >= n) return usage(out, "--alt is beyond the stored alternatives");
    k = (size_t)o->regen_alt;
  } else {
    for (k = 0; k < n; ++k) {
      chosen = (uint32_t)alts[k].token;
      if (tok->detokenize(self->host, &chosen, 1, piece, sizeof piece, &piece_len) != WB_OK) continue;
      if (piece_len != sampled_len || memcmp(piece, sampled, piece_len) != 0) break;
    }
    if (k == n) return usage(out, "no stored alternative differs from the chosen token");
  }
  chosen = (uint32_t)alts[k].token;
  if (tok->detokenize(self->host, &chosen, 1, piece, sizeof piece, &piece_len) != WB_OK) return fail(self, out, "detokenize");
  if (self->tree->edit(self->host, id, offset, piece, piece_len, &branch) != WB_OK) return fail(self, out, "edit");
  if (self->tree->switch_to(self->host, branch) != WB_OK) return fail(self, out, "switch");
  snprintf(line, sizeof line, "regenerated from token %ld of node %llu (p=%.3f): branch %llu\n", o->regen_at,
           (unsigned long long)id, (double)alts[k].prob, (unsigned long long)branch);
  put(out, line);
  return 0;
}

/* Builds the note/lore context for continuing `from` into ctx (empty when
 * neither applies). Returns 0, or an exit status after reporting. */
static int build_context(const novel* self, const options* o, wb_node_id from, strbuf* ctx, int* lore_hits,
                         const wb_output* out) {
  char err[512];
  *lore_hits = 0;
  if (o->lore) {
    char* path = fetch_text(self, self->tree->path_text, from);
    size_t len;
    if (!path) return fail(self, out, "path text");
    len = strlen(path);
    *lore_hits = add_lore(o->lore, path + (len > LORE_WINDOW ? len - LORE_WINDOW : 0), ctx, err, sizeof err);
    free(path);
    if (*lore_hits < 0) return usage(out, err);
  }
  if (o->note && (!sb_str(ctx, "\n[Author's note: ") || !sb_str(ctx, o->note) || !sb_str(ctx, "]")))
    return usage(out, "out of memory");
  if (ctx->len > 0 && !sb_str(ctx, "\n\n")) return usage(out, "out of memory");
  return 0;
}

/* After generating from a temporary context branch: re-attach each
 * continuation to `from` (the story never shows the context), record what the
 * model saw in its metadata, and drop the branch. kids[] get the new ids.
 * Returns 0 on success. */
static int reattach(const novel* self, wb_node_id from, wb_node_id ctx_node, const char* ctx_text, wb_node_id* kids,
                    size_t n) {
  strbuf meta = {NULL, 0, 0};
  size_t i;
  int ok = sb_str(&meta, "{\"novel.context\": \"") && sb_json(&meta, ctx_text) && sb_str(&meta, "\"}");
  for (i = 0; i < n && ok; ++i) {
    size_t len = 0;
    char* text = fetch_text_len(self, self->tree->node_text, kids[i], &len);
    ok = text && self->tree->append(self->host, from, text, len, &kids[i]) == WB_OK &&
         self->tree->set_metadata(self->host, kids[i], meta.data) == WB_OK;
    free(text);
  }
  free(meta.data);
  if (self->tree->remove(self->host, ctx_node) != WB_OK) ok = 0;
  return ok ? 0 : 1;
}

static int continue_story(const novel* self, const options* o, const wb_output* out) {
  wb_sampler_settings s = WB_SAMPLER_SETTINGS_INIT;
  wb_node_id from = (wb_node_id)o->node, gen_from, ctx_node = 0, kids[MAX_ALTERNATIVES];
  size_t n = 0, i;
  char line[256];
  strbuf ctx = {NULL, 0, 0};
  int lore_hits = 0, rc;
  if (!from && self->tree->current(self->host, &from) != WB_OK) return fail(self, out, "current node");
  if ((rc = build_context(self, o, from, &ctx, &lore_hits, out)) != 0) {
    free(ctx.data);
    return rc;
  }
  gen_from = from;
  if (ctx.len > 0) {
    /* The model reads the context on a temporary branch; its state there is
     * what the continuations are sampled from. */
    if (self->tree->append(self->host, from, ctx.data, ctx.len, &ctx_node) != WB_OK ||
        self->tree->set_label(self->host, ctx_node, CONTEXT_LABEL) != WB_OK) {
      free(ctx.data);
      return fail(self, out, "context branch");
    }
    gen_from = ctx_node;
    snprintf(line, sizeof line, "context: %d lorebook entr%s%s\n", lore_hits, lore_hits == 1 ? "y" : "ies",
             o->note ? ", author's note" : "");
    put(out, line);
  }
  s.preset = o->preset;
  s.alternatives = (uint32_t)o->alternatives;
  s.set = WB_SAMPLER_MAX_TOKENS;
  s.max_tokens = (int32_t)o->n_tokens;
  if (o->have_seed) s.set |= WB_SAMPLER_SEED, s.seed = o->seed;
  if (o->have_temp) s.set |= WB_SAMPLER_TEMPERATURE, s.temperature = (float)o->temp;
  if (o->have_top_p) s.set |= WB_SAMPLER_TOP_P, s.top_p = (float)o->top_p;
  if (self->gen->generate(self->host, gen_from, &s, NULL, NULL, kids, MAX_ALTERNATIVES, &n) != WB_OK) {
    if (ctx_node) self->tree->remove(self->host, ctx_node);
    free(ctx.data);
    return fail(self, out, "generate");
  }
  if (n > MAX_ALTERNATIVES) n = MAX_ALTERNATIVES;
  if (ctx_node && reattach(self, from, ctx_node, ctx.data, kids, n) != 0) {
    free(ctx.data);
    return fail(self, out, "re-attaching the continuations");
  }
  free(ctx.data);
  for (i = 0; i < n; ++i) {
    wb_node_info info;
    size_t len = 0;
    char* text = fetch_text_len(self, self->tree->node_text, kids[i], &len);
    memset(&info, 0, sizeof info);
    self->tree->node_info(self->host, kids[i], &info);
    snprintf(line, sizeof line, "--- alternative %zu: node %llu (%u tokens) ---\n", i + 1, (unsigned long long)kids[i],
             info.token_count);
    put(out, line);
    if (text) {
      out->write(out, text, len);
      put(out, "\n");
    }
    free(text);
  }
  return 0;
}

static int show_or_count(const novel* self, const options* o, const wb_output* out) {
  wb_node_id cur, mem;
  char* text;
  size_t words, memory_words = 0, len = 0;
  char line[128];
  if (self->tree->current(self->host, &cur) != WB_OK) return fail(self, out, "current node");
  text = fetch_text_len(self, self->tree->path_text, cur, &len);
  if (!text) return fail(self, out, "path text");
  if (o->show) {
    out->write(out, text, len);
    put(out, "\n");
  }
  if (o->words) {
    words = count_words(text);
    if (self->tree->find_label(self->host, MEMORY_LABEL, &mem) == WB_OK) {
      char* m = fetch_text(self, self->tree->node_text, mem);
      if (m) memory_words = count_words(m);
      free(m);
    }
    snprintf(line, sizeof line, "words %zu\n", words > memory_words ? words - memory_words : 0);
    put(out, line);
  }
  free(text);
  return 0;
}

static int32_t novel_run(const wb_plugin* plugin, uint32_t argc, const char* const* argv, const wb_output* out) {
  const novel* self = (const novel*)plugin->plugin_data;
  options o;
  int rc;
  if (argc == 1 && strcmp(argv[0], "--help") == 0) {
    put(out, "usage: --project P [--model M] [--create] [--memory T] [--append T] [--regenerate NODE --at I [--alt K]]\n"
             "       [--continue [-n N] [--alternatives K] [--preset NAME] [--seed S] [--temp T] [--top-p P] [--node ID]\n"
             "                   [--note TEXT] [--lore FILE]]\n"
             "       [--switch ID] [--show] [--words]\n");
    return 0;
  }
  if (!self->tree || !self->gen) return usage(out, "the host offers no story tree (wb.tree/1, wb.generate/1)");
  if ((rc = parse_args(argc, argv, &o, out)) != 0) return rc;
  if (self->tree->open_project(self->host, o.project, o.model, o.create != 0) != WB_OK)
    return fail(self, out, "opening the project");
  if (o.switch_to && self->tree->switch_to(self->host, (wb_node_id)o.switch_to) != WB_OK) return fail(self, out, "switch");
  if (o.memory && (rc = set_memory(self, o.memory, out)) != 0) return rc;
  if (o.append && (rc = append_text(self, o.append, out)) != 0) return rc;
  if (o.regen_node && (rc = regenerate(self, &o, out)) != 0) return rc;
  if (o.do_continue && (rc = continue_story(self, &o, out)) != 0) return rc;
  if ((o.show || o.words) && (rc = show_or_count(self, &o, out)) != 0) return rc;
  return 0;
}

static const wb_plugin_headless novel_headless = {"--project P [--model M] [--create] ACTIONS... (--help)", novel_run};


/* ---- UI: the same continuation from the GUI, without blocking ------------------ */

static void ui_status(const novel* self, const char* text) {
  if (self->ui) self->ui->set_text(self->host, "novel", "status", text);
}

static void ui_build(const wb_plugin* plugin) {
  const novel* self = (const novel*)plugin->plugin_data;
  wb_ui_widget w[9];
  wb_ui_panel panel;
  if (!self->ui) return;
  memset(w, 0, sizeof w);
  w[0].kind = WB_UI_SLIDER, w[0].id = "length", w[0].label = "Length (tokens)";
  w[0].min = 1, w[0].max = 2000, w[0].value = 200, w[0].step = 1;
  w[1].kind = WB_UI_SLIDER, w[1].id = "alternatives", w[1].label = "Alternatives";
  w[1].min = 1, w[1].max = MAX_ALTERNATIVES, w[1].value = 3, w[1].step = 1;
  w[2].kind = WB_UI_TEXT_FIELD, w[2].id = "preset", w[2].label = "Sampling preset (presets/sampling/)", w[2].text = "";
  w[3].kind = WB_UI_TEXT_AREA, w[3].id = "note", w[3].label = "Author's note", w[3].text = "";
  w[4].kind = WB_UI_TEXT_FIELD, w[4].id = "lore", w[4].label = "Lorebook file", w[4].text = "";
  w[5].kind = WB_UI_BUTTON, w[5].id = "continue", w[5].label = "Continue";
  w[6].kind = WB_UI_BUTTON, w[6].id = "cancel", w[6].label = "Cancel";
  w[7].kind = WB_UI_LABEL, w[7].id = "status", w[7].text = "";
  w[8].kind = WB_UI_LABEL, w[8].id = "preview", w[8].text = "";
  panel.id = "novel";
  panel.title = "Novel continuation";
  panel.widgets = w;
  panel.widget_count = 9;
  self->ui->set_panel(self->host, &panel);
}

/* A widget's text in a malloc'ed string ("" when unreadable). */
static char* ui_text(const novel* self, const char* widget) {
  size_t len = 0;
  char* buf;
  if (self->ui->get_text(self->host, "novel", widget, NULL, 0, &len) != WB_ERR_BUFFER_TOO_SMALL) len = 0;
  buf = (char*)malloc(len + 1);
  if (!buf) return NULL;
  buf[0] = '\0';
  if (len > 0 && self->ui->get_text(self->host, "novel", widget, buf, len + 1, &len) != WB_OK) buf[0] = '\0';
  return buf;
}

static void ui_start(novel* self) {
  options o;
  double length = 200, alts = 3;
  char* preset = ui_text(self, "preset");
  char* note = ui_text(self, "note");
  char* lore = ui_text(self, "lore");
  strbuf ctx = {NULL, 0, 0};
  wb_sampler_settings s = WB_SAMPLER_SETTINGS_INIT;
  wb_node_id gen_from;
  int hits = 0;
  char err[512];
  if (self->session) {
    ui_status(self, "a continuation is already running");
    goto done;
  }
  if (self->tree->current(self->host, &self->from) != WB_OK) {
    ui_status(self, "no project is open");
    goto done;
  }
  memset(&o, 0, sizeof o);
  o.note = note && note[0] ? note : NULL;
  o.lore = lore && lore[0] ? lore : NULL;
  if (o.lore) {
    char* path = fetch_text(self, self->tree->path_text, self->from);
    size_t len = path ? strlen(path) : 0;
    hits = add_lore(o.lore, path ? path + (len > LORE_WINDOW ? len - LORE_WINDOW : 0) : "", &ctx, err, sizeof err);
    free(path);
    if (hits < 0) {
      ui_status(self, err);
      goto done;
    }
  }
  if (o.note && (!sb_str(&ctx, "\n[Author's note: ") || !sb_str(&ctx, o.note) || !sb_str(&ctx, "]"))) goto done;
  if (ctx.len > 0 && !sb_str(&ctx, "\n\n")) goto done;
  gen_from = self->from;
  self->ctx_node = 0;
  if (ctx.len > 0) {
    if (self->tree->append(self->host, self->from, ctx.data, ctx.len, &self->ctx_node) != WB_OK) {
      ui_status(self, self->host->last_error(self->host));
      goto done;
    }
    self->tree->set_label(self->host, self->ctx_node, CONTEXT_LABEL);
    gen_from = self->ctx_node;
  }
  self->ui->get_number(self->host, "novel", "length", &length);
  self->ui->get_number(self->host, "novel", "alternatives", &alts);
  s.preset = preset && preset[0] ? preset : NULL;
  s.set = WB_SAMPLER_MAX_TOKENS;
  s.max_tokens = (int32_t)length;
  s.alternatives = (uint32_t)alts;
  if (self->gen->start(self->host, gen_from, &s, &self->session) != WB_OK) {
    ui_status(self, self->host->last_error(self->host));
    if (self->ctx_node) self->tree->remove(self->host, self->ctx_node);
    self->ctx_node = 0;
    self->session = 0;
    goto done;
  }
  free(self->ctx_text);
  self->ctx_text = ctx.data;
  ctx.data = NULL;
  self->preview_len = 0;
  self->tokens = 0;
  ui_status(self, "continuing...");
done:
  free(ctx.data);
  free(preset);
  free(note);
  free(lore);
}

static bool ui_on_token(void* user, const wb_generate_event* e) {
  novel* self = (novel*)user;
  if (e->kind != WB_GENERATE_TOKEN) return true;
  ++self->tokens;
  self->tokens_per_s = e->tokens_per_s;
  if (e->alt == 0 && e->piece_len > 0) {
    if (self->preview_len + e->piece_len + 1 > self->preview_cap) {
      size_t cap = (self->preview_len + e->piece_len + 1) * 2;
      char* p = (char*)realloc(self->preview, cap);
      if (!p) return true;
      self->preview = p;
      self->preview_cap = cap;
    }
    memcpy(self->preview + self->preview_len, e->piece, e->piece_len);
    self->preview_len += e->piece_len;
    self->preview[self->preview_len] = '\0';
  }
  return true;
}

static void ui_frame(const wb_plugin* plugin) {
  novel* self = (novel*)plugin->plugin_data;
  bool finished = false;
  char line[512];
  wb_node_id kids[MAX_ALTERNATIVES];
  size_t n = 0, i, at;
  if (!self->session || !self->ui) return;
  if (self->gen->poll(self->host, self->session, ui_on_token, self, &finished) != WB_OK) finished = true;
  if (self->preview) self->ui->set_text(self->host, "novel", "preview", self->preview);
  if (!finished) {
    snprintf(line, sizeof line, "%zu tokens, %.0f tokens/s", self->tokens, self->tokens_per_s);
    ui_status(self, line);
    return;
  }
  if (self->gen->finish(self->host, self->session, kids, MAX_ALTERNATIVES, &n) != WB_OK) {
    ui_status(self, self->host->last_error(self->host));
    n = 0;
  }
  self->session = 0;
  if (n > MAX_ALTERNATIVES) n = MAX_ALTERNATIVES;
  if (self->ctx_node && reattach(self, self->from, self->ctx_node, self->ctx_text ? self->ctx_text : "", kids, n) != 0)
    n = 0;
  self->ctx_node = 0;
  at = (size_t)snprintf(line, sizeof line, "done: %zu tokens; new nodes", self->tokens);
  for (i = 0; i < n && at < sizeof line; ++i)
    at += (size_t)snprintf(line + at, sizeof line - at, " %llu", (unsigned long long)kids[i]);
  ui_status(self, line);
}

static void ui_event(const wb_plugin* plugin, const wb_ui_event* ev) {
  novel* self = (novel*)plugin->plugin_data;
  if (!ev || ev->kind != WB_UI_EVENT_PRESSED || !ev->widget_id) return;
  if (strcmp(ev->widget_id, "continue") == 0) ui_start(self);
  if (strcmp(ev->widget_id, "cancel") == 0 && self->session) self->gen->cancel(self->host, self->session);
}

static const wb_plugin_ui novel_ui = {ui_build, ui_event, ui_frame};

/* ---- plugin ---------------------------------------------------------------------- */

static const char* const novel_features[] = {"text", "story", "generation", "headless", "ui", NULL};
static const wb_plugin_descriptor novel_descriptor = {
    WB_ABI_VERSION_INIT, NOVEL_ID, "Novel continuation", "RWKV Workbench", "0.1.0",
    "Continues a story from the active node: alternatives, presets, memory, author's note, lorebook, regenerate from a token, word count",
    novel_features};

static bool novel_init(const wb_plugin* plugin) {
  novel* self = (novel*)plugin->plugin_data;
  self->log = (const wb_host_log*)self->host->get_extension(self->host, WB_EXT_LOG);
  self->tree = (const wb_host_tree*)self->host->get_extension(self->host, WB_EXT_TREE);
  self->gen = (const wb_host_generate*)self->host->get_extension(self->host, WB_EXT_GENERATE);
  self->ui = (const wb_host_ui*)self->host->get_extension(self->host, WB_EXT_UI);
  if (!self->tree || !self->gen) {
    if (self->log) self->log->log(self->host, WB_LOG_ERROR, "this host has no wb.tree/1 or wb.generate/1");
    return false;
  }
  return true;
}

static void novel_destroy(const wb_plugin* plugin) {
  novel* self = (novel*)plugin->plugin_data;
  /* A running session is cancelled by the host when the plugin unloads. */
  free(self->ctx_text);
  free(self->preview);
  free(self);
}

static const void* novel_get_extension(const wb_plugin* plugin, const char* id) {
  (void)plugin;
  if (!id) return NULL;
  if (strcmp(id, WB_EXT_HEADLESS) == 0) return &novel_headless;
  if (strcmp(id, WB_EXT_UI) == 0) return &novel_ui;
  return NULL;
}

WB_SINGLE_PLUGIN(novel, novel_descriptor, novel_init, novel_destroy, novel_get_extension)
