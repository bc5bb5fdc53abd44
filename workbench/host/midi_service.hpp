// The host side of "wb.midi/1": MIDI files <-> music token text, note spans
// for the piano roll, the music vocabulary, WAV rendering and live playback
// (core/midi/*). One playback at a time per host, owned by the plugin that
// started it.
//
//   const wb_host_midi& m = wb::host::midi_table();   // what get_extension("wb.midi/1") returns
//   wb::host::stop_plugin_playback(services, "org.x");  // when a plugin unloads
#pragma once
#include <wb/plugin_all.h>

#include <memory>
#include <string>

#include "core/midi/player.hpp"
#include "host/services.hpp"

namespace wb::host {

struct MidiBinding {
  std::unique_ptr<midi::Player> player;
  std::string owner;  // plugin id of the playback
};

const wb_host_midi& midi_table();
void stop_plugin_playback(HostServices& services, const std::string& plugin_id);

}  // namespace wb::host
