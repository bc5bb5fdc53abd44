#include <cstdio>

#include "cli/verbs.hpp"
#include "core/model/synth.hpp"

namespace wb::cli {

// wb synth --arch rwkv7 --layers L --embd C --vocab V --dtype f16|f32|q8_0|q4_0 --out FILE [--seed S]
int cmd_synth(Args& args) {
  auto arch = args.value("--arch");
  if (!arch) return fail(arch.error());
  auto layers = args.integer("--layers");
  if (!layers) return fail(layers.error());
  auto embd = args.integer("--embd");
  if (!embd) return fail(embd.error());
  auto vocab = args.integer("--vocab");
  if (!vocab) return fail(vocab.error());
  auto head = args.integer("--head-size");
  if (!head) return fail(head.error());
  auto dtype = args.value("--dtype");
  if (!dtype) return fail(dtype.error());
  auto out = args.value("--out");
  if (!out) return fail(out.error());
  auto seed = args.integer("--seed");
  if (!seed) return fail(seed.error());
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  if (!args.positionals().empty() || !*out)
    return fail(make_error(Errc::invalid_argument,
                           "usage: wb synth --arch rwkv7 --layers L --embd C --vocab V --dtype f16 --out FILE [--seed S]"));
  if (*arch && **arch != "rwkv7")
    return fail(make_error(Errc::unsupported, "synth: only --arch rwkv7 is supported (got '{}')", **arch));
  SynthSpec spec;
  auto in_range = [](const std::optional<int64_t>& v, int64_t lo, int64_t hi) { return !v || (*v >= lo && *v <= hi); };
  if (!in_range(*layers, 1, 1024) || !in_range(*embd, 32, 16384) || !in_range(*vocab, 256, 1 << 22) ||
      !in_range(*head, 1, 1024) || !in_range(*seed, 0, INT64_MAX))
    return fail(make_error(Errc::invalid_argument, "synth: --layers 1..1024, --embd 32..16384, --vocab 256..4194304"));
  if (*layers) spec.n_layer = static_cast<int>(**layers);
  if (*embd) spec.n_embd = static_cast<int>(**embd);
  if (*vocab) spec.n_vocab = static_cast<int>(**vocab);
  if (*head) spec.head_size = static_cast<int>(**head);
  if (*dtype) spec.dtype = **dtype;
  if (*seed) spec.seed = static_cast<uint64_t>(**seed);
  if (auto st = write_synth_rwkv7_gguf(spec, **out); !st) return fail(st.error());
  return 0;
}

}  // namespace wb::cli
