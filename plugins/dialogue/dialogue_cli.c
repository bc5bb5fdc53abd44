/* The dialogue plugin's headless face (wb.headless/1), its benchmark, and
 * the plugin's entry, factory and descriptor.
 *
 *   wb plugin run org.rwkv.workbench.dialogue --project P [--model M] [--create] ACTIONS...
 *
 * Results are "key value" lines ("scene 2", "message 14", "speaker Mira",
 * "fed_tokens 31", ...) for scripts; errors go to stderr with exit status 1
 * (2 for usage errors). Cards are all read and checked before anything is
 * written, so a broken card leaves the project untouched.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "dialogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LIST 64

typedef struct options {
  const char* project;
  const char* model;
  int create;
  unsigned long long scene;
  const char* new_scene;
  const char* scenario;
  const char* user;
  int lanes; /* -1 unchanged */
  int mode;  /* -1 unchanged */
  const char* cards[MAX_LIST];
  size_t n_cards;
  const char* add_character;
  const char* fields[DLG_F_COUNT];
  const char* greet;
  unsigned long long at;
  const char* post;
  const char* as;
  const char* whisper;
  int aside;
  int next;
  const char* speaker;
  unsigned long long swipe, edit, alternatives_of;
  const char* text;
  int list, cast, scenes;
  const char* export_path;
  const char* export_card;
  const char* card_out;
  int bench;
  long bench_chars, bench_turns;
  dlg_gen_opts gen;
} options;

static void put(const wb_output* out, const char* s) { out->write(out, s, strlen(s)); }

static int fail(const wb_output* out, const char* what) {
  out->write_error(out, "dialogue: ", 10);
  out->write_error(out, what, strlen(what));
  out->write_error(out, "\n", 1);
  return 1;
}

static int usage(const wb_output* out, const char* what) {
  fail(out, what);
  return 2;
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

static int parse_mode(const char* s) {
  if (strcmp(s, "manual") == 0) return DLG_MODE_MANUAL;
  if (strcmp(s, "round") == 0 || strcmp(s, "round-robin") == 0) return DLG_MODE_ROUND;
  if (strcmp(s, "mention") == 0) return DLG_MODE_MENTION;
  if (strcmp(s, "model") == 0) return DLG_MODE_MODEL;
  return -1;
}

static const char* const kUsage =
    "usage: --project P [--model M] [--create] [--scene ID] ACTIONS (in this order)\n"
    "  --new-scene TITLE [--scenario TEXT] [--user NAME]   start a scene (lanes off, round-robin)\n"
    "  --lanes on|off   --mode manual|round|mention|model   the scene's memory lanes / turn order\n"
    "  --add-card FILE (repeatable; PNG or JSON, V1/V2/V3)\n"
    "  --add-character NAME [--description D] [--personality P] [--examples E] [--greeting G]\n"
    "  --at NODE         continue the conversation from message NODE (fork)\n"
    "  --greet NAME      post NAME's greeting\n"
    "  --post TEXT [--as NAME] [--whisper A,B | --aside]   a message (default: as the user, to everyone)\n"
    "  --edit NODE --text TEXT   a changed copy of a message as its sibling (a new branch)\n"
    "  --next [--speaker NAME] [-n N] [--alternatives K] [--seed S] [--temp T] [--top-p P] [--preset F]\n"
    "                    generate the next turn (speaker by the turn mode unless named)\n"
    "  --swipe NODE [--alternatives K]   more alternatives of a generated message (siblings)\n"
    "  --alternatives-of NODE   list a message and its siblings\n"
    "  --list  --cast  --scenes  --export FILE(.txt|.md|.jsonl)  --export-card NAME --card-out FILE\n"
    "  --bench [--characters 50] [--turns 200] [-n 8]   lanes vs re-reading, in a new scene\n";

static int parse_args(uint32_t argc, const char* const* argv, options* o, const wb_output* out) {
  uint32_t i;
  memset(o, 0, sizeof *o);
  o->lanes = -1;
  o->mode = -1;
  o->bench_chars = 50;
  o->bench_turns = 200;
  dlg_gen_opts_init(&o->gen);
  for (i = 0; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = 1;
    if (strcmp(a, "--create") == 0) o->create = 1, takes = 0;
    else if (strcmp(a, "--aside") == 0) o->aside = 1, takes = 0;
    else if (strcmp(a, "--next") == 0) o->next = 1, takes = 0;
    else if (strcmp(a, "--list") == 0) o->list = 1, takes = 0;
    else if (strcmp(a, "--cast") == 0) o->cast = 1, takes = 0;
    else if (strcmp(a, "--scenes") == 0) o->scenes = 1, takes = 0;
    else if (strcmp(a, "--bench") == 0) o->bench = 1, takes = 0;
    else if (!v) return usage(out, "an option needs a value (see --help)");
    else if (strcmp(a, "--project") == 0) o->project = v;
    else if (strcmp(a, "--model") == 0) o->model = v;
    else if (strcmp(a, "--new-scene") == 0) o->new_scene = v;
    else if (strcmp(a, "--scenario") == 0) o->scenario = v;
    else if (strcmp(a, "--user") == 0) o->user = v;
    else if (strcmp(a, "--add-character") == 0) o->add_character = v;
    else if (strcmp(a, "--description") == 0) o->fields[DLG_F_DESC] = v;
    else if (strcmp(a, "--personality") == 0) o->fields[DLG_F_PERS] = v;
    else if (strcmp(a, "--examples") == 0) o->fields[DLG_F_EXAMPLES] = v;
    else if (strcmp(a, "--greeting") == 0) o->fields[DLG_F_GREETING] = v;
    else if (strcmp(a, "--greet") == 0) o->greet = v;
    else if (strcmp(a, "--post") == 0) o->post = v;
    else if (strcmp(a, "--as") == 0) o->as = v;
    else if (strcmp(a, "--whisper") == 0) o->whisper = v;
    else if (strcmp(a, "--speaker") == 0) o->speaker = v;
    else if (strcmp(a, "--text") == 0) o->text = v;
    else if (strcmp(a, "--export") == 0) o->export_path = v;
    else if (strcmp(a, "--export-card") == 0) o->export_card = v;
    else if (strcmp(a, "--card-out") == 0) o->card_out = v;
    else if (strcmp(a, "--preset") == 0) o->gen.preset = v;
    else if (strcmp(a, "--add-card") == 0) {
      if (o->n_cards == MAX_LIST) return usage(out, "at most 64 --add-card per run");
      o->cards[o->n_cards++] = v;
    } else if (strcmp(a, "--lanes") == 0) {
      if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) return usage(out, "--lanes expects on or off");
      o->lanes = strcmp(v, "on") == 0;
    } else if (strcmp(a, "--mode") == 0) {
      if ((o->mode = parse_mode(v)) < 0) return usage(out, "--mode expects manual, round, mention or model");
    } else if (strcmp(a, "--scene") == 0) { if (!parse_u64(v, &o->scene)) return usage(out, "--scene expects a node id"); }
    else if (strcmp(a, "--at") == 0) { if (!parse_u64(v, &o->at)) return usage(out, "--at expects a node id"); }
    else if (strcmp(a, "--swipe") == 0) { if (!parse_u64(v, &o->swipe)) return usage(out, "--swipe expects a node id"); }
    else if (strcmp(a, "--edit") == 0) { if (!parse_u64(v, &o->edit)) return usage(out, "--edit expects a node id"); }
    else if (strcmp(a, "--alternatives-of") == 0) {
      if (!parse_u64(v, &o->alternatives_of)) return usage(out, "--alternatives-of expects a node id");
    } else if (strcmp(a, "-n") == 0) { if (!parse_long(v, 1, 4096, &o->gen.n_tokens)) return usage(out, "-n expects 1..4096"); }
    else if (strcmp(a, "--alternatives") == 0) {
      if (!parse_long(v, 1, DLG_MAX_ALTERNATIVES, &o->gen.alternatives)) return usage(out, "--alternatives expects 1..16");
    } else if (strcmp(a, "--characters") == 0) {
      if (!parse_long(v, 1, DLG_MAX_CAST, &o->bench_chars)) return usage(out, "--characters expects 1..256");
    } else if (strcmp(a, "--turns") == 0) {
      if (!parse_long(v, 1, 100000, &o->bench_turns)) return usage(out, "--turns expects 1..100000");
    } else if (strcmp(a, "--seed") == 0) {
      if (!parse_u64(v, &o->gen.seed)) return usage(out, "--seed expects a number");
      o->gen.have_seed = 1;
    } else if (strcmp(a, "--temp") == 0) {
      if (!parse_double(v, &o->gen.temp)) return usage(out, "--temp expects a number");
      o->gen.have_temp = 1;
    } else if (strcmp(a, "--top-p") == 0) {
      if (!parse_double(v, &o->gen.top_p)) return usage(out, "--top-p expects a number");
      o->gen.have_top_p = 1;
    } else {
      char line[256];
      snprintf(line, sizeof line, "unknown option '%s' (see --help)", a);
      return usage(out, line);
    }
    i += (uint32_t)takes;
  }
  if (!o->project) return usage(out, "--project P is required");
  if (o->edit && !o->text) return usage(out, "--edit needs --text");
  if (o->whisper && o->aside) return usage(out, "--whisper and --aside exclude each other");
  if (o->export_card && !o->card_out) return usage(out, "--export-card needs --card-out FILE");
  if (o->add_character && !*o->add_character) return usage(out, "--add-character needs a name");
  return 0;
}

/* One line "key value" with newlines in value shown as \n. */
static void put_kv(const wb_output* out, const char* key, const char* value) {
  dlg_strbuf b = {NULL, 0, 0};
  const char* s;
  dlg_sb_str(&b, key);
  dlg_sb_str(&b, " ");
  for (s = value; s && *s; ++s) {
    if (*s == '\n') dlg_sb_str(&b, "\\n");
    else dlg_sb_add(&b, s, 1);
  }
  dlg_sb_str(&b, "\n");
  if (b.data) out->write(out, b.data, b.len);
  free(b.data);
}

static void put_id(const wb_output* out, const char* key, wb_node_id id) {
  char line[96];
  snprintf(line, sizeof line, "%s %llu\n", key, (unsigned long long)id);
  put(out, line);
}

static void put_costs(dlg_plugin* self, const wb_output* out) {
  char line[128];
  snprintf(line, sizeof line, "fed_tokens %zu\nhistory_tokens %zu\n", self->fed_tokens, self->history_tokens);
  put(out, line);
}

/* "KEY ID VIS SPEAKER: body" on one line (newlines in the body shown as \n). */
static void put_message(dlg_plugin* self, const wb_output* out, wb_node_id id, const char* key) {
  static const char* const vis[] = {"all", "whisper", "aside"};
  dlg_message m;
  char head[128];
  char* body;
  if (dlg_message_load(self, id, &m) != 1) return;
  body = dlg_body(&m);
  snprintf(head, sizeof head, "%llu %s", (unsigned long long)id, vis[m.vis % 3]);
  {
    dlg_strbuf b = {NULL, 0, 0};
    dlg_sb_str(&b, head);
    dlg_sb_str(&b, " ");
    dlg_sb_str(&b, m.speaker);
    dlg_sb_str(&b, ": ");
    dlg_sb_str(&b, body);
    put_kv(out, key, b.data ? b.data : "");
    free(b.data);
  }
  free(body);
  dlg_message_free(&m);
}

static void print_score(void* user, const char* name, double lp) {
  const wb_output* out = (const wb_output*)user;
  char line[512];
  snprintf(line, sizeof line, "score %s %.4f\n", name, lp);
  put(out, line);
}

/* Splits "A,B" into malloc'ed names. */
static size_t split_names(const char* s, char** out, size_t max) {
  size_t n = 0;
  while (s && *s && n < max) {
    const char* c = strchr(s, ',');
    size_t len = c ? (size_t)(c - s) : strlen(s);
    while (len > 0 && *s == ' ') ++s, --len;
    while (len > 0 && s[len - 1] == ' ') --len;
    if (len > 0) out[n++] = dlg_strndup(s, len);
    if (!c) break;
    s = c + 1;
  }
  return n;
}

static int export_card(dlg_plugin* self, const dlg_scene* sc, const char* name, const char* path, char* err, size_t cap) {
  static const char* const keys[DLG_F_COUNT] = {"name", "description", "personality", "mes_example", "first_mes"};
  const dlg_character* c = dlg_find_character(sc, name);
  dlg_strbuf b = {NULL, 0, 0};
  size_t k;
  int ok;
  if (!c) {
    snprintf(err, cap, "'%s' is not in the scene's cast", name);
    return 1;
  }
  if (!self->cards) {
    snprintf(err, cap, "the host offers no character cards (wb.cards/1)");
    return 1;
  }
  if (c->card) {
    /* The imported card with the scene's fields laid over it: unknown fields
     * and extensions survive. */
    ok = dlg_sb_str(&b, c->card);
    for (k = 0; ok && k < DLG_F_COUNT; ++k) {
      size_t n = 0;
      char* next;
      if (self->cards->set_field(self->host, b.data, b.len, keys[k], c->f[k], NULL, 0, &n) != WB_ERR_BUFFER_TOO_SMALL ||
          !(next = (char*)malloc(n + 1))) {
        ok = 0;
        break;
      }
      if (self->cards->set_field(self->host, b.data, b.len, keys[k], c->f[k], next, n + 1, &n) != WB_OK) {
        free(next);
        ok = 0;
        break;
      }
      free(b.data);
      b.data = next;
      b.len = n;
      b.cap = n + 1;
    }
  } else {
    ok = dlg_sb_str(&b, "{\"spec\":\"chara_card_v3\",\"spec_version\":\"3.0\",\"data\":{");
    for (k = 0; ok && k < DLG_F_COUNT; ++k)
      ok = dlg_sb_str(&b, k ? ",\"" : "\"") && dlg_sb_str(&b, keys[k]) && dlg_sb_str(&b, "\":\"") &&
           dlg_sb_json(&b, c->f[k]) && dlg_sb_str(&b, "\"");
    ok = ok && dlg_sb_str(&b, "}}");
  }
  if (!ok || self->cards->save(self->host, b.data, b.len, path) != WB_OK) {
    snprintf(err, cap, "writing card %s: %s", path, self->host->last_error(self->host));
    free(b.data);
    return 1;
  }
  free(b.data);
  return 0;
}

/* ---- benchmark --------------------------------------------------------------------- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static unsigned long long lcg(unsigned long long* s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

/* A scene of C characters and T turns with lanes on. Each turn's context
 * cost is measured twice: the lane way (restore the speaker's prompt node,
 * i.e. read only the unseen messages) and the re-reading way (a fresh node
 * holding the speaker's whole witnessed history, read from the empty state).
 * Both are timed through wb.score/1 of one token, which restores a node's
 * state and nothing else; generation itself is the same in both and timed
 * apart. */
static int bench(dlg_plugin* self, const options* o, const wb_output* out) {
  char err[1024], line[512];
  wb_node_id scene_id, root;
  dlg_scene sc;
  long t, c;
  unsigned long long rng = 12345;
  double lane_ms = 0, reread_ms = 0, gen_ms = 0;
  size_t lane_tokens = 0, reread_tokens = 0, gen_tokens = 0;
  static const char* const probe[] = {"\n"};
  const size_t probe_len[] = {1};
  double lp;
  dlg_gen_opts g = o->gen;
  if (!self->score) return fail(out, "the host offers no scoring (wb.score/1)");
  if (dlg_new_scene(self, "Benchmark", "A crowded harbour tavern at night.", "You", 1, DLG_MODE_ROUND, &scene_id, err,
                    sizeof err) != 0 ||
      dlg_scene_load(self, scene_id, &sc) != 0)
    return fail(out, err);
  if (self->tree->root(self->host, &root) != WB_OK) return fail(out, "reading the root");
  for (c = 0; c < o->bench_chars; ++c) {
    char name[32], desc[160];
    const char* f[DLG_F_COUNT];
    snprintf(name, sizeof name, "Char%02ld", c + 1);
    snprintf(desc, sizeof desc, "%s is guest number %ld, a sailor who trades stories for drinks.", name, c + 1);
    f[DLG_F_NAME] = name, f[DLG_F_DESC] = desc, f[DLG_F_PERS] = "curious", f[DLG_F_EXAMPLES] = "", f[DLG_F_GREETING] = "";
    if (!dlg_add_character(&sc, f)) return fail(out, "out of memory");
  }
  if (dlg_scene_save(self, &sc) != 0) return fail(out, "writing the scene");
  g.alternatives = 1;
  for (t = 0; t < o->bench_turns; ++t) {
    const char* speaker = sc.cast[lcg(&rng) % sc.n_cast].f[DLG_F_NAME];
    dlg_message* path = NULL;
    size_t n = 0, i, k = 0;
    wb_node_id lane, prompt, kid, msg, fresh;
    dlg_strbuf hist = {NULL, 0, 0};
    double t0;
    if (t % 10 == 5) {
      /* The user speaks now and then, sometimes in a whisper. */
      char* to[1];
      int vis = (lcg(&rng) % 3 == 0) ? DLG_VIS_WHISPER : DLG_VIS_ALL;
      to[0] = (char*)speaker;
      if (dlg_post(self, &sc, NULL, "Tell me about the storm.", vis, to, vis == DLG_VIS_WHISPER ? 1 : 0, &msg, err,
                   sizeof err) != 0)
        return fail(out, err);
    }
    self->fed_tokens = 0;
    if (dlg_path(self, &sc, sc.head, &path, &n) != 0) return fail(out, "reading the conversation");
    /* Lanes: feed the unseen messages and the prompt, then restore. */
    if (dlg_lane_catch_up(self, &sc, path, n, speaker, &lane, err, sizeof err) != 0 ||
        dlg_prompt_node(self, lane, speaker, &prompt, err, sizeof err) != 0) {
      dlg_messages_free(path, n);
      return fail(out, err);
    }
    t0 = now_ms();
    if (self->score->score(self->host, prompt, probe, probe_len, 1, &lp, NULL) != WB_OK) {
      dlg_messages_free(path, n);
      return fail(out, self->host->last_error(self->host));
    }
    lane_ms += now_ms() - t0;
    lane_tokens += self->fed_tokens;
    /* Re-reading: the speaker's lane context and every message it witnessed. */
    {
      wb_node_id lroot = dlg_lane_find(sc.roots, sc.n_roots, speaker);
      size_t len = 0;
      char* ctx = dlg_fetch(self, self->tree->node_text, lroot, &len);
      int ok = ctx && dlg_sb_add(&hist, ctx, len);
      free(ctx);
      for (i = 0; ok && i < n; ++i)
        if (dlg_witnessed(&path[i], speaker)) ok = dlg_sb_add(&hist, path[i].text, path[i].text_len);
      ok = ok && dlg_sb_str(&hist, speaker) && dlg_sb_str(&hist, ":");
      dlg_messages_free(path, n);
      if (!ok || self->tree->append(self->host, root, hist.data, hist.len, &fresh) != WB_OK ||
          self->tree->set_label(self->host, fresh, "dlg.bench") != WB_OK) {
        free(hist.data);
        return fail(out, "writing the re-read history");
      }
      free(hist.data);
      t0 = now_ms();
      if (self->score->score(self->host, fresh, probe, probe_len, 1, &lp, NULL) != WB_OK)
        return fail(out, self->host->last_error(self->host));
      reread_ms += now_ms() - t0;
      {
        wb_node_info info;
        if (self->tree->node_info(self->host, fresh, &info) == WB_OK) reread_tokens += info.token_count;
      }
      self->tree->remove(self->host, fresh);
    }
    /* The turn itself. */
    t0 = now_ms();
    {
      wb_sampler_settings s = WB_SAMPLER_SETTINGS_INIT;
      static const char* const stops[] = {"\n\n"};
      wb_node_info info;
      s.set = WB_SAMPLER_MAX_TOKENS | WB_SAMPLER_SEED;
      s.max_tokens = (int32_t)g.n_tokens;
      s.seed = (uint64_t)t + 1;
      s.stop = stops;
      s.stop_count = 1;
      if (self->gen->generate(self->host, prompt, &s, NULL, NULL, &kid, 1, &k) != WB_OK || k < 1)
        return fail(out, self->host->last_error(self->host));
      gen_ms += now_ms() - t0;
      if (self->tree->node_info(self->host, kid, &info) == WB_OK) gen_tokens += info.token_count;
    }
    if (dlg_publish(self, &sc, sc.head, speaker, speaker, prompt, kid, &msg, err, sizeof err) != 0)
      return fail(out, err);
    sc.head = msg;
    if (dlg_scene_save(self, &sc) != 0) return fail(out, "writing the scene");
  }
  snprintf(line, sizeof line,
           "bench_scene %llu\nbench_characters %ld\nbench_turns %ld\nlane_tokens %zu\nlane_ms %.1f\nreread_tokens %zu\n"
           "reread_ms %.1f\ntoken_ratio %.2f\ntime_ratio %.2f\ngenerated_tokens %zu\ngenerate_ms %.1f\n",
           (unsigned long long)scene_id, o->bench_chars, o->bench_turns, lane_tokens, lane_ms, reread_tokens, reread_ms,
           lane_tokens ? (double)reread_tokens / (double)lane_tokens : 0.0, lane_ms > 0 ? reread_ms / lane_ms : 0.0,
           gen_tokens, gen_ms);
  put(out, line);
  dlg_scene_free(&sc);
  return 0;
}

/* ---- run --------------------------------------------------------------------------- */

static int with_scene(dlg_plugin* self, const options* o, dlg_scene* sc, const wb_output* out) {
  wb_node_id id = (wb_node_id)o->scene;
  if (!id && dlg_latest_scene(self, &id) != 0) return usage(out, "the project has no scene (start one with --new-scene TITLE)");
  if (dlg_scene_load(self, id, sc) != 0) {
    char line[256];
    snprintf(line, sizeof line, "node %llu is not a scene", (unsigned long long)id);
    return fail(out, line);
  }
  return 0;
}

static int32_t dialogue_run(const wb_plugin* plugin, uint32_t argc, const char* const* argv, const wb_output* out) {
  dlg_plugin* self = (dlg_plugin*)plugin->plugin_data;
  options o;
  dlg_scene sc;
  char err[1200];
  char* card_fields[MAX_LIST][DLG_F_COUNT];
  char* card_json[MAX_LIST];
  size_t i, k, n_loaded = 0;
  int rc;
  memset(&sc, 0, sizeof sc);
  if (argc == 1 && strcmp(argv[0], "--help") == 0) {
    put(out, kUsage);
    return 0;
  }
  if ((rc = parse_args(argc, argv, &o, out)) != 0) return rc;
  if (self->tree->open_project(self->host, o.project, o.model, o.create != 0) != WB_OK) {
    snprintf(err, sizeof err, "opening the project %s: %s", o.project, self->host->last_error(self->host));
    return fail(out, err);
  }
  /* Every card is read and checked before anything changes. */
  for (i = 0; i < o.n_cards; ++i, ++n_loaded) {
    if (dlg_card_fields(self, o.cards[i], card_fields[i], &card_json[i], err, sizeof err) != 0) {
      for (k = 0; k < n_loaded; ++k) {
        size_t f;
        for (f = 0; f < DLG_F_COUNT; ++f) free(card_fields[k][f]);
        free(card_json[k]);
      }
      fail(out, err);
      return 1;
    }
  }
  rc = 0;
  if (o.scenes) {
    wb_node_id root, kid;
    wb_node_info info;
    uint32_t c;
    if (self->tree->root(self->host, &root) == WB_OK && self->tree->node_info(self->host, root, &info) == WB_OK)
      for (c = 0; c < info.child_count; ++c)
        if (self->tree->child(self->host, root, c, &kid) == WB_OK && dlg_is_scene(self, kid)) {
          dlg_scene s;
          if (dlg_scene_load(self, kid, &s) == 0) {
            char line[96];
            snprintf(line, sizeof line, "scene %llu", (unsigned long long)kid);
            put_kv(out, line, s.title);
          }
          dlg_scene_free(&s);
        }
  }
  if (o.bench) {
    rc = bench(self, &o, out);
    goto done;
  }
  if (o.new_scene) {
    wb_node_id id;
    if (dlg_new_scene(self, o.new_scene, o.scenario, o.user, o.lanes == 1, o.mode < 0 ? DLG_MODE_ROUND : o.mode, &id, err,
                      sizeof err) != 0) {
      rc = fail(out, err);
      goto done;
    }
    o.scene = id;
    put_id(out, "scene", id);
  }
  if (o.n_cards == 0 && !o.add_character && o.lanes < 0 && o.mode < 0 && !o.greet && !o.at && !o.post && !o.next &&
      !o.swipe && !o.edit && !o.alternatives_of && !o.list && !o.cast && !o.export_path && !o.export_card)
    goto done;
  if ((rc = with_scene(self, &o, &sc, out)) != 0) goto done;
  if (o.lanes >= 0) sc.lanes = o.lanes;
  if (o.mode >= 0) sc.mode = o.mode;
  for (i = 0; i < n_loaded; ++i) {
    dlg_character* c;
    if (!dlg_add_character(&sc, (const char* const*)card_fields[i])) {
      rc = fail(out, "out of memory");
      goto done;
    }
    c = (dlg_character*)dlg_find_character(&sc, card_fields[i][DLG_F_NAME]);
    if (c && card_json[i]) {
      free(c->card);
      c->card = card_json[i];
      card_json[i] = NULL;
    }
    put_kv(out, "character", card_fields[i][DLG_F_NAME]);
  }
  if (o.add_character) {
    const char* f[DLG_F_COUNT];
    for (k = 0; k < DLG_F_COUNT; ++k) f[k] = o.fields[k] ? o.fields[k] : "";
    f[DLG_F_NAME] = o.add_character;
    for (k = 0; k < DLG_F_COUNT; ++k)
      if (strlen(f[k]) > DLG_MAX_FIELD) {
        rc = usage(out, "a character field is longer than 64 KiB");
        goto done;
      }
    if (strchr(o.add_character, '\n') || strchr(o.add_character, ':')) {
      rc = usage(out, "a character name may not hold a newline or ':'");
      goto done;
    }
    if (!dlg_add_character(&sc, f)) {
      rc = fail(out, "out of memory");
      goto done;
    }
    put_kv(out, "character", o.add_character);
  }
  if (dlg_scene_save(self, &sc) != 0) {
    snprintf(err, sizeof err, "writing the scene: %s", self->host->last_error(self->host));
    rc = fail(out, err);
    goto done;
  }
  if (o.at) {
    dlg_message m;
    if (o.at != sc.node && dlg_message_load(self, (wb_node_id)o.at, &m) != 1) {
      rc = usage(out, "--at: that node is not a message");
      goto done;
    }
    if (o.at != sc.node) dlg_message_free(&m);
    sc.head = (wb_node_id)o.at;
    {
      dlg_message* path = NULL;
      size_t n = 0;
      if (dlg_path(self, &sc, sc.head, &path, &n) != 0) {
        rc = usage(out, "--at: that message is not in this scene");
        goto done;
      }
      dlg_messages_free(path, n);
    }
    dlg_scene_save(self, &sc);
  }
  if (o.greet) {
    const dlg_character* c = dlg_find_character(&sc, o.greet);
    wb_node_id id;
    if (!c || !c->f[DLG_F_GREETING][0]) {
      rc = fail(out, c ? "that character has no greeting" : "--greet: not in the scene's cast");
      goto done;
    }
    if (dlg_post(self, &sc, o.greet, c->f[DLG_F_GREETING], DLG_VIS_ALL, NULL, 0, &id, err, sizeof err) != 0) {
      rc = fail(out, err);
      goto done;
    }
    put_id(out, "message", id);
  }
  if (o.post) {
    char* to[32];
    size_t n_to = o.whisper ? split_names(o.whisper, to, 32) : 0;
    wb_node_id id;
    int vis = o.whisper ? DLG_VIS_WHISPER : o.aside ? DLG_VIS_ASIDE : DLG_VIS_ALL;
    rc = dlg_post(self, &sc, o.as, o.post, vis, to, n_to, &id, err, sizeof err);
    for (k = 0; k < n_to; ++k) free(to[k]);
    if (rc != 0) {
      rc = fail(out, err);
      goto done;
    }
    put_id(out, "message", id);
  }
  if (o.edit) {
    wb_node_id id;
    if (dlg_edit(self, &sc, (wb_node_id)o.edit, o.text, &id, err, sizeof err) != 0) {
      rc = fail(out, err);
      goto done;
    }
    put_id(out, "message", id);
  }
  if (o.next) {
    char* speaker = NULL;
    wb_node_id ids[DLG_MAX_ALTERNATIVES];
    size_t n = 0;
    self->fed_tokens = 0;
    self->history_tokens = 0;
    if (dlg_pick_speaker(self, &sc, o.speaker, &speaker, print_score, (void*)out, err, sizeof err) != 0 ||
        (put_kv(out, "speaker", speaker), dlg_generate(self, &sc, speaker, &o.gen, ids, &n, err, sizeof err) != 0)) {
      free(speaker);
      rc = fail(out, err);
      goto done;
    }
    free(speaker);
    for (k = 0; k < n; ++k) put_message(self, out, ids[k], "message");
    put_costs(self, out);
  }
  if (o.swipe) {
    wb_node_id ids[DLG_MAX_ALTERNATIVES];
    size_t n = 0;
    if (dlg_swipe(self, &sc, (wb_node_id)o.swipe, &o.gen, ids, &n, err, sizeof err) != 0) {
      rc = fail(out, err);
      goto done;
    }
    for (k = 0; k < n; ++k) put_message(self, out, ids[k], "message");
  }
  if (o.alternatives_of) {
    wb_node_id* sib = NULL;
    size_t n = 0;
    if (dlg_siblings(self, (wb_node_id)o.alternatives_of, &sib, &n) != 0 || n == 0) {
      free(sib);
      rc = fail(out, "--alternatives-of: not a message");
      goto done;
    }
    for (k = 0; k < n; ++k) put_message(self, out, sib[k], "alternative");
    free(sib);
  }
  if (o.list) {
    dlg_message* path = NULL;
    size_t n = 0;
    if (dlg_path(self, &sc, sc.head, &path, &n) != 0) {
      rc = fail(out, "reading the conversation");
      goto done;
    }
    put_id(out, "scene", sc.node);
    put(out, sc.lanes ? "lanes on\n" : "lanes off\n");
    for (k = 0; k < n; ++k) put_message(self, out, path[k].id, "message");
    dlg_messages_free(path, n);
  }
  if (o.cast)
    for (k = 0; k < sc.n_cast; ++k) put_kv(out, "character", sc.cast[k].f[DLG_F_NAME]);
  if (o.export_path) {
    if (dlg_export(self, &sc, o.export_path, err, sizeof err) != 0) {
      rc = fail(out, err);
      goto done;
    }
    put_kv(out, "exported", o.export_path);
  }
  if (o.export_card) {
    if (export_card(self, &sc, o.export_card, o.card_out, err, sizeof err) != 0) {
      rc = fail(out, err);
      goto done;
    }
    put_kv(out, "card", o.card_out);
  }
done:
  for (i = 0; i < n_loaded; ++i) {
    for (k = 0; k < DLG_F_COUNT; ++k) free(card_fields[i][k]);
    free(card_json[i]);
  }
  dlg_scene_free(&sc);
  return rc;
}

static const wb_plugin_headless dialogue_headless = {"--project P [--model M] [--create] ACTIONS... (--help)", dialogue_run};

/* ---- plugin ------------------------------------------------------------------------ */

static const char* const dialogue_features[] = {"text", "dialogue", "cards", "generation", "headless", "ui", NULL};
static const wb_plugin_descriptor dialogue_descriptor = {
    WB_ABI_VERSION_INIT, DLG_ID, "Multi-character dialogue", "RWKV Workbench", "0.1.0",
    "Branching scenes of several characters from character cards, four turn modes, per-character memory lanes, "
    "transcript export",
    dialogue_features};

static bool dialogue_init(const wb_plugin* plugin) {
  dlg_plugin* self = (dlg_plugin*)plugin->plugin_data;
  const wb_host* h = self->host;
  self->log = (const wb_host_log*)h->get_extension(h, WB_EXT_LOG);
  self->tree = (const wb_host_tree*)h->get_extension(h, WB_EXT_TREE);
  self->gen = (const wb_host_generate*)h->get_extension(h, WB_EXT_GENERATE);
  self->ui = (const wb_host_ui*)h->get_extension(h, WB_EXT_UI);
  self->cards = (const wb_host_cards*)h->get_extension(h, WB_EXT_CARDS);
  self->score = (const wb_host_score*)h->get_extension(h, WB_EXT_SCORE);
  self->transcript = (const wb_host_transcript*)h->get_extension(h, WB_EXT_TRANSCRIPT);
  if (!self->tree || !self->gen) {
    if (self->log) self->log->log(h, WB_LOG_ERROR, "this host has no wb.tree/1 or wb.generate/1");
    return false;
  }
  return true;
}

static void dialogue_destroy(const wb_plugin* plugin) {
  dlg_plugin* self = (dlg_plugin*)plugin->plugin_data;
  /* A running session is cancelled by the host when the plugin unloads. */
  dlg_turn_free(&self->turn);
  free(self);
}

static const void* dialogue_get_extension(const wb_plugin* plugin, const char* id) {
  (void)plugin;
  if (!id) return NULL;
  if (strcmp(id, WB_EXT_HEADLESS) == 0) return &dialogue_headless;
  if (strcmp(id, WB_EXT_UI) == 0) return &dlg_ui;
  return NULL;
}

static uint32_t factory_count(const wb_plugin_factory* f) {
  (void)f;
  return 1;
}

static const wb_plugin_descriptor* factory_descriptor(const wb_plugin_factory* f, uint32_t i) {
  (void)f;
  return i == 0 ? &dialogue_descriptor : NULL;
}

static const wb_plugin* factory_create(const wb_plugin_factory* f, const wb_host* host, const char* id) {
  dlg_plugin* self;
  (void)f;
  if (!host || !id || strcmp(id, DLG_ID) != 0) return NULL;
  self = (dlg_plugin*)calloc(1, sizeof *self);
  if (!self) return NULL;
  self->host = host;
  self->plugin.desc = &dialogue_descriptor;
  self->plugin.plugin_data = self;
  self->plugin.init = dialogue_init;
  self->plugin.destroy = dialogue_destroy;
  self->plugin.get_extension = dialogue_get_extension;
  return &self->plugin;
}

static const wb_plugin_factory dialogue_factory = {factory_count, factory_descriptor, factory_create};

static bool entry_init(const wb_host* host, const char* path) {
  (void)host;
  (void)path;
  return true;
}

static void entry_deinit(void) {}

static const void* entry_get_factory(const char* id) {
  return id && strcmp(id, WB_PLUGIN_FACTORY_ID) == 0 ? &dialogue_factory : NULL;
}

static const wb_plugin_entry dialogue_entry = {WB_ABI_VERSION_INIT, entry_init, entry_deinit, entry_get_factory};

WB_EXTERN_C WB_EXPORT const wb_plugin_entry* wb_get_plugin_entry(void) { return &dialogue_entry; }
