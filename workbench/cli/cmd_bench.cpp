#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include "cli/verbs.hpp"
#include "core/backend/vulkan/vulkan_backend.hpp"
#include "core/model/cpu/bandwidth.hpp"
#include "core/model/load.hpp"
#include "core/util/stats.hpp"

namespace wb::cli {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Bytes one element of the main weight type takes (0 when unknown).
double dtype_bytes(const std::string& d) {
  if (d == "f32") return 4;
  if (d == "f16" || d == "bf16") return 2;
  if (d == "q8_0") return 34.0 / 32;
  if (d == "q4_0") return 18.0 / 32;
  if (d == "q4_1" || d == "q5_0") return 20.0 / 32;
  if (d == "q5_1") return 24.0 / 32;
  return 0;
}

}  // namespace

// wb bench MODEL [--backend cpu] [--device N] [-p 512] [-n 128] [-t THREADS] [--batch B] [-r REPS] [--bw-mib M] [--mmap]
// (--bw-mib: size of the read-bandwidth buffer, 0 skips that measurement;
// --mmap: CPU weights read from the file map instead of a huge-page copy)
// Like llama-bench: pp = one prefill of p tokens from a fresh state (logits of
// the last token only); tg = n single-token decodes, each with full logits.
int cmd_bench(Args& args) {
  auto backend = args.value("--backend");
  if (!backend) return fail(backend.error());
  auto p = args.integer("-p");
  if (!p) return fail(p.error());
  auto n = args.integer("-n");
  if (!n) return fail(n.error());
  auto t = args.integer("-t");
  if (!t) return fail(t.error());
  auto batch = args.integer("--batch");
  if (!batch) return fail(batch.error());
  auto reps = args.integer("-r");
  if (!reps) return fail(reps.error());
  auto bw_mib = args.integer("--bw-mib");
  if (!bw_mib) return fail(bw_mib.error());
  auto device = device_option(args);
  if (!device) return fail(device.error());
  const bool use_map = args.flag("--mmap");
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  const auto pos = args.positionals();
  if (pos.size() != 1)
    return fail(make_error(Errc::invalid_argument,
                           "usage: wb bench MODEL [--backend cpu] [--device N] [-p 512] [-n 128] [-t THREADS] "
                           "[--batch B] [-r REPS] [--bw-mib M] [--mmap]"));
  const int64_t P = p->value_or(512), NT = n->value_or(128), B = batch->value_or(0), R = reps->value_or(3);
  const int64_t BW = bw_mib->value_or(1024);
  if (P < 0 || P > 1000000 || NT < 0 || NT > 1000000 || B < 0 || B > 256 || R < 1 || R > 1000 || BW < 0 || BW > 16384 ||
      (*t && (**t < 1 || **t > 1024)))
    return fail(make_error(Errc::invalid_argument, "bench: -p/-n 0..1000000, --batch 0..256, -r 1..1000, -t 1..1024, --bw-mib 0..16384"));
  LoadOptions opt;
  if (*backend) opt.backend = **backend;
  opt.device = *device;
  if (*t) opt.threads = static_cast<int>(**t);
  if (use_map) opt.weight_memory = LoadOptions::WeightMemory::map;
  opt.log = &stderr_log();
  auto loaded = load_model(pos[0], opt);
  if (!loaded) return fail(loaded.error());
  Model& m = **loaded;
  const ModelInfo& mi = m.info();
  if (!mi.weight_memory.empty()) std::printf("weight_memory %s\n", mi.weight_memory.c_str());
  const vk::VulkanModel* vm = vk::as_vulkan(m);  // nullptr on the CPU backend
  if (vm) {
    // How one-state decode is recorded, and the load-time measurement that chose it.
    std::printf("decode_variant %s\n", vm->decode_variant().c_str());
    if (const vk::DecodeTuning* tuning = vm->decode_tuning()) {
      std::printf("decode_tune_took_ms %.1f\n", tuning->took_ms);
      for (const vk::DecodeVariantResult& v : tuning->variants) {
        if (v.outcome == vk::VariantOutcome::ok)
          std::printf("decode_tune_%s_ms %.4f\n", v.name.c_str(), v.step_ms);
        else
          std::printf("decode_tune_%s %s\n", v.name.c_str(), std::string(vk::outcome_name(v.outcome)).c_str());
      }
    }
  }
  const int V = mi.n_vocab;
  // Deterministic token ids spread over the vocabulary.
  auto token = [&](int64_t i) { return static_cast<int32_t>((i * 7919 + 13) % V); };

  if (P > 0) {
    std::vector<int32_t> toks(static_cast<size_t>(P));
    for (int64_t i = 0; i < P; ++i) toks[size_t(i)] = token(i);
    std::vector<float> logits(static_cast<size_t>(V));
    std::vector<double> rates;
    for (int64_t r = 0; r <= R; ++r) {  // run 0 warms caches and page-ins
      State s = m.new_state();
      const double t0 = now_s();
      if (auto st = m.prefill(toks, s, logits); !st) return fail(st.error());
      if (r > 0) rates.push_back(double(P) / (now_s() - t0));
    }
    std::printf("pp%lld %.2f\n", static_cast<long long>(P), median(rates));
  }
  auto decode_rate = [&](int64_t b) -> Result<double> {
    std::vector<State> states(static_cast<size_t>(b), m.new_state());
    std::vector<State*> ptrs;
    for (State& s : states) ptrs.push_back(&s);
    std::vector<int32_t> toks(static_cast<size_t>(b));
    std::vector<float> logits(static_cast<size_t>(b) * V);
    std::vector<double> rates;
    for (int64_t r = 0; r <= R; ++r) {
      for (State& s : states) s = m.new_state();
      const int64_t steps = r == 0 ? std::min<int64_t>(NT, 8) : NT;
      const double t0 = now_s();
      for (int64_t i = 0; i < steps; ++i) {
        for (int64_t j = 0; j < b; ++j) toks[size_t(j)] = token(i * 31 + j);
        WB_CHECK(m.decode(toks, ptrs, logits));
      }
      if (r > 0) rates.push_back(double(NT * b) / (now_s() - t0));
    }
    return median(rates);
  };
  if (NT > 0) {
    auto tgr = decode_rate(1);
    if (!tgr) return fail(tgr.error());
    const double tg = *tgr;
    std::printf("tg%lld %.2f\n", static_cast<long long>(NT), tg);
    // Bytes one decode step must read: the file's weights less all but one
    // embedding row, plus the state read and written.
    struct stat sb{};
    const double eb = dtype_bytes(mi.dtype);
    if (eb > 0 && ::stat(pos[0].c_str(), &sb) == 0) {
      const double emb = eb * double(mi.n_vocab - 1) * mi.n_embd;
      const double bytes = double(sb.st_size) - emb + 2.0 * double(m.new_state().byte_size());
      std::printf("bytes_per_token %.0f\n", bytes);
      std::printf("bandwidth_gbs %.2f\n", bytes * tg / 1e9);
      // What the memory delivers right now to a plain streaming read (1 GiB by
      // default, beyond the caches): the decode bound. The CPU backend's with
      // its threads; a GPU's with a read kernel on the device; a CPU device's
      // (lavapipe) is the host's memory, read with the host's threads.
      if (BW > 0) {
        const std::size_t bw_bytes = std::size_t(BW) << 20;
        auto bw = vm ? vm->read_bandwidth_gbs(bw_bytes) : cpu::measure_read_bandwidth(opt.threads, bw_bytes);
        bool on_device = vm != nullptr;
        if (!bw && on_device && bw.error().code == Errc::unsupported) {  // a CPU device
          bw = cpu::measure_read_bandwidth(opt.threads, bw_bytes);
          on_device = false;
        }
        if (!bw) return fail(bw.error());
        std::printf("read_bandwidth_of %s\n", on_device ? "device" : "host");
        std::printf("read_bandwidth_gbs %.2f\n", *bw);
        std::printf("decode_bound_tps %.2f\n", *bw * 1e9 / bytes);
        std::printf("bandwidth_fraction %.3f\n", bytes * tg / 1e9 / *bw);
      }
    }
    if (B > 0) {
      auto tbr = decode_rate(B);
      if (!tbr) return fail(tbr.error());
      const double tb = *tbr;
      std::printf("tg%lld_batch%lld %.2f\n", static_cast<long long>(NT), static_cast<long long>(B), tb);
      std::printf("batch%lld_cost_vs_one %.3f\n", static_cast<long long>(B), double(B) * tg / tb);
    }
  }
  std::printf("threads %d\n", opt.threads > 0 ? opt.threads : int(std::max(1u, std::thread::hardware_concurrency())));
  return 0;
}

}  // namespace wb::cli
