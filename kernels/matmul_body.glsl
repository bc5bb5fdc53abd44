// The matmul kernel body (see matmul_head.glsl); needs load_w(row, k, out a, out b)
// returning the 8 weights W[row][k..k+7].

// Up to WG/4 subgroups (subgroup size >= 4) of ROWS*NB partial sums.
shared float red[(WG / 4) * ROWS * NB];

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint r0 = gl_WorkGroupID.x * ROWS;
  const uint b0 = gl_WorkGroupID.y * NB;
  float acc[ROWS * NB];
  for (uint i = 0; i < ROWS * NB; ++i) acc[i] = 0.0;

  for (uint k = tid * 8; k < pc.cols; k += 8 * WG) {
    vec4 xa[NB], xb[NB];
    for (uint b = 0; b < NB; ++b) {
      if (b0 + b < pc.n_vec) {
        uint base = (pc.x_off + (b0 + b) * pc.x_stride + k) / 4;
        xa[b] = x4[base];
        xb[b] = x4[base + 1];
      } else {
        xa[b] = vec4(0.0);
        xb[b] = vec4(0.0);
      }
    }
    for (uint r = 0; r < ROWS; ++r) {
      uint row = r0 + r;
      if (row >= pc.rows) break;
      vec4 wa, wb;
      load_w(row, k, wa, wb);
      for (uint b = 0; b < NB; ++b) acc[r * NB + b] += dot(wa, xa[b]) + dot(wb, xb[b]);
    }
  }

  for (uint i = 0; i < ROWS * NB; ++i) {
    float s = subgroupAdd(acc[i]);
    if (subgroupElect()) red[gl_SubgroupID * ROWS * NB + i] = s;
  }
  barrier();
  if (tid < ROWS * NB) {
    uint r = tid / NB, b = tid % NB;
    uint row = r0 + r, v = b0 + b;
    if (row < pc.rows && v < pc.n_vec) {
      float s = 0.0;
      for (uint g = 0; g < gl_NumSubgroups; ++g) s += red[g * ROWS * NB + tid];
      if (pc.act == 1u) s = tanh(s);
      else if (pc.act == 2u) s = 1.0 / (1.0 + exp(-s));
      else if (pc.act == 3u) { s = max(s, 0.0); s = s * s; }
      uint idx = pc.y_off + v * pc.y_stride + row;
      y[idx] = pc.accumulate != 0u ? y[idx] + s : s;
    }
  }
}
