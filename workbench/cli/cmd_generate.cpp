// wb generate MODEL [--tokenizer T] --prompt P -n N [--seed S] [--temp X] [--top-p X] [--backend B]
// The continuation goes to stdout as it is produced; speed to stderr.
#include <chrono>
#include <cstdio>

#include "cli/story_support.hpp"
#include "cli/verbs.hpp"
#include "core/model/default_model.hpp"

namespace wb::cli {

int cmd_generate(Args& args) {
  auto tok = args.value("--tokenizer");
  if (!tok) return fail(tok.error());
  auto prompt = args.value("--prompt");
  if (!prompt) return fail(prompt.error());
  auto n = args.integer("-n");
  if (!n) return fail(n.error());
  auto backend = args.value("--backend");
  if (!backend) return fail(backend.error());
  auto settings = sampler_from_args(args);
  if (!settings) return fail(settings.error());
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  auto pos = args.positionals();
  std::string tokenizer = tok->value_or("");
  if (pos.empty()) {  // no model given: the shipped default prose model and its tokenizer
    auto d = find_default_model();
    if (!d) return fail(make_error(Errc::io, "no MODEL given and no default model found (assets/models/prose-rwkv7.pth)"));
    pos.push_back(d->model);
    if (tokenizer.empty()) tokenizer = d->tokenizer;
  }
  if (pos.size() != 1 || !*prompt)
    return fail(make_error(Errc::invalid_argument, "usage: wb generate [MODEL] [--tokenizer T] --prompt P -n N [--seed S]"));
  if (prompt->value().empty()) return fail(make_error(Errc::invalid_argument, "--prompt must not be empty"));
  int64_t count = n->value_or(settings->max_tokens);
  if (count < 0 || count > 10'000'000) return fail(make_error(Errc::invalid_argument, "-n must be 0..10000000"));

  auto mc = load_model_and_codec(pos[0], tokenizer, backend->value_or(""));
  if (!mc) return fail(mc.error());
  Model& model = *mc->model;
  auto ids = mc->codec.encode(**prompt);
  if (!ids) return fail(ids.error());
  if (ids->empty()) return fail(make_error(Errc::invalid_argument, "the prompt encodes to no tokens"));
  const auto V = static_cast<std::size_t>(model.info().n_vocab);
  State state = model.new_state();
  std::vector<float> logits(V);
  auto t0 = std::chrono::steady_clock::now();
  if (auto st = model.prefill(*ids, state, logits); !st) return fail(st.error());
  auto t1 = std::chrono::steady_clock::now();

  sampling::Sampler sampler(*settings, static_cast<int>(V));
  std::string text;
  int64_t made = 0;
  State* sp = &state;
  for (; made < count; ++made) {
    int32_t t = sampler.sample(logits);
    sampler.accept(t);
    std::string piece = mc->codec.piece(t);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    std::size_t before = text.size();
    text += piece;
    bool stop = false;
    for (const std::string& s : settings->stop)
      if (!s.empty() && text.find(s, before >= s.size() ? before - s.size() + 1 : 0) != std::string::npos) stop = true;
    if (stop) {
      ++made;
      break;
    }
    if (made + 1 < count)
      if (auto st = model.decode(std::span<const int32_t>(&t, 1), std::span<State* const>(&sp, 1), logits); !st)
        return fail(st.error());
  }
  std::printf("\n");
  std::fflush(stdout);
  auto t2 = std::chrono::steady_clock::now();
  double pp = std::chrono::duration<double>(t1 - t0).count(), tg = std::chrono::duration<double>(t2 - t1).count();
  std::fprintf(stderr, "prompt %zu tokens, %.1f tokens/s; generated %lld tokens, %.1f tokens/s\n", ids->size(),
               pp > 0 ? ids->size() / pp : 0.0, static_cast<long long>(made), tg > 0 ? made / tg : 0.0);
  return 0;
}

}  // namespace wb::cli
