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
#ifdef LN_INPUT
  // The first weights are requested before the statistics, so their memory
  // latency overlaps the two passes over x.
  vec4 first_a[ROWS], first_b[ROWS];
  for (uint r = 0; r < ROWS; ++r)
    if (tid * 8 < pc.cols && r0 + r < pc.rows) load_w(r0 + r, tid * 8, first_a[r], first_b[r]);
  // Layer-norm statistics of this workgroup's vectors: every workgroup of the
  // dispatch reads the same x, so it comes from cache after the first.
  const uint C4 = pc.cols / 4;
  float mean[NB], rstd[NB];
  for (uint pass = 0; pass < 2; ++pass) {
    for (uint b = 0; b < NB; ++b) {
      vec4 s = vec4(0.0);
      if (b0 + b < pc.n_vec) {
        const uint xo = (pc.x_off + (b0 + b) * pc.x_stride) / 4;
        for (uint c = tid; c < C4; c += WG) {
          const vec4 d = pass == 0 ? x4[xo + c] : x4[xo + c] - mean[b];
          s += pass == 0 ? d : d * d;
        }
      }
      const float t = subgroupAdd(s.x + s.y + s.z + s.w);
      if (subgroupElect()) red[gl_SubgroupID * NB + b] = t;
    }
    barrier();
    for (uint b = 0; b < NB; ++b) {
      float t = 0.0;
      for (uint g = 0; g < gl_NumSubgroups; ++g) t += red[g * NB + b];
      if (pass == 0) mean[b] = t / float(pc.cols);
      else rstd[b] = inversesqrt(t / float(pc.cols) + pc.eps);
    }
    barrier();  // red is written again
  }
  // The normed vectors, for the caller to copy into the shift state once every
  // reader of the old one is done (row block 0 of one dispatch writes them).
  if (pc.write_xln != 0u && gl_WorkGroupID.x == 0u)
    for (uint b = 0; b < NB; ++b) {
      if (b0 + b >= pc.n_vec) break;
      const uint xo = (pc.x_off + (b0 + b) * pc.x_stride) / 4;
      for (uint c = tid; c < C4; c += WG) xln_out[(b0 + b) * C4 + c] = (x4[xo + c] - mean[b]) * rstd[b] * ln_w[c] + ln_b[c];
    }
#endif

  for (uint k = tid * 8; k < pc.cols; k += 8 * WG) {
    vec4 xa[NB], xb[NB];
    for (uint b = 0; b < NB; ++b) {
      if (b0 + b < pc.n_vec) {
        uint base = (pc.x_off + (b0 + b) * pc.x_stride + k) / 4;
#ifdef LN_INPUT
        // xm = xln + (x_prev - xln) * mix, xln = layer_norm(x) * w + b (ln_mix_shift.comp's math)
        const uint c4 = k / 4, mo = pc.mix_off / 4 + c4;
        const uint so = ((b0 + b) * pc.state_stride + pc.state_off + k) / 4;
        const vec4 la = (x4[base] - mean[b]) * rstd[b] * ln_w[c4] + ln_b[c4];
        const vec4 lb = (x4[base + 1] - mean[b]) * rstd[b] * ln_w[c4 + 1] + ln_b[c4 + 1];
        xa[b] = la + (state4[so] - la) * mix4[mo];
        xb[b] = lb + (state4[so + 1] - lb) * mix4[mo + 1];
#else
        xa[b] = x4[base];
        xb[b] = x4[base + 1];
#endif
      } else {
        xa[b] = vec4(0.0);
        xb[b] = vec4(0.0);
      }
    }
    for (uint r = 0; r < ROWS; ++r) {
      uint row = r0 + r;
      if (row >= pc.rows) break;
      vec4 wa, wb;
#ifdef LN_INPUT
      if (k == tid * 8) {
        wa = first_a[r];
        wb = first_b[r];
      } else
#endif
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
