// The read bandwidth of a GPU's own memory: what a plain streaming read
// (read_sum.comp) achieves, the bound that a decode step, which reads every
// weight once, can approach. `wb bench --backend vulkan` prints it beside the
// decode rate, as it does the host's for the CPU backend.
//
//   WB_TRY(gbs, wb::vk::measure_read_bandwidth(ctx, 1024ull << 20));
//
// On a CPU device (lavapipe) it measures that device's storage-buffer reads,
// not the memory: there the bound is the host's (cpu::measure_read_bandwidth),
// which is what VulkanModel::read_bandwidth_gbs answers with Errc::unsupported.
// Errors: allocation and device errors as the context reports them;
// Errc::internal when the sums read back are wrong (the reads did not happen).
#pragma once
#include <cstdint>

#include "core/backend/vulkan/vk_context.hpp"

namespace wb::vk {

// GB/s (1e9 bytes) of the best of five timed submits, each reading a device-local
// buffer of up to `bytes` (less where the device's buffer limits or a quarter of
// its memory say so; at least 1 MiB) 4-64 times over (about 8 GiB), in
// dispatches that may overlap. The buffer holds ones; the first read's sums are
// checked.
Result<double> measure_read_bandwidth(Context& ctx, uint64_t bytes);

}  // namespace wb::vk
