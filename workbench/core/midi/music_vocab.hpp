// The RWKV music token scheme (MIDI-LLM-tokenizer, as used by BlinkDL's RWKV-4
// MIDI models): its parameters, and the 20096-word vocabulary generated from
// them.
//
//   wb::midi::MusicVocab vocab;                       // the standard scheme
//   int id = vocab.note_id(vocab.scheme().piano_bin(), 60, 7);   // "pi:3c:7"
//   std::optional<int> t = vocab.find("t125");        // 127
//   auto info = vocab.decode(id);                     // kind, bin, pitch, vel bin
//
// Id layout: 0 <pad>, 1 <start>, 2 <end>, 3..127 wait t1..t125 (8 ms each),
// then note tokens "<bin prefix>:<pitch hex>:<velocity bin hex>" for every
// bin, pitch 0..127, velocity bin 0..11 (bin 0 = note off), ordered bin-major.
// Hex is lowercase and not zero-padded ("p:0:0", "pi:3c:7").
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/util/result.hpp"

namespace wb::midi {

struct MusicScheme {
  int note_events = 128;
  int wait_events = 125;
  int max_wait_ms = 1000;  // one wait token covers at most this much
  int velocity_events = 128;
  int velocity_bins = 12;
  double velocity_exp = 0.5;
  // Optional explicit bins: upper velocity of each bin (then velocity_exp is unused).
  std::vector<int> velocity_bins_override;

  std::vector<std::string> bin_names;    // order = bin index
  int percussion_bin = 0;                // bin that takes all of MIDI channel 10; -1 none
  std::array<int, 128> program_to_bin{}; // GM program -> bin, -1 = dropped
  std::vector<int> bin_program;          // program written for each bin
  // Derived by finalize():
  std::vector<std::string> bin_prefixes; // shortest prefix unused by an earlier bin
  std::vector<int> bin_channel;          // MIDI channel (0-based) when writing

  // The scheme of `midi-vocab_config.json` / `tokenizer-midi.json`.
  static MusicScheme standard();
  // Reads a MIDI-LLM-tokenizer vocab_config.json (e.g. the piano-only variant).
  static Result<MusicScheme> from_config_json(const std::string& path);

  double wait_step_ms() const { return double(max_wait_ms) / wait_events; }
  int bin_count() const { return static_cast<int>(bin_names.size()); }
  int piano_bin() const;  // bin named "piano", or -1

  // Velocity (0..127, may be fractional after CC7/CC11 scaling) -> bin.
  int velocity_to_bin(double velocity) const;
  // Bin -> the MIDI velocity written when decoding.
  int bin_to_velocity(int bin) const;

  Status finalize();  // computes prefixes and channels; checks consistency
};

enum class TokenKind { pad, start, end, wait, note, extra };

struct TokenInfo {
  TokenKind kind = TokenKind::pad;
  int wait_steps = 0;    // wait: 1..wait_events
  int bin = 0;           // note
  int pitch = 0;         // note
  int velocity_bin = 0;  // note: 0 = note off
};

class MusicVocab {
 public:
  static constexpr int kPad = 0, kStart = 1, kEnd = 2, kFirstWait = 3;

  MusicVocab() : MusicVocab(MusicScheme::standard()) {}
  explicit MusicVocab(MusicScheme scheme);

  const MusicScheme& scheme() const { return scheme_; }
  int size() const { return static_cast<int>(words_.size()); }
  const std::string& word(int id) const { return words_.at(static_cast<size_t>(id)); }
  std::optional<int> find(std::string_view word) const;  // exact (lowercase) word

  int wait_id(int steps) const { return kFirstWait + steps - 1; }  // steps in 1..wait_events
  int first_note_id() const { return kFirstWait + scheme_.wait_events; }
  int note_id(int bin, int pitch, int velocity_bin) const;
  TokenInfo decode(int id) const;  // id must be in [0, size())

  // Text <-> ids. Words are lowercased and split on whitespace. An unknown
  // word is an error naming it and its position (the HF tokenizer would map
  // it to <pad>; `unknown_as_pad` does that instead).
  Result<std::vector<int>> parse(std::string_view text, bool unknown_as_pad = false) const;
  std::string join(const std::vector<int>& ids) const;

 private:
  MusicScheme scheme_;
  std::vector<std::string> words_;
  std::unordered_map<std::string, int> index_;
};

}  // namespace wb::midi
