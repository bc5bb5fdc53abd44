// A plain memory read benchmark, so speed figures can be set against what the
// machine's memory can deliver right now (wb bench prints it next to the
// decode rate; on a shared machine the figure moves from minute to minute).
//
//   wb::Result<double> gbs = wb::cpu::measure_read_bandwidth(2, 1ull << 30);
//
// Each of `threads` threads sums its own contiguous share of a `bytes`-long
// buffer (touched once before timing, in huge pages where the kernel gives
// them); `passes` plain and `passes` software-prefetching passes, the best counts.
#pragma once
#include <cstddef>

#include "core/util/result.hpp"

namespace wb::cpu {

// GB/s (1e9 bytes per second). Errors if bytes is below 1 MiB or above 16 GiB,
// or the buffer cannot be allocated.
Result<double> measure_read_bandwidth(int threads, std::size_t bytes, int passes = 5);

}  // namespace wb::cpu
