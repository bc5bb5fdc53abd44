// Music logit shaping: the ChatRWKV music demo's penalties and instrument masks.
#include <vector>

#include "core/midi/music_bias.hpp"
#include "support/fixtures.hpp"

using wb::midi::MusicBias;
using wb::midi::MusicVocab;

TEST_CASE("repetition counts decay and weigh notes and t125 more than other waits", "[midi][sampling]") {
  MusicVocab v;
  MusicBias b(v);
  const int note = *v.find("pi:3c:7"), t125 = *v.find("t125"), t10 = *v.find("t10");
  b.accept(note);
  b.accept(t125);
  b.accept(t10);
  b.accept(note);
  CHECK(b.steps() == 4);
  const double d = 0.997;
  CHECK(b.count(note) == Approx(1 * d * d * d + 1));
  CHECK(b.count(t125) == Approx(1 * d * d));
  CHECK(b.count(t10) == Approx(0.3 * d));
  std::vector<float> logits(static_cast<size_t>(v.size()), 0.0f);
  b.apply(logits);
  CHECK(logits[static_cast<size_t>(note)] == Approx(-0.5 * (d * d * d + 1)));
  CHECK(logits[static_cast<size_t>(t125)] == Approx(-0.5 * d * d - 1.0));  // penalty and the t125 bias
  CHECK(logits[static_cast<size_t>(t10)] == Approx(-0.5 * 0.3 * d));
  CHECK(logits[0] == Approx((4 - 2000) / 500.0));                        // end-of-piece nudge
  CHECK(logits[static_cast<size_t>(*v.find("pi:3c:8"))] == 0.0f);       // untouched
}

TEST_CASE("the end-of-piece nudge grows with length", "[midi][sampling]") {
  MusicVocab v;
  MusicBias b(v);
  for (int i = 0; i < 2500; ++i) b.accept(v.wait_id(3));
  std::vector<float> logits(static_cast<size_t>(v.size()), 0.0f);
  b.apply(logits);
  CHECK(logits[0] == Approx(1.0));
}

TEST_CASE("instrument selection masks every other bin's note tokens", "[midi][sampling]") {
  MusicVocab v;
  MusicBias b(v);
  const int piano = v.scheme().piano_bin();
  REQUIRE(b.allow_only_bins({piano}));
  auto [first, last] = b.bin_ids(piano);
  // The demo's piano-only mode keeps exactly ids 12416..13951.
  CHECK(first == 12416);
  CHECK(last == 13952);
  std::vector<float> logits(static_cast<size_t>(v.size()), 1.0f);
  b.apply(logits);
  for (int id = 0; id < v.size(); ++id) {
    bool masked = logits[static_cast<size_t>(id)] < -1e9f;
    bool should = id >= 128 && (id < first || id >= last);
    if (masked != should) FAIL("id " << id << " (" << v.word(id) << ") masked=" << masked);
  }
  CHECK_FALSE(b.allow_only_bins({13}));
  REQUIRE(b.allow_only_bins({}));
  std::vector<float> again(static_cast<size_t>(v.size()), 1.0f);
  b.apply(again);
  CHECK(*std::min_element(again.begin() + 128, again.end()) == 1.0f);
}
