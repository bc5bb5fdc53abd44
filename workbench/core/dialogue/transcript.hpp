// Transcript export for dialogue scenes: one path through a conversation as
// plain text, Markdown, or SillyTavern's chat JSONL (a header line, then one
// JSON object per message). Independent of the model and the state tree: the
// caller flattens the path into messages.
//
//   wb::dialogue::Transcript t;
//   t.user_name = "You";
//   t.character_name = "Mira";
//   wb::dialogue::TranscriptMessage m;
//   m.speaker = "Mira";
//   m.text = "Come in!";
//   t.messages.push_back(m);
//   std::string md = wb::dialogue::to_markdown(t);
//   auto jsonl = wb::dialogue::to_sillytavern_jsonl(t);   // Result<std::string>
//   auto path = wb::dialogue::export_transcript(t, "scene.md");  // by extension
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace wb::dialogue {

enum class Role { character, user, narrator };

struct TranscriptMessage {
  std::string speaker;              // character or persona name; may be empty for the narrator
  Role role = Role::character;
  std::string text;
  int64_t send_date_ms = 0;         // unix milliseconds; 0 = unknown
  std::string note;                 // e.g. "whispers to Bob", "aside"; empty = none
  // Sibling alternatives (swipes) of this message including `text` itself,
  // and which one is shown; empty when the message has no alternatives.
  std::vector<std::string> alternatives;
  std::size_t chosen = 0;
};

struct Transcript {
  std::string title;                // optional heading
  std::string user_name = "You";
  std::string character_name;       // main character (SillyTavern's header wants one)
  int64_t create_date_ms = 0;
  std::vector<TranscriptMessage> messages;
};

// "Name: text" blocks separated by blank lines; narrator lines unprefixed.
std::string to_text(const Transcript& t);

// A heading, then "**Name:** text" paragraphs; narrator text in italics.
// Markdown control characters at line starts are escaped so that a message
// cannot turn into a heading or list by accident.
std::string to_markdown(const Transcript& t);

// SillyTavern chat file: first line {user_name, character_name, create_date,
// chat_metadata}, then per message {name, is_user, is_system, send_date, mes,
// extra} (+ swipes, swipe_id). Fails only on text that is not UTF-8.
Result<std::string> to_sillytavern_jsonl(const Transcript& t);

// Writes by extension (.txt, .md, .jsonl) through a temporary file renamed
// into place.
Status export_transcript(const Transcript& t, const std::string& path);

}  // namespace wb::dialogue
