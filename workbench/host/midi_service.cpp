#include "host/midi_service.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/midi/music_text.hpp"
#include "core/midi/music_tokenizer.hpp"
#include "core/midi/render.hpp"
#include "core/model/default_model.hpp"
#include "core/util/atomic_file.hpp"

namespace wb::host {

using namespace detail;

namespace {

constexpr std::size_t kMaxPathBytes = 4096;
constexpr std::size_t kMaxTextBytes = 64u << 20;

const midi::MusicVocab& vocab() {
  static const midi::MusicVocab v;
  return v;
}

// Resolves the caller; `main` demands the main thread.
HostContext* midi_caller(const wb_host* host, const char* fn, bool main, wb_status& st) {
  HostContext* ctx = resolve(host, fn);
  st = WB_ERR_INVALID_ARGUMENT;
  if (!ctx) return nullptr;
  if (main && !on_main_thread(ctx)) {
    st = misuse(ctx, fn, WB_ERR_WRONG_THREAD, "called off the main thread");
    return nullptr;
  }
  st = WB_OK;
  return ctx;
}

#define WB_MIDI_CALL(fn, main)                       \
  wb_status st;                                      \
  HostContext* ctx = midi_caller(host, fn, main, st); \
  if (!ctx) return st

bool path_arg(const char* p, std::string& out) { return bounded(p, kMaxPathBytes, out) && !out.empty(); }

// Token text -> ids, or the (recorded) error: an unknown word is the caller's mistake.
wb_status parse_text(HostContext* ctx, const char* fn, const char* text, size_t len, std::vector<int>& ids) {
  if (!text && len > 0) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "text is NULL with len > 0");
  if (len > kMaxTextBytes) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "text is longer than 64 MiB");
  auto r = vocab().parse(std::string_view(text ? text : "", len));
  if (!r) return soft_fail(fn, WB_ERR_INVALID_ARGUMENT, r.error().message);  // user text: no blame
  ids = std::move(*r);
  return WB_OK;
}

wb_status midi_file_to_text(const wb_host* host, const char* midi_path, char* buf, size_t capacity, size_t* out_len) {
  WB_MIDI_CALL("midi.file_to_text", false);
  std::string path;
  if (!path_arg(midi_path, path)) return misuse(ctx, "midi.file_to_text", WB_ERR_INVALID_ARGUMENT, "path is NULL, empty or too long");
  if (!out_len || (!buf && capacity > 0))
    return misuse(ctx, "midi.file_to_text", WB_ERR_INVALID_ARGUMENT, "out_len is NULL, or buf is NULL with capacity > 0");
  auto smf = midi::read_smf_file(path);
  if (!smf) return soft_fail("midi.file_to_text", WB_ERR_IO, smf.error().message);
  midi::TokenizeOptions opt;
  opt.add_start_end = false;  // <start> added below; no <end>, so a continuation reads on
  auto ids = midi::midi_to_tokens(*smf, vocab(), opt);
  if (!ids) return soft_fail("midi.file_to_text", WB_ERR_IO, fmt::format("{}: {}", path, ids.error().message));
  ids->insert(ids->begin(), midi::MusicVocab::kStart);
  return copy_text_out(ctx, "midi.file_to_text", midi::music_text(vocab(), *ids), buf, capacity, out_len);
}

wb_status midi_text_to_file(const wb_host* host, const char* text, size_t len, const char* midi_path) {
  WB_MIDI_CALL("midi.text_to_file", false);
  std::string path;
  if (!path_arg(midi_path, path)) return misuse(ctx, "midi.text_to_file", WB_ERR_INVALID_ARGUMENT, "path is NULL, empty or too long");
  std::vector<int> ids;
  if (wb_status bad = parse_text(ctx, "midi.text_to_file", text, len, ids); bad != WB_OK) return bad;
  auto smf = midi::tokens_to_midi(ids, vocab());
  if (!smf) return soft_fail("midi.text_to_file", WB_ERR_INTERNAL, smf.error().message);
  auto bytes = midi::serialize_smf(*smf);
  if (!bytes) return soft_fail("midi.text_to_file", WB_ERR_INTERNAL, bytes.error().message);
  if (auto w = write_file_atomically(path, std::span<const uint8_t>(*bytes)); !w)
    return soft_fail("midi.text_to_file", WB_ERR_IO, w.error().message);
  return ok();
}

wb_status midi_normalize_text(const wb_host* host, const char* text, size_t len, char* buf, size_t capacity,
                              size_t* out_len) {
  WB_MIDI_CALL("midi.normalize_text", false);
  std::vector<int> ids;
  if (wb_status bad = parse_text(ctx, "midi.normalize_text", text, len, ids); bad != WB_OK) return bad;
  return copy_text_out(ctx, "midi.normalize_text", midi::music_text(vocab(), ids), buf, capacity, out_len);
}

// The bin that writes to `channel` (bins map to channels one to one, the
// percussion bin to channel 10).
int bin_of_channel(int channel) {
  const auto& ch = vocab().scheme().bin_channel;
  for (std::size_t b = 0; b < ch.size(); ++b)
    if (ch[b] == channel) return static_cast<int>(b);
  return -1;
}

wb_status midi_text_notes(const wb_host* host, const char* text, size_t len, wb_midi_note* out, size_t capacity,
                          size_t* out_count) {
  WB_MIDI_CALL("midi.text_notes", false);
  if (!out_count || (!out && capacity > 0))
    return misuse(ctx, "midi.text_notes", WB_ERR_INVALID_ARGUMENT, "out_count is NULL, or out is NULL with capacity > 0");
  std::vector<int> ids;
  if (wb_status bad = parse_text(ctx, "midi.text_notes", text, len, ids); bad != WB_OK) return bad;
  midi::DetokenizeOptions dopt;
  dopt.end_pause_seconds = 0;
  auto smf = midi::tokens_to_midi(ids, vocab(), dopt);
  if (!smf) return soft_fail("midi.text_notes", WB_ERR_INTERNAL, smf.error().message);
  auto spans = midi::note_spans(*smf);
  std::stable_sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.on_s < b.on_s; });
  *out_count = spans.size();
  for (std::size_t i = 0; i < spans.size() && i < capacity; ++i)
    out[i] = wb_midi_note{spans[i].on_s, spans[i].off_s, spans[i].pitch, spans[i].velocity, bin_of_channel(spans[i].channel)};
  if (spans.size() > capacity)
    return soft_fail("midi.text_notes", WB_ERR_BUFFER_TOO_SMALL, fmt::format("{} notes", spans.size()));
  return ok();
}

wb_status midi_text_seconds(const wb_host* host, const char* text, size_t len, double* out_seconds) {
  WB_MIDI_CALL("midi.text_seconds", false);
  if (!out_seconds) return misuse(ctx, "midi.text_seconds", WB_ERR_INVALID_ARGUMENT, "out_seconds is NULL");
  std::vector<int> ids;
  if (wb_status bad = parse_text(ctx, "midi.text_seconds", text, len, ids); bad != WB_OK) return bad;
  uint64_t steps = 0;
  for (int id : ids) {
    auto info = vocab().decode(id);
    if (info.kind == midi::TokenKind::wait) steps += static_cast<uint64_t>(info.wait_steps);
  }
  *out_seconds = static_cast<double>(steps) * vocab().scheme().wait_step_ms() / 1000.0;
  return ok();
}

uint32_t midi_vocab_size(const wb_host* host) {
  wb_status st;
  if (!midi_caller(host, "midi.vocab_size", false, st)) return 0;
  return static_cast<uint32_t>(vocab().size());
}

wb_status midi_token_word(const wb_host* host, uint32_t id, char* buf, size_t capacity, size_t* out_len) {
  WB_MIDI_CALL("midi.token_word", false);
  if (id >= static_cast<uint32_t>(vocab().size()))
    return misuse(ctx, "midi.token_word", WB_ERR_NOT_FOUND, fmt::format("token {} is outside 0..{}", id, vocab().size() - 1));
  return copy_text_out(ctx, "midi.token_word", vocab().word(static_cast<int>(id)), buf, capacity, out_len);
}

wb_status midi_token_id(const wb_host* host, const char* word, uint32_t* out_id) {
  WB_MIDI_CALL("midi.token_id", false);
  std::string w;
  if (!bounded(word, WB_MAX_ID_LENGTH, w) || !out_id)
    return misuse(ctx, "midi.token_id", WB_ERR_INVALID_ARGUMENT, "word is NULL or too long, or out_id is NULL");
  std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto id = vocab().find(w);
  if (!id) return soft_fail("midi.token_id", WB_ERR_NOT_FOUND, fmt::format("'{}' is not a music token", w));
  *out_id = static_cast<uint32_t>(*id);
  return ok();
}

wb_status midi_token_info(const wb_host* host, uint32_t id, wb_midi_token_info* out) {
  WB_MIDI_CALL("midi.token_info", false);
  if (!out) return misuse(ctx, "midi.token_info", WB_ERR_INVALID_ARGUMENT, "out is NULL");
  if (id >= static_cast<uint32_t>(vocab().size()))
    return misuse(ctx, "midi.token_info", WB_ERR_NOT_FOUND, fmt::format("token {} is outside 0..{}", id, vocab().size() - 1));
  auto t = vocab().decode(static_cast<int>(id));
  *out = wb_midi_token_info{WB_MIDI_TOKEN_OTHER, 0, -1, 0, 0};
  switch (t.kind) {
    case midi::TokenKind::pad: out->kind = WB_MIDI_TOKEN_PAD; break;
    case midi::TokenKind::start: out->kind = WB_MIDI_TOKEN_START; break;
    case midi::TokenKind::end: out->kind = WB_MIDI_TOKEN_END; break;
    case midi::TokenKind::wait:
      out->kind = WB_MIDI_TOKEN_WAIT;
      out->wait_steps = t.wait_steps;
      break;
    case midi::TokenKind::note:
      out->kind = WB_MIDI_TOKEN_NOTE;
      out->bin = t.bin;
      out->pitch = t.pitch;
      out->velocity_bin = t.velocity_bin;
      break;
    case midi::TokenKind::extra: break;
  }
  return ok();
}

uint32_t midi_bin_count(const wb_host* host) {
  wb_status st;
  if (!midi_caller(host, "midi.bin_count", false, st)) return 0;
  return static_cast<uint32_t>(vocab().scheme().bin_count());
}

wb_status midi_bin_name(const wb_host* host, uint32_t bin, char* buf, size_t capacity, size_t* out_len) {
  WB_MIDI_CALL("midi.bin_name", false);
  if (bin >= static_cast<uint32_t>(vocab().scheme().bin_count()))
    return misuse(ctx, "midi.bin_name", WB_ERR_NOT_FOUND, fmt::format("bin {} is outside 0..{}", bin, vocab().scheme().bin_count() - 1));
  return copy_text_out(ctx, "midi.bin_name", vocab().scheme().bin_names[bin], buf, capacity, out_len);
}

wb_status midi_render_wav(const wb_host* host, const char* text, size_t len, const char* wav_path, double* out_seconds) {
  WB_MIDI_CALL("midi.render_wav", true);
  std::string path;
  if (!path_arg(wav_path, path)) return misuse(ctx, "midi.render_wav", WB_ERR_INVALID_ARGUMENT, "path is NULL, empty or too long");
  std::vector<int> ids;
  if (wb_status bad = parse_text(ctx, "midi.render_wav", text, len, ids); bad != WB_OK) return bad;
  auto smf = midi::tokens_to_midi(ids, vocab());
  if (!smf) return soft_fail("midi.render_wav", WB_ERR_INTERNAL, smf.error().message);
  auto stats = midi::render_wav(*smf, path, midi::RenderOptions{}, ctx->services->log);
  if (!stats) return soft_fail("midi.render_wav", WB_ERR_IO, stats.error().message);
  if (out_seconds) *out_seconds = stats->seconds;
  return ok();
}

MidiBinding& binding(HostServices& s) {
  if (!s.midi) s.midi = std::make_unique<MidiBinding>();
  return *s.midi;
}

wb_status midi_play(const wb_host* host, const char* text, size_t len) {
  WB_MIDI_CALL("midi.play", true);
  std::vector<int> ids;
  if (wb_status bad = parse_text(ctx, "midi.play", text, len, ids); bad != WB_OK) return bad;
  auto smf = midi::tokens_to_midi(ids, vocab());
  if (!smf) return soft_fail("midi.play", WB_ERR_INTERNAL, smf.error().message);
  MidiBinding& b = binding(*ctx->services);
  b.player.reset();
  auto p = midi::Player::start(*smf, midi::PlayerOptions{}, ctx->services->log);
  if (!p) return soft_fail("midi.play", p.error().code == Errc::unsupported ? WB_ERR_UNSUPPORTED : WB_ERR_INTERNAL,
                           p.error().message);
  b.player = std::move(*p);
  b.owner = ctx->plugin_id;
  return ok();
}

wb_status midi_stop(const wb_host* host) {
  WB_MIDI_CALL("midi.stop", true);
  binding(*ctx->services).player.reset();
  return ok();
}

wb_status midi_position(const wb_host* host, double* out_seconds, bool* out_playing) {
  WB_MIDI_CALL("midi.position", true);
  if (!out_seconds || !out_playing) return misuse(ctx, "midi.position", WB_ERR_INVALID_ARGUMENT, "out_seconds or out_playing is NULL");
  MidiBinding& b = binding(*ctx->services);
  *out_playing = b.player && b.player->playing();
  *out_seconds = b.player ? b.player->position() : 0.0;
  return ok();
}

wb_status midi_default_model(const wb_host* host, char* buf, size_t capacity, size_t* out_len) {
  WB_MIDI_CALL("midi.default_model", false);
  auto d = find_default_model("midi");
  if (!d) {
    if (out_len) *out_len = 0;
    return soft_fail("midi.default_model", WB_ERR_NOT_FOUND, "no default music model (assets/models/midi-rwkv7.pth) is installed");
  }
  return copy_text_out(ctx, "midi.default_model", d->model, buf, capacity, out_len);
}

const wb_host_midi kMidi = {midi_file_to_text, midi_text_to_file, midi_normalize_text, midi_text_notes, midi_text_seconds,
                            midi_vocab_size,   midi_token_word,   midi_token_id,       midi_token_info, midi_bin_count,
                            midi_bin_name,     midi_render_wav,   midi_play,           midi_stop,       midi_position,
                            midi_default_model};

}  // namespace

const wb_host_midi& midi_table() { return kMidi; }

void stop_plugin_playback(HostServices& services, const std::string& plugin_id) {
  if (services.midi && services.midi->owner == plugin_id) services.midi->player.reset();
}

}  // namespace wb::host
