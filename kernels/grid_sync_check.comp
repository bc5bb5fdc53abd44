// op: a check of grid_sync.glsl (tests and device runs): for round = 1..rounds,
// workgroup w writes round into data[w * 64 + t] (t < 64), meets the others,
// then reads every workgroup's slots and counts those that do not hold round
// into errors[0]; it meets the others again before the next round overwrites.
// binding 0: uint data[groups*64]   binding 1: uint errors[1]   binding 2: uint sync[4]
// push constants: { uint rounds; }
// specialisation: constant 0 SPIN_LIMIT.   grid: x = groups (all resident at once).
#version 450
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
layout(std430, binding = 0) coherent buffer D { uint data[]; };
layout(std430, binding = 1) buffer E { uint errors[]; };
#define GRID_SYNC_BINDING 2
#define GRID_SPIN_ID 0
#include "grid_sync.glsl"
layout(push_constant) uniform Push { uint rounds; } pc;
void main() {
  const uint t = gl_LocalInvocationID.x, w = gl_WorkGroupID.x, n = gl_NumWorkGroups.x;
  for (uint round = 1u; round <= pc.rounds; ++round) {
    data[w * 64u + t] = round;
    grid_sync();
    uint bad = 0u;
    for (uint j = 0u; j < n; ++j) bad += data[j * 64u + t] == round ? 0u : 1u;
    if (bad != 0u) atomicAdd(errors[0], bad);
    grid_sync();
  }
}
