/* Host extension "wb.tokenizer/1": the tokenizer of the project's model.
 * Calls return WB_ERR_UNSUPPORTED until a project is open (wb.tree/1).
 *
 *   const wb_host_tokenizer* t = (const wb_host_tokenizer*)host->get_extension(host, WB_EXT_TOKENIZER);
 *   uint32_t ids[256]; size_t n = 0;
 *   if (t && t->tokenize(host, "Once upon", 9, ids, 256, &n) == WB_OK) ...
 */
#ifndef WB_EXT_TOKENIZER_H
#define WB_EXT_TOKENIZER_H

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_TOKENIZER "wb.tokenizer/1"

typedef struct wb_host_tokenizer {
  /* [any-thread] Number of token ids (valid ids are 0 .. n_vocab-1). */
  uint32_t (*vocab_size)(const wb_host* host);

  /* [any-thread] Encodes `len` bytes of UTF-8 `text` (borrowed) into the
   * caller's array; sets *out_count to the full count; WB_ERR_BUFFER_TOO_SMALL
   * when it exceeds `capacity` (nothing useful is written then). */
  wb_status (*tokenize)(const wb_host* host, const char* text, size_t len, uint32_t* tokens,
                        size_t capacity, size_t* out_count);

  /* [any-thread] Decodes tokens into the caller's buffer (bytes, no NUL
   * added), same size protocol as tokenize. WB_ERR_INVALID_ARGUMENT for an id
   * outside the vocabulary. */
  wb_status (*detokenize)(const wb_host* host, const uint32_t* tokens, size_t count, char* buf,
                          size_t capacity, size_t* out_len);
} wb_host_tokenizer;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_TOKENIZER_H */
