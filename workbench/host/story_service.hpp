// The story behind "wb.tree/1", "wb.generate/1" and "wb.tokenizer/1": either
// the app's open story (attached, borrowed) or one a headless plugin opened
// with wb_host_tree.open_project (owned here, with its model).
//
//   wb::host::attach_story(plugin_host.services(), story.get());   // GUI: the open project
//   // headless: the plugin calls tree->open_project(host, "novel.wbstory", "model.bin", true)
#pragma once
#include <wb/plugin_all.h>

#include <memory>

#include "core/model/model.hpp"
#include "core/session/story.hpp"
#include "host/services.hpp"

namespace wb::host {

struct StoryBinding {
  session::Story* story = nullptr;  // what the extensions work on; nullptr: no project open
  bool app_owned = false;           // attached by the app: open_project may not replace it
  // Declared model first so the story (which uses it) is destroyed first.
  std::unique_ptr<Model> owned_model;
  std::unique_ptr<session::Story> owned_story;
};

const wb_host_tree& story_tree_table();
const wb_host_generate& story_generate_table();
const wb_host_tokenizer& story_tokenizer_table();

// Makes plugins work on the app's story (borrowed; detach with nullptr).
void attach_story(HostServices& services, session::Story* story);

}  // namespace wb::host
