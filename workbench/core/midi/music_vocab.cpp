#include "core/midi/music_vocab.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

namespace wb::midi {

MusicScheme MusicScheme::standard() {
  MusicScheme s;
  s.bin_names = {"percussion", "drum", "tuba", "marimba", "bass", "guitar", "violin",
                 "trumpet", "piano", "sax", "flute", "lead", "pad"};
  s.percussion_bin = 0;
  enum { DR = 1, TU, MA, BA, GU, VI, TR, PI, SX, FL, LE, PA, XX = -1 };
  // General MIDI programs 0..127 folded into bins, eight per row (one GM family).
  s.program_to_bin = {
      PI, PI, PI, PI, PI, PI, PI, PI,  // pianos (0-7)
      MA, MA, MA, MA, MA, MA, MA, MA,  // chromatic percussion; drawbar organ (16) joins them below
      MA, PI, PI, PI, PI, PI, PI, PI,  // organs, accordion, harmonica
      GU, GU, GU, GU, GU, GU, GU, GU,  // guitars
      BA, BA, BA, BA, BA, BA, BA, BA,  // basses
      VI, VI, BA, BA, VI, VI, VI, DR,  // strings: cello/contrabass -> bass, timpani -> drum
      VI, VI, VI, VI, VI, VI, VI, XX,  // ensembles and voices; orchestra hit dropped
      TR, TU, TU, TR, TR, TR, TR, TR,  // brass: trombone, tuba -> tuba
      SX, SX, SX, SX, SX, TR, SX, SX,  // reeds: english horn (69) -> trumpet
      FL, FL, FL, FL, FL, FL, FL, FL,  // pipes
      LE, LE, LE, LE, LE, VI, LE, LE,  // synth leads: voice solo (85) -> violin
      PA, PA, PA, VI, PA, PA, PA, PA,  // synth pads: choir space voice (91) -> violin
      XX, XX, XX, XX, XX, XX, XX, XX,  // synth effects dropped
      GU, GU, GU, GU, GU, SX, VI, SX,  // ethnic: sitar..kalimba, bag pipe, fiddle, shanai
      MA, MA, MA, MA, DR, DR, DR, XX,  // percussive; reverse cymbal dropped
      XX, XX, XX, XX, XX, XX, XX, XX,  // sound effects dropped
  };
  // Program written for each bin: percussion, synth drum, tuba, marimba,
  // acoustic bass, steel guitar, violin, trumpet, grand piano, tenor sax,
  // flute, square lead, new-age pad.
  s.bin_program = {0, 118, 58, 12, 32, 25, 40, 56, 0, 66, 73, 80, 88};
  auto st = s.finalize();
  (void)st;  // the built-in table is consistent (a test checks it)
  return s;
}

int MusicScheme::piano_bin() const {
  auto it = std::find(bin_names.begin(), bin_names.end(), "piano");
  return it == bin_names.end() ? -1 : static_cast<int>(it - bin_names.begin());
}

int MusicScheme::velocity_to_bin(double velocity) const {
  velocity = std::max(0.0, std::min(velocity, double(velocity_events - 1)));
  if (!velocity_bins_override.empty()) {
    for (size_t i = 0; i < velocity_bins_override.size(); ++i)
      if (velocity <= velocity_bins_override[i]) return static_cast<int>(i);
    return 0;
  }
  // Same arithmetic, in the same order, as the reference so that values on a
  // bin edge fall on the same side.
  const double ev = velocity_events;
  const double binsize = ev / (velocity_bins - 1);
  if (velocity_exp == 1.0) return static_cast<int>(std::ceil(velocity / binsize));
  return static_cast<int>(
      std::ceil((ev * ((std::pow(velocity_exp, velocity / ev) - 1.0) / (velocity_exp - 1.0))) / binsize));
}

int MusicScheme::bin_to_velocity(int bin) const {
  if (!velocity_bins_override.empty())
    return velocity_bins_override.at(static_cast<size_t>(std::clamp(bin, 0, velocity_bins - 1)));
  const double ev = velocity_events;
  const double binsize = ev / (velocity_bins - 1);
  double v;
  if (velocity_exp == 1.0)
    v = std::ceil(bin * binsize - 1);
  else
    v = std::ceil(ev * (std::log(((velocity_exp - 1) * binsize * bin) / ev + 1) / std::log(velocity_exp)) - 1);
  return std::clamp(static_cast<int>(v), 0, 127);
}

Status MusicScheme::finalize() {
  if (bin_names.empty() || bin_names.size() > 16)
    return make_error(Errc::format, "music scheme: {} instrument bins (need 1..16)", bin_names.size());
  if (bin_program.size() != bin_names.size())
    return make_error(Errc::format, "music scheme: {} bin programs for {} bins", bin_program.size(), bin_names.size());
  if (wait_events < 1 || max_wait_ms < 1 || max_wait_ms % wait_events != 0)
    return make_error(Errc::format, "music scheme: max_wait_time {} not divisible by wait_events {}", max_wait_ms,
                      wait_events);
  if (velocity_bins < 2 || velocity_bins > 16 || velocity_events < 2 || velocity_events > 128 || velocity_exp <= 0)
    return make_error(Errc::format, "music scheme: bad velocity parameters");
  if (!velocity_bins_override.empty() && velocity_bins_override.size() != size_t(velocity_bins))
    return make_error(Errc::format, "music scheme: velocity_bins_override needs {} values", velocity_bins);
  if (note_events < 1 || note_events > 128) return make_error(Errc::format, "music scheme: note_events {}", note_events);
  if (percussion_bin >= bin_count()) return make_error(Errc::format, "music scheme: percussion bin out of range");
  for (int b : program_to_bin)
    if (b < -1 || b >= bin_count()) return make_error(Errc::format, "music scheme: program maps to bin {}", b);
  bin_prefixes.clear();
  for (const auto& name : bin_names) {
    if (name.empty()) return make_error(Errc::format, "music scheme: empty bin name");
    size_t n = 1;
    while (n < name.size() && std::find(bin_prefixes.begin(), bin_prefixes.end(), name.substr(0, n)) != bin_prefixes.end())
      ++n;
    bin_prefixes.push_back(name.substr(0, n));
  }
  // Non-percussion bins take channels 0,1,2,... in bin order, skipping 9.
  bin_channel.assign(bin_names.size(), 0);
  int k = 0;
  for (int b = 0; b < bin_count(); ++b) {
    if (b == percussion_bin) {
      bin_channel[b] = 9;
      continue;
    }
    bin_channel[b] = k < 9 ? k : k + 1;
    ++k;
  }
  return {};
}

Result<MusicScheme> MusicScheme::from_config_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(Errc::io, "{}: cannot open", path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::format, "{}: not a JSON object", path);
  try {
    MusicScheme s;
    s.note_events = j.at("note_events").get<int>();
    s.wait_events = j.at("wait_events").get<int>();
    s.max_wait_ms = j.at("max_wait_time").get<int>();
    s.velocity_events = j.at("velocity_events").get<int>();
    s.velocity_bins = j.at("velocity_bins").get<int>();
    s.velocity_exp = j.at("velocity_exp").get<double>();
    if (j.contains("velocity_bins_override") && j["velocity_bins_override"].is_array())
      s.velocity_bins_override = j["velocity_bins_override"].get<std::vector<int>>();
    if (j.value("unrolled_tokens", false))
      return make_error(Errc::unsupported, "{}: unrolled_tokens schemes are not supported", path);
    s.bin_names = j.at("bin_instrument_names").get<std::vector<std::string>>();
    std::string ch10 = j.value("ch10_instrument_bin_name", std::string());
    auto bin_of = [&](const std::string& n) -> int {
      auto it = std::find(s.bin_names.begin(), s.bin_names.end(), n);
      return it == s.bin_names.end() ? -2 : static_cast<int>(it - s.bin_names.begin());
    };
    s.percussion_bin = ch10.empty() ? -1 : bin_of(ch10);
    if (s.percussion_bin == -2) return make_error(Errc::format, "{}: ch10 bin '{}' is not a bin", path, ch10);
    // Program numbers come from instrument_names; names from there map to bins.
    const auto& names = j.at("instrument_names");
    const auto& to_bin = j.at("program_name_to_bin_name");
    std::unordered_map<std::string, int> program_of;
    for (int p = 0; p < 128; ++p) {
      std::string n = names.at(std::to_string(p)).get<std::string>();
      program_of[n] = p;
      std::string b = to_bin.at(n).get<std::string>();
      int bi = b.empty() ? -1 : bin_of(b);
      if (bi == -2) return make_error(Errc::format, "{}: program '{}' maps to unknown bin '{}'", path, n, b);
      s.program_to_bin[p] = bi;
    }
    const auto& bin_prog = j.at("bin_name_to_program_name");
    for (int b = 0; b < s.bin_count(); ++b) {
      if (b == s.percussion_bin) {
        s.bin_program.push_back(0);
        continue;
      }
      std::string pn = bin_prog.at(s.bin_names[b]).get<std::string>();
      auto it = program_of.find(pn);
      if (it == program_of.end()) return make_error(Errc::format, "{}: bin program '{}' is not a GM name", path, pn);
      s.bin_program.push_back(it->second);
    }
    auto st = s.finalize();
    if (!st) return make_error(Errc::format, "{}: {}", path, st.error().message);
    return s;
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::format, "{}: {}", path, e.what());
  }
}

MusicVocab::MusicVocab(MusicScheme scheme) : scheme_(std::move(scheme)) {
  words_ = {"<pad>", "<start>", "<end>"};
  for (int i = 1; i <= scheme_.wait_events; ++i) words_.push_back(fmt::format("t{}", i));
  for (int b = 0; b < scheme_.bin_count(); ++b)
    for (int n = 0; n < scheme_.note_events; ++n)
      for (int v = 0; v < scheme_.velocity_bins; ++v)
        words_.push_back(fmt::format("{}:{:x}:{:x}", scheme_.bin_prefixes[b], n, v));
  // The HF tokenizer pads the vocabulary to a multiple of 128 with <extraN>.
  for (int i = 0; words_.size() % 128 != 0; ++i) words_.push_back(fmt::format("<extra{}>", i));
  index_.reserve(words_.size());
  for (size_t i = 0; i < words_.size(); ++i) index_.emplace(words_[i], static_cast<int>(i));
}

std::optional<int> MusicVocab::find(std::string_view w) const {
  auto it = index_.find(std::string(w));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

int MusicVocab::note_id(int bin, int pitch, int velocity_bin) const {
  return first_note_id() + (bin * scheme_.note_events + pitch) * scheme_.velocity_bins + velocity_bin;
}

TokenInfo MusicVocab::decode(int id) const {
  TokenInfo t;
  if (id == kPad) return t;
  if (id == kStart) { t.kind = TokenKind::start; return t; }
  if (id == kEnd) { t.kind = TokenKind::end; return t; }
  if (id < first_note_id()) {
    t.kind = TokenKind::wait;
    t.wait_steps = id - kFirstWait + 1;
    return t;
  }
  int rel = id - first_note_id();
  int per_bin = scheme_.note_events * scheme_.velocity_bins;
  if (rel >= per_bin * scheme_.bin_count()) {
    t.kind = TokenKind::extra;
    return t;
  }
  t.kind = TokenKind::note;
  t.bin = rel / per_bin;
  t.pitch = (rel % per_bin) / scheme_.velocity_bins;
  t.velocity_bin = rel % scheme_.velocity_bins;
  return t;
}

Result<std::vector<int>> MusicVocab::parse(std::string_view text, bool unknown_as_pad) const {
  std::vector<int> ids;
  size_t i = 0, word_no = 0;
  std::string w;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    w.clear();
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[i++]))));
    auto id = find(w);
    if (!id) {
      if (!unknown_as_pad) {
        std::string shown = w.size() > 40 ? w.substr(0, 40) + "..." : w;
        return make_error(Errc::format, "unknown music token '{}' (word {})", shown, word_no + 1);
      }
      id = kPad;
    }
    ids.push_back(*id);
    ++word_no;
  }
  return ids;
}

std::string MusicVocab::join(const std::vector<int>& ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(' ');
    out += (ids[i] >= 0 && ids[i] < size()) ? words_[static_cast<size_t>(ids[i])] : std::string("<pad>");
  }
  return out;
}

}  // namespace wb::midi
