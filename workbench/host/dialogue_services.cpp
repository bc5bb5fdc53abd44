#include "host/dialogue_services.hpp"

#include <cstring>

#include "core/card/card.hpp"
#include "core/dialogue/transcript.hpp"
#include "host/services.hpp"
#include "host/story_service.hpp"

namespace wb::host {

using namespace detail;

namespace {

constexpr std::size_t kMaxPathBytes = 4096;
constexpr std::size_t kMaxCardJson = 8u << 20;

// ---- wb.cards/1 ------------------------------------------------------------

// A card given as JSON text by a plugin, or nullopt with the status in `st`.
std::optional<card::Card> parse_arg(HostContext* ctx, const char* fn, const char* json, size_t len, wb_status& st) {
  if (!json && len > 0) {
    st = misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "json is NULL with len > 0");
    return std::nullopt;
  }
  if (len > kMaxCardJson) {
    st = soft_fail(fn, WB_ERR_INVALID_ARGUMENT, fmt::format("card JSON of {} bytes is larger than {}", len, kMaxCardJson));
    return std::nullopt;
  }
  auto c = card::parse_card_json(std::string_view(json ? json : "", len), "card JSON");
  if (!c) {
    st = soft_fail(fn, WB_ERR_INVALID_ARGUMENT, c.error().message);
    return std::nullopt;
  }
  st = WB_OK;
  return std::move(*c);
}

// The string field `key` of a card, or nullptr for an unknown key.
std::string* field_ptr(card::Card& c, const std::string& key) {
  if (key == "name") return &c.name;
  if (key == "description") return &c.description;
  if (key == "personality") return &c.personality;
  if (key == "scenario") return &c.scenario;
  if (key == "first_mes") return &c.first_mes;
  if (key == "mes_example") return &c.mes_example;
  if (key == "creator_notes") return &c.creator_notes;
  if (key == "system_prompt") return &c.system_prompt;
  if (key == "post_history_instructions") return &c.post_history_instructions;
  if (key == "creator") return &c.creator;
  if (key == "character_version") return &c.character_version;
  if (key == "nickname") return &c.nickname;
  return nullptr;
}

HostContext* main_caller(const wb_host* host, const char* fn, wb_status& st) {
  HostContext* ctx = resolve(host, fn);
  st = WB_ERR_INVALID_ARGUMENT;
  if (!ctx) return nullptr;
  if (!on_main_thread(ctx)) {
    st = misuse(ctx, fn, WB_ERR_WRONG_THREAD, "called off the main thread");
    return nullptr;
  }
  st = WB_OK;
  return ctx;
}

wb_status cards_load_json(const wb_host* host, const char* path, char* buf, size_t capacity, size_t* out_len) {
  const char* fn = "cards.load_json";
  wb_status st;
  HostContext* ctx = main_caller(host, fn, st);
  if (!ctx) return st;
  std::string p;
  if (!bounded(path, kMaxPathBytes, p) || p.empty()) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "path is NULL, empty or too long");
  auto c = card::load_card(p);
  if (!c) return soft_fail(fn, c.error().code == Errc::io ? WB_ERR_IO : WB_ERR_INVALID_ARGUMENT, c.error().message);
  for (const auto& w : c->warnings) ctx->services->log.warn("card {}: {}", p, w);
  auto json = card::card_to_json(*c, card::Spec::v3, -1);
  if (!json) return soft_fail(fn, WB_ERR_INVALID_ARGUMENT, json.error().message);
  return copy_text_out(ctx, fn, *json, buf, capacity, out_len);
}

wb_status cards_field(const wb_host* host, const char* json, size_t len, const char* key, char* buf, size_t capacity,
                      size_t* out_len) {
  const char* fn = "cards.field";
  wb_status st;
  HostContext* ctx = main_caller(host, fn, st);
  if (!ctx) return st;
  std::string k;
  if (!bounded(key, WB_MAX_ID_LENGTH, k)) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "key is NULL or too long");
  auto c = parse_arg(ctx, fn, json, len, st);
  if (!c) return st;
  if (k == "display_name") return copy_text_out(ctx, fn, c->display_name(), buf, capacity, out_len);
  std::string* f = field_ptr(*c, k);
  if (!f) return misuse(ctx, fn, WB_ERR_NOT_FOUND, fmt::format("no string field '{}' in a card", k));
  return copy_text_out(ctx, fn, *f, buf, capacity, out_len);
}

wb_status cards_set_field(const wb_host* host, const char* json, size_t len, const char* key, const char* value,
                          char* buf, size_t capacity, size_t* out_len) {
  const char* fn = "cards.set_field";
  wb_status st;
  HostContext* ctx = main_caller(host, fn, st);
  if (!ctx) return st;
  std::string k, v;
  if (!bounded(key, WB_MAX_ID_LENGTH, k)) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "key is NULL or too long");
  if (!bounded(value, card::Limits{}.max_field_bytes, v))
    return soft_fail(fn, WB_ERR_INVALID_ARGUMENT, value ? "value is longer than a card field may be" : "value is NULL");
  auto c = parse_arg(ctx, fn, json, len, st);
  if (!c) return st;
  std::string* f = field_ptr(*c, k);
  if (!f) return misuse(ctx, fn, WB_ERR_NOT_FOUND, fmt::format("no string field '{}' in a card", k));
  *f = std::move(v);
  auto out = card::card_to_json(*c, card::Spec::v3, -1);
  if (!out) return soft_fail(fn, WB_ERR_INVALID_ARGUMENT, out.error().message);
  return copy_text_out(ctx, fn, *out, buf, capacity, out_len);
}

wb_status cards_save(const wb_host* host, const char* json, size_t len, const char* path) {
  const char* fn = "cards.save";
  wb_status st;
  HostContext* ctx = main_caller(host, fn, st);
  if (!ctx) return st;
  std::string p;
  if (!bounded(path, kMaxPathBytes, p) || p.empty()) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "path is NULL, empty or too long");
  auto c = parse_arg(ctx, fn, json, len, st);
  if (!c) return st;
  auto s = card::save_card(*c, p);
  if (!s) return soft_fail(fn, s.error().code == Errc::invalid_argument ? WB_ERR_INVALID_ARGUMENT : WB_ERR_IO, s.error().message);
  return ok();
}

const wb_host_cards kCards = {cards_load_json, cards_field, cards_set_field, cards_save};

// ---- wb.transcript/1 ---------------------------------------------------------

wb_status transcript_write(const wb_host* host, const wb_transcript* t, const char* path) {
  const char* fn = "transcript.write";
  wb_status st;
  HostContext* ctx = main_caller(host, fn, st);
  if (!ctx) return st;
  std::string p;
  if (!bounded(path, kMaxPathBytes, p) || p.empty()) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "path is NULL, empty or too long");
  if (!t || !t->user_name) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "transcript or its user_name is NULL");
  if (t->message_count > 1000000 || (t->message_count > 0 && !t->messages))
    return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "messages is NULL or more than 1,000,000");
  constexpr std::size_t kText = 16u << 20;
  dialogue::Transcript tr;
  std::string s;
  if (t->title && !bounded(t->title, kText, tr.title)) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "title too long");
  if (!bounded(t->user_name, kText, tr.user_name)) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "user_name too long");
  if (t->character_name && !bounded(t->character_name, kText, tr.character_name))
    return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, "character_name too long");
  tr.create_date_ms = t->create_date_ms;
  for (uint32_t i = 0; i < t->message_count; ++i) {
    const wb_transcript_message& m = t->messages[i];
    dialogue::TranscriptMessage out;
    if (m.role < WB_TRANSCRIPT_CHARACTER || m.role > WB_TRANSCRIPT_NARRATOR)
      return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, fmt::format("message {}: unknown role {}", i, m.role));
    out.role = m.role == WB_TRANSCRIPT_USER ? dialogue::Role::user
               : m.role == WB_TRANSCRIPT_NARRATOR ? dialogue::Role::narrator : dialogue::Role::character;
    if ((m.speaker && !bounded(m.speaker, kText, out.speaker)) || !bounded(m.text, kText, out.text) ||
        (m.note && !bounded(m.note, kText, out.note)))
      return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, fmt::format("message {}: NULL text or a field over 16 MiB", i));
    if (m.alternative_count > 4096 || (m.alternative_count > 0 && !m.alternatives) ||
        (m.alternative_count > 0 && m.chosen >= m.alternative_count))
      return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, fmt::format("message {}: bad alternatives", i));
    for (uint32_t k = 0; k < m.alternative_count; ++k) {
      if (!bounded(m.alternatives[k], kText, s)) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, fmt::format("message {}: alternative {} is NULL", i, k));
      out.alternatives.push_back(s);
    }
    out.chosen = m.chosen;
    out.send_date_ms = m.send_date_ms;
    tr.messages.push_back(std::move(out));
  }
  auto r = dialogue::export_transcript(tr, p);
  if (!r) return soft_fail(fn, r.error().code == Errc::io ? WB_ERR_IO : WB_ERR_INVALID_ARGUMENT, r.error().message);
  return ok();
}

const wb_host_transcript kTranscript = {transcript_write};

// ---- wb.score/1 --------------------------------------------------------------

wb_status score_score(const wb_host* host, wb_node_id from, const char* const* texts, const size_t* lens, uint32_t count,
                      double* out_logprob, uint32_t* out_tokens) {
  const char* fn = "score.score";
  wb_status st;
  HostContext* ctx = main_caller(host, fn, st);
  if (!ctx) return st;
  session::Story* story = ctx->services->story ? ctx->services->story->story : nullptr;
  if (!story) return soft_fail(fn, WB_ERR_UNSUPPORTED, "no project is open (open_project first)");
  if (!story->model()) return soft_fail(fn, WB_ERR_UNSUPPORTED, "the project has no model loaded");
  if (count == 0 || count > WB_SCORE_MAX_CANDIDATES || !texts || !lens || !out_logprob)
    return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT,
                  fmt::format("count {} (1..{}) or NULL texts/lens/out_logprob", count, WB_SCORE_MAX_CANDIDATES));
  if (!story->node(from)) return misuse(ctx, fn, WB_ERR_NOT_FOUND, fmt::format("no node {}", from));
  std::vector<std::vector<int32_t>> seqs;
  for (uint32_t i = 0; i < count; ++i) {
    if (!texts[i] && lens[i] > 0) return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, fmt::format("text {} is NULL", i));
    if (lens[i] > WB_SCORE_MAX_TOKENS * 64u)
      return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, fmt::format("text {} is longer than {} tokens", i, WB_SCORE_MAX_TOKENS));
    auto toks = story->codec().encode(std::string_view(texts[i] ? texts[i] : "", lens[i]));
    if (!toks) return soft_fail(fn, WB_ERR_INVALID_ARGUMENT, toks.error().message);
    if (toks->size() > WB_SCORE_MAX_TOKENS)
      return misuse(ctx, fn, WB_ERR_INVALID_ARGUMENT, fmt::format("text {} has {} tokens, more than {}", i, toks->size(), WB_SCORE_MAX_TOKENS));
    seqs.push_back(std::move(*toks));
  }
  auto r = story->score(from, seqs);
  if (!r) return soft_fail(fn, r.error().code == Errc::out_of_range ? WB_ERR_NOT_FOUND : WB_ERR_INTERNAL, r.error().message);
  for (uint32_t i = 0; i < count; ++i) {
    out_logprob[i] = (*r)[i];
    if (out_tokens) out_tokens[i] = static_cast<uint32_t>(seqs[i].size());
  }
  return ok();
}

const wb_host_score kScore = {score_score};

}  // namespace

const wb_host_cards& cards_table() { return kCards; }
const wb_host_transcript& transcript_table() { return kTranscript; }
const wb_host_score& score_table() { return kScore; }

}  // namespace wb::host
