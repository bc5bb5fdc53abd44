#include "core/backend/vulkan/read_bandwidth.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/backend/vulkan/vk_ops.hpp"

namespace wb::vk {

Result<double> measure_read_bandwidth(Context& ctx, uint64_t bytes) {
  const DeviceInfo& d = ctx.device();
  // 1 GiB by default: far beyond any GPU's caches (an H200's L2 is 60 MB).
  uint64_t size = std::min(bytes, d.max_storage_buffer_range);
  if (d.max_allocation_size) size = std::min(size, d.max_allocation_size);
  if (d.device_local_bytes) size = std::min(size, d.device_local_bytes / 4);
  size = std::min<uint64_t>(size, uint64_t{0xffffffffu} * 16) / 4096 * 4096;
  if (size < (1u << 20))
    return make_error(Errc::invalid_argument, "vulkan: a read-bandwidth buffer of {} bytes is too small", size);
  const auto n4 = static_cast<uint32_t>(size / 16);
  // 256K invocations with four loads each in flight: enough for any GPU today. A
  // CPU device runs a workgroup at a time per thread, each with a fixed cost.
  const uint32_t groups = d.type == "cpu" ? 16 : 1024;
  // Each submit reads the buffer `reads` times (8 GiB where the limits allow: ~2
  // ms on an H200), so its fixed cost of some 20-50 us stays small.
  const uint32_t reads = static_cast<uint32_t>(std::clamp<uint64_t>((uint64_t{8} << 30) / size, 4, 64));
  WB_TRY(data, ctx.make_buffer(size, Memory::device));
  {  // ones, uploaded in 64 MiB pieces
    const std::vector<uint32_t> ones(std::min<uint64_t>(size, 64u << 20) / 4, 1u);
    for (uint64_t off = 0; off < size; off += ones.size() * 4)
      WB_CHECK(ctx.upload(data, off, ones.data(), std::min<uint64_t>(size - off, ones.size() * 4)));
  }
  WB_TRY(partial, ctx.make_buffer(uint64_t{reads} * groups * 4, Memory::device));
  WB_TRY(p, ctx.pipeline("read_sum", 2, sizeof(ReadSumPush)));
  CommandStream cs(ctx);
  WB_CHECK(cs.begin(true));
  cs.begin_independent();  // each read writes its own partial sums: they may run at once
  const ReadSumPush push{n4, 0};
  for (uint32_t r = 0; r < reads; ++r) {
    const BufferRange ranges[2] = {{&data, 0, size}, {&partial, uint64_t{r} * groups * 4, groups * 4}};
    WB_CHECK(cs.dispatch(*p, std::span<const BufferRange>(ranges), &push, sizeof push, groups));
  }
  cs.end_independent();
  WB_CHECK(cs.submit_and_wait());  // warms up: pipeline, first touch of the pages
  // Workgroup g read 256 words of every G = groups*256 (and of the rest), each
  // uvec4 of ones summing to 4.
  std::vector<uint32_t> got(groups);
  WB_CHECK(ctx.download(partial, 0, got.data(), got.size() * 4));
  const uint64_t G = uint64_t{groups} * 256, full = n4 / G, rest = n4 % G;
  for (uint32_t g = 0; g < groups; ++g) {
    const uint64_t mine = full * 256 + std::min<uint64_t>(256, rest > g * 256ull ? rest - g * 256ull : 0);
    if (got[g] != static_cast<uint32_t>(4 * mine))
      return make_error(Errc::internal, "vulkan: read_sum workgroup {} summed {}, not {}", g, got[g], 4 * mine);
  }
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    WB_CHECK(cs.resubmit());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(size) * reads / s / 1e9);
  }
  return best;
}

}  // namespace wb::vk
