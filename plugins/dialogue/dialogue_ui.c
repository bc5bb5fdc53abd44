/* The dialogue plugin's panel (wb.ui/1): cast editor (name, description,
 * personality, example lines, greeting; card import), the conversation as a
 * list (selecting a message continues from there: a fork), speaker pick,
 * post, generate, swipe between alternatives. Same actions as headless.
 * "Generate" feeds the speaker's lane at once and generates the line on a
 * host worker (ui_frame publishes it); "New alternative" still blocks for
 * one line. */
#include "dialogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PANEL "dialogue"

static const char* const kModeNames[] = {"manual", "round-robin", "mention", "model-chosen"};
static const char* const kVisNames[] = {"everyone", "whisper", "aside"};
static const char* const kTextFields[] = {"scene_title", "name", "description", "personality", "examples",
                                          "greeting", "card_path", "message", "whisper_to"};
#define N_TEXT_FIELDS (sizeof kTextFields / sizeof kTextFields[0])

static char* ui_text(const dlg_plugin* self, const char* widget) {
  size_t len = 0;
  char* buf;
  if (!self->panel_built) return dlg_strdup("");
  if (self->ui->get_text(self->host, PANEL, widget, NULL, 0, &len) != WB_ERR_BUFFER_TOO_SMALL) len = 0;
  buf = (char*)malloc(len + 1);
  if (!buf) return NULL;
  buf[0] = '\0';
  if (len > 0 && self->ui->get_text(self->host, PANEL, widget, buf, len + 1, &len) != WB_OK) buf[0] = '\0';
  return buf;
}

static double ui_number(const dlg_plugin* self, const char* widget, double fallback) {
  double v = fallback;
  if (!self->panel_built) return fallback;
  if (self->ui->get_number(self->host, PANEL, widget, &v) != WB_OK) v = fallback;
  return v;
}

static int current_scene(dlg_plugin* self, dlg_scene* sc) {
  wb_node_id id;
  memset(sc, 0, sizeof *sc);
  if (dlg_latest_scene(self, &id) != 0) return 1;
  return dlg_scene_load(self, id, sc) == 0 ? 0 : 1;
}

/* Panel texts and list items are limited to WB_MAX_TEXT_LENGTH by the host:
 * long field values are set after the panel with set_text (no such limit),
 * list items are cut at a character boundary. */
#define ITEM_BYTES 160
static const char* short_text(const char* s) { return s && strlen(s) < WB_MAX_TEXT_LENGTH ? s : ""; }

static void cut_item(char* s) {
  size_t n = strlen(s);
  if (n <= ITEM_BYTES) return;
  n = ITEM_BYTES;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) --n;
  memcpy(s + n, "...", 4);
}

/* Publishes the panel from the scene, keeping what the user typed. */
static void refresh(dlg_plugin* self, const char* status_text) {
  wb_ui_widget w[32];
  wb_ui_panel panel;
  char* kept[N_TEXT_FIELDS];
  char** cast_items = NULL;
  char** msg_items = NULL;
  char** speaker_items = NULL;
  dlg_message* path = NULL;
  size_t n_msg = 0, i, nw = 0;
  double sel_cast = ui_number(self, "cast", -1), vis = ui_number(self, "visibility", 0);
  double speaker_sel = ui_number(self, "speaker", 0);
  dlg_scene sc;
  char info[512];
  int have = current_scene(self, &sc) == 0;
  for (i = 0; i < N_TEXT_FIELDS; ++i) kept[i] = ui_text(self, kTextFields[i]);
  if (have) {
    cast_items = (char**)calloc(sc.n_cast + 1, sizeof(char*));
    speaker_items = (char**)calloc(sc.n_cast + 3, sizeof(char*));
    if (cast_items && speaker_items) {
      speaker_items[0] = dlg_strdup("(by turn mode)");
      for (i = 0; i < sc.n_cast; ++i) {
        cast_items[i] = sc.cast[i].f[DLG_F_NAME];
        speaker_items[i + 1] = sc.cast[i].f[DLG_F_NAME];
      }
      speaker_items[sc.n_cast + 1] = sc.narrator;
    }
    if (dlg_path(self, &sc, sc.head, &path, &n_msg) == 0) {
      msg_items = (char**)calloc(n_msg + 1, sizeof(char*));
      for (i = 0; msg_items && i < n_msg; ++i) {
        dlg_strbuf b = {NULL, 0, 0};
        char* body = dlg_body(&path[i]);
        dlg_sb_str(&b, path[i].speaker);
        dlg_sb_str(&b, path[i].vis == DLG_VIS_ALL ? ": " : path[i].vis == DLG_VIS_ASIDE ? " (aside): " : " (whisper): ");
        dlg_sb_str(&b, body);
        free(body);
        msg_items[i] = b.data ? b.data : dlg_strdup("");
        if (msg_items[i] && b.cap > ITEM_BYTES + 4) cut_item(msg_items[i]);
      }
    }
    snprintf(info, sizeof info, "Scene %llu: %.200s - %zu characters, %zu messages, lanes %s", (unsigned long long)sc.node,
             sc.title, sc.n_cast, n_msg, sc.lanes ? "on" : "off");
  } else {
    snprintf(info, sizeof info, "No scene yet: give it a title and press New scene.");
  }
  memset(w, 0, sizeof w);
#define W(kind_, id_, label_, text_) (w[nw].kind = (kind_), w[nw].id = (id_), w[nw].label = (label_), w[nw].text = (text_), &w[nw++])
  W(WB_UI_LABEL, "scene", NULL, info);
  W(WB_UI_TEXT_FIELD, "scene_title", "Scene title", short_text(kept[0]));
  W(WB_UI_BUTTON, "new_scene", "New scene", NULL);
  {
    wb_ui_widget* m = W(WB_UI_LIST, "mode", "Turn order", NULL);
    m->items = kModeNames, m->item_count = 4, m->value = have ? sc.mode : 1;
  }
  {
    wb_ui_widget* l = W(WB_UI_CHECKBOX, "lanes", "Per-character memory lanes", NULL);
    l->value = have && sc.lanes;
  }
  {
    wb_ui_widget* c = W(WB_UI_LIST, "cast", "Cast", NULL);
    c->items = (const char* const*)cast_items, c->item_count = have && cast_items ? (uint32_t)sc.n_cast : 0;
    c->value = sel_cast < (double)c->item_count ? sel_cast : -1;
  }
  W(WB_UI_TEXT_FIELD, "name", "Name", short_text(kept[1]));
  W(WB_UI_TEXT_AREA, "description", "Description", short_text(kept[2]));
  W(WB_UI_TEXT_AREA, "personality", "Personality", short_text(kept[3]));
  W(WB_UI_TEXT_AREA, "examples", "Example lines", short_text(kept[4]));
  W(WB_UI_TEXT_AREA, "greeting", "Greeting", short_text(kept[5]));
  W(WB_UI_BUTTON, "save_character", "Add / update character", NULL);
  W(WB_UI_BUTTON, "greet", "Post greeting", NULL);
  W(WB_UI_TEXT_FIELD, "card_path", "Character card (PNG or JSON)", short_text(kept[6]));
  W(WB_UI_BUTTON, "import_card", "Import card", NULL);
  {
    wb_ui_widget* m = W(WB_UI_LIST, "messages", "Conversation (select a message to continue from it)", NULL);
    m->items = (const char* const*)msg_items, m->item_count = msg_items ? (uint32_t)n_msg : 0;
    m->value = n_msg > 0 ? (double)n_msg - 1 : -1;
  }
  {
    wb_ui_widget* s = W(WB_UI_LIST, "speaker", "Next speaker", NULL);
    s->items = (const char* const*)speaker_items, s->item_count = have && speaker_items ? (uint32_t)sc.n_cast + 2 : 0;
    s->value = speaker_sel < (double)s->item_count ? speaker_sel : 0;
  }
  W(WB_UI_TEXT_AREA, "message", "Your message", short_text(kept[7]));
  {
    wb_ui_widget* v = W(WB_UI_LIST, "visibility", "Heard by", NULL);
    v->items = kVisNames, v->item_count = 3, v->value = vis;
  }
  W(WB_UI_TEXT_FIELD, "whisper_to", "Whisper to (names, comma-separated)", short_text(kept[8]));
  W(WB_UI_BUTTON, "post", "Post", NULL);
  W(WB_UI_BUTTON, "generate", "Generate next turn", NULL);
  W(WB_UI_BUTTON, "swipe_prev", "< Alternative", NULL);
  W(WB_UI_BUTTON, "swipe_next", "Alternative >", NULL);
  W(WB_UI_BUTTON, "swipe_new", "New alternative", NULL);
  W(WB_UI_LABEL, "status", NULL, status_text ? status_text : "");
#undef W
  panel.id = PANEL;
  panel.title = "Dialogue";
  panel.widgets = w;
  panel.widget_count = (uint32_t)nw;
  self->panel_built = self->ui->set_panel(self->host, &panel) == WB_OK;
  for (i = 0; self->panel_built && i < N_TEXT_FIELDS; ++i)
    if (kept[i] && strlen(kept[i]) >= WB_MAX_TEXT_LENGTH) self->ui->set_text(self->host, PANEL, kTextFields[i], kept[i]);
  for (i = 0; i < N_TEXT_FIELDS; ++i) free(kept[i]);
  if (msg_items)
    for (i = 0; i < n_msg; ++i) free(msg_items[i]);
  free(msg_items);
  free(cast_items);
  if (speaker_items) free(speaker_items[0]);
  free(speaker_items);
  dlg_messages_free(path, n_msg);
  if (have) dlg_scene_free(&sc);
}

static void ui_build(const wb_plugin* plugin) {
  dlg_plugin* self = (dlg_plugin*)plugin->plugin_data;
  if (self->ui) refresh(self, "");
}

static void on_changed(dlg_plugin* self, dlg_scene* sc, const wb_ui_event* ev) {
  const char* id = ev->widget_id;
  if (strcmp(id, "cast") == 0) {
    long i = (long)ev->value;
    static const char* const fields[DLG_F_COUNT] = {"name", "description", "personality", "examples", "greeting"};
    size_t k;
    if (i < 0 || (size_t)i >= sc->n_cast) return;
    for (k = 0; k < DLG_F_COUNT; ++k) self->ui->set_text(self->host, PANEL, fields[k], sc->cast[i].f[k]);
  } else if (strcmp(id, "mode") == 0 && ev->value >= 0 && ev->value < 4) {
    sc->mode = (int)ev->value;
    dlg_scene_save(self, sc);
  } else if (strcmp(id, "lanes") == 0) {
    sc->lanes = ev->value != 0;
    dlg_scene_save(self, sc);
    refresh(self, sc->lanes ? "lanes on" : "lanes off");
  } else if (strcmp(id, "messages") == 0) {
    dlg_message* path = NULL;
    size_t n = 0;
    long i = (long)ev->value;
    if (dlg_path(self, sc, sc->head, &path, &n) == 0 && i >= 0 && (size_t)i < n) {
      sc->head = path[i].id;
      dlg_scene_save(self, sc);
      refresh(self, "continuing from the selected message (a new branch when you post or generate)");
    }
    dlg_messages_free(path, n);
  }
}

static void swipe_step(dlg_plugin* self, dlg_scene* sc, int dir) {
  wb_node_id* sib = NULL;
  size_t n = 0, i;
  if (sc->head == sc->node || dlg_siblings(self, sc->head, &sib, &n) != 0 || n < 2) {
    free(sib);
    refresh(self, "this message has no alternatives");
    return;
  }
  for (i = 0; i < n && sib[i] != sc->head; ++i) {
  }
  sc->head = sib[(i + n + (size_t)(dir < 0 ? n - 1 : 1)) % n];
  free(sib);
  dlg_scene_save(self, sc);
  refresh(self, "");
}

static void ui_event(const wb_plugin* plugin, const wb_ui_event* ev) {
  dlg_plugin* self = (dlg_plugin*)plugin->plugin_data;
  dlg_scene sc;
  char err[1024];
  const char* id;
  if (!ev || !ev->widget_id || !self->ui) return;
  id = ev->widget_id;
  err[0] = '\0';
  if (ev->kind == WB_UI_EVENT_PRESSED && strcmp(id, "new_scene") == 0) {
    char* title = ui_text(self, "scene_title");
    wb_node_id node;
    if (dlg_new_scene(self, title && *title ? title : "Untitled", "", "User", 0, DLG_MODE_ROUND, &node, err, sizeof err) == 0)
      snprintf(err, sizeof err, "scene %llu started", (unsigned long long)node);
    free(title);
    refresh(self, err);
    return;
  }
  if (current_scene(self, &sc) != 0) {
    refresh(self, "no scene: press New scene first");
    return;
  }
  if (ev->kind == WB_UI_EVENT_CHANGED) {
    on_changed(self, &sc, ev);
  } else if (ev->kind == WB_UI_EVENT_PRESSED) {
    if (strcmp(id, "save_character") == 0) {
      static const char* const fields[DLG_F_COUNT] = {"name", "description", "personality", "examples", "greeting"};
      char* f[DLG_F_COUNT];
      size_t k;
      for (k = 0; k < DLG_F_COUNT; ++k) f[k] = ui_text(self, fields[k]);
      if (!f[0] || !f[0][0] || strchr(f[0], ':') || strchr(f[0], '\n')) snprintf(err, sizeof err, "a character needs a name without ':'");
      else if (dlg_add_character(&sc, (const char* const*)f) && dlg_scene_save(self, &sc) == 0)
        snprintf(err, sizeof err, "saved %s", f[0]);
      for (k = 0; k < DLG_F_COUNT; ++k) free(f[k]);
      refresh(self, err);
    } else if (strcmp(id, "import_card") == 0) {
      char* path = ui_text(self, "card_path");
      char* f[DLG_F_COUNT];
      size_t k;
      char* json = NULL;
      if (path && dlg_card_fields(self, path, f, &json, err, sizeof err) == 0) {
        if (dlg_add_character(&sc, (const char* const*)f)) {
          dlg_character* c = (dlg_character*)dlg_find_character(&sc, f[0]);
          if (c && json) free(c->card), c->card = json, json = NULL;
          if (dlg_scene_save(self, &sc) == 0) snprintf(err, sizeof err, "imported %s", f[0]);
        }
        for (k = 0; k < DLG_F_COUNT; ++k) free(f[k]);
      }
      free(json);
      free(path);
      refresh(self, err);
    } else if (strcmp(id, "greet") == 0 || strcmp(id, "post") == 0) {
      wb_node_id node;
      if (strcmp(id, "greet") == 0) {
        char* name = ui_text(self, "name");
        const dlg_character* c = name ? dlg_find_character(&sc, name) : NULL;
        if (!c || !c->f[DLG_F_GREETING][0]) snprintf(err, sizeof err, "select a character with a greeting");
        else if (dlg_post(self, &sc, c->f[DLG_F_NAME], c->f[DLG_F_GREETING], DLG_VIS_ALL, NULL, 0, &node, err, sizeof err) == 0)
          err[0] = '\0';
        free(name);
      } else {
        char* text = ui_text(self, "message");
        char* to_text = ui_text(self, "whisper_to");
        char* to[32];
        size_t n_to = 0, k;
        int vis = (int)ui_number(self, "visibility", 0);
        const char* s = to_text;
        while (vis == DLG_VIS_WHISPER && s && *s && n_to < 32) {
          const char* c = strchr(s, ',');
          size_t len = c ? (size_t)(c - s) : strlen(s);
          while (len > 0 && *s == ' ') ++s, --len;
          while (len > 0 && s[len - 1] == ' ') --len;
          if (len > 0) to[n_to++] = dlg_strndup(s, len);
          s = c ? c + 1 : NULL;
        }
        if (!text || !text[0]) snprintf(err, sizeof err, "write a message first");
        else if (dlg_post(self, &sc, NULL, text, vis, to, n_to, &node, err, sizeof err) == 0) {
          self->ui->set_text(self->host, PANEL, "message", "");
          err[0] = '\0';
        }
        for (k = 0; k < n_to; ++k) free(to[k]);
        free(text);
        free(to_text);
      }
      refresh(self, err);
    } else if (strcmp(id, "generate") == 0 || strcmp(id, "swipe_new") == 0) {
      dlg_gen_opts o;
      wb_node_id out[DLG_MAX_ALTERNATIVES];
      size_t n = 0;
      dlg_gen_opts_init(&o);
      self->fed_tokens = self->history_tokens = 0;
      if (self->session) {
        snprintf(err, sizeof err, "%s is still speaking", self->turn.speaker ? self->turn.speaker : "someone");
      } else if (strcmp(id, "generate") == 0) {
        /* The lane is fed now (quick); the line is generated on a host worker
         * and published by ui_frame when it is done. */
        long pick = (long)ui_number(self, "speaker", 0);
        const char* forced = pick >= 1 && (size_t)pick <= sc.n_cast ? sc.cast[pick - 1].f[DLG_F_NAME]
                             : (size_t)pick == sc.n_cast + 1 ? sc.narrator : NULL;
        char* speaker = NULL;
        wb_sampler_settings s;
        if (dlg_pick_speaker(self, &sc, forced, &speaker, NULL, NULL, err, sizeof err) == 0 &&
            dlg_turn_prepare(self, &sc, speaker, &self->turn, err, sizeof err) == 0) {
          dlg_sampler_settings(&o, self->turn.seed, &s);
          if (self->gen->start(self->host, self->turn.prompt, &s, &self->session) != WB_OK) {
            snprintf(err, sizeof err, "generating: %s", self->host->last_error(self->host));
            self->session = 0;
            dlg_turn_free(&self->turn);
          } else {
            snprintf(err, sizeof err, "%s is speaking...", speaker);
          }
          dlg_scene_save(self, &sc); /* the round-robin position moved */
        }
        free(speaker);
      } else if (dlg_swipe(self, &sc, sc.head, &o, out, &n, err, sizeof err) == 0) {
        snprintf(err, sizeof err, "new alternative");
      }
      refresh(self, err);
    } else if (strcmp(id, "swipe_prev") == 0 || strcmp(id, "swipe_next") == 0) {
      swipe_step(self, &sc, strcmp(id, "swipe_prev") == 0 ? -1 : 1);
    }
  }
  dlg_scene_free(&sc);
}

/* Publishes the panel's turn once its worker is done (never blocks). */
static void ui_frame(const wb_plugin* plugin) {
  dlg_plugin* self = (dlg_plugin*)plugin->plugin_data;
  bool finished = false;
  wb_node_id kids[DLG_MAX_ALTERNATIVES], out[DLG_MAX_ALTERNATIVES];
  size_t k = 0, n = 0;
  char err[1024];
  dlg_scene sc;
  if (!self->session || !self->ui) return;
  if (self->gen->poll(self->host, self->session, NULL, NULL, &finished) != WB_OK) finished = true;
  if (!finished) return;
  err[0] = '\0';
  if (self->gen->finish(self->host, self->session, kids, DLG_MAX_ALTERNATIVES, &k) != WB_OK) {
    snprintf(err, sizeof err, "generating: %s", self->host->last_error(self->host));
    k = 0;
  }
  self->session = 0;
  if (k > DLG_MAX_ALTERNATIVES) k = DLG_MAX_ALTERNATIVES;
  if (k > 0 && dlg_scene_load(self, self->turn.scene, &sc) == 0) {
    if (dlg_turn_publish(self, &sc, &self->turn, kids, k, out, &n, err, sizeof err) == 0)
      snprintf(err, sizeof err, "%s spoke; the model read %zu new tokens (re-reading would be %zu)", self->turn.speaker,
               self->fed_tokens, self->history_tokens);
    dlg_scene_free(&sc);
  }
  dlg_turn_free(&self->turn);
  refresh(self, err);
}

const wb_plugin_ui dlg_ui = {ui_build, ui_event, ui_frame};
