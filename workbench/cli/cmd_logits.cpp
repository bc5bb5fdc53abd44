#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cli/verbs.hpp"
#include "core/model/load.hpp"

namespace wb::cli {
namespace {

Result<std::vector<int32_t>> parse_tokens(const std::string& s) {
  std::vector<int32_t> out;
  size_t at = 0;
  while (at <= s.size()) {
    size_t end = s.find(',', at);
    if (end == std::string::npos) end = s.size();
    const std::string item = s.substr(at, end - at);
    char* stop = nullptr;
    errno = 0;
    const long v = std::strtol(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || errno != 0 || v < 0 || v > INT32_MAX)
      return make_error(Errc::invalid_argument, "--tokens: '{}' is not a token id (expected e.g. 1,2,3)", item);
    out.push_back(static_cast<int32_t>(v));
    at = end + 1;
  }
  return out;
}

}  // namespace

// wb logits MODEL --tokens 1,2,3 [--backend cpu] [--threads N] [--out F]
int cmd_logits(Args& args) {
  auto tokens_s = args.value("--tokens");
  if (!tokens_s) return fail(tokens_s.error());
  auto backend = args.value("--backend");
  if (!backend) return fail(backend.error());
  auto out = args.value("--out");
  if (!out) return fail(out.error());
  auto threads = args.integer("--threads");
  if (!threads) return fail(threads.error());
  auto device = device_option(args);
  if (!device) return fail(device.error());
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  const auto pos = args.positionals();
  if (pos.size() != 1 || !*tokens_s)
    return fail(make_error(Errc::invalid_argument, "usage: wb logits MODEL --tokens 1,2,3 [--out F]"));
  auto tokens = parse_tokens(**tokens_s);
  if (!tokens) return fail(tokens.error());
  LoadOptions opt;
  if (*backend) opt.backend = **backend;
  opt.device = *device;
  if (*threads) {
    if (**threads < 1 || **threads > 1024)
      return fail(make_error(Errc::invalid_argument, "--threads must be 1..1024"));
    opt.threads = static_cast<int>(**threads);
  }
  auto model = load_model(pos[0], opt);
  if (!model) return fail(model.error());
  State s = (*model)->new_state();
  std::vector<float> logits((*model)->info().n_vocab);
  if (auto st = (*model)->prefill(*tokens, s, logits); !st) return fail(st.error());
  if (*out) {
    FILE* f = std::fopen((*out)->c_str(), "wb");
    if (!f) return fail(make_error(Errc::io, "{}: cannot write: {}", **out, std::strerror(errno)));
    // Raw little-endian float32 (this build targets little-endian hosts).
    const size_t n = std::fwrite(logits.data(), sizeof(float), logits.size(), f);
    if (std::fclose(f) != 0 || n != logits.size())
      return fail(make_error(Errc::io, "{}: write failed", **out));
    return 0;
  }
  for (float v : logits) std::printf("%.9g\n", v);
  return 0;
}

}  // namespace wb::cli
