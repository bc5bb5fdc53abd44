// op: elementwise y[i] = f(a[i], b[i]) for i < n.
//   op 0: a + b   1: a * b   2: sigmoid(a)   3: tanh(a)   4: relu(a)^2   5: a * sigmoid(b)
//   op 6: y + sigmoid(a) * b   (the RWKV-4/5/6 FFN's gated residual add)   7: a * 0.5 (rescaled layers)
// binding 0: float a[n]
// binding 1: float b[n]   (ignored by the unary ops; bind any buffer)
// binding 2: float y[n]   (may be a; read by op 6)
// push constants: { uint n, op; }  wb::vk::EltwisePush
// grid: x = ceil(n / 64)
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n, op; } pc;
float sigm(float v) { return 1.0 / (1.0 + exp(-v)); }
void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i >= pc.n) return;
  const float av = a[i];
  float r;
  switch (pc.op) {
    case 0u: r = av + b[i]; break;
    case 1u: r = av * b[i]; break;
    case 2u: r = sigm(av); break;
    case 3u: r = tanh(av); break;
    case 4u: r = max(av, 0.0); r = r * r; break;
    case 5u: r = av * sigm(b[i]); break;
    case 6u: r = y[i] + sigm(av) * b[i]; break;
    default: r = av * 0.5; break;
  }
  y[i] = r;
}
