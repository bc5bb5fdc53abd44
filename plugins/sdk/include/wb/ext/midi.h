/* Host extension "wb.midi/1" (ABI 0.2): MIDI helpers for composing with the
 * RWKV music models. A MIDI story's text is its music tokens, each word
 * followed by one space ("<start> t12 pi:3c:7 "), the form in which the story
 * tree's text and tokens round-trip exactly; these calls convert between that
 * text, MIDI files, note spans for a piano roll, audio and the vocabulary.
 *
 *   const wb_host_midi* m = (const wb_host_midi*)host->get_extension(host, WB_EXT_MIDI);
 *   char* text; size_t len = 0;
 *   m->file_to_text(host, "in.mid", NULL, 0, &len);          // WB_ERR_BUFFER_TOO_SMALL, len set
 *   text = malloc(len + 1);
 *   m->file_to_text(host, "in.mid", text, len + 1, &len);    // "<start> t12 ... "
 *   tree->append(host, root, text, len, &node);
 *   m->text_to_file(host, text, len, "out.mid");
 *   wb_midi_note notes[4096]; size_t n = 0;
 *   m->text_notes(host, text, len, notes, 4096, &n);         // for the piano roll
 *   if (m->play(host, text, len) != WB_OK) puts(host->last_error(host));  // "no audio device ..."
 *
 * Text results use the wb.tree/1 protocol: a NUL-terminated string, *out_len
 * its length without the NUL, WB_ERR_BUFFER_TOO_SMALL (with *out_len set)
 * when capacity < *out_len + 1. Token text given to these calls may use any
 * whitespace and case; an unknown word is WB_ERR_INVALID_ARGUMENT naming the
 * word and its position (see last_error). Paths and texts are borrowed for
 * the call. Nothing here needs an open project.
 */
#ifndef WB_EXT_MIDI_H
#define WB_EXT_MIDI_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_MIDI "wb.midi/1"

/* What a token stands for. */
typedef enum wb_midi_token_kind {
  WB_MIDI_TOKEN_PAD = 0,   /* <pad>: the models' end of a piece while generating */
  WB_MIDI_TOKEN_START = 1, /* <start> */
  WB_MIDI_TOKEN_END = 2,   /* <end> */
  WB_MIDI_TOKEN_WAIT = 3,  /* t1..t125: wait_steps x 8 ms */
  WB_MIDI_TOKEN_NOTE = 4,  /* bin:pitch:velocity-bin; velocity bin 0 is a note-off */
  WB_MIDI_TOKEN_OTHER = 5
} wb_midi_token_kind;

typedef struct wb_midi_token_info {
  int32_t kind;         /* wb_midi_token_kind */
  int32_t wait_steps;   /* WAIT: 1..125 */
  int32_t bin;          /* NOTE: instrument bin, 0..bin_count-1 (else -1) */
  int32_t pitch;        /* NOTE: 0..127 */
  int32_t velocity_bin; /* NOTE: 0 (off) .. 11 */
} wb_midi_token_info;

/* One note as heard, for a piano roll. */
typedef struct wb_midi_note {
  double on_s, off_s; /* seconds from the start of the text */
  int32_t pitch;      /* 0..127 */
  int32_t velocity;   /* 1..127 */
  int32_t bin;        /* instrument bin (wb_host_midi.bin_name) */
} wb_midi_note;

typedef struct wb_host_midi {
  /* [any-thread] Reads a Standard MIDI File and writes its token text
   * ("<start> ... ", no <end>, so a continuation reads on). A broken file
   * is WB_ERR_IO with a message naming the file and the fault. */
  wb_status (*file_to_text)(const wb_host* host, const char* midi_path, char* buf, size_t capacity,
                            size_t* out_len);

  /* [any-thread] Writes token text as a format-0 .mid file (written
   * atomically: a failure leaves no partial file). */
  wb_status (*text_to_file)(const wb_host* host, const char* text, size_t len, const char* midi_path);

  /* [any-thread] The canonical form of token text (lower case, each word
   * followed by one space): what to store in the tree. */
  wb_status (*normalize_text)(const wb_host* host, const char* text, size_t len, char* buf, size_t capacity,
                              size_t* out_len);

  /* [any-thread] The notes of token text, ordered by onset. Copies up to
   * `capacity` (out may be NULL when capacity is 0); *out_count is the full
   * number (WB_ERR_BUFFER_TOO_SMALL when it is larger than capacity). */
  wb_status (*text_notes)(const wb_host* host, const char* text, size_t len, wb_midi_note* out, size_t capacity,
                          size_t* out_count);

  /* [any-thread] Seconds the token text lasts (its waits). */
  wb_status (*text_seconds)(const wb_host* host, const char* text, size_t len, double* out_seconds);

  /* [any-thread] The vocabulary: 20096 ids; id <-> word; what an id means. */
  uint32_t (*vocab_size)(const wb_host* host);
  wb_status (*token_word)(const wb_host* host, uint32_t id, char* buf, size_t capacity, size_t* out_len);
  wb_status (*token_id)(const wb_host* host, const char* word, uint32_t* out_id);
  wb_status (*token_info)(const wb_host* host, uint32_t id, wb_midi_token_info* out);

  /* [any-thread] Instrument bins (13 in the standard scheme: "piano",
   * "drum", ...): how many, and each one's name. */
  uint32_t (*bin_count)(const wb_host* host);
  wb_status (*bin_name)(const wb_host* host, uint32_t bin, char* buf, size_t capacity, size_t* out_len);

  /* [main-thread] Renders token text to a 16-bit stereo WAV with FluidSynth
   * and the General MIDI soundfont; blocks until written. */
  wb_status (*render_wav)(const wb_host* host, const char* text, size_t len, const char* wav_path,
                          double* out_seconds);

  /* [main-thread] Plays token text through FluidSynth on the audio device,
   * replacing what is playing; returns at once. WB_ERR_UNSUPPORTED with a
   * clear message when there is no audio device (a server, CI) or no
   * soundfont. Playback belongs to the calling plugin and stops when it
   * unloads. */
  wb_status (*play)(const wb_host* host, const char* text, size_t len);
  /* [main-thread] Stops playback (WB_OK also when nothing plays). */
  wb_status (*stop)(const wb_host* host);
  /* [main-thread] The playhead in seconds and whether it still plays. */
  wb_status (*position)(const wb_host* host, double* out_seconds, bool* out_playing);

  /* [any-thread] The shipped default music model's path (the "midi" kind of
   * default model), WB_ERR_NOT_FOUND when none is installed. */
  wb_status (*default_model)(const wb_host* host, char* buf, size_t capacity, size_t* out_len);
} wb_host_midi;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_MIDI_H */
