// op: RWKV-7 per-channel preparation between the projections and the WKV step,
// for n_vec vectors of C channels (in place where noted):
//   w  <- exp(-0.606531 * sigmoid(w0 + w))          (decay; w holds the w-LoRA output)
//   a  <- sigmoid(a0 + a)                            (a holds the a-LoRA output)
//   kk <- k * k_k                                    (normalised per head in wkv7)
//   k  <- k * (1 + (a - 1) * k_a)
//   layer 0: v_first <- v;  else v <- v + (v_first - v) * sigmoid(v0 + vl)
// One invocation per 4 channels (vec4 accesses; see token_mix.comp).
// binding 0: vec4 k[n_vec*C/4]      1: vec4 v[n_vec*C/4]     2: vec4 w[n_vec*C/4]
// binding 3: vec4 a[n_vec*C/4]      4: vec4 vl[n_vec*C/4] (v-LoRA output; unused in layer 0)
// binding 5: vec4 v_first[n_vec*C/4]   6: vec4 kk[n_vec*C/4] (written)
// binding 7: vec4 p[5*C/4]          w0, a0, v0, k_k, k_a, each C floats
// push constants: { uint C, n_vec, layer0, pad; }  wb::vk::Rwkv7PrepPush
// grid: x = ceil(n_vec*C/4 / 64).   C % 4 == 0.
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer K { vec4 k[]; };
layout(std430, binding = 1) buffer V { vec4 v[]; };
layout(std430, binding = 2) buffer Wd { vec4 w[]; };
layout(std430, binding = 3) buffer A { vec4 a[]; };
layout(std430, binding = 4) readonly buffer VL { vec4 vl[]; };
layout(std430, binding = 5) buffer VF { vec4 v_first[]; };
layout(std430, binding = 6) writeonly buffer KK { vec4 kk[]; };
layout(std430, binding = 7) readonly buffer P { vec4 p[]; };
layout(push_constant) uniform Push { uint C, n_vec, layer0, pad; } pc;
vec4 sigm(vec4 x) { return 1.0 / (1.0 + exp(-x)); }
void main() {
  const uint i = gl_GlobalInvocationID.x, C4 = pc.C / 4u;
  if (i >= pc.n_vec * C4) return;
  const uint c = i % C4;
  w[i] = exp(-0.606531 * sigm(p[c] + w[i]));
  const vec4 av = sigm(p[C4 + c] + a[i]);
  a[i] = av;
  const vec4 kv = k[i];
  kk[i] = kv * p[3u * C4 + c];
  k[i] = kv * (1.0 + (av - 1.0) * p[4u * C4 + c]);
  if (pc.layer0 != 0u) {
    v_first[i] = v[i];
  } else {
    const vec4 vv = v[i];
    v[i] = vv + (v_first[i] - vv) * sigm(p[2u * C4 + c] + vl[i]);
  }
}
