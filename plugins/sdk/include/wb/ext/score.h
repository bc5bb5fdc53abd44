/* Host extension "wb.score/1" (ABI 0.2): how likely the model finds several
 * continuations of a node, all decoded as one batch. For choosing among
 * candidates (the next speaker of a dialogue, a label, a rhyme) without
 * generating.
 *
 *   const wb_host_score* s = (const wb_host_score*)host->get_extension(host, WB_EXT_SCORE);
 *   const char* texts[] = {"Alice:", "Bob:", "Carol:"};
 *   size_t lens[] = {6, 4, 6};
 *   double lp[3]; uint32_t toks[3];
 *   if (s->score(host, node, texts, lens, 3, lp, toks) == WB_OK) ...  // lp[i] = log P(text i | node)
 *
 * Depends on "wb.tree/1" having an open project with a model.
 */
#ifndef WB_EXT_SCORE_H
#define WB_EXT_SCORE_H

#include "../plugin.h"
#include "tree.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_EXT_SCORE "wb.score/1"

#define WB_SCORE_MAX_CANDIDATES 256
#define WB_SCORE_MAX_TOKENS 1024 /* per continuation */

typedef struct wb_host_score {
  /* [main-thread] For each of `count` texts (texts[i] has lens[i] bytes; all
   * borrowed for the call), the natural-log likelihood of its tokens read
   * right after node `from` (the state and logits the tree keeps there), into
   * out_logprob[i]; out_tokens[i] (out_tokens may be NULL) gets its token
   * count. Step t of the decode feeds token t of every text that is still
   * going, as one batch, so scoring N candidates costs about as much as the
   * longest one. A text with no tokens scores 0. Blocks.
   * WB_ERR_INVALID_ARGUMENT for count 0 or above WB_SCORE_MAX_CANDIDATES, a
   * text over WB_SCORE_MAX_TOKENS tokens, or NULL arrays;
   * WB_ERR_NOT_FOUND for an unknown node; WB_ERR_UNSUPPORTED without a model. */
  wb_status (*score)(const wb_host* host, wb_node_id from, const char* const* texts, const size_t* lens,
                     uint32_t count, double* out_logprob, uint32_t* out_tokens);
} wb_host_score;

#ifdef __cplusplus
}
#endif

#endif /* WB_EXT_SCORE_H */
