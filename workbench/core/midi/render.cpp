#include "core/midi/render.hpp"

#include <fluidsynth.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

namespace wb::midi {

namespace {

// FluidSynth's log hook is process-wide; during a render it forwards to the
// caller's Log, afterwards messages are dropped (libraries never print).
void fluid_to_log(int level, const char* message, void* data) {
  auto* log = static_cast<Log*>(data);
  if (!log || !message) return;
  LogLevel l = level <= FLUID_ERR ? LogLevel::error : level == FLUID_WARN ? LogLevel::warn : LogLevel::debug;
  log->write(l, std::string("fluidsynth: ") + message);
}
void fluid_discard(int, const char*, void*) {}

void route_fluid_log(Log* log) {
  for (int lvl : {FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG})
    fluid_set_log_function(lvl, log ? fluid_to_log : fluid_discard, log);
}

struct SynthDeleter {
  void operator()(fluid_synth_t* s) const { delete_fluid_synth(s); }
};
struct SettingsDeleter {
  void operator()(fluid_settings_t* s) const { delete_fluid_settings(s); }
};
struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

void put_le(std::vector<uint8_t>& b, uint32_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

std::vector<uint8_t> wav_header(uint32_t frames, int rate) {
  const uint32_t data_bytes = frames * 4;
  std::vector<uint8_t> h;
  h.insert(h.end(), {'R', 'I', 'F', 'F'});
  put_le(h, 36 + data_bytes, 4);
  h.insert(h.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  put_le(h, 16, 4);
  put_le(h, 1, 2);          // PCM
  put_le(h, 2, 2);          // stereo
  put_le(h, static_cast<uint32_t>(rate), 4);
  put_le(h, static_cast<uint32_t>(rate) * 4, 4);
  put_le(h, 4, 2);          // block align
  put_le(h, 16, 2);         // bits
  h.insert(h.end(), {'d', 'a', 't', 'a'});
  put_le(h, data_bytes, 4);
  return h;
}

void send(fluid_synth_t* s, const Event& e) {
  const int ch = e.channel();
  switch (e.kind()) {
    case 0x80: fluid_synth_noteoff(s, ch, e.data1); break;
    case 0x90:
      if (e.data2 == 0) fluid_synth_noteoff(s, ch, e.data1);
      else fluid_synth_noteon(s, ch, e.data1, e.data2);
      break;
    case 0xA0: fluid_synth_key_pressure(s, ch, e.data1, e.data2); break;
    case 0xB0: fluid_synth_cc(s, ch, e.data1, e.data2); break;
    case 0xC0: fluid_synth_program_change(s, ch, e.data1); break;
    case 0xD0: fluid_synth_channel_pressure(s, ch, e.data1); break;
    case 0xE0: fluid_synth_pitch_bend(s, ch, e.data1 | (e.data2 << 7)); break;
    default: break;
  }
}

}  // namespace

Result<RenderStats> render_wav(const SmfFile& file, const std::string& wav_path, const RenderOptions& opt, Log& log) {
  if (opt.sample_rate < 8000 || opt.sample_rate > 192000)
    return make_error(Errc::invalid_argument, "sample rate {} out of range 8000..192000", opt.sample_rate);
  if (!(opt.tail_seconds >= 0) || opt.tail_seconds > 60)
    return make_error(Errc::invalid_argument, "tail of {} s out of range 0..60", opt.tail_seconds);
  if (!std::filesystem::exists(opt.soundfont))
    return make_error(Errc::io, "{}: soundfont not found (install fluid-soundfont-gm)", opt.soundfont);

  TempoMap tempo(file);
  const double duration = tempo.seconds(file.end_tick());
  const double total_s = duration + opt.tail_seconds;
  if (total_s > opt.max_seconds)
    return make_error(Errc::limit, "MIDI lasts {:.0f} s; rendering is limited to {:.0f} s", duration, opt.max_seconds);
  const uint64_t total_frames = static_cast<uint64_t>(std::llround(total_s * opt.sample_rate));
  if (total_frames * 4 + 36 > 0xFFFFFFFFull) return make_error(Errc::limit, "render too long for a WAV file");

  route_fluid_log(&log);
  struct Restore { ~Restore() { route_fluid_log(nullptr); } } restore;

  std::unique_ptr<fluid_settings_t, SettingsDeleter> settings(new_fluid_settings());
  if (!settings) return make_error(Errc::internal, "fluidsynth: cannot create settings");
  fluid_settings_setnum(settings.get(), "synth.sample-rate", opt.sample_rate);
  fluid_settings_setnum(settings.get(), "synth.gain", opt.gain);
  fluid_settings_setint(settings.get(), "synth.threadsafe-api", 0);
  std::unique_ptr<fluid_synth_t, SynthDeleter> synth(new_fluid_synth(settings.get()));
  if (!synth) return make_error(Errc::internal, "fluidsynth: cannot create a synthesizer");
  if (fluid_synth_sfload(synth.get(), opt.soundfont.c_str(), 1) == FLUID_FAILED)
    return make_error(Errc::format, "{}: fluidsynth could not load this soundfont", opt.soundfont);

  std::unique_ptr<FILE, FileCloser> out(std::fopen(wav_path.c_str(), "wb"));
  if (!out) return make_error(Errc::io, "{}: cannot open for writing", wav_path);
  auto header = wav_header(static_cast<uint32_t>(total_frames), opt.sample_rate);
  if (std::fwrite(header.data(), 1, header.size(), out.get()) != header.size())
    return make_error(Errc::io, "{}: write failed", wav_path);

  RenderStats stats;
  std::vector<int16_t> buf;
  uint64_t done = 0;
  int16_t peak = 0;
  auto render_to = [&](uint64_t frame) -> Status {
    frame = std::min(frame, total_frames);
    while (done < frame) {
      int n = static_cast<int>(std::min<uint64_t>(frame - done, 4096));
      buf.resize(static_cast<size_t>(n) * 2);
      if (fluid_synth_write_s16(synth.get(), n, buf.data(), 0, 2, buf.data(), 1, 2) != FLUID_OK)
        return make_error(Errc::internal, "fluidsynth: rendering failed");
      for (int16_t v : buf) peak = std::max<int16_t>(peak, static_cast<int16_t>(v == INT16_MIN ? INT16_MAX : std::abs(v)));
      if (std::fwrite(buf.data(), sizeof(int16_t), buf.size(), out.get()) != buf.size())
        return make_error(Errc::io, "{}: write failed", wav_path);
      done += static_cast<uint64_t>(n);
    }
    return {};
  };

  for (const auto& m : merge_tracks(file)) {
    const Event& e = *m.event;
    if (!e.is_channel()) continue;
    WB_CHECK(render_to(static_cast<uint64_t>(std::llround(tempo.seconds(e.tick) * opt.sample_rate))));
    send(synth.get(), e);
  }
  WB_CHECK(render_to(total_frames));
  if (std::fflush(out.get()) != 0) return make_error(Errc::io, "{}: write failed", wav_path);
  stats.frames = done;
  stats.seconds = static_cast<double>(done) / opt.sample_rate;
  stats.peak = peak / 32767.0;
  return stats;
}

}  // namespace wb::midi
