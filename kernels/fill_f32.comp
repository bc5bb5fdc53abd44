// op: fill a float32 buffer with one value (zeroing states and scratch).
// binding 0: float dst[n]        (written)
// push constants: { uint n; float value; }  mirrored by wb::vk::FillPush
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) writeonly buffer Dst { float dst[]; };
layout(push_constant) uniform Push { uint n; float value; } pc;
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < pc.n) dst[i] = pc.value;
}
