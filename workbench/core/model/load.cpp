#include "core/model/load.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

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

Result<std::unique_ptr<Model>> build_model(TensorFile tf, const LoadOptions& opt) {
  if (opt.backend != "cpu")
    return make_error(Errc::unsupported, "backend '{}' is not available here (only 'cpu')", opt.backend);
  WB_TRY(arch, detect_arch(tf));
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
