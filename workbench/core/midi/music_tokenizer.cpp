#include "core/midi/music_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <cmath>
#include <deque>
#include <map>

namespace wb::midi {

namespace {

struct PendingNote {  // a token waiting in the current same-step group
  int bin, pitch, velocity_bin;
  size_t order;
};

// How far (ms) an onset may sit after its step when it joins that step to
// keep the reference's grouping (see consume()). Under the 8 ms promise with
// room for tick rounding when written back.
constexpr double kJoinSlackMs = 6.0;

// Rounds half down, like the reference's ceil(x - 0.5).
int64_t round_half_down(double x) { return static_cast<int64_t>(std::ceil(x - 0.5)); }

class Encoder {
 public:
  Encoder(const MusicVocab& vocab, const TokenizeOptions& opt) : vocab_(vocab), s_(vocab.scheme()), opt_(opt) {
    program_.fill(0);
    volume_.fill(127);
    expression_.fill(127);
    pedal_.fill(false);
    step_ms_ = s_.wait_step_ms();
    max_gap_steps_ = std::max<int64_t>(1, round_half_down(opt_.max_gap_seconds * 1000.0 / step_ms_));
  }

  std::vector<int> run(const SmfFile& file) {
    TempoMap tempo(file);
    if (opt_.add_start_end) out_.push_back(MusicVocab::kStart);
    for (const auto& m : merge_tracks(file)) {
      const Event& e = *m.event;
      if (!e.is_channel()) continue;
      now_ms_ = tempo.seconds(e.tick) * 1000.0;
      const int ch = e.channel();
      switch (e.kind()) {
        case 0xC0: program_[ch] = e.data1; break;
        case 0x90:
          if (e.data2 == 0) {
            note_off(ch, program_[ch], e.data1);
          } else {
            auto& pend = pedal_events_[ch];
            auto it = std::find(pend.begin(), pend.end(), std::pair<int, int>(e.data1, program_[ch]));
            if (it != pend.end()) pend.erase(it);  // re-struck under the pedal: its off is dropped
            double vel = e.data2 * (volume_[ch] / 127.0) * (expression_[ch] / 127.0);
            consume(program_[ch], ch, e.data1, vel);
            held_[ch].set(e.data1);
          }
          break;
        case 0x80: note_off(ch, program_[ch], e.data1); break;
        case 0xB0: control(ch, e.data1, e.data2); break;
        default: break;
      }
    }
    flush();
    if (opt_.add_start_end) out_.push_back(MusicVocab::kEnd);
    return std::move(out_);
  }

 private:
  void control(int ch, int cc, int value) {
    if (cc == 7 || cc == 39) {
      volume_[ch] = value;
    } else if (cc == 11) {
      expression_[ch] = value;
    } else if (cc == 64) {
      pedal_[ch] = value >= 64;
      if (!pedal_[ch]) {
        auto pend = std::move(pedal_events_[ch]);
        pedal_events_[ch].clear();
        for (auto [note, prog] : pend) note_off(ch, prog, note);
      }
    } else if (cc == 123) {
      // The reference releases the held notes of every channel here, not
      // only this one; kept for identical tokens.
      for (int c = 0; c < 16; ++c)
        for (int n = 0; n < 128; ++n)
          if (held_[c].test(n)) note_off(c, program_[c], n);
    }
  }

  void note_off(int ch, int prog, int note) {
    if (pedal_[ch]) {
      auto& pend = pedal_events_[ch];
      std::pair<int, int> key(note, prog);
      if (std::find(pend.begin(), pend.end(), key) == pend.end()) pend.push_back(key);
      return;
    }
    consume(prog, ch, note, 0.0);
    held_[ch].reset(note);
  }

  void consume(int prog, int ch, int note, double velocity) {
    int bin = ch == 9 ? s_.percussion_bin : s_.program_to_bin[prog & 0x7F];
    if (bin < 0 || note >= s_.note_events) return;
    if (started_ && opt_.split_pieces && opt_.add_start_end && now_ms_ - prev_ms_ > opt_.max_gap_seconds * 1000.0 &&
        nothing_held()) {
      flush();
      out_.push_back(MusicVocab::kEnd);
      out_.push_back(MusicVocab::kStart);
      started_ = false;
      emitted_steps_ = 0;
    }
    if (!started_) {
      started_ = true;
      origin_ms_ = now_ms_;
    } else {
      double rel = now_ms_ - origin_ms_;
      int64_t target = round_half_down(rel / step_ms_);
      int64_t gap = target - emitted_steps_;
      // The reference starts a new step only when the gap since the previous
      // note event rounds to at least one step. Where absolute rounding puts
      // an event on the next step but the reference would not (an off and an
      // on 1 ms apart across a step edge), keep it in the current step as
      // long as its onset stays within kJoinSlackMs of the truth: same
      // tokens as the reference, bounded error, no drift.
      if (gap > 0 && now_ms_ - prev_ms_ <= step_ms_ / 2 &&
          rel - static_cast<double>(emitted_steps_) * step_ms_ <= kJoinSlackMs)
        gap = 0;
      if (gap > 0) {
        if (gap > max_gap_steps_) {
          // Cut the silence and move the origin so later onsets stay exact.
          gap = max_gap_steps_;
          origin_ms_ = now_ms_ - static_cast<double>(emitted_steps_ + gap) * step_ms_;
        }
        flush();
        emit_wait(gap);
        emitted_steps_ += gap;
      }
    }
    prev_ms_ = now_ms_;
    group_.push_back({bin, note, s_.velocity_to_bin(velocity), group_.size()});
  }

  bool nothing_held() const {
    return std::all_of(held_.begin(), held_.end(), [](const std::bitset<128>& b) { return b.none(); });
  }

  void emit_wait(int64_t steps) {
    while (steps >= s_.wait_events) {
      out_.push_back(vocab_.wait_id(s_.wait_events));
      steps -= s_.wait_events;
    }
    if (steps > 0) out_.push_back(vocab_.wait_id(static_cast<int>(steps)));
  }

  void flush() {
    const int perc = s_.percussion_bin;
    std::sort(group_.begin(), group_.end(), [perc](const PendingNote& a, const PendingNote& b) {
      auto key = [perc](const PendingNote& p) { return std::make_tuple(p.bin != perc, p.bin, p.pitch, p.order); };
      return key(a) < key(b);
    });
    for (const auto& p : group_) out_.push_back(vocab_.note_id(p.bin, p.pitch, p.velocity_bin));
    group_.clear();
  }

  const MusicVocab& vocab_;
  const MusicScheme& s_;
  const TokenizeOptions& opt_;
  std::array<int, 16> program_{}, volume_{}, expression_{};
  std::array<bool, 16> pedal_{};
  std::array<std::vector<std::pair<int, int>>, 16> pedal_events_;  // (note, program), in arrival order
  std::array<std::bitset<128>, 16> held_;
  std::vector<PendingNote> group_;
  std::vector<int> out_;
  double step_ms_ = 8.0, now_ms_ = 0.0, origin_ms_ = 0.0, prev_ms_ = 0.0;
  int64_t max_gap_steps_ = 1250, emitted_steps_ = 0;
  bool started_ = false;
};

}  // namespace

Result<std::vector<int>> midi_to_tokens(const SmfFile& file, const MusicVocab& vocab, const TokenizeOptions& opt) {
  if (!(opt.max_gap_seconds > 0) || opt.max_gap_seconds > 3600)
    return make_error(Errc::invalid_argument, "max_gap_seconds {} out of range (0, 3600]", opt.max_gap_seconds);
  Encoder enc(vocab, opt);
  return enc.run(file);
}

Result<SmfFile> tokens_to_midi(std::span<const int> ids, const MusicVocab& vocab, const DetokenizeOptions& opt) {
  if (opt.ticks_per_quarter == 0 || opt.ticks_per_quarter > 0x7FFF)
    return make_error(Errc::invalid_argument, "ticks_per_quarter {} out of range", opt.ticks_per_quarter);
  if (opt.tempo_us == 0 || opt.tempo_us > 0xFFFFFF)
    return make_error(Errc::invalid_argument, "tempo {} us per quarter out of range", opt.tempo_us);
  const MusicScheme& s = vocab.scheme();
  const double ticks_per_ms = opt.ticks_per_quarter * 1000.0 / opt.tempo_us;
  SmfFile f;
  f.format = 0;
  f.ticks_per_quarter = opt.ticks_per_quarter;
  f.tracks.emplace_back();
  auto& ev = f.tracks[0].events;
  if (!opt.text.empty()) ev.push_back(Event::meta(0, kMetaText, {opt.text.begin(), opt.text.end()}));
  ev.push_back(Event::tempo(0, opt.tempo_us));
  if (opt.program_changes) {
    for (int b = 0; b < s.bin_count(); ++b)
      if (b != s.percussion_bin)
        ev.push_back(Event::channel_msg(0, 0xC0, static_cast<uint8_t>(s.bin_channel[b]),
                                        static_cast<uint8_t>(s.bin_program[b])));
    if (s.percussion_bin >= 0) ev.push_back(Event::channel_msg(0, 0xC0, 9, 0));
  }

  // Time is kept exactly: whole wait steps plus whole <end> pauses, each
  // converted to ticks from the absolute total, so nothing drifts.
  int64_t steps = 0, pauses = 0;
  auto now_ms = [&] { return steps * s.wait_step_ms() + pauses * opt.end_pause_seconds * 1000.0; };
  auto now_tick = [&] { return static_cast<uint64_t>(std::llround(now_ms() * ticks_per_ms)); };
  struct Held { int channel, pitch; double on_ms; };
  std::vector<Held> held;  // in onset order
  auto off = [&](int ch, int pitch) {
    ev.push_back(Event::channel_msg(now_tick(), 0x80, static_cast<uint8_t>(ch), static_cast<uint8_t>(pitch), 0));
  };
  auto release_all = [&] {
    for (const auto& h : held) off(h.channel, h.pitch);
    held.clear();
  };

  for (size_t i = 0; i < ids.size(); ++i) {
    int id = ids[i];
    if (id < 0 || id >= vocab.size()) return make_error(Errc::out_of_range, "token {} at position {} is not in the vocabulary", id, i);
    TokenInfo t = vocab.decode(id);
    switch (t.kind) {
      case TokenKind::wait: {
        steps += t.wait_steps;
        if (opt.release_held_after_seconds > 0) {
          double limit = opt.release_held_after_seconds * 1000.0;
          auto it = std::stable_partition(held.begin(), held.end(),
                                          [&](const Held& h) { return now_ms() - h.on_ms <= limit; });
          for (auto j = it; j != held.end(); ++j) off(j->channel, j->pitch);
          held.erase(it, held.end());
        }
        break;
      }
      case TokenKind::note: {
        int ch = s.bin_channel[t.bin];
        int vel = s.bin_to_velocity(t.velocity_bin);
        auto it = std::find_if(held.begin(), held.end(), [&](const Held& h) { return h.channel == ch && h.pitch == t.pitch; });
        if (vel > 0) {
          if (it != held.end()) {
            if (opt.fix_repeated_notes) off(ch, t.pitch);
            held.erase(it);
          }
          held.push_back({ch, t.pitch, now_ms()});
          ev.push_back(Event::channel_msg(now_tick(), 0x90, static_cast<uint8_t>(ch), static_cast<uint8_t>(t.pitch),
                                          static_cast<uint8_t>(vel)));
        } else {
          if (it != held.end()) held.erase(it);
          off(ch, t.pitch);
        }
        break;
      }
      case TokenKind::end:
        ++pauses;
        release_all();
        break;
      default: break;  // <pad>, <start>, <extra..>
    }
  }
  release_all();
  ev.push_back(Event::meta(now_tick(), kMetaEndOfTrack, {}));
  return f;
}

std::vector<NoteSpan> note_spans(const SmfFile& file) {
  TempoMap tempo(file);
  std::vector<NoteSpan> out;
  std::map<std::pair<int, int>, std::deque<size_t>> open;  // (channel, pitch) -> indices into out, oldest first
  double last_s = 0;
  for (const auto& m : merge_tracks(file)) {
    const Event& e = *m.event;
    double t = tempo.seconds(e.tick);
    last_s = std::max(last_s, t);
    if (!e.is_channel()) continue;
    bool on = e.kind() == 0x90 && e.data2 > 0;
    bool off = e.kind() == 0x80 || (e.kind() == 0x90 && e.data2 == 0);
    if (on) {
      open[{e.channel(), e.data1}].push_back(out.size());
      out.push_back({t, t, e.channel(), e.data1, e.data2, m.track});
    } else if (off) {
      auto it = open.find({e.channel(), e.data1});
      if (it == open.end() || it->second.empty()) continue;
      out[it->second.front()].off_s = t;
      it->second.pop_front();
    }
  }
  for (auto& [key, q] : open)
    for (size_t i : q) out[i].off_s = last_s;
  return out;
}

}  // namespace wb::midi
