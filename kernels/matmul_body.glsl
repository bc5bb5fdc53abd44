// The matmul kernel body (see matmul_head.glsl); needs load_w(row, k, out a, out b)
// returning the 8 weights W[row][k..k+7].

// Up to WG/4 subgroups (subgroup size >= 4) of ROWS*NB partial sums.
shared float red[(WG / 4) * ROWS * NB];

#ifdef LN_TAIL
shared uint tail_last;

// Sum over the workgroup (every invocation calls it; red is free by then).
float tail_sum(float v) {
  const float s = subgroupAdd(v);
  barrier();
  if (subgroupElect()) red[gl_SubgroupID] = s;
  barrier();
  float t = 0.0;
  for (uint g = 0; g < gl_NumSubgroups; ++g) t += red[g];
  return t;
}

// After every workgroup of the dispatch (all parts of the matrix: pc.tail_groups)
// has added its rows, the last one normalises each finished vector and mixes it
// with the previous token's (ln_mix_shift.comp's math): mixed[m][v][c] and the
// shift slots. A decode step saves the dispatch and the barrier that a separate
// ln_mix_shift would cost, without repeating the statistics in every workgroup.
void ln_tail() {
  const uint tid = gl_LocalInvocationID.x;
  memoryBarrierBuffer();  // this workgroup's sums, visible before it is counted
  barrier();
  if (tid == 0u) tail_last = atomicAdd(counter[0], 1u) == pc.tail_groups - 1u ? 1u : 0u;
  barrier();
  if (tail_last == 0u) return;
  memoryBarrierBuffer();
  const uint C = pc.tail_C;
  for (uint v = 0; v < pc.n_vec; ++v) {
    const uint yo = pc.tail_y_off + v * pc.y_stride;
    float s = 0.0;
    for (uint c = tid; c < C; c += WG) s += y[yo + c];
    const float mean = tail_sum(s) / float(C);
    float q = 0.0;
    for (uint c = tid; c < C; c += WG) {
      const float d = y[yo + c] - mean;
      q += d * d;
    }
    const float rstd = inversesqrt(tail_sum(q) / float(C) + pc.eps);
    for (uint c = tid; c < C; c += WG) {
      const float xl = (y[yo + c] - mean) * rstd * ln_w[c] + ln_b[c];
      const uint so = v * pc.state_stride + pc.state_off + c;
      const float prev = state[so];
      for (uint m = 0; m < pc.n_mix; ++m) mixed[(m * pc.n_vec + v) * C + c] = xl + (prev - xl) * mix_[m * C + c];
      state[so] = xl;
    }
  }
  if (tid == 0u) counter[0] = 0u;  // ready for the next dispatch (behind a barrier)
}
#endif

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
#ifdef LN_TAIL
  ln_tail();
#endif
}
