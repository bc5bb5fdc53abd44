// The RWKV music vocabulary as a wb::Tokenizer, so a story tree, a project
// and a generation session hold music exactly as they hold prose: a MIDI
// story's text is its tokens' words, each followed by one space.
//
//   WB_TRY(tok, wb::load_tokenizer("midi"));          // or "music", or tokenizer-midi.json
//   WB_TRY(ids, tok->encode("<start> t12 pi:3c:7"));   // {1, 14, ...}
//   std::string text = wb::midi::music_text(vocab, ids);  // "<start> t12 pi:3c:7 "
//
// Why a trailing space per token: concatenating the pieces of any token
// sequence must give back the text exactly (the tree splits nodes at token
// boundaries and joins paths by concatenation), and a generated child must
// read on from its parent without a separator. Text in that canonical form
// round-trips exactly; encode() also accepts any other whitespace and upper
// case (it then cannot round-trip byte for byte, so callers that store text
// normalise it with music_text first).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/midi/music_vocab.hpp"
#include "core/tokenizer/tokenizer.hpp"

namespace wb::midi {

// Tokenizer specs that name the music vocabulary ("midi", "music").
bool is_music_tokenizer_spec(const std::string& spec);

// The standard scheme's vocabulary (20096 ids).
std::unique_ptr<Tokenizer> make_music_tokenizer();

// Checks that a Hugging Face tokenizer.json (tokenizer-midi.json) holds the
// standard music vocabulary id for id, then returns the music tokenizer.
Result<std::unique_ptr<Tokenizer>> load_music_tokenizer_json(const std::string& path);

// Canonical text of ids: each word followed by one space. Ids outside the
// vocabulary are skipped.
std::string music_text(const MusicVocab& vocab, const std::vector<int>& ids);

// Vocabulary size of the standard scheme (models of this size get the music
// tokenizer when none is named).
inline constexpr int kMusicVocabSize = 20096;

}  // namespace wb::midi
