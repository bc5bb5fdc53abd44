/* Host extension "wb.generate/1": continue a node of the story tree with the
 * project's model. N alternatives decode as one batch; each becomes a child
 * node (origin: the calling plugin) with per-token alternatives stored.
 *
 *   wb_sampler_settings s = WB_SAMPLER_SETTINGS_INIT;
 *   s.preset = "creative.txt";          // presets/sampling/, then overrides:
 *   s.set = WB_SAMPLER_MAX_TOKENS | WB_SAMPLER_SEED; s.max_tokens = 200; s.seed = 7;
 *   s.alternatives = 3;
 *   wb_node_id kids[3]; size_t n = 0;
 *   g->generate(host, node, &s, on_event, user, kids, 3, &n);
 *
 * Depends on "wb.tree/1" having an open project with a model.
 */
#ifndef WB_EXT_GENERATE_H
#define WB_EXT_GENERATE_H

#include "../plugin.h"
#include "tree.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_GENERATE "wb.generate/1"

/* Bits of wb_sampler_settings.set: which fields override the preset. */
enum {
  WB_SAMPLER_TEMPERATURE = 1u << 0,
  WB_SAMPLER_TOP_P = 1u << 1,
  WB_SAMPLER_TOP_K = 1u << 2,
  WB_SAMPLER_MIN_P = 1u << 3,
  WB_SAMPLER_PRESENCE = 1u << 4,
  WB_SAMPLER_FREQUENCY = 1u << 5,
  WB_SAMPLER_REPETITION = 1u << 6,
  WB_SAMPLER_MAX_TOKENS = 1u << 7,
  WB_SAMPLER_SEED = 1u << 8
};

/* wb_sampler_settings.mode (ABI 0.2). */
enum {
  WB_SAMPLER_MODE_TEXT = 0,
  /* The RWKV music demo's behaviour for a 20096-token music model: decaying
   * repetition penalty, a nudge towards ending the piece after ~2000 tokens,
   * a small bias against the longest wait, instrument selection by masking
   * the note tokens of bins not in instrument_bins; a sampled <pad> ends the
   * alternative (not stored). Without a preset the sampler starts from the
   * demo's values (temperature 1, top-k 8, top-p 0.8, no presence/frequency
   * penalty); the WB_SAMPLER_* overrides still apply. */
  WB_SAMPLER_MODE_MUSIC = 1
};

/* One logit bias (ABI 0.2): added to token's logit before sampling. */
typedef struct wb_logit_bias {
  int32_t token;
  float bias;
} wb_logit_bias;

/* Borrowed for the call. Fields after stop_count arrived in ABI 0.2: the
 * host reads them only when struct_size covers them, so plugins built for
 * 0.1 (struct_size == WB_SAMPLER_SETTINGS_SIZE_0_1) keep working. */
typedef struct wb_sampler_settings {
  uint32_t struct_size; /* sizeof(wb_sampler_settings): lets the struct grow */
  const char* preset;   /* file name in presets/sampling/ (NULL: the defaults) */
  uint32_t set;         /* WB_SAMPLER_* bits */
  float temperature, top_p;
  int32_t top_k;
  float min_p, presence_penalty, frequency_penalty, repetition_penalty;
  int32_t max_tokens; /* tokens per alternative */
  uint64_t seed;      /* alternative i uses seed + i */
  uint32_t alternatives; /* 1..64; 0 means 1 */
  const char* const* stop; /* stop strings (end a continuation once its text ends with one) */
  uint32_t stop_count;
  /* ---- ABI 0.2 ---- */
  const wb_logit_bias* logit_bias; /* added to the preset's biases; tokens must be < vocab size */
  uint32_t logit_bias_count;       /* at most 65536 */
  const int32_t* banned_tokens;    /* never sampled */
  uint32_t banned_count;           /* at most 65536 */
  uint32_t mode;                   /* WB_SAMPLER_MODE_* */
  /* MUSIC: the instrument bins (wb.midi/1 bin ids) whose notes may be
   * generated; NULL / 0 allows every bin. */
  const int32_t* instrument_bins;
  uint32_t instrument_bin_count;
  /* MUSIC: an alternative ends once its wait tokens add up to this many
   * seconds (0: no limit; max_tokens still bounds it). */
  double max_seconds;
} wb_sampler_settings;

/* struct_size of a plugin built against ABI 0.1 (fields up to stop_count). */
#define WB_SAMPLER_SETTINGS_SIZE_0_1 offsetof(wb_sampler_settings, logit_bias)

#define WB_SAMPLER_SETTINGS_INIT \
  {sizeof(wb_sampler_settings), NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, 0}

typedef enum wb_generate_event_kind {
  WB_GENERATE_TOKEN = 0, /* one token of alternative `alt` */
  WB_GENERATE_NODE = 1   /* alternative `alt` was accepted as node `node` */
} wb_generate_event_kind;

/* Owned by the host, valid during the callback only. */
typedef struct wb_generate_event {
  int32_t kind;
  uint32_t alt;
  int32_t token;
  const char* piece; /* the token's bytes (not NUL-terminated) */
  size_t piece_len;
  const wb_token_prob* top; /* the model's most likely tokens at this step */
  uint32_t top_count;
  double tokens_per_s;
  wb_node_id node;
} wb_generate_event;

/* Return false to cancel (between tokens; what was generated is kept). */
typedef bool (*wb_generate_event_fn)(void* user, const wb_generate_event* event);

/* A generation running on a host worker thread; 0 is "none". */
typedef uint64_t wb_session_id;

typedef struct wb_host_generate {
  /* [main-thread] Generates continuations of `from`, streaming events to
   * `fn` (may be NULL) on the calling thread, and blocks until done or
   * cancelled. Writes up to `capacity` new node ids to `out_nodes` (may be
   * NULL when capacity is 0); *out_count is the number of new nodes. */
  wb_status (*generate)(const wb_host* host, wb_node_id from, const wb_sampler_settings* settings,
                        wb_generate_event_fn fn, void* user, wb_node_id* out_nodes, size_t capacity,
                        size_t* out_count);

  /* The same without blocking (for a GUI): start returns at once; the
   * generation runs on a host worker. Sessions belong to the plugin that
   * started them and are cancelled when it unloads.
   * [main-thread] */
  wb_status (*start)(const wb_host* host, wb_node_id from, const wb_sampler_settings* settings,
                     wb_session_id* out_session);
  /* [main-thread] Delivers the events so far to `fn` on the calling thread
   * (returning false cancels) and sets *out_finished once the worker is done
   * and every event was delivered. Never blocks. */
  wb_status (*poll)(const wb_host* host, wb_session_id session, wb_generate_event_fn fn, void* user,
                    bool* out_finished);
  /* [main-thread] Asks the worker to stop after the current token (what
   * was generated is kept; finish still returns the nodes). */
  wb_status (*cancel)(const wb_host* host, wb_session_id session);
  /* [main-thread] Waits for the worker, returns the new nodes like generate
   * and forgets the session (its id is invalid afterwards). */
  wb_status (*finish)(const wb_host* host, wb_session_id session, wb_node_id* out_nodes, size_t capacity,
                      size_t* out_count);
} wb_host_generate;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_GENERATE_H */
