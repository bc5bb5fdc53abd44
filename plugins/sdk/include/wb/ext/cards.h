/* Host extension "wb.cards/1" (ABI 0.2): character cards, the community
 * "Character Card" format (V1, V2, V3; JSON files, or PNG images carrying the
 * card as base64 JSON in a `chara` or `ccv3` text chunk). The host parses
 * and writes them, so a plugin needs neither a PNG nor a JSON library.
 *
 *   const wb_host_cards* c = (const wb_host_cards*)host->get_extension(host, WB_EXT_CARDS);
 *   char json[65536]; size_t len = 0;
 *   if (c->load_json(host, "alice.png", json, sizeof json, &len) != WB_OK)
 *     puts(host->last_error(host));              // "alice.png: chunk 'ccv3' is not base64 ..."
 *   char name[256]; size_t n = 0;
 *   c->field(host, json, len, "name", name, sizeof name, &n);
 *   c->save(host, json, len, "alice-copy.json");  // PNG or JSON by extension
 *
 * Text results use the wb.tree/1 protocol: a NUL-terminated string, *out_len
 * its length without the NUL, WB_ERR_BUFFER_TOO_SMALL when capacity <
 * *out_len + 1 (call again with a bigger buffer). A broken card (bad CRC,
 * truncated PNG, a chunk that is not base64 or not JSON, wrong-typed or huge
 * fields, a PNG without a card) is WB_ERR_INVALID_ARGUMENT or WB_ERR_IO with
 * last_error naming the file and the fault; nothing is returned half-way.
 */
#ifndef WB_EXT_CARDS_H
#define WB_EXT_CARDS_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_CARDS "wb.cards/1"

typedef struct wb_host_cards {
  /* [main-thread] Reads a card file (PNG or JSON, sniffed by content) and
   * returns it as normalised V3 JSON: every field present, unknown fields and
   * extensions kept. `path` borrowed for the call. */
  wb_status (*load_json)(const wb_host* host, const char* path, char* buf, size_t capacity, size_t* out_len);

  /* [main-thread] One string field of a card given as JSON text (any spec,
   * `len` bytes, borrowed): "name", "display_name" (nickname or name),
   * "description", "personality", "scenario", "first_mes", "mes_example",
   * "creator_notes", "system_prompt", "post_history_instructions",
   * "creator", "character_version", "nickname". An absent field is "".
   * WB_ERR_NOT_FOUND for another key. */
  wb_status (*field)(const wb_host* host, const char* json, size_t len, const char* key, char* buf,
                     size_t capacity, size_t* out_len);

  /* [main-thread] The card with string field `key` (as for field, except
   * "display_name") set to `value`, as normalised V3 JSON (unknown fields
   * kept). All inputs borrowed. */
  wb_status (*set_field)(const wb_host* host, const char* json, size_t len, const char* key, const char* value,
                         char* buf, size_t capacity, size_t* out_len);

  /* [main-thread] Writes card JSON (any spec) as a card file: a PNG with a
   * `chara` and a `ccv3` chunk, or a JSON file, by the extension of `path`
   * (.png/.json). Written through a temporary file renamed into place, so a
   * failure leaves nothing half-written. */
  wb_status (*save)(const wb_host* host, const char* json, size_t len, const char* path);
} wb_host_cards;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_CARDS_H */
