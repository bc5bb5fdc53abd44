#include "core/sampling/sampler.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

#include <fmt/ranges.h>

namespace wb::sampling {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits on commas not preceded by a backslash; unescapes each part.
std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  std::string cur;
  bool any = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\\' && i + 1 < v.size()) {
      char n = v[++i];
      switch (n) {
        case 'n': cur += '\n'; break;
        case 't': cur += '\t'; break;
        case 'r': cur += '\r'; break;
        case 's': cur += ' '; break;
        default: cur += n; break;  // \\ and \, and anything else: the character itself
      }
      any = true;
    } else if (c == ',') {
      out.push_back(std::string(trim(cur)));
      cur.clear();
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any || !cur.empty()) out.push_back(std::string(trim(cur)));
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

std::string escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      case '\r': o += "\\r"; break;
      case ' ': o += "\\s"; break;  // keeps leading/trailing spaces through trim()
      case ',': o += "\\,"; break;
      case '\\': o += "\\\\"; break;
      case '#': o += "\\#"; break;
      default: o += c;
    }
  }
  return o;
}

Result<double> parse_num(std::string_view key, std::string_view v) {
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  double x = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno != 0 || !std::isfinite(x))
    return make_error(Errc::invalid_argument, "sampler option '{}' expects a number, got '{}'", key, v);
  return x;
}

Result<int64_t> parse_int(std::string_view key, std::string_view v) {
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0)
    return make_error(Errc::invalid_argument, "sampler option '{}' expects an integer, got '{}'", key, v);
  return static_cast<int64_t>(x);
}

Result<uint64_t> parse_u64(std::string_view key, std::string_view v) {
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno != 0)
    return make_error(Errc::invalid_argument, "sampler option '{}' expects an unsigned integer, got '{}'", key, v);
  return static_cast<uint64_t>(x);
}

// Removes nothing; sorts candidates by probability (descending, ties by id).
void sort_desc(std::vector<TokenProb>& c) {
  std::sort(c.begin(), c.end(), [](const TokenProb& a, const TokenProb& b) {
    return a.prob != b.prob ? a.prob > b.prob : a.token < b.token;
  });
}

void renormalise(std::vector<TokenProb>& c) {
  double sum = 0;
  for (auto& t : c) sum += t.prob;
  if (sum <= 0) return;
  for (auto& t : c) t.prob = static_cast<float>(t.prob / sum);
}

}  // namespace

Status set_option(Settings& s, std::string_view key, std::string_view value) {
  value = trim(value);
  auto num = [&](float& dst, double lo, double hi) -> Status {
    WB_TRY(x, parse_num(key, value));
    if (x < lo || x > hi)
      return make_error(Errc::invalid_argument, "sampler option '{}' = {} is outside [{}, {}]", key, x, lo, hi);
    dst = static_cast<float>(x);
    return {};
  };
  if (key == "temperature" || key == "temp") return num(s.temperature, 0.0, 100.0);
  if (key == "top_p") return num(s.top_p, 0.0, 1.0);
  if (key == "min_p") return num(s.min_p, 0.0, 1.0);
  if (key == "typical_p" || key == "typical") return num(s.typical_p, 0.0, 1.0);
  if (key == "repetition_penalty") return num(s.repetition_penalty, 0.01, 100.0);
  if (key == "presence_penalty") return num(s.presence_penalty, -100.0, 100.0);
  if (key == "frequency_penalty") return num(s.frequency_penalty, -100.0, 100.0);
  if (key == "penalty_decay") return num(s.penalty_decay, 0.0, 1.0);
  if (key == "top_k" || key == "max_tokens" || key == "top_alternatives") {
    WB_TRY(x, parse_int(key, value));
    if (x < 0 || x > 100'000'000)
      return make_error(Errc::invalid_argument, "sampler option '{}' = {} is out of range", key, x);
    (key == "top_k" ? s.top_k : key == "max_tokens" ? s.max_tokens : s.top_alternatives) = static_cast<int>(x);
    return {};
  }
  if (key == "seed") {
    WB_TRY(x, parse_u64(key, value));
    s.seed = x;
    return {};
  }
  if (key == "banned_tokens") {
    s.banned_tokens.clear();
    for (auto& w : split_list(value)) {
      WB_TRY(x, parse_int(key, w));
      if (x < 0 || x > std::numeric_limits<int32_t>::max())
        return make_error(Errc::invalid_argument, "banned token {} is not a token id", x);
      s.banned_tokens.push_back(static_cast<int32_t>(x));
    }
    return {};
  }
  if (key == "logit_bias") {
    s.logit_bias.clear();
    for (auto& w : split_list(value)) {
      auto colon = w.find(':');
      if (colon == std::string::npos)
        return make_error(Errc::invalid_argument, "logit_bias entry '{}' is not 'token:bias'", w);
      WB_TRY(id, parse_int(key, trim(std::string_view(w).substr(0, colon))));
      WB_TRY(b, parse_num(key, trim(std::string_view(w).substr(colon + 1))));
      if (id < 0 || id > std::numeric_limits<int32_t>::max())
        return make_error(Errc::invalid_argument, "logit_bias token {} is not a token id", id);
      if (b < -1e6 || b > 1e6)  // beyond any logit's scale; also keeps it a finite float
        return make_error(Errc::invalid_argument, "logit_bias {} for token {} is outside [-1e6, 1e6]", b, id);
      s.logit_bias.emplace_back(static_cast<int32_t>(id), static_cast<float>(b));
    }
    return {};
  }
  if (key == "stop") {
    s.stop = split_list(value);
    return {};
  }
  return make_error(Errc::invalid_argument, "unknown sampler option '{}'", key);
}

Result<Settings> parse_preset(std::string_view text, std::string_view origin) {
  Settings s;
  int line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    // A '#' not escaped by a backslash starts a comment.
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\') { ++i; continue; }
      if (line[i] == '#') { line = line.substr(0, i); break; }
    }
    line = trim(line);
    if (line.empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos)
      return make_error(Errc::format, "{}:{}: expected 'key = value', got '{}'", origin, line_no, line);
    auto st = set_option(s, trim(line.substr(0, eq)), line.substr(eq + 1));
    if (!st) return make_error(Errc::format, "{}:{}: {}", origin, line_no, st.error().message);
  }
  return s;
}

Result<Settings> load_preset(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error(Errc::io, "cannot open sampler preset '{}'", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  if (text.size() > (1u << 20)) return make_error(Errc::limit, "sampler preset '{}' is over 1 MiB", path);
  return parse_preset(text, path);
}

std::string to_preset(const Settings& s) {
  std::string o;
  o += fmt::format("temperature = {}\n", s.temperature);
  o += fmt::format("top_k = {}\n", s.top_k);
  o += fmt::format("top_p = {}\n", s.top_p);
  o += fmt::format("min_p = {}\n", s.min_p);
  o += fmt::format("typical_p = {}\n", s.typical_p);
  o += fmt::format("repetition_penalty = {}\n", s.repetition_penalty);
  o += fmt::format("presence_penalty = {}\n", s.presence_penalty);
  o += fmt::format("frequency_penalty = {}\n", s.frequency_penalty);
  o += fmt::format("penalty_decay = {}\n", s.penalty_decay);
  o += fmt::format("max_tokens = {}\n", s.max_tokens);
  o += fmt::format("seed = {}\n", s.seed);
  o += fmt::format("top_alternatives = {}\n", s.top_alternatives);
  if (!s.banned_tokens.empty()) o += fmt::format("banned_tokens = {}\n", fmt::join(s.banned_tokens, ", "));
  if (!s.logit_bias.empty()) {
    o += "logit_bias = ";
    for (std::size_t i = 0; i < s.logit_bias.size(); ++i)
      o += fmt::format("{}{}:{}", i ? ", " : "", s.logit_bias[i].first, s.logit_bias[i].second);
    o += "\n";
  }
  if (!s.stop.empty()) {
    o += "stop = ";
    for (std::size_t i = 0; i < s.stop.size(); ++i) o += (i ? ", " : "") + escape(s.stop[i]);
    o += "\n";
  }
  return o;
}

std::vector<TokenProb> top_probs(std::span<const float> logits, int k) {
  std::vector<TokenProb> out;
  if (logits.empty() || k <= 0) return out;
  float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - mx);
  std::vector<int32_t> idx(logits.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::size_t kk = std::min<std::size_t>(static_cast<std::size_t>(k), idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(kk), idx.end(),
                    [&](int32_t a, int32_t b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; });
  for (std::size_t i = 0; i < kk; ++i)
    out.push_back({idx[i], static_cast<float>(std::exp(static_cast<double>(logits[idx[i]]) - mx) / sum)});
  return out;
}

uint64_t Rng::next() {
  uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

Sampler::Sampler(Settings settings, int n_vocab)
    : settings_(std::move(settings)), n_vocab_(n_vocab), rng_(settings_.seed) {}

void Sampler::accept(int32_t token) {
  // RWKV pipeline: decay every count, then count the new token.
  for (auto& [t, c] : occurrence_) c *= settings_.penalty_decay;
  occurrence_[token] += 1.0f;
}

int32_t Sampler::sample(std::span<const float> logits) {
  const auto n = static_cast<std::size_t>(n_vocab_);
  work_.assign(logits.begin(), logits.begin() + static_cast<std::ptrdiff_t>(std::min(n, logits.size())));
  work_.resize(n, -std::numeric_limits<float>::infinity());
  const float ninf = -std::numeric_limits<float>::infinity();

  for (auto [t, b] : settings_.logit_bias)
    if (t >= 0 && static_cast<std::size_t>(t) < n) work_[t] += b;
  for (int32_t t : settings_.banned_tokens)
    if (t >= 0 && static_cast<std::size_t>(t) < n) work_[t] = ninf;
  const float rp = settings_.repetition_penalty;
  for (auto& [t, c] : occurrence_) {
    if (t < 0 || static_cast<std::size_t>(t) >= n || work_[t] == ninf) continue;
    if (rp != 1.0f) work_[t] = work_[t] > 0 ? work_[t] / rp : work_[t] * rp;
    work_[t] -= settings_.presence_penalty + c * settings_.frequency_penalty;
  }

  cand_.clear();
  if (settings_.temperature <= 0.0f) {
    // Greedy: the lowest id among the maxima, so ties are deterministic.
    std::size_t best = n;
    for (std::size_t i = 0; i < n; ++i)
      if (work_[i] != ninf && !std::isnan(work_[i]) && (best == n || work_[i] > work_[best])) best = i;
    if (best == n) best = 0;  // everything banned: nothing sensible remains
    cand_.push_back({static_cast<int32_t>(best), 1.0f});
    return static_cast<int32_t>(best);
  }

  float mx = ninf;
  for (float v : work_)
    if (!std::isnan(v)) mx = std::max(mx, v);
  if (mx == ninf) {
    cand_.push_back({0, 1.0f});
    return 0;
  }
  const double inv_t = 1.0 / settings_.temperature;
  cand_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    float v = work_[i];
    if (v == ninf || std::isnan(v)) continue;
    cand_.push_back({static_cast<int32_t>(i), static_cast<float>(std::exp((v - mx) * inv_t))});
  }
  renormalise(cand_);
  sort_desc(cand_);

  if (settings_.top_k > 0 && cand_.size() > static_cast<std::size_t>(settings_.top_k)) {
    cand_.resize(static_cast<std::size_t>(settings_.top_k));
    renormalise(cand_);
  }
  if (settings_.typical_p < 1.0f && cand_.size() > 1) {
    // Locally typical sampling: keep the tokens whose surprise is closest to
    // the distribution's entropy until their mass reaches typical_p.
    double ent = 0;
    for (auto& c : cand_)
      if (c.prob > 0) ent -= c.prob * std::log(static_cast<double>(c.prob));
    std::vector<std::pair<double, std::size_t>> dev;
    dev.reserve(cand_.size());
    for (std::size_t i = 0; i < cand_.size(); ++i) {
      double p = cand_[i].prob;
      dev.emplace_back(p > 0 ? std::abs(-std::log(p) - ent) : std::numeric_limits<double>::infinity(), i);
    }
    std::stable_sort(dev.begin(), dev.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<TokenProb> kept;
    double mass = 0;
    for (auto& [d, i] : dev) {
      kept.push_back(cand_[i]);
      mass += cand_[i].prob;
      if (mass >= settings_.typical_p) break;
    }
    cand_ = std::move(kept);
    sort_desc(cand_);
    renormalise(cand_);
  }
  if (settings_.top_p < 1.0f) {
    double mass = 0;
    std::size_t keep = 0;
    while (keep < cand_.size()) {
      mass += cand_[keep].prob;
      ++keep;
      if (mass >= settings_.top_p) break;
    }
    cand_.resize(std::max<std::size_t>(keep, 1));
    renormalise(cand_);
  }
  if (settings_.min_p > 0.0f && !cand_.empty()) {
    const float floor = cand_.front().prob * settings_.min_p;
    std::size_t keep = 1;
    while (keep < cand_.size() && cand_[keep].prob >= floor) ++keep;
    cand_.resize(keep);
    renormalise(cand_);
  }

  double r = rng_.uniform();
  double acc = 0;
  for (auto& c : cand_) {
    acc += c.prob;
    if (r < acc) return c.token;
  }
  return cand_.back().token;  // rounding left r just above the total
}

}  // namespace wb::sampling
