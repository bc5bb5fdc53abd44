// f32 weights: binding 0 W, rows x cols floats, row-major.
// load_w(row, k, a, b): W[row][k..k+7] as two vec4 (k % 8 == 0). Needs pc.cols.
layout(std430, binding = 0) readonly buffer W { vec4 w4[]; };
void load_w(uint row, uint k, out vec4 a, out vec4 b) {
  uint i = (row * pc.cols + k) / 4;
  a = w4[i];
  b = w4[i + 1];
}
