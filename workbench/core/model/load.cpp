#include "core/model/load.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/backend/vulkan/vulkan_backend.hpp"
#include "core/model/cpu/cpu_model.hpp"
#include "core/model/read_tensor_file.hpp"

namespace wb {

Result<Arch> detect_arch(const TensorFile& tf) {
  // rwkv.cpp's order of tests (fixtures README §3.4); official v7 files have
  // att.r_k too, and official v6 att.time_maa_x.
  if (tf.find("blocks.0.att.r_k")) return Arch::v7;
  if (tf.find("blocks.0.att.time_maa_x")) return Arch::v6;
  if (tf.find("blocks.0.att.ln_x.weight"))
    return tf.find("blocks.0.att.gate.weight") ? Arch::v5_2 : Arch::v5_1;
  if (tf.find("blocks.0.att.time_decay") && tf.find("blocks.0.att.time_first")) return Arch::v4;
  return make_error(Errc::unsupported, "{}: not a recognised RWKV model (no blocks.0.att.r_k, time_maa_x, ln_x or time_decay)",
                    tf.path);
}

namespace {

// Memory the kernel says could be handed out now without swapping.
uint64_t available_memory_bytes() {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "MemAvailable: %" SCNu64 " kB", &kib) == 1) break;
  std::fclose(f);
  return kib * 1024;
}

// Applies LoadOptions::weight_memory to the CPU backend's weights; true when
// they now live in the resident copy. A failed copy leaves the file map in
// use (said in ModelInfo::weight_memory), never fails the load.
bool make_weights_resident(TensorFile& tf, LoadOptions::WeightMemory policy) {
  if (!tf.file_map || policy == LoadOptions::WeightMemory::map) return false;
  const uint64_t size = tf.file_map->bytes().size();
  if (policy == LoadOptions::WeightMemory::automatic && size * 2 > available_memory_bytes()) return false;
  if (Status st = tf.file_map->make_resident(); !st) {
    tf.meta["weight_memory"] = "mapped (the copy failed: " + st.error().message + ")";
    return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Model>> build_model(TensorFile tf, const LoadOptions& opt) {
  if (opt.backend != "cpu" && opt.backend != "vulkan" && opt.backend != "auto")
    return make_error(Errc::invalid_argument, "backend '{}' is not known (cpu, vulkan, auto)", opt.backend);
  WB_TRY(arch, detect_arch(tf));
  if (opt.backend != "cpu") {
    vk::VulkanModelOptions vo;
    vo.device_index = opt.device;
    // "auto" without a device index takes only a GPU: a CPU device (lavapipe)
    // runs on the same cores as the CPU backend, about four times slower (README,
    // 0.19B F16 decode on this 2-core VM: ~16 t/s on lavapipe, ~70 on the CPU
    // backend), so a machine without a GPU gets the CPU backend below.
    vo.gpu_only = opt.backend == "auto";
    vo.log = opt.log;
    auto m = vk::build_vulkan_model(tf, arch, vo);
    if (m || opt.backend == "vulkan") return m;
    if (m.error().code != Errc::device && m.error().code != Errc::unsupported) return m.take_error();
    // "auto": no usable Vulkan device (or an architecture it lacks): the CPU runs it.
  }
  if (make_weights_resident(tf, opt.weight_memory))
    tf.meta["weight_memory"] = "resident";
  else if (!tf.meta.count("weight_memory"))
    tf.meta["weight_memory"] = tf.file_map ? "mapped" : "owned";
  switch (arch) {
    case Arch::v4: return cpu::build_rwkv4(std::move(tf), opt);
    case Arch::v5_1:
    case Arch::v5_2: return cpu::build_rwkv5(std::move(tf), opt, arch);
    case Arch::v6: return cpu::build_rwkv6(std::move(tf), opt);
    case Arch::v7: return cpu::build_rwkv7(std::move(tf), opt);
  }
  return make_error(Errc::internal, "unhandled architecture");
}

Result<std::string> file_fingerprint(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return make_error(Errc::io, "{}: cannot open: {}", path, std::strerror(errno));
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  const uint64_t sz = size < 0 ? 0 : static_cast<uint64_t>(size);
  uint8_t szb[8];
  for (int i = 0; i < 8; ++i) szb[i] = uint8_t(sz >> (8 * i));
  mix(szb, 8);
  constexpr size_t kMiB = 1 << 20;
  std::vector<uint8_t> buf(kMiB);
  std::fseek(f, 0, SEEK_SET);
  mix(buf.data(), std::fread(buf.data(), 1, kMiB, f));
  if (sz > kMiB) {
    std::fseek(f, static_cast<long>(sz > 2 * kMiB ? sz - kMiB : kMiB), SEEK_SET);
    mix(buf.data(), std::fread(buf.data(), 1, kMiB, f));
  }
  std::fclose(f);
  return fmt::format("{:016x}", h);
}

Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& opt) {
  WB_TRY(tf, read_tensor_file(path));
  WB_TRY(fp, file_fingerprint(path));
  // The builder turns this into ModelInfo::model_key (fingerprint-format-dtype).
  tf.meta["content_fingerprint"] = fp;
  return build_model(std::move(tf), opt);
}

}  // namespace wb
