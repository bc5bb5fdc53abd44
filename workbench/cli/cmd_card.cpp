// wb card show FILE [--spec v2|v3]
// wb card convert IN OUT [--spec v2|v3] [--avatar PICTURE.png]
//
// show: the card (PNG or JSON, V1/V2/V3) as normalised JSON on stdout, every
// field present, unknown fields and extensions included (V3 shape unless
// --spec v2). convert: writes PNG (both `chara` and `ccv3` chunks) or JSON by
// OUT's extension, keeping unknown fields; nothing is written on error.
#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli/verbs.hpp"
#include "core/card/card.hpp"

namespace wb::cli {
namespace {

constexpr const char* kUsage = "usage: wb card (show FILE | convert IN OUT) [--spec v2|v3] [--avatar PICTURE.png]";

Result<std::optional<card::Spec>> spec_option(Args& args) {
  auto r = args.value("--spec");
  if (!r) return r.take_error();
  if (!r->has_value()) return std::optional<card::Spec>();
  const std::string& v = r->value();
  if (v == "v2" || v == "2") return std::optional<card::Spec>(card::Spec::v2);
  if (v == "v3" || v == "3") return std::optional<card::Spec>(card::Spec::v3);
  return make_error(Errc::invalid_argument, "--spec must be v2 or v3, not '{}'", v);
}

void print_warnings(const card::Card& c) {
  for (const std::string& w : c.warnings) std::fprintf(stderr, "wb: warning: %s\n", w.c_str());
}

int show(Args& args) {
  auto spec = spec_option(args);
  if (!spec) return fail(spec.error());
  if (auto s = args.reject_unknown(); !s) return fail(s.error());
  auto pos = args.positionals();
  if (pos.size() != 2) return fail(make_error(Errc::invalid_argument, "{}", kUsage));
  auto c = card::load_card(pos[1]);
  if (!c) return fail(c.error());
  print_warnings(*c);
  auto json = card::card_to_json(*c, spec->value_or(card::Spec::v3), 2);
  if (!json) return fail(json.error());
  std::fwrite(json->data(), 1, json->size(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int convert(Args& args) {
  auto spec = spec_option(args);
  if (!spec) return fail(spec.error());
  auto avatar = args.value("--avatar");
  if (!avatar) return fail(avatar.error());
  if (auto s = args.reject_unknown(); !s) return fail(s.error());
  auto pos = args.positionals();
  if (pos.size() != 3) return fail(make_error(Errc::invalid_argument, "{}", kUsage));
  auto c = card::load_card(pos[1]);
  if (!c) return fail(c.error());
  print_warnings(*c);
  card::SaveOptions opt;
  opt.json_spec = *spec;
  if (*avatar) {
    std::ifstream in(**avatar, std::ios::binary);
    if (!in) return fail(make_error(Errc::io, "{}: cannot open the avatar picture", **avatar));
    opt.png.avatar_png.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto s = card::save_card(*c, pos[2], opt);
  if (!s) return fail(s.error());
  return 0;
}

}  // namespace

int cmd_card(Args& args) {
  auto pos = args.positionals();
  if (pos.empty()) return fail(make_error(Errc::invalid_argument, "{}", kUsage));
  if (pos[0] == "show") return show(args);
  if (pos[0] == "convert") return convert(args);
  return fail(make_error(Errc::invalid_argument, "unknown card command '{}'; {}", pos[0], kUsage));
}

}  // namespace wb::cli
