// wb tokenize --tokenizer T (--text S | --text-file F): token ids separated by
// single spaces, then a newline. A file's raw bytes are encoded as they are
// (invalid UTF-8 and NUL included).
#include <cstdio>
#include <string>

#include "cli/verbs.hpp"
#include "core/tokenizer/tokenizer.hpp"
#include "core/util/mapped_file.hpp"

namespace wb::cli {

int cmd_tokenize(Args& args) {
  auto spec = args.value("--tokenizer");
  if (!spec) return fail(spec.error());
  auto text = args.value("--text");
  if (!text) return fail(text.error());
  auto file = args.value("--text-file");
  if (!file) return fail(file.error());
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  if (!args.positionals().empty())
    return fail(make_error(Errc::invalid_argument, "unexpected argument '{}'", args.positionals().front()));
  if (!*spec) return fail(make_error(Errc::invalid_argument, "--tokenizer is required (byte, vocab .txt, .model, .gguf)"));
  if (text->has_value() == file->has_value())
    return fail(make_error(Errc::invalid_argument, "give exactly one of --text or --text-file"));

  std::string input;
  if (*text) {
    input = **text;
  } else {
    auto map = MappedFile::open(**file);
    if (!map) return fail(map.error());
    auto b = (*map)->bytes();
    input.assign(reinterpret_cast<const char*>(b.data()), b.size());
  }
  auto tok = load_tokenizer(**spec);
  if (!tok) return fail(tok.error());
  auto ids = (*tok)->encode(input);
  if (!ids) return fail(ids.error());
  std::string out;
  for (size_t i = 0; i < ids->size(); ++i) {
    if (i) out += ' ';
    out += std::to_string((*ids)[i]);
  }
  out += '\n';
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace wb::cli
