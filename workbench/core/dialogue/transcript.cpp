#include "core/dialogue/transcript.hpp"
#include "core/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace wb::dialogue {
namespace {

using Json = nlohmann::ordered_json;

// ISO 8601 UTC with milliseconds, the form JavaScript's Date parses.
std::string iso_date(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (!gmtime_r(&secs, &tm)) return "";
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

std::string label(const TranscriptMessage& m) {
  std::string s = m.speaker;
  if (!m.note.empty()) s += " (" + m.note + ")";
  return s;
}

// Escapes what would make a line start a heading, list, quote, rule, code
// fence or table, and inline emphasis characters anywhere.
std::string md_escape(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (line_start) {
      std::size_t j = i;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) out += text[j++];
      i = j;
      if (i >= text.size()) break;
      c = text[i];
      bool numbered = false;
      if (std::isdigit(static_cast<unsigned char>(c))) {
        std::size_t k = i;
        while (k < text.size() && std::isdigit(static_cast<unsigned char>(text[k]))) ++k;
        numbered = k < text.size() && (text[k] == '.' || text[k] == ')');
        if (numbered) {
          out.append(text, i, k - i);
          out += '\\';
          i = k;
          c = text[i];
          out += c;
          line_start = false;
          continue;
        }
      }
      if (std::strchr("#>-+=|~`", c) != nullptr) out += '\\';
    }
    if (c == '*' || c == '_' || c == '\\' || c == '`' || c == '[' || c == ']' || c == '<') out += '\\';
    out += c;
    line_start = c == '\n';
  }
  return out;
}



}  // namespace

std::string to_text(const Transcript& t) {
  std::string out;
  if (!t.title.empty()) out += t.title + "\n\n";
  for (const TranscriptMessage& m : t.messages) {
    if (m.role == Role::narrator && m.speaker.empty()) {
      out += m.text;
    } else {
      out += label(m) + ": " + m.text;
    }
    out += "\n\n";
  }
  return out;
}

std::string to_markdown(const Transcript& t) {
  std::string out;
  if (!t.title.empty()) out += "# " + md_escape(t.title) + "\n\n";
  for (const TranscriptMessage& m : t.messages) {
    std::string body = md_escape(m.text);
    if (m.role == Role::narrator) {
      // Italics per paragraph: emphasis does not cross blank lines.
      std::string italic;
      std::size_t start = 0;
      while (start <= body.size()) {
        std::size_t end = body.find("\n\n", start);
        std::string para = body.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!para.empty()) italic += "*" + para + "*";
        if (end == std::string::npos) break;
        italic += "\n\n";
        start = end + 2;
      }
      body = italic;
      if (!m.speaker.empty()) body = "**" + md_escape(label(m)) + ":** " + body;
    } else {
      body = "**" + md_escape(label(m)) + ":** " + body;
    }
    // Single newlines inside a message become hard line breaks.
    std::string withbreaks;
    for (std::size_t i = 0; i < body.size(); ++i) {
      bool single = body[i] == '\n' && (i + 1 >= body.size() || body[i + 1] != '\n') && (i == 0 || body[i - 1] != '\n');
      withbreaks += single ? std::string("  \n") : std::string(1, body[i]);
    }
    out += withbreaks + "\n\n";
  }
  return out;
}

Result<std::string> to_sillytavern_jsonl(const Transcript& t) {
  std::string out;
  try {
    Json head = Json::object();
    head["user_name"] = t.user_name;
    head["character_name"] = t.character_name;
    head["create_date"] = iso_date(t.create_date_ms);
    head["chat_metadata"] = Json::object();
    out += head.dump() + "\n";
    for (const TranscriptMessage& m : t.messages) {
      Json j = Json::object();
      j["name"] = m.role == Role::narrator && m.speaker.empty() ? std::string("Narrator") : m.speaker;
      j["is_user"] = m.role == Role::user;
      j["is_system"] = m.role == Role::narrator;
      j["send_date"] = iso_date(m.send_date_ms);
      j["mes"] = m.text;
      Json extra = Json::object();
      if (m.role == Role::narrator) extra["type"] = "narrator";
      if (!m.note.empty()) extra["workbench_note"] = m.note;
      j["extra"] = std::move(extra);
      if (!m.alternatives.empty()) {
        j["swipes"] = m.alternatives;
        j["swipe_id"] = std::min(m.chosen, m.alternatives.size() - 1);
      }
      out += j.dump() + "\n";
    }
  } catch (const Json::exception& e) {
    return make_error(Errc::invalid_argument, "transcript: cannot write as JSON: {}", e.what());
  }
  return out;
}

Status export_transcript(const Transcript& t, const std::string& path) {
  std::string ext = lower_extension(path);
  std::string bytes;
  if (ext == ".txt") {
    bytes = to_text(t);
  } else if (ext == ".md" || ext == ".markdown") {
    bytes = to_markdown(t);
  } else if (ext == ".jsonl") {
    auto j = to_sillytavern_jsonl(t);
    if (!j) return make_error(j.error().code, "{}: {}", path, j.error().message);
    bytes = std::move(*j);
  } else {
    return make_error(Errc::invalid_argument, "{}: unknown transcript type '{}' (use .txt, .md or .jsonl)", path, ext);
  }
  return write_file_atomically(path, bytes);
}

}  // namespace wb::dialogue
