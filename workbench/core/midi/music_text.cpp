#include "core/midi/music_text.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace wb::midi {
namespace {

class MusicTokenizer final : public Tokenizer {
 public:
  std::string_view kind() const override { return "midi"; }
  int vocab_size() const override { return vocab_.size(); }
  Result<std::vector<int32_t>> encode(std::string_view bytes) const override {
    WB_TRY(ids, vocab_.parse(bytes));
    return std::vector<int32_t>(ids.begin(), ids.end());
  }
  Result<std::string> token_bytes(int32_t id) const override {
    if (id < 0 || id >= vocab_.size())
      return make_error(Errc::out_of_range, "token {} is outside the music vocabulary of {}", id, vocab_.size());
    return vocab_.word(id) + " ";
  }
  // <pad> (0) is what the RWKV music models emit to end a piece.
  int32_t eot_id() const override { return MusicVocab::kPad; }

 private:
  MusicVocab vocab_;
};

}  // namespace

bool is_music_tokenizer_spec(const std::string& spec) { return spec == "midi" || spec == "music"; }

std::unique_ptr<Tokenizer> make_music_tokenizer() { return std::make_unique<MusicTokenizer>(); }

Result<std::unique_ptr<Tokenizer>> load_music_tokenizer_json(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(Errc::io, "{}: {}", path, ec.message());
  if (size > (64u << 20)) return make_error(Errc::limit, "{}: {} bytes is too large for a tokenizer.json", path, size);
  std::ifstream in(path, std::ios::binary);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::format, "{}: not a JSON object", path);
  auto model = j.find("model");
  if (model == j.end() || !model->is_object() || !model->contains("vocab") || !(*model)["vocab"].is_object())
    return make_error(Errc::format, "{}: no model.vocab object (not a Hugging Face tokenizer.json)", path);
  const auto& v = (*model)["vocab"];
  MusicVocab vocab;
  if (v.size() != static_cast<size_t>(vocab.size()))
    return make_error(Errc::format, "{}: {} words, but the RWKV music vocabulary has {}", path, v.size(), vocab.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    auto id = vocab.find(it.key());
    if (!it->is_number_integer() || !id || *id != it->get<int64_t>())
      return make_error(Errc::format, "{}: word '{}' does not match the RWKV music vocabulary", path, it.key());
  }
  return make_music_tokenizer();
}

std::string music_text(const MusicVocab& vocab, const std::vector<int>& ids) {
  std::string s;
  s.reserve(ids.size() * 8);
  for (int id : ids) {
    if (id < 0 || id >= vocab.size()) continue;
    s += vocab.word(id);
    s.push_back(' ');
  }
  return s;
}

}  // namespace wb::midi
