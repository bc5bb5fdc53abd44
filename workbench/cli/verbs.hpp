// The verbs of `wb`. One file per verb (cmd_<verb>.cpp); main.cpp holds the
// table. Each returns the process exit code and prints errors to stderr.
#pragma once
#include "cli/args.hpp"
#include "core/util/log.hpp"

namespace wb::cli {

using VerbFn = int (*)(Args&);

struct Verb {
  const char* name;
  const char* usage;    // shown by `wb --help` and `wb VERB --help`
  const char* summary;
  VerbFn run;
};

int cmd_info(Args&);
int cmd_logits(Args&);
int cmd_generate(Args&);
int cmd_tokenize(Args&);
int cmd_bench(Args&);
int cmd_synth(Args&);
int cmd_story(Args&);
int cmd_bench_tree(Args&);
int cmd_devices(Args&);
int cmd_plugins(Args&);
int cmd_plugin(Args&);
int cmd_card(Args&);
int cmd_midi(Args&);

// Warnings from the libraries (a backend turning a kernel off, ...) as
// "wb: warn: ..." lines on stderr, where `key value` output on stdout stays clean.
Log& stderr_log();

// --device N, a Vulkan device as `wb devices` lists it (0..64); -1 when not given.
Result<int> device_option(Args& args);

// "not yet implemented" with the issue that brings it, exit code 2.
int not_implemented(const char* verb, const char* issue);

}  // namespace wb::cli
