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
 *                       continue the current node (or --node ID); prints each
 *                       alternative with its node id
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

typedef struct novel {
  wb_plugin plugin;
  const wb_host* host;
  const wb_host_log* log;
  const wb_host_tree* tree;
  const wb_host_generate* gen;
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
  char line[512];
  snprintf(line, sizeof line, "novel: %s\n", what);
  out->write_error(out, line, strlen(line));
  return 2;
}

/* A node's text or path text in a malloc'ed, NUL-terminated buffer. */
typedef wb_status (*text_fn)(const wb_host*, wb_node_id, char*, size_t, size_t*);
static char* fetch_text(const novel* self, text_fn fn, wb_node_id id) {
  size_t len = 0;
  char* buf;
  if (fn(self->host, id, NULL, 0, &len) != WB_ERR_BUFFER_TOO_SMALL) return NULL;
  buf = (char*)malloc(len + 1);
  if (!buf) return NULL;
  if (fn(self->host, id, buf, len + 1, &len) != WB_OK) {
    free(buf);
    return NULL;
  }
  return buf;
}

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

static int continue_story(const novel* self, const options* o, const wb_output* out) {
  wb_sampler_settings s = WB_SAMPLER_SETTINGS_INIT;
  wb_node_id from = (wb_node_id)o->node, kids[MAX_ALTERNATIVES];
  size_t n = 0, i;
  char line[256];
  if (!from && self->tree->current(self->host, &from) != WB_OK) return fail(self, out, "current node");
  s.preset = o->preset;
  s.alternatives = (uint32_t)o->alternatives;
  s.set = WB_SAMPLER_MAX_TOKENS;
  s.max_tokens = (int32_t)o->n_tokens;
  if (o->have_seed) s.set |= WB_SAMPLER_SEED, s.seed = o->seed;
  if (o->have_temp) s.set |= WB_SAMPLER_TEMPERATURE, s.temperature = (float)o->temp;
  if (o->have_top_p) s.set |= WB_SAMPLER_TOP_P, s.top_p = (float)o->top_p;
  if (self->gen->generate(self->host, from, &s, NULL, NULL, kids, MAX_ALTERNATIVES, &n) != WB_OK)
    return fail(self, out, "generate");
  for (i = 0; i < n && i < MAX_ALTERNATIVES; ++i) {
    wb_node_info info;
    char* text = fetch_text(self, self->tree->node_text, kids[i]);
    memset(&info, 0, sizeof info);
    self->tree->node_info(self->host, kids[i], &info);
    snprintf(line, sizeof line, "--- alternative %zu: node %llu (%u tokens) ---\n", i + 1, (unsigned long long)kids[i],
             info.token_count);
    put(out, line);
    if (text) {
      put(out, text);
      put(out, "\n");
    }
    free(text);
  }
  return 0;
}

static int show_or_count(const novel* self, const options* o, const wb_output* out) {
  wb_node_id cur, mem;
  char* text;
  size_t words, memory_words = 0;
  char line[128];
  if (self->tree->current(self->host, &cur) != WB_OK) return fail(self, out, "current node");
  text = fetch_text(self, self->tree->path_text, cur);
  if (!text) return fail(self, out, "path text");
  if (o->show) {
    put(out, text);
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
             "       [--continue [-n N] [--alternatives K] [--preset NAME] [--seed S] [--temp T] [--top-p P] [--node ID]]\n"
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

/* ---- plugin ---------------------------------------------------------------------- */

static const char* const novel_features[] = {"text", "story", "generation", "headless", NULL};
static const wb_plugin_descriptor novel_descriptor = {
    WB_ABI_VERSION_INIT, NOVEL_ID, "Novel continuation", "RWKV Workbench", "0.1.0",
    "Continues a story from the active node: alternatives, presets, memory, regenerate from a token, word count",
    novel_features};

static bool novel_init(const wb_plugin* plugin) {
  novel* self = (novel*)plugin->plugin_data;
  self->log = (const wb_host_log*)self->host->get_extension(self->host, WB_EXT_LOG);
  self->tree = (const wb_host_tree*)self->host->get_extension(self->host, WB_EXT_TREE);
  self->gen = (const wb_host_generate*)self->host->get_extension(self->host, WB_EXT_GENERATE);
  if (!self->tree || !self->gen) {
    if (self->log) self->log->log(self->host, WB_LOG_ERROR, "this host has no wb.tree/1 or wb.generate/1");
    return false;
  }
  return true;
}

static void novel_destroy(const wb_plugin* plugin) { free(plugin->plugin_data); }

static const void* novel_get_extension(const wb_plugin* plugin, const char* id) {
  (void)plugin;
  return id && strcmp(id, WB_EXT_HEADLESS) == 0 ? &novel_headless : NULL;
}

static uint32_t factory_count(const wb_plugin_factory* f) {
  (void)f;
  return 1;
}

static const wb_plugin_descriptor* factory_descriptor(const wb_plugin_factory* f, uint32_t i) {
  (void)f;
  return i == 0 ? &novel_descriptor : NULL;
}

static const wb_plugin* factory_create(const wb_plugin_factory* f, const wb_host* host, const char* id) {
  novel* self;
  (void)f;
  if (!host || !id || strcmp(id, NOVEL_ID) != 0) return NULL;
  self = (novel*)calloc(1, sizeof *self);
  if (!self) return NULL;
  self->host = host;
  self->plugin.desc = &novel_descriptor;
  self->plugin.plugin_data = self;
  self->plugin.init = novel_init;
  self->plugin.destroy = novel_destroy;
  self->plugin.get_extension = novel_get_extension;
  return &self->plugin;
}

static const wb_plugin_factory novel_factory = {factory_count, factory_descriptor, factory_create};

static bool entry_init(const wb_host* host, const char* path) {
  (void)host;
  (void)path;
  return true;
}

static void entry_deinit(void) {}

static const void* entry_get_factory(const char* id) {
  return id && strcmp(id, WB_PLUGIN_FACTORY_ID) == 0 ? &novel_factory : NULL;
}

static const wb_plugin_entry novel_entry = {WB_ABI_VERSION_INIT, entry_init, entry_deinit, entry_get_factory};

WB_EXTERN_C WB_EXPORT const wb_plugin_entry* wb_get_plugin_entry(void) { return &novel_entry; }
