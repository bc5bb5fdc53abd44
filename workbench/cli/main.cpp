// wb: the headless face of the workbench. The verbs and their output shapes
// are a contract (docs/ARCHITECTURE.md): extend freely, never rename.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/verbs.hpp"

namespace wb::cli {
namespace {

const Verb kVerbs[] = {
    {"info", "wb info MODEL [--backend cpu|vulkan|auto] [--device N]", "read a model's header: one JSON object", cmd_info},
    {"logits", "wb logits MODEL --tokens 1,2,3 [--backend cpu|vulkan|auto] [--device N] [--out F]",
     "run tokens from the initial state; logits after the last one", cmd_logits},
    {"generate", "wb generate [MODEL] [--tokenizer T] --prompt P -n N [--seed S] [--temp X] [--top-p X] [--backend B]",
     "continue text", cmd_generate},
    {"tokenize", "wb tokenize --tokenizer T (--text S | --text-file F)", "encode text to token ids", cmd_tokenize},
    {"bench", "wb bench MODEL [--backend B] [--device N] [-p 512] [-n 128] [-t THREADS] [--batch B]",
     "measure prefill and decode speed", cmd_bench},
    {"synth", "wb synth --arch rwkv7 --layers L --embd C --vocab V --dtype f16 --out FILE",
     "write a random-weight model of a real shape", cmd_synth},
    {"story", "wb story (new|append|fork|edit|continue|list|switch|show|label|bookmark|delete|export|import) PROJECT ...",
     "work on a story project", cmd_story},
    {"bench-tree", "wb bench-tree MODEL [--tokens T]", "measure the state tree", cmd_bench_tree},
    {"devices", "wb devices", "list compute devices", cmd_devices},
    {"plugins", "wb plugins (list [--paths]|enable X|disable X)", "manage plugins", cmd_plugins},
    {"plugin", "wb plugin run ID ...", "drive a plugin headless", cmd_plugin},
    {"card", "wb card (show FILE | convert IN OUT)", "character cards (PNG or JSON, V2 or V3)", cmd_card},
    {"midi", "wb midi (tokenize F.mid [--ids] | detokenize T.txt OUT.mid [--ids] | render IN.mid OUT.wav | info F.mid)", "MIDI tools", cmd_midi},
};

void print_help() {
  std::printf("wb %s: RWKV creative-writing workbench, command line\n\n", WB_VERSION);
  std::printf("usage: wb VERB [options]\n\nverbs:\n");
  for (const Verb& v : kVerbs) std::printf("  %-10s %s\n", v.name, v.summary);
  std::printf("\nusage of each verb:\n");
  for (const Verb& v : kVerbs) std::printf("  %s\n", v.usage);
  std::printf("\noptions:\n  --help     this text (or: wb VERB --help)\n  --version  print the version\n");
  std::printf("\nErrors go to stderr with a non-zero exit status.\n");
}

}  // namespace

Result<int> device_option(Args& args) {
  WB_TRY(device, args.integer("--device"));
  if (!device) return -1;
  if (*device < 0 || *device > 64)
    return make_error(Errc::invalid_argument, "--device must be 0..64 (see wb devices)");
  return static_cast<int>(*device);
}

Log& stderr_log() {
  static Log* log = [] {
    auto* l = new Log;  // never destroyed: a backend may warn while the process exits
    l->set_level(LogLevel::warn);
    l->set_sink([](LogLevel lv, std::string_view m) {
      std::fprintf(stderr, "wb: %s: %.*s\n", log_level_name(lv), static_cast<int>(m.size()), m.data());
    });
    return l;
  }();
  return *log;
}

int not_implemented(const char* verb, const char* issue) {
  std::fprintf(stderr, "wb: '%s' is not yet implemented (%s)\n", verb, issue);
  return 2;
}

}  // namespace wb::cli

int main(int argc, char** argv) {
  using namespace wb::cli;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    print_help();
    return argc < 2 ? 1 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("wb %s\n", WB_VERSION);
    return 0;
  }
  for (const Verb& v : kVerbs) {
    if (std::strcmp(argv[1], v.name) != 0) continue;
    std::vector<std::string> words(argv + 2, argv + argc);
    if (words.size() == 1 && (words[0] == "--help" || words[0] == "-h")) {
      std::printf("usage: %s\n%s\n", v.usage, v.summary);
      return 0;
    }
    Args args(std::move(words));
    return v.run(args);
  }
  std::fprintf(stderr, "wb: unknown verb '%s' (see wb --help)\n", argv[1]);
  return 1;
}
