// The tiled matrix product (see gemm_head.glsl); needs load_w(row, k, out a, out b).
//
// A workgroup owns a 64-row x 64-vector tile of y and walks k in steps of 16:
// half the invocations stage W[64 rows][16 k], the other half x[64 vectors][16 k]
// in shared memory (8 values each), then every invocation accumulates a 4-row x
// 4-vector block from it. Each staged weight is used 64 times from shared
// memory instead of once per vector group from global memory, which is what
// the per-row matmul kernels (matmul_body.glsl) do; those stay for few vectors.

const uint BM = 64, BN = 64, BK = 16;
shared float ws[BK * BM];  // ws[k * BM + row]
shared float xs[BK * BN];  // xs[k * BN + vec]

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint r0 = gl_WorkGroupID.x * BM, b0 = gl_WorkGroupID.y * BN;
  const uint ty = tid / 16, tx = tid % 16;  // rows ty*4.., vectors tx*4..
  // Staging role: invocations 0..127 load weights, 128..255 load vectors.
  const uint lt = tid & 127u, lane = lt / 2, kh = (lt & 1u) * 8;
  const bool loads_w = tid < 128;
  vec4 acc[4];
  for (uint i = 0; i < 4; ++i) acc[i] = vec4(0.0);

  for (uint k0 = 0; k0 < pc.cols; k0 += BK) {
    const uint k = k0 + kh;
    vec4 a = vec4(0.0), b = vec4(0.0);
    if (loads_w) {
      if (r0 + lane < pc.rows && k < pc.cols) load_w(r0 + lane, k, a, b);
    } else if (b0 + lane < pc.n_vec && k < pc.cols) {
      const uint base = (pc.x_off + (b0 + lane) * pc.x_stride + k) / 4;
      a = x4[base];
      b = x4[base + 1];
    }
    for (uint j = 0; j < 4; ++j) {
      if (loads_w) {
        ws[(kh + j) * BM + lane] = a[j];
        ws[(kh + 4 + j) * BM + lane] = b[j];
      } else {
        xs[(kh + j) * BN + lane] = a[j];
        xs[(kh + 4 + j) * BN + lane] = b[j];
      }
    }
    barrier();
    for (uint kk = 0; kk < BK; ++kk) {
      const uint wo = kk * BM + ty * 4, xo = kk * BN + tx * 4;
      const vec4 xv = vec4(xs[xo], xs[xo + 1], xs[xo + 2], xs[xo + 3]);
      acc[0] += ws[wo] * xv;
      acc[1] += ws[wo + 1] * xv;
      acc[2] += ws[wo + 2] * xv;
      acc[3] += ws[wo + 3] * xv;
    }
    barrier();
  }

  for (uint i = 0; i < 4; ++i) {
    const uint row = r0 + ty * 4 + i;
    if (row >= pc.rows) break;
    for (uint j = 0; j < 4; ++j) {
      const uint v = b0 + tx * 4 + j;
      if (v >= pc.n_vec) break;
      float s = acc[i][j];
      if (pc.act == 1u) s = tanh(s);
      else if (pc.act == 2u) s = 1.0 / (1.0 + exp(-s));
      else if (pc.act == 3u) { s = max(s, 0.0); s = s * s; }
      const uint idx = pc.y_off + v * pc.y_stride + row;
      y[idx] = pc.accumulate != 0u ? y[idx] + s : s;
    }
  }
}
