// The body of the texel matmul (see matmul_tex_head.glsl); needs
// void load_w8(uint row, int k8, out vec4 a, out vec4 b) = W[row][8*k8 .. 8*k8+7].
// Each invocation computes R consecutive rows for NB vectors, so one x fetch
// serves R rows and one weight fetch serves NB vectors.
void main() {
  const uint r0 = gl_GlobalInvocationID.x * R;
  if (r0 >= pc.rows) return;
  const uint b0 = gl_WorkGroupID.y * NB;
  const int c8 = int(pc.cols / 8);
  uint rw[R];
  for (uint r = 0; r < R; ++r) rw[r] = min(r0 + r, pc.rows - 1);  // tail rows recompute the last row
  float acc[R * NB];
  int xb[NB];
  for (uint b = 0; b < NB; ++b) xb[b] = int((pc.x_off + min(b0 + b, pc.n_vec - 1) * pc.x_stride) / 4);
  for (uint i = 0; i < R * NB; ++i) acc[i] = 0.0;
  for (int k = 0; k < c8; ++k) {
    vec4 wa[R], wb[R];
    for (uint r = 0; r < R; ++r) load_w8(rw[r], k, wa[r], wb[r]);
    for (uint b = 0; b < NB; ++b) {
      const vec4 xa = X_AT(xb[b] + 2 * k), xc = X_AT(xb[b] + 2 * k + 1);
      for (uint r = 0; r < R; ++r) acc[r * NB + b] += dot(wa[r], xa) + dot(wb[r], xc);
    }
  }
  for (uint r = 0; r < R; ++r) {
    const uint row = r0 + r;
    if (row >= pc.rows) break;
    for (uint b = 0; b < NB; ++b) {
      if (b0 + b >= pc.n_vec) break;
      float s = acc[r * NB + b];
      if (pc.act == 1u) s = tanh(s);
      else if (pc.act == 2u) s = 1.0 / (1.0 + exp(-s));
      else if (pc.act == 3u) { s = max(s, 0.0); s = s * s; }
      const uint idx = pc.y_off + (b0 + b) * pc.y_stride + row;
      y[idx] = pc.accumulate != 0u ? y[idx] + s : s;
    }
  }
}
