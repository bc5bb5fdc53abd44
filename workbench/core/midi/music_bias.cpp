#include "core/midi/music_bias.hpp"

#include <algorithm>

namespace wb::midi {

MusicBias::MusicBias(const MusicVocab& vocab, MusicBiasOptions opt)
    : opt_(opt),
      vocab_size_(vocab.size()),
      first_note_(vocab.first_note_id()),
      longest_wait_(vocab.wait_id(vocab.scheme().wait_events)),
      per_bin_(vocab.scheme().note_events * vocab.scheme().velocity_bins),
      bins_(vocab.scheme().bin_count()),
      counts_(static_cast<size_t>(vocab.size()), 0.0f),
      bin_allowed_(static_cast<size_t>(vocab.scheme().bin_count()), true) {}

Status MusicBias::allow_only_bins(const std::vector<int>& bins) {
  for (int b : bins)
    if (b < 0 || b >= bins_) return make_error(Errc::out_of_range, "instrument bin {} (have 0..{})", b, bins_ - 1);
  std::fill(bin_allowed_.begin(), bin_allowed_.end(), bins.empty());
  for (int b : bins) bin_allowed_[static_cast<size_t>(b)] = true;
  return {};
}

std::pair<int, int> MusicBias::bin_ids(int bin) const {
  int first = first_note_ + bin * per_bin_;
  return {first, first + per_bin_};
}

void MusicBias::apply(std::span<float> logits) const {
  const size_t n = std::min(logits.size(), counts_.size());
  for (size_t i = 0; i < n; ++i)
    if (counts_[i] != 0.0f) logits[i] -= counts_[i] * opt_.repeat_penalty;
  if (n > static_cast<size_t>(MusicVocab::kPad))
    logits[MusicVocab::kPad] += (static_cast<float>(steps_) - opt_.end_center) / opt_.end_scale;
  if (n > static_cast<size_t>(longest_wait_)) logits[static_cast<size_t>(longest_wait_)] += opt_.longest_wait_bias;
  for (int b = 0; b < bins_; ++b) {
    if (bin_allowed_[static_cast<size_t>(b)]) continue;
    auto [first, last] = bin_ids(b);
    for (size_t i = static_cast<size_t>(first); i < std::min(n, static_cast<size_t>(last)); ++i) logits[i] = opt_.masked;
  }
}

void MusicBias::accept(int token) {
  ++steps_;
  for (float& c : counts_) c *= opt_.decay;
  if (token < 0 || token >= vocab_size_) return;
  bool heavy = token >= first_note_ || token == longest_wait_;
  counts_[static_cast<size_t>(token)] += heavy ? opt_.note_weight : opt_.wait_weight;
}

}  // namespace wb::midi
