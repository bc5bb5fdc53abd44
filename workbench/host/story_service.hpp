// The story behind "wb.tree/1", "wb.generate/1" and "wb.tokenizer/1": either
// the app's open story (attached, borrowed) or one a headless plugin opened
// with wb_host_tree.open_project (owned here, with its model).
//
//   wb::host::attach_story(plugin_host.services(), story.get());   // GUI: the open project
//   // headless: the plugin calls tree->open_project(host, "novel.wbstory", "model.bin", true)
#pragma once
#include <wb/plugin_all.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

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
  // Generations started with wb_host_generate.start, by id. Declared after
  // the story: destroyed (cancelled and joined) before it.
  struct Session {
    std::string plugin_id;
    std::unique_ptr<session::GenerationSession> worker;
    std::vector<session::Event> pending;  // polled from the worker, not yet delivered
  };
  std::map<uint64_t, Session> sessions;
  uint64_t next_session = 1;
};

const wb_host_tree& story_tree_table();
const wb_host_generate& story_generate_table();
const wb_host_tokenizer& story_tokenizer_table();

// Makes plugins work on the app's story (borrowed; detach with nullptr).
// Running sessions are cancelled first.
void attach_story(HostServices& services, session::Story* story);
// Cancels and joins the generations a plugin started (before it unloads).
void drop_plugin_sessions(HostServices& services, const std::string& plugin_id);

}  // namespace wb::host
