// Offline rendering of a MIDI file to a WAV file through FluidSynth and a
// General MIDI soundfont.
//
//   WB_TRY(smf, wb::midi::read_smf_file("in.mid"));
//   wb::midi::RenderOptions opt;                     // FluidR3_GM, 44.1 kHz
//   WB_TRY(stats, wb::midi::render_wav(smf, "out.wav", opt, log));
//   // stats.frames == round((duration + tail) * sample_rate)
//
// Events are scheduled by our own reader and tempo map (not FluidSynth's
// player), at sample accuracy, so the WAV lines up with what `info` reports.
// The WAV is 16-bit stereo PCM; its length is the MIDI duration plus
// `tail_seconds` for releases and reverb.
#pragma once
#include <string>

#include "core/midi/smf.hpp"
#include "core/util/log.hpp"

namespace wb::midi {

inline constexpr const char* kDefaultSoundfont = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

struct RenderOptions {
  std::string soundfont = kDefaultSoundfont;
  int sample_rate = 44100;
  double tail_seconds = 1.0;
  double gain = 0.5;
  double max_seconds = 3600.0;  // refuse longer renders (hostile tempo maps)
};

struct RenderStats {
  uint64_t frames = 0;
  double seconds = 0;
  double peak = 0;  // largest |sample| in [0, 1]
};

Result<RenderStats> render_wav(const SmfFile& file, const std::string& wav_path, const RenderOptions& opt, Log& log);

}  // namespace wb::midi
