/* Text statistics: a shipped plugin, built exactly as a community plugin is
 * (only <wb/...> headers, only the C ABI).
 *
 * Headless:
 *   wb plugin run org.rwkv.workbench.text-stats [--json] [--wpm N | --preset NAME] (--text S | FILE...)
 * prints words, characters, sentences, paragraphs, lines, the average word
 * length and the reading time. Presets come from presets/text-stats/NAME.txt
 * ("words_per_minute = N") through the host's "wb.presets/1".
 *
 * UI ("wb.ui/1"): a text area, a reading-speed slider, a Count button, a
 * result label and a canvas with a histogram of word lengths.
 */
#include <wb/plugin_all.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_ID "org.rwkv.workbench.text-stats"
#define DEFAULT_WPM 238.0
#define HIST_BINS 15 /* word lengths 1..14 and 15+ */
#define MAX_FILE_BYTES (256u << 20)

typedef struct stats {
  size_t bytes, chars, words, sentences, paragraphs, lines, word_chars;
  size_t hist[HIST_BINS];
} stats;

typedef struct instance {
  wb_plugin plugin;
  const wb_host* host;
  const wb_host_log* log;
  const wb_host_presets* presets;
  const wb_host_ui* ui;
} instance;

static void log_msg(const instance* self, int32_t level, const char* msg) {
  if (self->log) self->log->log(self->host, level, msg);
}

/* ---- counting ------------------------------------------------------------ */

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Sentence ends: '.', '!', '?' and the ellipsis U+2026, when followed by
 * space, end of text or a closing quote/bracket. Runs like "?!" or "..." end
 * one sentence. */
static int ends_sentence(const unsigned char* t, size_t n, size_t i, size_t* skip) {
  size_t j = i;
  int found = 0;
  while (j < n) {
    if (t[j] == '.' || t[j] == '!' || t[j] == '?') {
      ++j;
      found = 1;
    } else if (j + 2 < n && t[j] == 0xE2 && t[j + 1] == 0x80 && t[j + 2] == 0xA6) {
      j += 3;
      found = 1;
    } else {
      break;
    }
  }
  if (!found) return 0;
  *skip = j - i;
  while (j < n && (t[j] == '"' || t[j] == '\'' || t[j] == ')' || t[j] == ']')) ++j;
  return j == n || is_space(t[j]) || (j + 2 < n && t[j] == 0xE2 && t[j + 1] == 0x80 && (t[j + 2] == 0x9D || t[j + 2] == 0x99));
}

static void count_text(const char* text, size_t n, stats* s) {
  const unsigned char* t = (const unsigned char*)text;
  size_t i = 0, word_len = 0, words_in_sentence = 0, newlines_in_gap = 0;
  int in_word = 0, in_paragraph = 0;
  memset(s, 0, sizeof *s);
  s->bytes = n;
  if (n > 0) s->lines = 1;
  while (i < n) {
    unsigned char c = t[i];
    size_t skip = 0;
    if ((c & 0xC0) != 0x80) ++s->chars; /* count UTF-8 lead bytes only */
    if (is_space(c)) {
      if (in_word) {
        ++s->hist[word_len >= HIST_BINS ? HIST_BINS - 1 : word_len - 1];
        in_word = 0;
      }
      if (c == '\n') {
        if (i + 1 < n) ++s->lines;
        if (++newlines_in_gap >= 2) in_paragraph = 0;
      }
      ++i;
      continue;
    }
    newlines_in_gap = 0;
    if (!in_paragraph) {
      in_paragraph = 1;
      ++s->paragraphs;
    }
    if (!in_word) {
      in_word = 1;
      word_len = 0;
      ++s->words;
      ++words_in_sentence;
    }
    if (ends_sentence(t, n, i, &skip)) {
      if (words_in_sentence > 0) ++s->sentences;
      words_in_sentence = 0;
      i += skip;
      continue;
    }
    if ((c & 0xC0) != 0x80) {
      ++word_len;
      ++s->word_chars;
    }
    ++i;
  }
  if (in_word && word_len > 0) ++s->hist[word_len >= HIST_BINS ? HIST_BINS - 1 : word_len - 1];
  if (words_in_sentence > 0) ++s->sentences; /* a last sentence without a full stop */
}

static void add_stats(stats* total, const stats* s) {
  size_t k;
  total->bytes += s->bytes;
  total->chars += s->chars;
  total->words += s->words;
  total->sentences += s->sentences;
  total->paragraphs += s->paragraphs;
  total->lines += s->lines;
  total->word_chars += s->word_chars;
  for (k = 0; k < HIST_BINS; ++k) total->hist[k] += s->hist[k];
}

static void format_stats(const stats* s, double wpm, int json, char* out, size_t cap) {
  double avg = s->words ? (double)s->word_chars / (double)s->words : 0.0;
  double minutes = wpm > 0 ? (double)s->words / wpm : 0.0;
  if (json)
    snprintf(out, cap,
             "{\"words\": %zu, \"characters\": %zu, \"bytes\": %zu, \"sentences\": %zu, \"paragraphs\": %zu, "
             "\"lines\": %zu, \"average_word_length\": %.2f, \"words_per_minute\": %.0f, \"reading_minutes\": %.2f}\n",
             s->words, s->chars, s->bytes, s->sentences, s->paragraphs, s->lines, avg, wpm, minutes);
  else
    snprintf(out, cap,
             "words %zu\ncharacters %zu\nbytes %zu\nsentences %zu\nparagraphs %zu\nlines %zu\n"
             "average word length %.2f\nreading time %.1f min at %.0f words/min\n",
             s->words, s->chars, s->bytes, s->sentences, s->paragraphs, s->lines, avg, minutes, wpm);
}

/* ---- presets ---------------------------------------------------------------- */

/* Reads words_per_minute from presets/text-stats/NAME.txt; 0 on failure. */
static double preset_wpm(const instance* self, const char* name, char* err, size_t err_cap) {
  char file[WB_MAX_ID_LENGTH + 1];
  char buf[1024];
  size_t len = 0;
  const char* p;
  double wpm;
  wb_status st;
  if (!self->presets) {
    snprintf(err, err_cap, "the host offers no presets (%s)\n", WB_EXT_PRESETS);
    return 0;
  }
  if (strlen(name) + 4 > WB_MAX_ID_LENGTH) {
    snprintf(err, err_cap, "preset name too long\n");
    return 0;
  }
  snprintf(file, sizeof file, "%s.txt", name);
  st = self->presets->read(self->host, "text-stats", file, buf, sizeof buf - 1, &len);
  if (st != WB_OK) {
    snprintf(err, err_cap, "preset '%s': %s\n", name, self->host->last_error(self->host));
    return 0;
  }
  buf[len] = '\0';
  p = strstr(buf, "words_per_minute");
  if (!p || !(p = strchr(p, '=')) || (wpm = strtod(p + 1, NULL)) <= 0) {
    snprintf(err, err_cap, "preset '%s' has no positive words_per_minute\n", name);
    return 0;
  }
  return wpm;
}

/* ---- headless ------------------------------------------------------------------ */

static int32_t write_str(const wb_output* out, int error, const char* s) {
  return error ? out->write_error(out, s, strlen(s)) : out->write(out, s, strlen(s));
}

/* Reads a whole file into memory (bounded); NULL with a message on failure. */
static char* read_file(const char* path, size_t* n, char* err, size_t err_cap) {
  FILE* f = fopen(path, "rb");
  char* data = NULL;
  size_t cap = 0, len = 0;
  if (!f) {
    snprintf(err, err_cap, "%s: %s\n", path, strerror(errno));
    return NULL;
  }
  for (;;) {
    size_t got;
    if (len == cap) {
      char* bigger;
      if (cap >= MAX_FILE_BYTES) {
        snprintf(err, err_cap, "%s: larger than %u bytes\n", path, MAX_FILE_BYTES);
        free(data);
        fclose(f);
        return NULL;
      }
      cap = cap ? cap * 2 : 65536;
      bigger = (char*)realloc(data, cap);
      if (!bigger) {
        snprintf(err, err_cap, "%s: out of memory\n", path);
        free(data);
        fclose(f);
        return NULL;
      }
      data = bigger;
    }
    got = fread(data + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    snprintf(err, err_cap, "%s: read error\n", path);
    free(data);
    fclose(f);
    return NULL;
  }
  fclose(f);
  *n = len;
  return data;
}

static int32_t run(const wb_plugin* plugin, uint32_t argc, const char* const* argv, const wb_output* out) {
  const instance* self = (const instance*)plugin->plugin_data;
  stats total, one;
  double wpm = DEFAULT_WPM;
  int json = 0, have_input = 0;
  uint32_t i;
  char msg[1024];
  memset(&total, 0, sizeof total);
  /* Options first, so --preset/--wpm apply to every input. */
  for (i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else if (strcmp(argv[i], "--wpm") == 0 || strcmp(argv[i], "--preset") == 0) {
      if (i + 1 >= argc) {
        snprintf(msg, sizeof msg, "%s needs a value\n", argv[i]);
        write_str(out, 1, msg);
        return 2;
      }
      if (argv[i][2] == 'w') {
        char* end = NULL;
        wpm = strtod(argv[i + 1], &end);
        if (!end || *end != '\0' || !(wpm > 0 && wpm < 100000)) {
          snprintf(msg, sizeof msg, "--wpm expects a positive number, got '%s'\n", argv[i + 1]);
          write_str(out, 1, msg);
          return 2;
        }
      } else {
        wpm = preset_wpm(self, argv[i + 1], msg, sizeof msg);
        if (wpm <= 0) {
          write_str(out, 1, msg);
          return 1;
        }
      }
      ++i;
    } else if (strcmp(argv[i], "--text") == 0) {
      ++i; /* handled below */
    } else if (strcmp(argv[i], "--help") == 0) {
      write_str(out, 0, "usage: [--json] [--wpm N | --preset NAME] (--text S | FILE...)\n");
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      snprintf(msg, sizeof msg, "unknown option '%s'\n", argv[i]);
      write_str(out, 1, msg);
      return 2;
    }
  }
  for (i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--text") == 0) {
      if (i + 1 >= argc) {
        write_str(out, 1, "--text needs a value\n");
        return 2;
      }
      count_text(argv[i + 1], strlen(argv[i + 1]), &one);
      add_stats(&total, &one);
      have_input = 1;
      ++i;
    } else if (strcmp(argv[i], "--wpm") == 0 || strcmp(argv[i], "--preset") == 0) {
      ++i;
    } else if (argv[i][0] != '-' || argv[i][1] == '\0') {
      size_t n = 0;
      char* data = read_file(argv[i], &n, msg, sizeof msg);
      if (!data) {
        write_str(out, 1, msg);
        return 1;
      }
      count_text(data, n, &one);
      free(data);
      add_stats(&total, &one);
      have_input = 1;
    }
  }
  if (!have_input) {
    write_str(out, 1, "no input: give --text S or files\n");
    return 2;
  }
  format_stats(&total, wpm, json, msg, sizeof msg);
  write_str(out, 0, msg);
  return 0;
}

static const wb_plugin_headless headless = {"[--json] [--wpm N | --preset NAME] (--text S | FILE...)", run};

/* ---- UI ---------------------------------------------------------------------- */

static void publish_results(const instance* self) {
  char* text = NULL;
  size_t len = 0;
  double wpm = DEFAULT_WPM;
  stats s;
  char result[1024];
  wb_ui_draw_cmd cmds[2 * HIST_BINS + 1];
  uint32_t ncmd = 0, k;
  size_t peak = 1;
  if (!self->ui) return;
  /* Ask for the size first, then read the whole text. */
  if (self->ui->get_text(self->host, "main", "input", NULL, 0, &len) != WB_ERR_BUFFER_TOO_SMALL) return;
  text = (char*)malloc(len + 1);
  if (!text) return;
  if (self->ui->get_text(self->host, "main", "input", text, len + 1, &len) != WB_OK) {
    free(text);
    return;
  }
  self->ui->get_number(self->host, "main", "wpm", &wpm);
  count_text(text, len, &s);
  free(text);
  format_stats(&s, wpm, 0, result, sizeof result);
  self->ui->set_text(self->host, "main", "result", result);
  /* Histogram of word lengths on a 300 x 120 canvas. */
  for (k = 0; k < HIST_BINS; ++k)
    if (s.hist[k] > peak) peak = s.hist[k];
  for (k = 0; k < HIST_BINS; ++k) {
    float x0 = 10.0f + 18.0f * (float)k, h = 100.0f * (float)s.hist[k] / (float)peak;
    wb_ui_draw_cmd bar = {WB_DRAW_RECT_FILLED, x0, 110.0f - h, x0 + 14.0f, 110.0f, 0x4a90e2ffu, 1.0f, NULL};
    cmds[ncmd++] = bar;
  }
  {
    wb_ui_draw_cmd axis = {WB_DRAW_LINE, 8.0f, 110.5f, 292.0f, 110.5f, 0xccccccffu, 1.0f, NULL};
    wb_ui_draw_cmd label = {WB_DRAW_TEXT, 10.0f, 2.0f, 0, 0, 0xccccccffu, 1.0f, "word lengths 1..15+"};
    cmds[ncmd++] = axis;
    cmds[ncmd++] = label;
  }
  self->ui->set_canvas(self->host, "main", "histogram", cmds, ncmd);
}

static void ui_build(const wb_plugin* plugin) {
  const instance* self = (const instance*)plugin->plugin_data;
  wb_ui_widget w[5];
  wb_ui_panel panel;
  memset(w, 0, sizeof w);
  w[0].kind = WB_UI_TEXT_AREA, w[0].id = "input", w[0].label = "Text", w[0].text = "";
  w[1].kind = WB_UI_SLIDER, w[1].id = "wpm", w[1].label = "Words per minute";
  w[1].min = 80, w[1].max = 400, w[1].value = DEFAULT_WPM, w[1].step = 1;
  w[2].kind = WB_UI_BUTTON, w[2].id = "count", w[2].label = "Count";
  w[3].kind = WB_UI_LABEL, w[3].id = "result", w[3].text = "";
  w[4].kind = WB_UI_CANVAS, w[4].id = "histogram", w[4].label = "Word lengths", w[4].width = 300, w[4].height = 120;
  w[4].value = WB_UI_CANVAS_HOST_VIEW; /* the host pans and zooms it (ABI 0.2; older hosts ignore it) */
  panel.id = "main";
  panel.title = "Text statistics";
  panel.widgets = w;
  panel.widget_count = 5;
  if (self->ui && self->ui->set_panel(self->host, &panel) != WB_OK)
    log_msg(self, WB_LOG_ERROR, self->host->last_error(self->host));
}

static void ui_event(const wb_plugin* plugin, const wb_ui_event* ev) {
  const instance* self = (const instance*)plugin->plugin_data;
  if (!ev || !ev->widget_id) return;
  if ((ev->kind == WB_UI_EVENT_PRESSED && strcmp(ev->widget_id, "count") == 0) ||
      (ev->kind == WB_UI_EVENT_CHANGED && (strcmp(ev->widget_id, "input") == 0 || strcmp(ev->widget_id, "wpm") == 0)))
    publish_results(self);
}

static const wb_plugin_ui ui_ext = {ui_build, ui_event, NULL};

/* ---- plugin ---------------------------------------------------------------------- */

static const char* const features[] = {"text", "statistics", "headless", "ui", NULL};
static const wb_plugin_descriptor descriptor = {
    WB_ABI_VERSION_INIT, PLUGIN_ID, "Text statistics", "RWKV Workbench", "1.0.0",
    "Counts words, sentences, paragraphs and reading time of a text", features};

static bool plugin_init(const wb_plugin* plugin) {
  instance* self = (instance*)plugin->plugin_data;
  self->log = (const wb_host_log*)self->host->get_extension(self->host, WB_EXT_LOG);
  self->presets = (const wb_host_presets*)self->host->get_extension(self->host, WB_EXT_PRESETS);
  self->ui = (const wb_host_ui*)self->host->get_extension(self->host, WB_EXT_UI);
  log_msg(self, WB_LOG_DEBUG, "text statistics ready");
  return true;
}

static void plugin_destroy(const wb_plugin* plugin) { free(plugin->plugin_data); }

static const void* plugin_get_extension(const wb_plugin* plugin, const char* id) {
  (void)plugin;
  if (!id) return NULL;
  if (strcmp(id, WB_EXT_HEADLESS) == 0) return &headless;
  if (strcmp(id, WB_EXT_UI) == 0) return &ui_ext;
  return NULL;
}

WB_SINGLE_PLUGIN(instance, descriptor, plugin_init, plugin_destroy, plugin_get_extension)
