/* MIDI composer: a shipped plugin, built exactly as a community plugin is
 * (only the C ABI: wb.tree/1, wb.generate/1, wb.midi/1, wb.ui/1, wb.log/1).
 * A piece is a story whose text is RWKV music tokens; alternatives are
 * sibling branches, and any node can be continued.
 *
 * Headless:
 *   wb plugin run org.rwkv.workbench.composer --project P [--model M] [--create] ACTION...
 * actions (in this order when several are given):
 *   --midi FILE | --tokens TEXT
 *                     start a piece: the file's tokens, or typed tokens
 *                     ("<start> t12 pi:3c:7 ..."), as a new node under the
 *                     root (which becomes current)
 *   --continue [--node ID] [--seconds S | -n TOKENS] [--alternatives K]
 *              [--instruments piano,drum,...] [--seed S] [--temp T] [--top-p P] [--top-k K]
 *              [--out DIR] [--wav]
 *                     continue ID (default: the current node) with the music
 *                     sampler; each alternative becomes a child of ID. --out
 *                     writes DIR/alt-I-node-N.mid (the whole piece up to that
 *                     node), --wav also renders a .wav beside each
 *   --export FILE.mid [--node ID]   the piece up to ID (default current)
 *   --render FILE.wav [--node ID]
 *   --play [--node ID]              play through the audio device until done
 * Output: "key value" lines (start.node, altI.node, altI.tokens,
 * altI.new_notes, altI.notes, altI.seconds, altI.file, ...).
 * Without --model the project's model is used, else (new projects) the
 * shipped default music model.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, while headless --play waits */
#include <wb/plugin_all.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define COMPOSER_ID "org.rwkv.workbench.composer"
#define MAX_ALTERNATIVES 16
#define MAX_BINS 32
#define MAX_BRANCHES 64
#define PANEL "composer"
#define ROLL_W 900.0f
#define ROLL_H 360.0f
#define MAX_ROLL_NOTES 16000

typedef struct composer {
  wb_plugin plugin;
  const wb_host* host;
  const wb_host_log* log;
  const wb_host_tree* tree;
  const wb_host_generate* gen;
  const wb_host_midi* midi;
  const wb_host_ui* ui;
  /* GUI state */
  wb_session_id session;
  wb_node_id from;
  size_t tokens;
  wb_node_id branches[MAX_BRANCHES];
  uint32_t branch_count;
  wb_node_id root;
  wb_node_id view; /* the branch the piano roll shows */
  wb_node_id last_current; /* the story's current node when last seen */
  bool published;          /* the panel exists in the host */
  char* view_text;
  size_t view_len;
  double last_playhead;
  bool playing;
} composer;

typedef struct options {
  const char* project;
  const char* model;
  int create;
  const char* midi_file;
  const char* tokens;
  int do_continue, wav, play;
  unsigned long long node;
  double seconds;
  long n_tokens, alternatives;
  const char* instruments;
  const char* out_dir;
  const char* export_mid;
  const char* render_wav;
  int have_seed, have_temp, have_top_p, have_top_k;
  unsigned long long seed;
  double temp, top_p;
  long top_k;
} options;

/* ---- small helpers -------------------------------------------------------- */

static void put(const wb_output* out, const char* s) { out->write(out, s, strlen(s)); }

static void putf_kv(const wb_output* out, const char* key, const char* value) {
  char line[4600];
  snprintf(line, sizeof line, "%s %s\n", key, value);
  put(out, line);
}

static void put_u64(const wb_output* out, const char* key, unsigned long long v) {
  char num[32];
  snprintf(num, sizeof num, "%llu", v);
  putf_kv(out, key, num);
}

static int fail(const composer* self, const wb_output* out, const char* what) {
  char line[1400];
  snprintf(line, sizeof line, "composer: %s: %s\n", what, self->host->last_error(self->host));
  out->write_error(out, line, strlen(line));
  return 1;
}

static int usage(const wb_output* out, const char* what) {
  char line[1200];
  snprintf(line, sizeof line, "composer: %s\n", what);
  out->write_error(out, line, strlen(line));
  return 2;
}

/* A host text getter's result in a malloc'ed, NUL-terminated buffer. */
typedef wb_status (*node_text_fn)(const wb_host*, wb_node_id, char*, size_t, size_t*);
static char* node_text(const composer* self, node_text_fn fn, wb_node_id id, size_t* out_len) {
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

/* wb.midi/1 calls with the (text, len, buf, cap, out_len) shape, malloc'ed. */
static char* midi_normalize(const composer* self, const char* text, size_t* out_len) {
  size_t len = 0, n = strlen(text);
  char* buf;
  if (self->midi->normalize_text(self->host, text, n, NULL, 0, &len) != WB_ERR_BUFFER_TOO_SMALL) return NULL;
  buf = (char*)malloc(len + 1);
  if (!buf) return NULL;
  if (self->midi->normalize_text(self->host, text, n, buf, len + 1, &len) != WB_OK) {
    free(buf);
    return NULL;
  }
  *out_len = len;
  return buf;
}

static char* midi_file_text(const composer* self, const char* path, size_t* out_len) {
  size_t len = 0;
  char* buf;
  if (self->midi->file_to_text(self->host, path, NULL, 0, &len) != WB_ERR_BUFFER_TOO_SMALL) return NULL;
  buf = (char*)malloc(len + 1);
  if (!buf) return NULL;
  if (self->midi->file_to_text(self->host, path, buf, len + 1, &len) != WB_OK) {
    free(buf);
    return NULL;
  }
  *out_len = len;
  return buf;
}

/* The text a new piece starts with: a MIDI file's tokens, or typed tokens
 * in canonical form with <start> first (the models expect it). */
static char* piece_text(const composer* self, int from_file, const char* value, size_t* len) {
  const char* t = value;
  size_t n = strlen(value);
  char *with_start, *text;
  if (from_file) return midi_file_text(self, value, len);
  while (*t && isspace((unsigned char)*t)) ++t;
  with_start = (char*)malloc(n + 16);
  if (!with_start) return NULL;
  snprintf(with_start, n + 16, "%s%s", strncmp(t, "<start>", 7) == 0 ? "" : "<start> ", t);
  text = midi_normalize(self, with_start, len);
  free(with_start);
  return text;
}

/* Note-ons (velocity bin > 0) among the words of token text. */
static size_t count_note_ons(const composer* self, const char* text, size_t len) {
  size_t i = 0, n = 0;
  char word[64];
  while (i < len) {
    size_t w = 0;
    uint32_t id;
    wb_midi_token_info info;
    while (i < len && isspace((unsigned char)text[i])) ++i;
    while (i < len && !isspace((unsigned char)text[i])) {
      if (w + 1 < sizeof word) word[w++] = text[i];
      ++i;
    }
    if (w == 0) break;
    word[w] = '\0';
    if (self->midi->token_id(self->host, word, &id) == WB_OK && self->midi->token_info(self->host, id, &info) == WB_OK &&
        info.kind == WB_MIDI_TOKEN_NOTE && info.velocity_bin > 0)
      ++n;
  }
  return n;
}

/* Instrument names ("piano,drum") -> bins; -1 and a message for an unknown name. */
static int parse_instruments(const composer* self, const char* list, int32_t* bins, uint32_t* count, char* err,
                             size_t err_size) {
  uint32_t nb = self->midi->bin_count(self->host), b;
  const char* p = list;
  *count = 0;
  while (*p) {
    char name[64];
    size_t w = 0;
    int found = -1;
    while (*p == ',' || isspace((unsigned char)*p)) ++p;
    while (*p && *p != ',' && !isspace((unsigned char)*p)) {
      if (w + 1 < sizeof name) name[w++] = (char)tolower((unsigned char)*p);
      ++p;
    }
    if (w == 0) continue;
    name[w] = '\0';
    for (b = 0; b < nb; ++b) {
      char bn[64];
      size_t bl = 0;
      if (self->midi->bin_name(self->host, b, bn, sizeof bn, &bl) == WB_OK && strcmp(bn, name) == 0) found = (int)b;
    }
    if (found < 0) {
      size_t at = (size_t)snprintf(err, err_size, "unknown instrument '%s' (have:", name);
      for (b = 0; b < nb && at < err_size; ++b) {
        char bn[64];
        size_t bl = 0;
        if (self->midi->bin_name(self->host, b, bn, sizeof bn, &bl) == WB_OK)
          at += (size_t)snprintf(err + at, err_size - at, " %s", bn);
      }
      if (at < err_size) snprintf(err + at, err_size - at, ")");
      return -1;
    }
    if (*count >= MAX_BINS) break;
    bins[(*count)++] = (int32_t)found;
  }
  return 0;
}

/* Sampler settings of one continuation (bins borrowed from the caller). */
static void music_settings(wb_sampler_settings* s, double seconds, long n_tokens, long alternatives, const int32_t* bins,
                           uint32_t bin_count) {
  wb_sampler_settings init = WB_SAMPLER_SETTINGS_INIT;
  *s = init;
  s->mode = WB_SAMPLER_MODE_MUSIC;
  s->set = WB_SAMPLER_MAX_TOKENS;
  /* Seconds bound the length; tokens only as a safety net (the demo's music
   * runs at roughly 10-60 tokens a second). */
  s->max_tokens = n_tokens > 0 ? (int32_t)n_tokens : (int32_t)(seconds * 100.0 + 256.0);
  s->max_seconds = n_tokens > 0 ? 0.0 : seconds;
  s->alternatives = (uint32_t)alternatives;
  s->instrument_bins = bin_count ? bins : NULL;
  s->instrument_bin_count = bin_count;
}

/* ---- headless -------------------------------------------------------------- */

static int parse_args(uint32_t argc, const char* const* argv, options* o, const wb_output* out) {
  uint32_t i;
  memset(o, 0, sizeof *o);
  o->seconds = 20.0;
  o->alternatives = 1;
  for (i = 0; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE                                              \
  do {                                                          \
    if (!v) return usage(out, "an option is missing its value"); \
    ++i;                                                        \
  } while (0)
    if (strcmp(a, "--project") == 0) { NEED_VALUE; o->project = v; }
    else if (strcmp(a, "--model") == 0) { NEED_VALUE; o->model = v; }
    else if (strcmp(a, "--create") == 0) o->create = 1;
    else if (strcmp(a, "--midi") == 0) { NEED_VALUE; o->midi_file = v; }
    else if (strcmp(a, "--tokens") == 0) { NEED_VALUE; o->tokens = v; }
    else if (strcmp(a, "--continue") == 0) o->do_continue = 1;
    else if (strcmp(a, "--node") == 0) { NEED_VALUE; o->node = strtoull(v, NULL, 10); if (!o->node) return usage(out, "--node needs a node id"); }
    else if (strcmp(a, "--seconds") == 0) { NEED_VALUE; o->seconds = atof(v); if (!(o->seconds > 0 && o->seconds <= 3600)) return usage(out, "--seconds must be in (0, 3600]"); }
    else if (strcmp(a, "-n") == 0 || strcmp(a, "--tokens-count") == 0) { NEED_VALUE; o->n_tokens = strtol(v, NULL, 10); if (o->n_tokens < 1 || o->n_tokens > 100000) return usage(out, "-n must be 1..100000"); }
    else if (strcmp(a, "--alternatives") == 0) { NEED_VALUE; o->alternatives = strtol(v, NULL, 10); if (o->alternatives < 1 || o->alternatives > MAX_ALTERNATIVES) return usage(out, "--alternatives must be 1..16"); }
    else if (strcmp(a, "--instruments") == 0) { NEED_VALUE; o->instruments = v; }
    else if (strcmp(a, "--seed") == 0) { NEED_VALUE; o->seed = strtoull(v, NULL, 10); o->have_seed = 1; }
    else if (strcmp(a, "--temp") == 0) { NEED_VALUE; o->temp = atof(v); o->have_temp = 1; }
    else if (strcmp(a, "--top-p") == 0) { NEED_VALUE; o->top_p = atof(v); o->have_top_p = 1; }
    else if (strcmp(a, "--top-k") == 0) { NEED_VALUE; o->top_k = strtol(v, NULL, 10); o->have_top_k = 1; }
    else if (strcmp(a, "--out") == 0) { NEED_VALUE; o->out_dir = v; }
    else if (strcmp(a, "--wav") == 0) o->wav = 1;
    else if (strcmp(a, "--export") == 0) { NEED_VALUE; o->export_mid = v; }
    else if (strcmp(a, "--render") == 0) { NEED_VALUE; o->render_wav = v; }
    else if (strcmp(a, "--play") == 0) o->play = 1;
    else if (strcmp(a, "--help") == 0) {
      put(out,
          "usage: wb plugin run " COMPOSER_ID " --project P [--model M] [--create]\n"
          "  [--midi FILE | --tokens TEXT]\n"
          "  [--continue [--node ID] [--seconds S | -n TOKENS] [--alternatives K] [--instruments a,b]\n"
          "              [--seed S] [--temp T] [--top-p P] [--top-k K] [--out DIR] [--wav]]\n"
          "  [--export FILE.mid] [--render FILE.wav] [--play] [--node ID]\n");
      return -1;
    } else {
      char line[256];
      snprintf(line, sizeof line, "unknown argument '%s' (see --help)", a);
      return usage(out, line);
    }
#undef NEED_VALUE
  }
  if (!o->project) return usage(out, "--project P is required");
  if (o->midi_file && o->tokens) return usage(out, "give --midi or --tokens, not both");
  return 0;
}

/* Opens the project with --model, the project's model, or the default music model. */
static int open_project(composer* self, const options* o, const wb_output* out) {
  char model[4096];
  size_t len = 0;
  const char* m = o->model;
  const wb_host_tokenizer* tok = (const wb_host_tokenizer*)self->host->get_extension(self->host, WB_EXT_TOKENIZER);
  if (self->tree->open_project(self->host, o->project, m, o->create != 0) != WB_OK)
    return fail(self, out, "cannot open the project");
  /* No model given and the project has no music model (a new project): the
   * shipped default music model, when one is installed. */
  if (!m && tok && tok->vocab_size(self->host) != self->midi->vocab_size(self->host) &&
      self->midi->default_model(self->host, model, sizeof model, &len) == WB_OK &&
      self->tree->open_project(self->host, o->project, model, false) != WB_OK)
    return fail(self, out, "cannot open the default music model");
  return 0;
}

/* Appends --midi / --tokens under the root; sets *out to the new node. */
static int start_piece(composer* self, const options* o, const wb_output* out, wb_node_id* node) {
  wb_node_id root;
  size_t len = 0;
  char* text;
  text = piece_text(self, o->midi_file != NULL, o->midi_file ? o->midi_file : o->tokens, &len);
  if (!text) return fail(self, out, o->midi_file ? "cannot read the MIDI file" : "cannot read the tokens");
  if (self->tree->root(self->host, &root) != WB_OK || self->tree->append(self->host, root, text, len, node) != WB_OK ||
      self->tree->switch_to(self->host, *node) != WB_OK) {
    free(text);
    return fail(self, out, "cannot add the piece to the project");
  }
  put_u64(out, "start.node", *node);
  put_u64(out, "start.notes", count_note_ons(self, text, len));
  free(text);
  return 0;
}

/* Writes the piece up to `id` as .mid (and .wav when wav_path is given). */
static int export_node(composer* self, wb_node_id id, const char* mid_path, const char* wav_path, const wb_output* out,
                       size_t* notes, double* seconds) {
  size_t len = 0, n = 0;
  char* text = node_text(self, self->tree->path_text, id, &len);
  if (!text) return fail(self, out, "cannot read the piece");
  if (mid_path && self->midi->text_to_file(self->host, text, len, mid_path) != WB_OK) {
    free(text);
    return fail(self, out, "cannot write the MIDI file");
  }
  if (wav_path && self->midi->render_wav(self->host, text, len, wav_path, NULL) != WB_OK) {
    free(text);
    return fail(self, out, "cannot render the WAV file");
  }
  if (notes) {
    self->midi->text_notes(self->host, text, len, NULL, 0, &n);
    *notes = n;
  }
  if (seconds) self->midi->text_seconds(self->host, text, len, seconds);
  free(text);
  return 0;
}

static int continue_piece(composer* self, const options* o, const wb_output* out, wb_node_id from) {
  int32_t bins[MAX_BINS];
  uint32_t bin_count = 0, i;
  char err[1024];
  wb_sampler_settings s;
  wb_node_id kids[MAX_ALTERNATIVES];
  size_t n = 0;
  if (o->instruments && parse_instruments(self, o->instruments, bins, &bin_count, err, sizeof err) != 0)
    return usage(out, err);
  if (o->out_dir && mkdir(o->out_dir, 0777) != 0) {
    struct stat sb;
    if (stat(o->out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return usage(out, "--out DIR cannot be created");
  }
  music_settings(&s, o->seconds, o->n_tokens, o->alternatives, bins, bin_count);
  if (o->have_seed) s.set |= WB_SAMPLER_SEED, s.seed = o->seed;
  if (o->have_temp) s.set |= WB_SAMPLER_TEMPERATURE, s.temperature = (float)o->temp;
  if (o->have_top_p) s.set |= WB_SAMPLER_TOP_P, s.top_p = (float)o->top_p;
  if (o->have_top_k) s.set |= WB_SAMPLER_TOP_K, s.top_k = (int32_t)o->top_k;
  if (self->gen->generate(self->host, from, &s, NULL, NULL, kids, MAX_ALTERNATIVES, &n) != WB_OK)
    return fail(self, out, "generation failed");
  put_u64(out, "from", from);
  put_u64(out, "alternatives", n);
  if (n > MAX_ALTERNATIVES) n = MAX_ALTERNATIVES;
  for (i = 0; i < n; ++i) {
    char key[64], mid[4096], wav[4096], num[64];
    size_t len = 0, notes = 0;
    double seconds = 0;
    wb_node_info info;
    char* text = node_text(self, self->tree->node_text, kids[i], &len);
    memset(&info, 0, sizeof info);
    self->tree->node_info(self->host, kids[i], &info);
    snprintf(key, sizeof key, "alt%u.node", i);
    put_u64(out, key, kids[i]);
    snprintf(key, sizeof key, "alt%u.tokens", i);
    put_u64(out, key, info.token_count);
    snprintf(key, sizeof key, "alt%u.new_notes", i);
    put_u64(out, key, text ? count_note_ons(self, text, len) : 0);
    free(text);
    if (o->out_dir) {
      snprintf(mid, sizeof mid, "%s/alt-%u-node-%llu.mid", o->out_dir, i, (unsigned long long)kids[i]);
      snprintf(wav, sizeof wav, "%s/alt-%u-node-%llu.wav", o->out_dir, i, (unsigned long long)kids[i]);
    }
    if (export_node(self, kids[i], o->out_dir ? mid : NULL, o->out_dir && o->wav ? wav : NULL, out, &notes, &seconds) != 0)
      return 1;
    snprintf(key, sizeof key, "alt%u.notes", i);
    put_u64(out, key, notes);
    snprintf(key, sizeof key, "alt%u.seconds", i);
    snprintf(num, sizeof num, "%.3f", seconds);
    putf_kv(out, key, num);
    if (o->out_dir) {
      snprintf(key, sizeof key, "alt%u.file", i);
      putf_kv(out, key, mid);
    }
  }
  if (n > 0) self->tree->switch_to(self->host, kids[0]);
  return 0;
}

static int play_node(composer* self, wb_node_id id, const wb_output* out) {
  size_t len = 0;
  double pos = 0;
  bool playing = true;
  char* text = node_text(self, self->tree->path_text, id, &len);
  if (!text) return fail(self, out, "cannot read the piece");
  if (self->midi->play(self->host, text, len) != WB_OK) {
    free(text);
    return fail(self, out, "cannot play");
  }
  free(text);
  /* Headless: wait for the end (the host plays on its audio thread). */
  while (playing && self->midi->position(self->host, &pos, &playing) == WB_OK) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    if (playing) nanosleep(&ts, NULL);
  }
  self->midi->stop(self->host);
  return 0;
}

static int32_t composer_run(const wb_plugin* plugin, uint32_t argc, const char* const* argv, const wb_output* out) {
  composer* self = (composer*)plugin->plugin_data;
  options o;
  wb_node_id node = 0;
  int rc = parse_args(argc, argv, &o, out);
  if (rc != 0) return rc < 0 ? 0 : rc;
  if ((rc = open_project(self, &o, out)) != 0) return rc;
  if (o.midi_file || o.tokens) {
    if ((rc = start_piece(self, &o, out, &node)) != 0) return rc;
  }
  if (o.node) node = o.node;
  if (!node && self->tree->current(self->host, &node) != WB_OK) return fail(self, out, "no current node");
  if (o.do_continue) {
    if ((rc = continue_piece(self, &o, out, node)) != 0) return rc;
    if (!o.node && self->tree->current(self->host, &node) != WB_OK) return fail(self, out, "no current node");
  }
  if (o.export_mid || o.render_wav) {
    size_t notes = 0;
    double seconds = 0;
    char num[64];
    if ((rc = export_node(self, node, o.export_mid, o.render_wav, out, &notes, &seconds)) != 0) return rc;
    put_u64(out, "export.node", node);
    put_u64(out, "export.notes", notes);
    snprintf(num, sizeof num, "%.3f", seconds);
    putf_kv(out, "export.seconds", num);
  }
  if (o.play && (rc = play_node(self, node, out)) != 0) return rc;
  return 0;
}

static const wb_plugin_headless composer_headless = {
    "--project P [--model M] [--create] [--midi F | --tokens T] [--continue --seconds S --alternatives K ...] (--help)",
    composer_run};

/* ---- UI: piano roll, branches, play/stop, export ------------------------------ */

static const uint32_t kBinColors[] = {0x4e79a7ff, 0xf28e2bff, 0xe15759ff, 0x76b7b2ff, 0x59a14fff,
                                      0xedc948ff, 0xb07aa1ff, 0xff9da7ff, 0x9c755fff, 0xbab0acff,
                                      0x86bcb6ff, 0xd37295ff, 0x8cd17dff, 0x499894ff, 0xf1ce63ff};

static void ui_status(const composer* self, const char* text) {
  if (self->ui) self->ui->set_text(self->host, PANEL, "status", text);
}

static double ui_number(const composer* self, const char* id, double fallback) {
  double v = fallback;
  if (self->ui->get_number(self->host, PANEL, id, &v) != WB_OK) return fallback;
  return v;
}

static char* ui_text(const composer* self, const char* widget) {
  size_t len = 0;
  char* buf;
  if (self->ui->get_text(self->host, PANEL, widget, NULL, 0, &len) != WB_ERR_BUFFER_TOO_SMALL) len = 0;
  buf = (char*)malloc(len + 1);
  if (!buf) return NULL;
  buf[0] = '\0';
  if (len > 0 && self->ui->get_text(self->host, PANEL, widget, buf, len + 1, &len) != WB_OK) buf[0] = '\0';
  return buf;
}

/* Leaves of the tree (depth first), the branches a user can view. */
static void collect_leaves(composer* self, wb_node_id id, int depth) {
  wb_node_info info;
  uint32_t i;
  if (depth > 10000 || self->branch_count >= MAX_BRANCHES) return;
  if (self->tree->node_info(self->host, id, &info) != WB_OK) return;
  if (info.child_count == 0 && info.parent != 0) {
    self->branches[self->branch_count++] = id;
    return;
  }
  for (i = 0; i < info.child_count && self->branch_count < MAX_BRANCHES; ++i) {
    wb_node_id kid;
    if (self->tree->child(self->host, id, i, &kid) == WB_OK) collect_leaves(self, kid, depth + 1);
  }
}

static void ui_draw_roll(composer* self, double playhead);
static void composer_build_panel(composer* self, const char* const* items, uint32_t count, uint32_t selected);

/* Shows branch `id` in the piano roll. */
static void ui_view(composer* self, wb_node_id id) {
  free(self->view_text);
  self->view_text = NULL;
  self->view_len = 0;
  self->view = id;
  if (id) self->view_text = node_text(self, self->tree->path_text, id, &self->view_len);
  ui_draw_roll(self, -1);
}

static void ui_refresh_branches(composer* self) {
  const char* items[MAX_BRANCHES];
  char labels[MAX_BRANCHES][48];
  uint32_t i, sel = 0;
  self->branch_count = 0;
  if (self->tree->root(self->host, &self->root) != WB_OK) return;
  collect_leaves(self, self->root, 0);
  /* The viewed node may be inside the tree (not a leaf): list it first. */
  for (i = 0; i < self->branch_count && self->branches[i] != self->view; ++i) {
  }
  if (self->view && i == self->branch_count) {
    if (self->branch_count == MAX_BRANCHES) --self->branch_count;
    memmove(self->branches + 1, self->branches, self->branch_count * sizeof self->branches[0]);
    self->branches[0] = self->view;
    ++self->branch_count;
  }
  for (i = 0; i < self->branch_count; ++i) {
    snprintf(labels[i], sizeof labels[i], "node %llu", (unsigned long long)self->branches[i]);
    items[i] = labels[i];
    if (self->branches[i] == self->view) sel = i;
  }
  /* The list is rebuilt by republishing the panel; the selection follows. */
  if (self->ui) composer_build_panel(self, items, self->branch_count, sel);
  if (!self->view && self->branch_count > 0) ui_view(self, self->branches[0]);
  else ui_view(self, self->view);
}

static void composer_build_panel(composer* self, const char* const* items, uint32_t count, uint32_t selected) {
  static const char* const units[] = {"seconds", "tokens"};
  wb_ui_widget w[24];
  wb_ui_panel panel;
  uint32_t n = 0;
  memset(w, 0, sizeof w);
  w[n].kind = WB_UI_LIST, w[n].id = "branch", w[n].label = "Branch", w[n].items = items, w[n].item_count = count,
  w[n].value = count ? (double)selected : -1, ++n;
  w[n].kind = WB_UI_SLIDER, w[n].id = "zoom", w[n].label = "Zoom (pixels per second)", w[n].min = 5, w[n].max = 400,
  w[n].value = 40, ++n;
  w[n].kind = WB_UI_SLIDER, w[n].id = "scroll", w[n].label = "Scroll (seconds)", w[n].min = 0, w[n].max = 600,
  w[n].value = 0, ++n;
  w[n].kind = WB_UI_CANVAS, w[n].id = "roll", w[n].label = "Piano roll", w[n].width = ROLL_W, w[n].height = ROLL_H, ++n;
  w[n].kind = WB_UI_BUTTON, w[n].id = "play", w[n].label = "Play", ++n;
  w[n].kind = WB_UI_BUTTON, w[n].id = "stop", w[n].label = "Stop", ++n;
  w[n].kind = WB_UI_LABEL, w[n].id = "status", w[n].text = "", ++n;
  w[n].kind = WB_UI_TEXT_FIELD, w[n].id = "midi", w[n].label = "MIDI file", w[n].text = "", ++n;
  w[n].kind = WB_UI_BUTTON, w[n].id = "load_midi", w[n].label = "Start from MIDI file", ++n;
  w[n].kind = WB_UI_TEXT_AREA, w[n].id = "tokens", w[n].label = "Tokens", w[n].text = "<start> ", ++n;
  w[n].kind = WB_UI_BUTTON, w[n].id = "load_tokens", w[n].label = "Start from tokens", ++n;
  w[n].kind = WB_UI_SLIDER, w[n].id = "length", w[n].label = "Length", w[n].min = 1, w[n].max = 2000, w[n].value = 20,
  w[n].step = 1, ++n;
  w[n].kind = WB_UI_LIST, w[n].id = "unit", w[n].label = "Length in", w[n].items = units, w[n].item_count = 2, ++n;
  w[n].kind = WB_UI_SLIDER, w[n].id = "alternatives", w[n].label = "Alternatives", w[n].min = 1,
  w[n].max = MAX_ALTERNATIVES, w[n].value = 2, w[n].step = 1, ++n;
  w[n].kind = WB_UI_TEXT_FIELD, w[n].id = "instruments", w[n].label = "Instruments (e.g. piano,drum; empty: all)",
  w[n].text = "", ++n;
  w[n].kind = WB_UI_TEXT_FIELD, w[n].id = "seed", w[n].label = "Seed", w[n].text = "0", ++n;
  w[n].kind = WB_UI_BUTTON, w[n].id = "continue", w[n].label = "Continue the viewed branch", ++n;
  w[n].kind = WB_UI_BUTTON, w[n].id = "cancel", w[n].label = "Cancel", ++n;
  w[n].kind = WB_UI_TEXT_FIELD, w[n].id = "export_path", w[n].label = "Export to", w[n].text = "composition.mid", ++n;
  w[n].kind = WB_UI_BUTTON, w[n].id = "export", w[n].label = "Export .mid", ++n;
  w[n].kind = WB_UI_TEXT_FIELD, w[n].id = "wav_path", w[n].label = "Render to", w[n].text = "composition.wav", ++n;
  w[n].kind = WB_UI_BUTTON, w[n].id = "render", w[n].label = "Render .wav", ++n;
  panel.id = PANEL;
  panel.title = "MIDI composer";
  panel.widgets = w;
  panel.widget_count = n;
  {
    /* Republishing (to refresh the branch list) keeps what the user set. */
    char* kept[24];
    uint32_t i;
    memset(kept, 0, sizeof kept);
    for (i = 0; i < n && self->published; ++i) {
      double v;
      if (w[i].kind == WB_UI_BUTTON || w[i].kind == WB_UI_CANVAS || strcmp(w[i].id, "branch") == 0) continue;
      if (w[i].kind == WB_UI_SLIDER || w[i].kind == WB_UI_LIST || w[i].kind == WB_UI_CHECKBOX) {
        if (self->ui->get_number(self->host, PANEL, w[i].id, &v) == WB_OK) w[i].value = v;
      } else {
        size_t len = 0;
        /* Only a widget that exists answers "buffer too small" to capacity 0. */
        if (self->ui->get_text(self->host, PANEL, w[i].id, NULL, 0, &len) == WB_ERR_BUFFER_TOO_SMALL &&
            (kept[i] = ui_text(self, w[i].id)) != NULL)
          w[i].text = kept[i];
      }
    }
    if (self->ui->set_panel(self->host, &panel) == WB_OK) self->published = true;
    for (i = 0; i < n; ++i) free(kept[i]);
  }
}

static void ui_build(const wb_plugin* plugin) {
  composer* self = (composer*)plugin->plugin_data;
  if (!self->ui) return;
  composer_build_panel(self, NULL, 0, 0);
  ui_refresh_branches(self); /* fails quietly until a project is open */
}

static void ui_draw_roll(composer* self, double playhead) {
  static wb_ui_draw_cmd cmds[MAX_ROLL_NOTES + 64];
  static wb_midi_note notes[MAX_ROLL_NOTES];
  uint32_t nc = 0, i, used_bins = 0;
  size_t n = 0;
  int lo = 127, hi = 0;
  double zoom = ui_number(self, "zoom", 40), scroll = ui_number(self, "scroll", 0);
  float row;
  if (!self->ui) return;
  cmds[nc++] = (wb_ui_draw_cmd){WB_DRAW_RECT_FILLED, 0, 0, ROLL_W, ROLL_H, 0x1a1a20ff, 1, NULL};
  if (self->view_text) {
    wb_status st = self->midi->text_notes(self->host, self->view_text, self->view_len, notes, MAX_ROLL_NOTES, &n);
    if (st != WB_OK && st != WB_ERR_BUFFER_TOO_SMALL) n = 0;
    if (n > MAX_ROLL_NOTES) n = MAX_ROLL_NOTES;
  }
  for (i = 0; i < n; ++i) {
    if (notes[i].pitch < lo) lo = notes[i].pitch;
    if (notes[i].pitch > hi) hi = notes[i].pitch;
  }
  if (lo > hi) lo = 48, hi = 72;
  lo = lo > 2 ? lo - 2 : 0;
  hi = hi < 125 ? hi + 2 : 127;
  row = ROLL_H / (float)(hi - lo + 1);
  /* Octave lines (C) behind the notes. */
  for (i = (uint32_t)lo; i <= (uint32_t)hi; ++i)
    if (i % 12 == 0) {
      float y = ROLL_H - (float)(i - (uint32_t)lo + 1) * row;
      cmds[nc++] = (wb_ui_draw_cmd){WB_DRAW_LINE, 0, y + row, ROLL_W, y + row, 0x33333dff, 1, NULL};
    }
  for (i = 0; i < n; ++i) {
    float x0 = (float)((notes[i].on_s - scroll) * zoom), x1 = (float)((notes[i].off_s - scroll) * zoom);
    float y = ROLL_H - (float)(notes[i].pitch - lo + 1) * row;
    uint32_t bin = notes[i].bin >= 0 ? (uint32_t)notes[i].bin : 14;
    uint32_t color = kBinColors[bin % (sizeof kBinColors / sizeof kBinColors[0])];
    if (bin < 32) used_bins |= 1u << bin;
    if (x1 < 0 || x0 > ROLL_W) continue; /* scrolled out of view */
    if (x0 < 0) x0 = 0;
    if (x1 > ROLL_W) x1 = ROLL_W;
    if (x1 - x0 < 1) x1 = x0 + 1;
    /* Softer colour for quiet notes. */
    color = (color & 0xffffff00u) | (uint32_t)(96 + notes[i].velocity);
    cmds[nc++] = (wb_ui_draw_cmd){WB_DRAW_RECT_FILLED, x0, y, x1, y + (row > 2 ? row - 1 : row), color, 1, NULL};
  }
  /* Legend: one swatch per instrument present. */
  {
    float ly = 4;
    uint32_t b;
    static char names[32][32];
    for (b = 0; b < 32 && nc + 2 < MAX_ROLL_NOTES + 64; ++b) {
      size_t len = 0;
      if (!(used_bins & (1u << b))) continue;
      if (self->midi->bin_name(self->host, b, names[b], sizeof names[b], &len) != WB_OK) snprintf(names[b], sizeof names[b], "bin %u", b);
      cmds[nc++] = (wb_ui_draw_cmd){WB_DRAW_RECT_FILLED, ROLL_W - 110, ly + 4, ROLL_W - 100, ly + 14,
                                    kBinColors[b % (sizeof kBinColors / sizeof kBinColors[0])], 1, NULL};
      cmds[nc++] = (wb_ui_draw_cmd){WB_DRAW_TEXT, ROLL_W - 95, ly, 0, 0, 0xddddddff, 1, names[b]};
      ly += 18;  /* one line of the host font */
    }
  }
  if (playhead >= 0) {
    float x = (float)((playhead - scroll) * zoom);
    if (x >= 0 && x <= ROLL_W) cmds[nc++] = (wb_ui_draw_cmd){WB_DRAW_LINE, x, 0, x, ROLL_H, 0xff4040ff, 2, NULL};
  }
  self->ui->set_canvas(self->host, PANEL, "roll", cmds, nc);
}

static void ui_start_piece(composer* self, int from_file) {
  wb_node_id node = 0;
  char* value = ui_text(self, from_file ? "midi" : "tokens");
  if (!value || !value[0]) {
    ui_status(self, from_file ? "give a MIDI file path" : "type some tokens");
    free(value);
    return;
  }
  {
    wb_node_id root;
    size_t len = 0;
    char* text = piece_text(self, from_file, value, &len);
    if (!text) {
      ui_status(self, self->host->last_error(self->host));
      free(value);
      return;
    }
    if (self->tree->root(self->host, &root) != WB_OK || self->tree->append(self->host, root, text, len, &node) != WB_OK)
      ui_status(self, self->host->last_error(self->host));
    else
      self->tree->switch_to(self->host, node);
    free(text);
  }
  free(value);
  self->view = node;
  ui_refresh_branches(self);
}

static void ui_continue(composer* self) {
  int32_t bins[MAX_BINS];
  uint32_t bin_count = 0;
  char err[1024];
  char* inst = ui_text(self, "instruments");
  char* seed = ui_text(self, "seed");
  double length = ui_number(self, "length", 20), unit = ui_number(self, "unit", 0), alts = ui_number(self, "alternatives", 2);
  wb_sampler_settings s;
  wb_node_id from = self->view;
  if (self->session) {
    ui_status(self, "a continuation is already running");
    goto done;
  }
  if (!from && self->tree->current(self->host, &from) != WB_OK) {
    ui_status(self, "no project is open");
    goto done;
  }
  if (inst && inst[0] && parse_instruments(self, inst, bins, &bin_count, err, sizeof err) != 0) {
    ui_status(self, err);
    goto done;
  }
  music_settings(&s, unit >= 1 ? 0 : length, unit >= 1 ? (long)length : 0, (long)alts, bins, bin_count);
  if (seed && seed[0]) s.set |= WB_SAMPLER_SEED, s.seed = strtoull(seed, NULL, 10);
  if (self->gen->start(self->host, from, &s, &self->session) != WB_OK) {
    ui_status(self, self->host->last_error(self->host));
    self->session = 0;
    goto done;
  }
  self->from = from;
  self->tokens = 0;
  ui_status(self, "composing...");
done:
  free(inst);
  free(seed);
}

static bool ui_on_token(void* user, const wb_generate_event* e) {
  composer* self = (composer*)user;
  if (e->kind == WB_GENERATE_TOKEN) ++self->tokens;
  return true;
}

static void ui_frame(const wb_plugin* plugin) {
  composer* self = (composer*)plugin->plugin_data;
  bool finished = false, playing = false;
  double pos = 0;
  wb_node_id cur = 0;
  if (!self->ui) return;
  /* The user moved in the story (or a project was opened): show where they are. */
  if (!self->session && self->tree->current(self->host, &cur) == WB_OK && cur != self->last_current) {
    self->last_current = cur;
    self->view = cur;
    ui_refresh_branches(self);
  }
  if (self->session) {
    wb_node_id kids[MAX_ALTERNATIVES];
    size_t n = 0;
    char line[256];
    if (self->gen->poll(self->host, self->session, ui_on_token, self, &finished) != WB_OK) finished = true;
    if (!finished) {
      snprintf(line, sizeof line, "composing: %zu tokens", self->tokens);
      ui_status(self, line);
    } else {
      if (self->gen->finish(self->host, self->session, kids, MAX_ALTERNATIVES, &n) != WB_OK) {
        ui_status(self, self->host->last_error(self->host));
        n = 0;
      } else {
        snprintf(line, sizeof line, "done: %zu tokens in %zu alternatives", self->tokens, n);
        ui_status(self, line);
      }
      self->session = 0;
      if (n > 0 && self->tree->switch_to(self->host, kids[0]) == WB_OK) self->view = self->last_current = kids[0];
      ui_refresh_branches(self);
    }
  }
  /* The playhead moves while playing; redraw only then. */
  if (self->midi->position(self->host, &pos, &playing) == WB_OK && (playing || self->playing)) {
    if (playing) ui_draw_roll(self, pos);
    else ui_draw_roll(self, -1);
    self->playing = playing;
  }
}

static void ui_event(const wb_plugin* plugin, const wb_ui_event* ev) {
  composer* self = (composer*)plugin->plugin_data;
  const char* w;
  if (!ev || !ev->widget_id) return;
  w = ev->widget_id;
  if (ev->kind == WB_UI_EVENT_CHANGED) {
    if (strcmp(w, "branch") == 0 && ev->value >= 0 && (uint32_t)ev->value < self->branch_count)
      ui_view(self, self->branches[(uint32_t)ev->value]);
    else if (strcmp(w, "zoom") == 0 || strcmp(w, "scroll") == 0)
      ui_draw_roll(self, -1);
    return;
  }
  if (ev->kind == WB_UI_EVENT_CANVAS_CLICK && strcmp(w, "roll") == 0 && self->view) {
    /* A click on the roll makes the viewed branch the current node. */
    self->tree->switch_to(self->host, self->view);
    return;
  }
  if (ev->kind != WB_UI_EVENT_PRESSED) return;
  if (strcmp(w, "load_midi") == 0) ui_start_piece(self, 1);
  else if (strcmp(w, "load_tokens") == 0) ui_start_piece(self, 0);
  else if (strcmp(w, "continue") == 0) ui_continue(self);
  else if (strcmp(w, "cancel") == 0 && self->session) self->gen->cancel(self->host, self->session);
  else if (strcmp(w, "play") == 0) {
    if (!self->view_text) ui_status(self, "no branch to play");
    else if (self->midi->play(self->host, self->view_text, self->view_len) != WB_OK)
      ui_status(self, self->host->last_error(self->host));
    else
      ui_status(self, "playing");
  } else if (strcmp(w, "stop") == 0) {
    self->midi->stop(self->host);
    ui_status(self, "stopped");
  } else if ((strcmp(w, "export") == 0 || strcmp(w, "render") == 0) && self->view_text) {
    int mid = strcmp(w, "export") == 0;
    char* path = ui_text(self, mid ? "export_path" : "wav_path");
    wb_status st = !path || !path[0] ? WB_ERR_INVALID_ARGUMENT
                   : mid            ? self->midi->text_to_file(self->host, self->view_text, self->view_len, path)
                                    : self->midi->render_wav(self->host, self->view_text, self->view_len, path, NULL);
    ui_status(self, st == WB_OK ? (mid ? "exported" : "rendered") : self->host->last_error(self->host));
    free(path);
  }
}

static const wb_plugin_ui composer_ui = {ui_build, ui_event, ui_frame};

/* ---- plugin ---------------------------------------------------------------------- */

static const char* const composer_features[] = {"midi", "music", "generation", "headless", "ui", NULL};
static const wb_plugin_descriptor composer_descriptor = {
    WB_ABI_VERSION_INIT, COMPOSER_ID, "MIDI composer", "RWKV Workbench", "0.1.0",
    "Continues a MIDI piece with an RWKV music model: alternatives as branches, instruments, piano roll, play, export",
    composer_features};

static bool composer_init(const wb_plugin* plugin) {
  composer* self = (composer*)plugin->plugin_data;
  self->log = (const wb_host_log*)self->host->get_extension(self->host, WB_EXT_LOG);
  self->tree = (const wb_host_tree*)self->host->get_extension(self->host, WB_EXT_TREE);
  self->gen = (const wb_host_generate*)self->host->get_extension(self->host, WB_EXT_GENERATE);
  self->midi = (const wb_host_midi*)self->host->get_extension(self->host, WB_EXT_MIDI);
  self->ui = (const wb_host_ui*)self->host->get_extension(self->host, WB_EXT_UI);
  if (!self->tree || !self->gen || !self->midi) {
    if (self->log) self->log->log(self->host, WB_LOG_ERROR, "this host lacks wb.tree/1, wb.generate/1 or wb.midi/1 (ABI 0.2)");
    return false;
  }
  return true;
}

static void composer_destroy(const wb_plugin* plugin) {
  composer* self = (composer*)plugin->plugin_data;
  /* Running sessions and playback are stopped by the host when the plugin unloads. */
  free(self->view_text);
  free(self);
}

static const void* composer_get_extension(const wb_plugin* plugin, const char* id) {
  (void)plugin;
  if (!id) return NULL;
  if (strcmp(id, WB_EXT_HEADLESS) == 0) return &composer_headless;
  if (strcmp(id, WB_EXT_UI) == 0) return &composer_ui;
  return NULL;
}

static uint32_t factory_count(const wb_plugin_factory* f) {
  (void)f;
  return 1;
}

static const wb_plugin_descriptor* factory_descriptor(const wb_plugin_factory* f, uint32_t i) {
  (void)f;
  return i == 0 ? &composer_descriptor : NULL;
}

static const wb_plugin* factory_create(const wb_plugin_factory* f, const wb_host* host, const char* id) {
  composer* self;
  (void)f;
  if (!host || !id || strcmp(id, COMPOSER_ID) != 0) return NULL;
  self = (composer*)calloc(1, sizeof *self);
  if (!self) return NULL;
  self->host = host;
  self->plugin.desc = &composer_descriptor;
  self->plugin.plugin_data = self;
  self->plugin.init = composer_init;
  self->plugin.destroy = composer_destroy;
  self->plugin.get_extension = composer_get_extension;
  return &self->plugin;
}

static const wb_plugin_factory composer_factory = {factory_count, factory_descriptor, factory_create};

static bool entry_init(const wb_host* host, const char* path) {
  (void)host;
  (void)path;
  return true;
}

static void entry_deinit(void) {}

static const void* entry_get_factory(const char* id) {
  return id && strcmp(id, WB_PLUGIN_FACTORY_ID) == 0 ? &composer_factory : NULL;
}

static const wb_plugin_entry composer_entry = {WB_ABI_VERSION_INIT, entry_init, entry_deinit, entry_get_factory};

WB_EXTERN_C WB_EXPORT const wb_plugin_entry* wb_get_plugin_entry(void) { return &composer_entry; }
