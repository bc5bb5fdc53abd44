// Q8_0 weights: binding 0 W, rows x cols int8 codes; binding 3 float scales, one per 32 codes.
// load_w(row, k, a, b): W[row][k..k+7] as two vec4 (k % 8 == 0). Needs pc.cols.
layout(std430, binding = 0) readonly buffer W { uvec2 q8[]; };
layout(std430, binding = 3) readonly buffer S { float scales[]; };
vec4 codes(uint u) {
  int v = int(u);
  return vec4(bitfieldExtract(v, 0, 8), bitfieldExtract(v, 8, 8), bitfieldExtract(v, 16, 8), bitfieldExtract(v, 24, 8));
}
void load_w(uint row, uint k, out vec4 a, out vec4 b) {
  uint e = row * pc.cols + k;
  uvec2 q = q8[e / 8];
  float d = scales[e / 32];
  a = codes(q.x) * d;
  b = codes(q.y) * d;
}
