/* Everything of the plugin SDK in one include.
 *
 *   #include <wb/plugin_all.h>
 *
 * Extension ids reserved for the next minor versions (headers not yet
 * published; a host of this ABI returns NULL for them):
 *   "wb.tree/1"      read nodes and paths, create children, labels, plugin metadata
 *   "wb.generate/1"  generation sessions on a node: sampler settings, streamed
 *                    tokens with alternatives, cancel
 *   "wb.midi/1"      MIDI helpers for the composer (events <-> tokens, files)
 */
#ifndef WB_PLUGIN_ALL_H
#define WB_PLUGIN_ALL_H

#include "plugin.h"
#include "ext/headless.h"
#include "ext/log.h"
#include "ext/presets.h"
#include "ext/tokenizer.h"
#include "ext/ui.h"

#define WB_EXT_TREE "wb.tree/1"
#define WB_EXT_GENERATE "wb.generate/1"
#define WB_EXT_MIDI "wb.midi/1"

#endif /* WB_PLUGIN_ALL_H */
