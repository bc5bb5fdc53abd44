// Logit shaping for composing with the RWKV MIDI models: the behaviour of
// the ChatRWKV music demo (decaying repetition penalty, a nudge towards
// ending after ~2000 tokens, a small bias against t125) plus instrument
// selection by masking the note tokens of unchosen bins. The sampler itself
// (top-k 8, top-p 0.8, temperature 1 in the demo) lives with the other
// samplers; this only adjusts logits before it.
//
//   wb::midi::MusicVocab vocab;
//   wb::midi::MusicBias bias(vocab);
//   bias.allow_only_bins({vocab.scheme().piano_bin()});   // piano-only
//   for (...) {
//     bias.apply(logits);                // before sampling
//     int tok = sample(logits);
//     if (tok == wb::midi::MusicVocab::kPad) break;  // the model's end of piece
//     bias.accept(tok);                  // sampled tokens only, not the prompt
//   }
//
// Copyable: a branch of the state tree copies its bias with its model state.
#pragma once
#include <span>
#include <utility>
#include <vector>

#include "core/midi/music_vocab.hpp"

namespace wb::midi {

struct MusicBiasOptions {
  float repeat_penalty = 0.5f;    // subtracted per unit of decayed count
  float decay = 0.997f;           // counts shrink by this each accepted token
  float note_weight = 1.0f;       // count added for a note token or the longest wait
  float wait_weight = 0.3f;       // count added for other wait tokens
  float end_center = 2000.0f;     // <pad> (end of piece) logit += (step - center) / scale
  float end_scale = 500.0f;
  float longest_wait_bias = -1.0f;  // added to t125
  float masked = -1e10f;          // logit given to masked tokens
};

class MusicBias {
 public:
  explicit MusicBias(const MusicVocab& vocab, MusicBiasOptions opt = {});

  // Masks the note tokens of every bin not listed; empty list = all allowed.
  // Bins out of range are an error.
  Status allow_only_bins(const std::vector<int>& bins);
  // Ids [first, last) of one bin's note tokens.
  std::pair<int, int> bin_ids(int bin) const;

  // Adjusts logits (one per vocabulary id; extra entries are left alone).
  void apply(std::span<float> logits) const;
  // Records a sampled token (the demo does not count prompt tokens):
  // decays every count, then adds this token's weight; one step more.
  void accept(int token);

  int steps() const { return steps_; }
  float count(int token) const { return counts_.at(static_cast<size_t>(token)); }

 private:
  MusicBiasOptions opt_;
  int vocab_size_ = 0, first_note_ = 0, longest_wait_ = 0, per_bin_ = 0, bins_ = 0;
  std::vector<float> counts_;
  std::vector<bool> bin_allowed_;
  int steps_ = 0;
};

}  // namespace wb::midi
