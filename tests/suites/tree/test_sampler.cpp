// Samplers: determinism, each step's effect, presets.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "core/sampling/sampler.hpp"

using namespace wb::sampling;

namespace {

// A fixed spread of logits: token i has logit (8 - i) * 0.5 for 16 tokens.
std::vector<float> spread(int n = 16) {
  std::vector<float> l(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) l[static_cast<std::size_t>(i)] = static_cast<float>(8 - i) * 0.5f;
  return l;
}

Settings neutral() {
  Settings s;
  s.top_p = 1.0f;
  s.presence_penalty = 0;
  s.frequency_penalty = 0;
  return s;
}

std::set<int32_t> candidates(Sampler& s, const std::vector<float>& l) {
  (void)s.sample(l);
  std::set<int32_t> out;
  for (auto& c : s.last_candidates()) out.insert(c.token);
  return out;
}

std::vector<int32_t> draw(Settings st, int n, const std::vector<float>& l) {
  Sampler s(st, static_cast<int>(l.size()));
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    int32_t t = s.sample(l);
    s.accept(t);
    out.push_back(t);
  }
  return out;
}

}  // namespace

TEST_CASE("same seed and settings give the same tokens and another seed does not", "[sampling]") {
  Settings s = neutral();
  s.seed = 7;
  auto a = draw(s, 200, spread());
  auto b = draw(s, 200, spread());
  CHECK(a == b);
  s.seed = 8;
  CHECK(draw(s, 200, spread()) != a);
}

TEST_CASE("the random source is fixed (platform independent)", "[sampling]") {
  // splitmix64 from seed 0: published first output 0xe220a8397b1dcdaf.
  Rng r(0);
  CHECK(r.next() == 0xe220a8397b1dcdafull);
  double u = Rng(1).uniform();
  CHECK(u >= 0.0);
  CHECK(u < 1.0);
}

TEST_CASE("temperature 0 is greedy and low temperature concentrates", "[sampling]") {
  Settings s = neutral();
  s.temperature = 0;
  auto l = spread();
  l[5] = 100;
  for (int32_t t : draw(s, 20, l)) CHECK(t == 5);
  s.temperature = 0.05f;
  l = spread();
  int zeros = 0;
  for (int32_t t : draw(s, 200, l)) zeros += t == 0;
  CHECK(zeros > 190);
  s.temperature = 3.0f;
  zeros = 0;
  for (int32_t t : draw(s, 200, l)) zeros += t == 0;
  CHECK(zeros < 120);
}

TEST_CASE("top-k top-p min-p and typical cut the candidates", "[sampling]") {
  auto l = spread();
  Settings s = neutral();
  {
    Sampler x(s, 16);
    CHECK(candidates(x, l).size() == 16);
  }
  s.top_k = 3;
  {
    Sampler x(s, 16);
    CHECK(candidates(x, l) == std::set<int32_t>{0, 1, 2});
  }
  s = neutral();
  s.top_p = 0.5f;  // probs ~ 0.39, 0.24, 0.14, ...: two tokens reach 0.5
  {
    Sampler x(s, 16);
    CHECK(candidates(x, l) == std::set<int32_t>{0, 1});
  }
  s = neutral();
  s.min_p = 0.3f;  // keeps p >= 0.3 * p_max: e^-0.5 = 0.61, e^-1 = 0.37, e^-1.5 = 0.22
  {
    Sampler x(s, 16);
    CHECK(candidates(x, l) == std::set<int32_t>{0, 1, 2});
  }
  s = neutral();
  s.typical_p = 0.2f;
  {
    Sampler x(s, 16);
    auto c = candidates(x, l);
    CHECK(c.size() < 16);
    CHECK(c.count(0) == 0);  // the most likely token is more predictable than typical here
  }
}

TEST_CASE("banned tokens and logit bias", "[sampling]") {
  auto l = spread();
  Settings s = neutral();
  s.temperature = 0;
  s.banned_tokens = {0, 1};
  for (int32_t t : draw(s, 10, l)) CHECK(t == 2);
  s.banned_tokens.clear();
  s.logit_bias = {{9, 10.0f}};
  for (int32_t t : draw(s, 10, l)) CHECK(t == 9);
}

TEST_CASE("presence frequency and repetition penalties discourage repeats with decay", "[sampling]") {
  std::vector<float> flat(8, 0.0f);
  flat[0] = 1.0f;
  Settings s = neutral();
  s.temperature = 0;
  // Without penalties greedy repeats token 0 forever.
  for (int32_t t : draw(s, 5, flat)) CHECK(t == 0);
  s.presence_penalty = 2.0f;
  auto with = draw(s, 3, flat);
  CHECK(with[0] == 0);
  CHECK(with[1] != 0);
  s = neutral();
  s.temperature = 0;
  s.frequency_penalty = 0.6f;  // 1 - 0.6*k drops below 0 after two uses
  auto f = draw(s, 3, flat);
  CHECK(f[0] == 0);
  CHECK(f[1] == 0);
  CHECK(f[2] != 0);
  s = neutral();
  s.temperature = 0;
  s.repetition_penalty = 3.0f;  // 1.0 / 3 < 0.5
  flat[1] = 0.5f;
  auto r = draw(s, 2, flat);
  CHECK(r == std::vector<int32_t>{0, 1});

  // Decay: with a fast decay the penalty fades and token 0 comes back.
  std::vector<float> l(4, 0.0f);
  l[0] = 1.0f;
  Settings d = neutral();
  d.temperature = 0;
  d.frequency_penalty = 1.5f;
  d.penalty_decay = 0.1f;
  auto dd = draw(d, 4, l);
  CHECK(dd[0] == 0);
  CHECK(dd[1] != 0);
  CHECK(std::count(dd.begin(), dd.end(), 0) >= 2);  // decayed enough to return
  d.penalty_decay = 1.0f;
  auto nd = draw(d, 4, l);
  CHECK(std::count(nd.begin(), nd.end(), 0) == 1);
}

TEST_CASE("draws follow the distribution", "[sampling]") {
  std::vector<float> l{std::log(0.7f), std::log(0.2f), std::log(0.1f)};
  Settings s = neutral();
  s.seed = 3;
  std::map<int32_t, int> n;
  for (int32_t t : draw(s, 5000, l)) ++n[t];
  CHECK(std::abs(n[0] / 5000.0 - 0.7) < 0.03);
  CHECK(std::abs(n[1] / 5000.0 - 0.2) < 0.03);
  CHECK(std::abs(n[2] / 5000.0 - 0.1) < 0.03);
}

TEST_CASE("top_probs lists the most likely tokens with softmax probabilities", "[sampling]") {
  std::vector<float> l{0.0f, std::log(3.0f), std::log(6.0f)};
  auto t = top_probs(l, 2);
  REQUIRE(t.size() == 2);
  CHECK(t[0].token == 2);
  CHECK(t[0].prob == Approx(0.6));
  CHECK(t[1].token == 1);
  CHECK(t[1].prob == Approx(0.3));
}

TEST_CASE("presets parse round-trip and report errors with the line", "[sampling][preset]") {
  auto s = parse_preset("# comment\ntemperature = 0.5\ntop_k=7\nstop = \\n\\n, THE END, a\\,b\nlogit_bias = 5:-1.5, 6:2\n"
                        "banned_tokens = 1, 2\nseed = 99\n");
  REQUIRE(s.ok());
  CHECK(s->temperature == 0.5f);
  CHECK(s->top_k == 7);
  CHECK(s->stop == std::vector<std::string>{"\n\n", "THE END", "a,b"});
  CHECK(s->logit_bias == std::vector<std::pair<int32_t, float>>{{5, -1.5f}, {6, 2.0f}});
  CHECK(s->banned_tokens == std::vector<int32_t>{1, 2});
  CHECK(s->seed == 99);
  auto again = parse_preset(to_preset(*s));
  REQUIRE(again.ok());
  CHECK(*again == *s);

  auto bad = parse_preset("temperature = 0.5\ntop_p = 2\n", "x.txt");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("x.txt:2") != std::string::npos);
  CHECK_FALSE(parse_preset("nonsense = 1").ok());
  CHECK_FALSE(parse_preset("just words").ok());
  CHECK_FALSE(parse_preset("top_k = 1.5").ok());
}

TEST_CASE("the shipped presets load and differ", "[sampling][preset]") {
  std::filesystem::path dir = std::filesystem::path(WB_SOURCE_DIR) / "presets" / "sampling";
  auto d = load_preset((dir / "default.txt").string());
  auto c = load_preset((dir / "creative.txt").string());
  auto p = load_preset((dir / "precise.txt").string());
  REQUIRE(d.ok());
  REQUIRE(c.ok());
  REQUIRE(p.ok());
  CHECK(*d == Settings{});  // default.txt spells out the built-in defaults
  CHECK(c->temperature > d->temperature);
  CHECK(p->temperature < d->temperature);
  CHECK_FALSE(load_preset((dir / "missing.txt").string()).ok());
}
