// Live playback of a MIDI file through FluidSynth's audio driver and a
// General MIDI soundfont (the composer's play/stop buttons).
//
//   WB_TRY(player, wb::midi::Player::start(smf, {}, log));   // returns at once
//   while (player->playing()) show_playhead(player->position());
//   player.reset();                                          // stops
//
// Where there is no audio device (a server, CI) start() fails with
// Errc::unsupported and a message saying so; nothing is played or printed.
// The audio driver is FluidSynth's default unless PlayerOptions::driver (or
// the WB_AUDIO_DRIVER environment variable) names one; "file" writes the
// audio to PlayerOptions::file_name, which is how tests hear it.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "core/midi/render.hpp"
#include "core/midi/smf.hpp"
#include "core/util/log.hpp"

namespace wb::midi {

struct PlayerOptions {
  std::string soundfont = kDefaultSoundfont;
  std::string driver;     // FluidSynth audio.driver; empty: $WB_AUDIO_DRIVER, else FluidSynth's default
  std::string file_name;  // for driver "file": the raw audio file written
  double gain = 0.5;
};

class Player {
 public:
  static Result<std::unique_ptr<Player>> start(const SmfFile& file, const PlayerOptions& opt, Log& log);
  ~Player();
  Player(const Player&) = delete;
  Player& operator=(const Player&) = delete;

  bool playing() const;
  double position() const;  // seconds since start, capped at the length
  double length() const { return length_s_; }

 private:
  Player() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::chrono::steady_clock::time_point t0_;
  double length_s_ = 0;
};

}  // namespace wb::midi
