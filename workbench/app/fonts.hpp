// Font set-up for the GUI.
//
//   wb::app::setup_fonts(17.0f, log);   // after ImGui::CreateContext, before the atlas upload
#pragma once
#include "core/util/log.hpp"

namespace wb::app {

void setup_fonts(float size, Log& log);

}  // namespace wb::app
