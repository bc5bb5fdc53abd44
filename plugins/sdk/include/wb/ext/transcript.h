/* Host extension "wb.transcript/1" (ABI 0.2): writes a conversation as a
 * transcript file: plain text (.txt), Markdown (.md), or the line-per-message
 * JSONL of SillyTavern chat files (.jsonl), by the extension of the path.
 *
 *   wb_transcript_message m[2] = {
 *       {"Mira", WB_TRANSCRIPT_CHARACTER, "Come in!", 0, NULL, NULL, 0, 0},
 *       {"Ada", WB_TRANSCRIPT_USER, "Thanks.", 0, NULL, NULL, 0, 0}};
 *   wb_transcript t = {"The lighthouse", "Ada", "Mira", 0, m, 2};
 *   tr->write(host, &t, "scene.md");
 */
#ifndef WB_EXT_TRANSCRIPT_H
#define WB_EXT_TRANSCRIPT_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_TRANSCRIPT "wb.transcript/1"

typedef enum wb_transcript_role {
  WB_TRANSCRIPT_CHARACTER = 0,
  WB_TRANSCRIPT_USER = 1,
  WB_TRANSCRIPT_NARRATOR = 2
} wb_transcript_role;

/* Borrowed for the call. */
typedef struct wb_transcript_message {
  const char* speaker; /* may be NULL for the narrator */
  int32_t role;        /* wb_transcript_role */
  const char* text;    /* UTF-8, required */
  int64_t send_date_ms; /* Unix milliseconds; 0 unknown */
  const char* note;     /* "whispers to Bob", "aside"; may be NULL */
  /* Swipes: every sibling alternative including `text`, and which is shown. */
  const char* const* alternatives;
  uint32_t alternative_count;
  uint32_t chosen;
} wb_transcript_message;

typedef struct wb_transcript {
  const char* title;          /* may be NULL */
  const char* user_name;      /* required */
  const char* character_name; /* main character; may be NULL */
  int64_t create_date_ms;
  const wb_transcript_message* messages;
  uint32_t message_count; /* at most 1,000,000 */
} wb_transcript;

typedef struct wb_host_transcript {
  /* [main-thread] Writes `t` to `path` (.txt, .md or .jsonl) through a
   * temporary file renamed into place. WB_ERR_INVALID_ARGUMENT for another
   * extension, NULL fields that are required or text that is not UTF-8
   * (JSONL); WB_ERR_IO when the file cannot be written. */
  wb_status (*write)(const wb_host* host, const wb_transcript* t, const char* path);
} wb_host_transcript;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_TRANSCRIPT_H */
