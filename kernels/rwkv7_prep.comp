// op: RWKV-7 per-channel preparation between the projections and the WKV step,
// for n_vec vectors of C channels (in place where noted):
//   w  <- exp(-0.606531 * sigmoid(w0 + w))          (decay; w holds the w-LoRA output)
//   a  <- sigmoid(a0 + a)                            (a holds the a-LoRA output)
//   kk <- k * k_k                                    (normalised per head in wkv7)
//   k  <- k * (1 + (a - 1) * k_a)
//   layer 0: v_first <- v;  else v <- v + (v_first - v) * sigmoid(v0 + vl)
// binding 0: float k[n_vec*C]      1: float v[n_vec*C]     2: float w[n_vec*C]
// binding 3: float a[n_vec*C]      4: float vl[n_vec*C] (v-LoRA output; unused in layer 0)
// binding 5: float v_first[n_vec*C]   6: float kk[n_vec*C] (written)
// binding 7: float p[5*C]          w0, a0, v0, k_k, k_a, each C floats
// push constants: { uint C, n_vec, layer0, pad; }  wb::vk::Rwkv7PrepPush
// grid: x = ceil(n_vec*C / 64)
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer K { float k[]; };
layout(std430, binding = 1) buffer V { float v[]; };
layout(std430, binding = 2) buffer Wd { float w[]; };
layout(std430, binding = 3) buffer A { float a[]; };
layout(std430, binding = 4) readonly buffer VL { float vl[]; };
layout(std430, binding = 5) buffer VF { float v_first[]; };
layout(std430, binding = 6) writeonly buffer KK { float kk[]; };
layout(std430, binding = 7) readonly buffer P { float p[]; };
layout(push_constant) uniform Push { uint C, n_vec, layer0, pad; } pc;
float sigm(float x) { return 1.0 / (1.0 + exp(-x)); }
void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i >= pc.n_vec * pc.C) return;
  const uint c = i % pc.C, C = pc.C;
  w[i] = exp(-0.606531 * sigm(p[c] + w[i]));
  const float av = sigm(p[C + c] + a[i]);
  a[i] = av;
  const float kv = k[i];
  kk[i] = kv * p[3 * C + c];
  k[i] = kv * (1.0 + (av - 1.0) * p[4 * C + c]);
  if (pc.layer0 != 0u) {
    v_first[i] = v[i];
  } else {
    const float vv = v[i];
    v[i] = vv + (v_first[i] - vv) * sigm(p[2 * C + c] + vl[i]);
  }
}
