/* Everything of the plugin SDK in one include.
 *
 *   #include <wb/plugin_all.h>
 */
#ifndef WB_PLUGIN_ALL_H
#define WB_PLUGIN_ALL_H

#include "plugin.h"
#include "ext/cards.h"
#include "ext/generate.h"
#include "ext/headless.h"
#include "ext/log.h"
#include "ext/midi.h"
#include "ext/presets.h"
#include "ext/score.h"
#include "ext/tokenizer.h"
#include "ext/transcript.h"
#include "ext/tree.h"
#include "ext/ui.h"

#endif /* WB_PLUGIN_ALL_H */
