// The body of the texel matmul (see matmul_tex_head.glsl); needs
// vec4 load_w4(uint row, int k4) = W[row][4*k4 .. 4*k4+3].
void main() {
  const uint row = gl_GlobalInvocationID.x;
  if (row >= pc.rows) return;
  const uint b0 = gl_WorkGroupID.y * NB;
  const int c4 = int(pc.cols / 4);
  float acc[NB];
  int xb[NB];
  for (uint b = 0; b < NB; ++b) {
    acc[b] = 0.0;
    xb[b] = int((pc.x_off + min(b0 + b, pc.n_vec - 1) * pc.x_stride) / 4);
  }
  for (int k = 0; k < c4; ++k) {
    const vec4 w = load_w4(row, k);
    for (uint b = 0; b < NB; ++b) acc[b] += dot(w, texelFetch(X, xb[b] + k));
  }
  for (uint b = 0; b < NB; ++b) {
    if (b0 + b >= pc.n_vec) break;
    float s = acc[b];
    if (pc.act == 1u) s = tanh(s);
    else if (pc.act == 2u) s = 1.0 / (1.0 + exp(-s));
    else if (pc.act == 3u) { s = max(s, 0.0); s = s * s; }
    const uint idx = pc.y_off + (b0 + b) * pc.y_stride + row;
    y[idx] = pc.accumulate != 0u ? y[idx] + s : s;
  }
}
