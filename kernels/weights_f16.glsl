// f16 weights: binding 0 W, rows x cols halves, row-major, read 8 at a time.
// load_w(row, k, a, b): W[row][k..k+7] as two vec4 (k % 8 == 0). Needs pc.cols.
layout(std430, binding = 0) readonly buffer W { uvec4 w8[]; };
void load_w(uint row, uint k, out vec4 a, out vec4 b) {
  uvec4 q = w8[(row * pc.cols + k) / 8];
  a = vec4(unpackHalf2x16(q.x), unpackHalf2x16(q.y));
  b = vec4(unpackHalf2x16(q.z), unpackHalf2x16(q.w));
}
