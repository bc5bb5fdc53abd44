// op: copy n 32-bit words from src to dst unless a flag word is set:
//   if (flag[flag_index] == 0) dst[dst_off + i] = src[src_off + i] for i < n.
// A call whose kernels can give up midway (rwkv7_layer's grid barriers set
// their fail word) scatters its states back with it, so a call that failed
// leaves the caller's states as they were and can run again.
// binding 0: uint src[]   binding 1: uint dst[] (written)   binding 2: uint flag[]
// push constants: { uint src_off, dst_off, n, flag_index; }  mirrored by wb::vk::CopyUnlessPush
// grid: x = any number of 256-invocation workgroups (a grid-stride loop covers n).
#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };
layout(std430, binding = 2) readonly buffer Flag { uint flag[]; };
layout(push_constant) uniform Push { uint src_off, dst_off, n, flag_index; } pc;
void main() {
  if (flag[pc.flag_index] != 0u) return;
  const uint stride = gl_NumWorkGroups.x * 256u;
  for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) dst[pc.dst_off + i] = src[pc.src_off + i];
}
