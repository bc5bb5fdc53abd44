#include "core/midi/player.hpp"

#include <dlfcn.h>
#include <fluidsynth.h>

#include <cstdlib>
#include <filesystem>

namespace wb::midi {

namespace {

// FluidSynth logs through one process-wide hook: while a player is being set
// up its messages (e.g. why no audio driver opened) go to the caller's log
// as debug lines; otherwise they are dropped (libraries never print).
void fluid_to_log(int, const char* message, void* data) {
  if (auto* log = static_cast<Log*>(data); log && message) log->debug("fluidsynth: {}", message);
}
void fluid_discard(int, const char*, void*) {}
void route(Log* log) {
  for (int lvl : {FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG})
    fluid_set_log_function(lvl, log ? fluid_to_log : fluid_discard, log);
}

// FluidSynth's ALSA driver makes libasound print its own errors to stderr
// when there is no sound card. libasound is only loaded through FluidSynth,
// so its error hook is looked up at run time rather than linked.
void quiet_alsa(const char*, int, const char*, int, const char*, ...) {}
void silence_alsa() {
  using Handler = void (*)(const char*, int, const char*, int, const char*, ...);
  using SetHandler = int (*)(Handler);
  if (auto set = reinterpret_cast<SetHandler>(dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler"))) set(quiet_alsa);
}

}  // namespace

struct Player::Impl {
  fluid_settings_t* settings = nullptr;
  fluid_synth_t* synth = nullptr;
  fluid_player_t* player = nullptr;
  fluid_audio_driver_t* driver = nullptr;
  ~Impl() {
    // The driver's callbacks drive the player: stop them first.
    if (driver) delete_fluid_audio_driver(driver);
    if (player) {
      fluid_player_stop(player);
      delete_fluid_player(player);
    }
    if (synth) delete_fluid_synth(synth);
    if (settings) delete_fluid_settings(settings);
  }
};

Result<std::unique_ptr<Player>> Player::start(const SmfFile& file, const PlayerOptions& opt, Log& log) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(opt.soundfont, ec))
    return make_error(Errc::unsupported, "{}: soundfont not found (install fluid-soundfont-gm)", opt.soundfont);
  WB_TRY(bytes, serialize_smf(file));
  std::string driver = opt.driver;
  if (driver.empty())
    if (const char* env = std::getenv("WB_AUDIO_DRIVER"); env && *env) driver = env;

  silence_alsa();
  route(&log);
  struct Restore {
    ~Restore() { route(nullptr); }
  } restore;
  std::unique_ptr<Player> p(new Player());
  p->impl_ = std::make_unique<Impl>();
  Impl& im = *p->impl_;
  im.settings = new_fluid_settings();
  if (!im.settings) return make_error(Errc::internal, "fluidsynth: cannot create settings");
  fluid_settings_setnum(im.settings, "synth.gain", opt.gain);
  if (!driver.empty() && fluid_settings_setstr(im.settings, "audio.driver", driver.c_str()) != FLUID_OK)
    return make_error(Errc::invalid_argument, "fluidsynth has no audio driver '{}'", driver);
  if (driver == "file" && !opt.file_name.empty())
    fluid_settings_setstr(im.settings, "audio.file.name", opt.file_name.c_str());
  im.synth = new_fluid_synth(im.settings);
  if (!im.synth) return make_error(Errc::internal, "fluidsynth: cannot create a synthesizer");
  if (fluid_synth_sfload(im.synth, opt.soundfont.c_str(), 1) == FLUID_FAILED)
    return make_error(Errc::format, "{}: fluidsynth could not load this soundfont", opt.soundfont);
  im.player = new_fluid_player(im.synth);
  if (!im.player) return make_error(Errc::internal, "fluidsynth: cannot create a MIDI player");
  if (fluid_player_add_mem(im.player, bytes.data(), bytes.size()) != FLUID_OK)
    return make_error(Errc::internal, "fluidsynth: the MIDI player refused the file");
  im.driver = new_fluid_audio_driver(im.settings, im.synth);
  if (!im.driver) {
    char* name = nullptr;
    fluid_settings_dupstr(im.settings, "audio.driver", &name);
    std::string n = name ? name : "?";
    fluid_free(name);
    return make_error(Errc::unsupported,
                      "no audio device: FluidSynth could not open its '{}' audio driver (render to WAV instead, or set "
                      "WB_AUDIO_DRIVER to another FluidSynth driver)",
                      n);
  }
  if (fluid_player_play(im.player) != FLUID_OK) return make_error(Errc::internal, "fluidsynth: playback did not start");
  p->t0_ = std::chrono::steady_clock::now();
  p->length_s_ = TempoMap(file).seconds(file.end_tick());
  return p;
}

Player::~Player() = default;

bool Player::playing() const { return impl_ && fluid_player_get_status(impl_->player) == FLUID_PLAYER_PLAYING; }

double Player::position() const {
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  return s < length_s_ ? s : length_s_;
}

}  // namespace wb::midi
