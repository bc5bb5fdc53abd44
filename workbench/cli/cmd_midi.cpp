// wb midi: Standard MIDI Files <-> RWKV music tokens, info and WAV render.
//
//   wb midi tokenize FILE.mid [--ids] [--no-markers] [--vocab-config JSON]
//   wb midi detokenize TOKENS.txt|- OUT.mid [--ids] [--vocab-config JSON]
//   wb midi render IN.mid OUT.wav [--soundfont SF2] [--rate HZ] [--tail SECONDS]
//   wb midi info FILE.mid
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/verbs.hpp"
#include "core/midi/music_tokenizer.hpp"
#include "core/midi/render.hpp"

namespace wb::cli {

namespace {

Result<midi::MusicVocab> load_vocab(Args& a) {
  WB_TRY(cfg, a.value("--vocab-config"));
  if (!cfg) return midi::MusicVocab();
  WB_TRY(scheme, midi::MusicScheme::from_config_json(*cfg));
  return midi::MusicVocab(std::move(scheme));
}

Result<midi::SmfFile> read_midi(const std::string& path) {
  WB_TRY(f, midi::read_smf_file(path));
  for (const auto& w : f.warnings) std::fprintf(stderr, "wb: warning: %s: %s\n", path.c_str(), w.c_str());
  return f;
}

Result<std::string> read_text(const std::string& path) {
  constexpr size_t kMax = 64u << 20;  // ~16M tokens; bounds memory on hostile input
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return make_error(Errc::io, "{}: cannot open", path);
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::string s;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    s.append(buf, static_cast<size_t>(in.gcount()));
    if (s.size() > kMax) return make_error(Errc::limit, "{}: over {} bytes of tokens", path, kMax);
  }
  return s;
}

Result<std::vector<int>> parse_ids(const std::string& text, const midi::MusicVocab& vocab) {
  std::vector<int> ids;
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    for (char& c : w)
      if (c == ',') c = ' ';
    std::istringstream parts(w);
    std::string p;
    while (parts >> p) {
      char* end = nullptr;
      long v = std::strtol(p.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v >= vocab.size())
        return make_error(Errc::format, "'{}' is not a music token id (0..{})", p, vocab.size() - 1);
      ids.push_back(static_cast<int>(v));
    }
  }
  return ids;
}

int tokenize(Args& a) {
  bool as_ids = a.flag("--ids");
  bool no_markers = a.flag("--no-markers");
  auto vocab = load_vocab(a);
  if (!vocab) return fail(vocab.error());
  if (auto st = a.reject_unknown(); !st) return fail(st.error());
  auto pos = a.positionals();
  if (pos.size() != 2) return fail(make_error(Errc::invalid_argument, "usage: wb midi tokenize FILE.mid [--ids]"));
  auto smf = read_midi(pos[1]);
  if (!smf) return fail(smf.error());
  midi::TokenizeOptions opt;
  opt.add_start_end = !no_markers;
  auto ids = midi::midi_to_tokens(*smf, *vocab, opt);
  if (!ids) return fail(ids.error());
  std::string out;
  if (as_ids) {
    for (size_t i = 0; i < ids->size(); ++i) out += (i ? " " : "") + std::to_string((*ids)[i]);
  } else {
    out = vocab->join(*ids);
  }
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int detokenize(Args& a) {
  bool as_ids = a.flag("--ids");
  auto vocab = load_vocab(a);
  if (!vocab) return fail(vocab.error());
  if (auto st = a.reject_unknown(); !st) return fail(st.error());
  auto pos = a.positionals();
  if (pos.size() != 3)
    return fail(make_error(Errc::invalid_argument, "usage: wb midi detokenize TOKENS.txt OUT.mid [--ids]"));
  auto text = read_text(pos[1]);
  if (!text) return fail(text.error());
  auto ids = as_ids ? parse_ids(*text, *vocab) : vocab->parse(*text);
  if (!ids) return fail(make_error(ids.error().code, "{}: {}", pos[1], ids.error().message));
  auto smf = midi::tokens_to_midi(*ids, *vocab);
  if (!smf) return fail(smf.error());
  if (auto st = midi::write_smf_file(*smf, pos[2]); !st) return fail(st.error());
  return 0;
}

int render(Args& a) {
  midi::RenderOptions opt;
  auto sf = a.value("--soundfont");
  auto rate = a.integer("--rate");
  auto tail = a.number("--tail");
  if (!sf) return fail(sf.error());
  if (!rate) return fail(rate.error());
  if (!tail) return fail(tail.error());
  if (*sf) opt.soundfont = **sf;
  if (*rate) opt.sample_rate = static_cast<int>(std::clamp<int64_t>(**rate, 0, 1 << 20));
  if (*tail) opt.tail_seconds = **tail;
  if (auto st = a.reject_unknown(); !st) return fail(st.error());
  auto pos = a.positionals();
  if (pos.size() != 3) return fail(make_error(Errc::invalid_argument, "usage: wb midi render IN.mid OUT.wav"));
  auto smf = read_midi(pos[1]);
  if (!smf) return fail(smf.error());
  Log log;
  log.set_level(LogLevel::warn);
  log.set_sink([](LogLevel l, std::string_view m) {
    std::fprintf(stderr, "wb: %s: %.*s\n", log_level_name(l), static_cast<int>(m.size()), m.data());
  });
  auto stats = midi::render_wav(*smf, pos[2], opt, log);
  if (!stats) return fail(stats.error());
  std::fprintf(stderr, "rendered %.2f s (%llu frames at %d Hz), peak %.3f\n", stats->seconds,
               static_cast<unsigned long long>(stats->frames), opt.sample_rate, stats->peak);
  return 0;
}

int info(Args& a) {
  if (auto st = a.reject_unknown(); !st) return fail(st.error());
  auto pos = a.positionals();
  if (pos.size() != 2) return fail(make_error(Errc::invalid_argument, "usage: wb midi info FILE.mid"));
  auto smf = read_midi(pos[1]);
  if (!smf) return fail(smf.error());
  midi::TempoMap tempo(*smf);
  auto spans = midi::note_spans(*smf);
  nlohmann::json j;
  j["file"] = pos[1];
  j["format"] = smf->format;
  if (smf->ticks_per_quarter) j["ticks_per_quarter"] = smf->ticks_per_quarter;
  else j["smpte_division"] = smf->smpte_division;
  j["tracks"] = smf->tracks.size();
  j["events"] = smf->event_count();
  j["notes"] = spans.size();
  j["duration_seconds"] = tempo.seconds(smf->end_tick());
  nlohmann::json tempos = nlohmann::json::array(), sigs = nlohmann::json::array(), tracks = nlohmann::json::array();
  std::set<int> channels;
  std::map<int, std::set<int>> programs;  // channel -> programs used
  for (size_t t = 0; t < smf->tracks.size(); ++t) {
    nlohmann::json tj;
    size_t notes = 0;
    std::string name;
    for (const auto& e : smf->tracks[t].events) {
      if (e.is_meta() && e.meta_type() == midi::kMetaTrackName && name.empty())
        name.assign(e.payload.begin(), e.payload.end());
      if (e.is_meta() && e.meta_type() == midi::kMetaTempo && e.payload.size() >= 3) {
        uint32_t us = (uint32_t(e.payload[0]) << 16) | (uint32_t(e.payload[1]) << 8) | e.payload[2];
        tempos.push_back({{"seconds", tempo.seconds(e.tick)}, {"bpm", us ? 60e6 / us : 0.0}});
      }
      if (e.is_meta() && e.meta_type() == midi::kMetaTimeSignature && e.payload.size() >= 2)
        sigs.push_back({{"seconds", tempo.seconds(e.tick)},
                        {"signature", std::to_string(e.payload[0]) + "/" + std::to_string(1 << std::min<int>(e.payload[1], 16))}});
      if (e.is_channel() && e.kind() == 0xC0) programs[e.channel()].insert(e.data1);
      if (e.is_channel() && e.kind() == 0x90 && e.data2 > 0) {
        ++notes;
        channels.insert(e.channel());
      }
    }
    // Track names are bytes in no declared encoding; keep only ASCII so the JSON stays valid.
    for (char& c : name)
      if (c < 0x20 || c >= 0x7F) c = '?';
    tj["name"] = name;
    tj["events"] = smf->tracks[t].events.size();
    tj["notes"] = notes;
    tracks.push_back(tj);
  }
  j["tempo_changes"] = tempos;
  j["time_signatures"] = sigs;
  j["channels"] = channels;
  nlohmann::json pj = nlohmann::json::object();
  for (auto& [ch, ps] : programs) pj[std::to_string(ch)] = ps;
  j["programs"] = pj;
  j["track_list"] = tracks;
  j["warnings"] = smf->warnings;
  j["skipped_sysex"] = smf->skipped_sysex;
  std::string out = j.dump(2) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

int cmd_midi(Args& a) {
  auto pos = a.positionals();
  std::string sub = pos.empty() ? "" : pos[0];
  if (sub == "tokenize") return tokenize(a);
  if (sub == "detokenize") return detokenize(a);
  if (sub == "render") return render(a);
  if (sub == "info") return info(a);
  return fail(make_error(Errc::invalid_argument,
                         "usage: wb midi (tokenize F.mid [--ids] | detokenize T.txt OUT.mid [--ids] | "
                         "render IN.mid OUT.wav [--soundfont SF2] | info F.mid)"));
}

}  // namespace wb::cli
