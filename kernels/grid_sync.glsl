// A barrier across all workgroups of a dispatch (included, not compiled alone).
// The includer declares binding GRID_SYNC_BINDING before including this file:
//   uint sync[4]: arrivals, fail, unused (0 0 at first; nothing resets them,
//   so a recording can be submitted again)
// and SPIN_LIMIT (constant_id GRID_SPIN_ID). Every workgroup must be resident at
// once: the dispatch has no more workgroups than the device runs together,
// and their number is a power of two. A
// workgroup that waited SPIN_LIMIT polls sets fail and goes on, so a device
// that does not run them together gets wrong results and fail = 1, not a hang
// (the includer's host then discards the results: see rwkv7_layer_body.glsl).
// lavapipe cannot wait here: llvmpipe ends every loop of a shader invocation
// after 65,535 iterations in all (LP_MAX_TGSI_LOOP_ITERATIONS), spin included,
// so a workgroup would run on unsynchronised. On CPU devices only one
// workgroup may use it (each barrier then passes at once).
layout(std430, binding = GRID_SYNC_BINDING) coherent volatile buffer GridSync { uint count, fail, pad0, pad1; } sync_;
layout(constant_id = GRID_SPIN_ID) const uint SPIN_LIMIT = 4194304;

// Writes to buffers before it are visible to every workgroup after it. The
// count only grows: barrier i of a dispatch is complete when it reaches the
// next multiple of the workgroup count above this workgroup's arrival, so no
// one resets anything (a power-of-two count stays exact when it wraps).
void grid_sync() {
  memoryBarrierBuffer();
  barrier();
  if (gl_LocalInvocationID.x == 0u) {
    const uint n = gl_NumWorkGroups.x, target = (atomicAdd(sync_.count, 1u) / n + 1u) * n;
    uint spins = 0u;
    while (int(sync_.count - target) < 0 && sync_.fail == 0u)
      if (++spins == SPIN_LIMIT) atomicOr(sync_.fail, 1u);
  }
  memoryBarrierBuffer();
  barrier();
}
