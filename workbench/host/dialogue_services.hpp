// Host extensions added for the dialogue plugin (ABI 0.2), usable by any
// plugin: "wb.cards/1" (character cards through core/card), "wb.transcript/1"
// (core/dialogue/transcript) and "wb.score/1" (Story::score on the open
// project's model).
//
//   if (name == WB_EXT_CARDS) return &wb::host::cards_table();   // services.cpp
#pragma once
#include <wb/plugin_all.h>

namespace wb::host {

const wb_host_cards& cards_table();
const wb_host_transcript& transcript_table();
const wb_host_score& score_table();

}  // namespace wb::host
