// op: a streaming read of a whole buffer, for the device's read bandwidth
// (`wb bench --backend vulkan` on a GPU: read_bandwidth_gbs, the decode bound):
//   partial[part_off + wg] = the sum (uint, wrapping) of x + y + z + w over the
//   words that workgroup wg read; invocation g = wg * 256 + t reads the words
//   g, g + G, g + 2G, ... below n4 (G = groups * 256), four loads in flight.
// The sums keep the reads from being optimised away; a test holds them to the
// CPU reference (ref::read_sum).
// binding 0: uvec4 data[n4]   binding 1: uint partial[] (written)
// push constants: { uint n4, part_off; }  mirrored by wb::vk::ReadSumPush
// grid: x = groups.
#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Data { uvec4 data[]; };
layout(std430, binding = 1) writeonly buffer Partial { uint partial[]; };
layout(push_constant) uniform Push { uint n4, part_off; } pc;
shared uint red[256];

uint sum4(uvec4 v) { return v.x + v.y + v.z + v.w; }

void main() {
  const uint t = gl_LocalInvocationID.x, G = gl_NumWorkGroups.x * 256u;
  uint acc = 0u, i = gl_GlobalInvocationID.x;
  for (; i + 3u * G < pc.n4; i += 4u * G) {
    const uvec4 a = data[i], b = data[i + G], c = data[i + 2u * G], d = data[i + 3u * G];
    acc += sum4(a) + sum4(b) + sum4(c) + sum4(d);
  }
  for (; i < pc.n4; i += G) acc += sum4(data[i]);
  red[t] = acc;
  barrier();
  for (uint s = 128u; s > 0u; s >>= 1u) {
    if (t < s) red[t] += red[t + s];
    barrier();
  }
  if (t == 0u) partial[pc.part_off + gl_WorkGroupID.x] = red[0];
}
