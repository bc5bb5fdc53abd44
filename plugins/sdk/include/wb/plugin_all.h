/* Everything of the plugin SDK in one include.
 *
 *   #include <wb/plugin_all.h>
 *
 * Extension ids reserved for a next minor version (header not yet
 * published; a host of this ABI returns NULL for it):
 *   "wb.midi/1"      MIDI helpers for the composer (events <-> tokens, files)
 */
#ifndef WB_PLUGIN_ALL_H
#define WB_PLUGIN_ALL_H

#include "plugin.h"
#include "ext/cards.h"
#include "ext/generate.h"
#include "ext/headless.h"
#include "ext/log.h"
#include "ext/presets.h"
#include "ext/score.h"
#include "ext/tokenizer.h"
#include "ext/transcript.h"
#include "ext/tree.h"
#include "ext/ui.h"

#define WB_EXT_MIDI "wb.midi/1"

#endif /* WB_PLUGIN_ALL_H */
