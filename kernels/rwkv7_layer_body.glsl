// op: one whole RWKV-7 layer of a single-token decode step of one state, in ONE
// dispatch of persistent workgroups that meet at grid barriers (included by
// rwkv7_layer_f16.comp / _f32.comp, which define WELEM and W8 for their weights):
//   phase 1  x_m = mix_m(LN1(x), att shift)   (every workgroup normalises the whole
//            vector itself, keeping its columns in registers: no dispatch, no barrier)
//            r, k, v = Wr x_r, Wk x_k, Wv x_v; the LoRA down-projections
//            tanh(W1 x_w), A1 x_a, sigmoid(G1 x_g), V1 x_v            -- grid barrier
//   (UP_SPLIT) the LoRA up-projections W2 lw, A2 la, G2 lg, V2 lv over every
//            workgroup, instead of inside each head's workgroup below  -- grid barrier
//   phase 2  the WKV step of every head (wkv7_step_body.glsl); workgroup 0 stores
//            LN1(x) as the new att shift                               -- grid barrier
//   phase 3  x += Wo att                                               -- grid barrier
//   phase 4  ffk = relu(Wk' mix(LN2(x), ffn shift))^2                  -- grid barrier
//   phase 5  x += Wv' ffk; workgroup 0 stores LN2(x) as the new ffn shift.
// The unfused recording needs 7 dependent dispatches per layer; on a GPU each
// costs several microseconds of launch and drain whatever its size (README,
// "Vulkan backend"), where a grid barrier is one atomic and a spin.
// Products: workgroups take blocks of ROWS rows in turn; invocation t holds
// columns (p*256 + t)*8 .. +7 of the input for pass p < MAXIT.
// Grid barriers (grid_sync.glsl) need every workgroup resident at once: the
// host launches a power of two of them, about one per multiprocessor, and on CPU
// devices only one. Where they are not, a waiting workgroup gives up after
// SPIN_LIMIT polls and sets sync.fail (never a hang); the layer then poisons x
// with a NaN, so nothing computed after it can pass for a result. The host
// scatters the states back only while fail is 0 (copy_unless.comp), reads it,
// and runs the call again without this kernel.
// binding 0: float x[C]            the residual stream (read and written)
// binding 1: float state[]         att shift at pc.att_shift, ffn shift at pc.ffn_shift, WKV at pc.wkv_off
// binding 2..4: float r[C], k[C], v[C]     phase 1 -> 2
// binding 5: vec4 lora[]           LoRA m's down-projection at float pc.lora_off[m] (pc.d[m] floats)
// binding 6: float v_first[C]      layer 0 writes it, later layers read it
// binding 7: float att[C]          phase 2 -> 3
// binding 8: float ffk[F]          phase 4 -> 5
// binding 9: float prm[19*C]       w0 a0 v0 k_k k_a | r_k ln_x.w ln_x.b | ln1.w ln1.b | x_r x_w x_k x_v x_a x_g | ln2.w ln2.b | ffn x_k
// binding 10: uint sync[4]         grid_sync.glsl's arrivals and fail (0 0 at first)
// binding 11..20: Wr Wk Wv W1 A1 G1 V1 Wo Wk' Wv'   (out, in) row-major, WELEM (f16 or f32)
//                 (layer 0: V1 any buffer, pc.d[3] = 0)
// binding 21..24: vec4 W2[C*d0/4], A2, G2, V2      f32 up-projections (layer 0: V2 any buffer)
// binding 25: vec4 upo[4*C/4]      UP_SPLIT: the up-projections' outputs (w a g vl), phase 1b -> 2
// push constants: { uint C, F, N, layer0; uvec4 d, lora_off; uint att_shift, ffn_shift, wkv_off, pad;
//                   float ln_eps, gn_eps; }  wb::vk::Rwkv7LayerPush
// specialisation: constant 0 MAXIT = ceil(max(C, F) / 2048), constant 1 SPIN_LIMIT, constant 2 ROWS,
//   constant 3 UP_SPLIT (needs every d[m] % 8 == 0).
// grid: x = the persistent workgroups (a power of two that the device runs at once).
// C % 8 == 0, F % 8 == 0, N <= 64, d[m] and lora_off[m] multiples of 4.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "reduce.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MAXIT = 1;
layout(constant_id = 2) const uint ROWS = 4;  // rows per block of a product: loads in flight per invocation
layout(constant_id = 3) const uint UP_SPLIT = 0;  // 1: the LoRA up-projections as a phase of their own
const uint WG = 256u;

layout(std430, binding = 0) coherent buffer X { float x[]; };
layout(std430, binding = 1) coherent buffer S { float state[]; };
layout(std430, binding = 2) coherent buffer R { float r[]; };
layout(std430, binding = 3) coherent buffer K { float k[]; };
layout(std430, binding = 4) coherent buffer V { float v[]; };
layout(std430, binding = 5) coherent buffer L { vec4 lora4[]; };
layout(std430, binding = 6) coherent buffer VF { float v_first[]; };
layout(std430, binding = 7) coherent buffer O { float outv[]; };
layout(std430, binding = 8) coherent buffer FK { float ffk[]; };
layout(std430, binding = 9) readonly buffer Prm { float prm[]; };
layout(std430, binding = 11) readonly buffer Wr_ { WELEM wr_[]; };
layout(std430, binding = 12) readonly buffer Wk_ { WELEM wk_[]; };
layout(std430, binding = 13) readonly buffer Wv_ { WELEM wv_[]; };
layout(std430, binding = 14) readonly buffer W1_ { WELEM w1_[]; };
layout(std430, binding = 15) readonly buffer A1_ { WELEM a1_[]; };
layout(std430, binding = 16) readonly buffer G1_ { WELEM g1_[]; };
layout(std430, binding = 17) readonly buffer V1_ { WELEM v1_[]; };
layout(std430, binding = 18) readonly buffer Wo_ { WELEM wo_[]; };
layout(std430, binding = 19) readonly buffer Fk_ { WELEM fk_[]; };
layout(std430, binding = 20) readonly buffer Fv_ { WELEM fv_[]; };
layout(std430, binding = 21) readonly buffer W2 { vec4 w2[]; };
layout(std430, binding = 22) readonly buffer A2 { vec4 a2[]; };
layout(std430, binding = 23) readonly buffer G2 { vec4 g2[]; };
layout(std430, binding = 24) readonly buffer V2 { vec4 v2[]; };
layout(std430, binding = 25) coherent buffer UpOut { vec4 upo4[]; };
layout(push_constant) uniform Push {
  uint C, F, N, layer0;
  uvec4 d, lora_off;
  uint att_shift, ffn_shift, wkv_off, pad;
  float ln_eps, gn_eps;
} pc;

// Offsets in prm (units of C).
const uint P_WKV = 5u, P_LN1 = 8u, P_ATT_MIX = 10u, P_LN2 = 16u, P_FFN_MIX = 18u;

#define GRID_SYNC_BINDING 10
#define GRID_SPIN_ID 1
#include "grid_sync.glsl"

#define WKV_GIVEN(m, b4, e) upo4[(m) * (pc.C / 4u) + (b4)][e]
#define WKV_P(i) prm[i]
#define WKV_Q(i) prm[P_WKV * pc.C + (i)]
#include "wkv7_step_body.glsl"

// Matrices by number (load_w).
const uint M_R = 0u, M_K = 1u, M_V = 2u, M_W1 = 3u, M_A1 = 4u, M_G1 = 5u, M_V1 = 6u, M_O = 7u, M_FK = 8u, M_FV = 9u;

void load_w(uint m, uint i8, out vec4 a, out vec4 b) {
  switch (m) {
    case 0u: W8(wr_, i8, a, b) break;
    case 1u: W8(wk_, i8, a, b) break;
    case 2u: W8(wv_, i8, a, b) break;
    case 3u: W8(w1_, i8, a, b) break;
    case 4u: W8(a1_, i8, a, b) break;
    case 5u: W8(g1_, i8, a, b) break;
    case 6u: W8(v1_, i8, a, b) break;
    case 7u: W8(wo_, i8, a, b) break;
    case 8u: W8(fk_, i8, a, b) break;
    case 9u: W8(fv_, i8, a, b) break;
    case 10u: a = w2[2u * i8]; b = w2[2u * i8 + 1u]; break;  // the f32 up-projections
    case 11u: a = a2[2u * i8]; b = a2[2u * i8 + 1u]; break;
    case 12u: a = g2[2u * i8]; b = g2[2u * i8 + 1u]; break;
    default: a = v2[2u * i8]; b = v2[2u * i8 + 1u]; break;
  }
}

// This invocation's columns of the products' input (xa: kc..kc+3, xb: kc+4..kc+7),
// of the normalised x (la, lb) and of prev - normalised x (da, db), pass p.
vec4 xa[MAXIT], xb[MAXIT], la[MAXIT], lb[MAXIT], da[MAXIT], db[MAXIT];

uint column(uint p) { return (p * WG + gl_LocalInvocationID.x) * 8u; }

// Layer norm of x with the weights at prm[w_off..], bias after them, and the
// previous token's values from state[shift..]: la/lb and da/db.
void norm_x(uint w_off, uint shift) {
  const uint C = pc.C;
  float s = 0.0;
  for (uint p = 0u; p < MAXIT; ++p) {
    const uint kc = column(p);
    la[p] = lb[p] = vec4(0.0);
    if (kc < C) {
      la[p] = vec4(x[kc], x[kc + 1u], x[kc + 2u], x[kc + 3u]);
      lb[p] = vec4(x[kc + 4u], x[kc + 5u], x[kc + 6u], x[kc + 7u]);
      s += dot(la[p] + lb[p], vec4(1.0));
    }
  }
  const float mean = wg_sum(s) / float(C);
  float q = 0.0;
  for (uint p = 0u; p < MAXIT; ++p)
    if (column(p) < C) {
      const vec4 a = la[p] - mean, b = lb[p] - mean;
      q += dot(a, a) + dot(b, b);
    }
  const float rstd = inversesqrt(wg_sum(q) / float(C) + pc.ln_eps);
  for (uint p = 0u; p < MAXIT; ++p) {
    const uint kc = column(p);
    if (kc >= C) break;
    const uint w = w_off + kc, b = w + C, so = shift + kc;
    la[p] = (la[p] - mean) * rstd * vec4(prm[w], prm[w + 1u], prm[w + 2u], prm[w + 3u]) +
            vec4(prm[b], prm[b + 1u], prm[b + 2u], prm[b + 3u]);
    lb[p] = (lb[p] - mean) * rstd * vec4(prm[w + 4u], prm[w + 5u], prm[w + 6u], prm[w + 7u]) +
            vec4(prm[b + 4u], prm[b + 5u], prm[b + 6u], prm[b + 7u]);
    da[p] = vec4(state[so], state[so + 1u], state[so + 2u], state[so + 3u]) - la[p];
    db[p] = vec4(state[so + 4u], state[so + 5u], state[so + 6u], state[so + 7u]) - lb[p];
  }
}

// The products' input: the token-shift mix at prm[mix_off..] of the normalised x.
void mixed_input(uint mix_off) {
  for (uint p = 0u; p < MAXIT; ++p) {
    const uint kc = column(p), m = mix_off + kc;
    if (kc >= pc.C) break;
    xa[p] = la[p] + da[p] * vec4(prm[m], prm[m + 1u], prm[m + 2u], prm[m + 3u]);
    xb[p] = lb[p] + db[p] * vec4(prm[m + 4u], prm[m + 5u], prm[m + 6u], prm[m + 7u]);
  }
}

// Workgroup 0 stores the normalised x as the new shift values (after every
// workgroup has read the old ones).
void store_shift(uint shift) {
  if (gl_WorkGroupID.x != 0u) return;
  for (uint p = 0u; p < MAXIT; ++p) {
    const uint kc = column(p), so = shift + kc;
    if (kc >= pc.C) break;
    state[so] = la[p].x; state[so + 1u] = la[p].y; state[so + 2u] = la[p].z; state[so + 3u] = la[p].w;
    state[so + 4u] = lb[p].x; state[so + 5u] = lb[p].y; state[so + 6u] = lb[p].z; state[so + 7u] = lb[p].w;
  }
}

// The products' input from float buffer BUF (cols floats), this invocation's columns
// (a macro: GLSL passes no buffers to functions).
#define INPUT_FROM(BUF, cols)                                                   \
  for (uint p = 0u; p < MAXIT; ++p) {                                           \
    const uint kc = column(p);                                                  \
    if (kc >= (cols)) break;                                                    \
    xa[p] = vec4(BUF[kc], BUF[kc + 1u], BUF[kc + 2u], BUF[kc + 3u]);            \
    xb[p] = vec4(BUF[kc + 4u], BUF[kc + 5u], BUF[kc + 6u], BUF[kc + 7u]);       \
  }

shared float mv_red[ROWS * (WG / 4u)];
shared float mv_sum[ROWS];

// Rows row0 .. row0+nrows-1 (nrows <= ROWS) of matrix m (cols columns) times the
// input; invocation r < nrows returns row row0 + r's sum. Every invocation calls it.
// The subgroups' partial sums are added by the first subgroup with a subgroup
// sum, not by one invocation walking them all: besides being shorter, that keeps
// a whole layer within llvmpipe's budget of 65,535 loop iterations per
// invocation (lavapipe runs 32 subgroups of 8 per workgroup).
float rows_dot(uint m, uint row0, uint nrows, uint cols) {
  float acc[ROWS];
  for (uint r = 0u; r < ROWS; ++r) acc[r] = 0.0;
  for (uint p = 0u; p < MAXIT; ++p) {
    const uint kc = column(p);
    if (kc >= cols) break;
    for (uint r = 0u; r < ROWS; ++r)
      if (r < nrows) {
        vec4 a, b;
        load_w(m, ((row0 + r) * cols + kc) / 8u, a, b);
        acc[r] += dot(a, xa[p]) + dot(b, xb[p]);
      }
  }
  for (uint r = 0u; r < ROWS; ++r) {
    const float s = subgroupAdd(acc[r]);
    if (subgroupElect()) mv_red[gl_SubgroupID * ROWS + r] = s;
  }
  barrier();
  if (gl_SubgroupID == 0u) {
    for (uint r = 0u; r < ROWS; ++r) acc[r] = 0.0;
    for (uint g = gl_SubgroupInvocationID; g < gl_NumSubgroups; g += gl_SubgroupSize)
      for (uint r = 0u; r < ROWS; ++r) acc[r] += mv_red[g * ROWS + r];
    for (uint r = 0u; r < ROWS; ++r) {
      const float s = subgroupAdd(acc[r]);
      if (subgroupElect()) mv_sum[r] = s;
    }
  }
  barrier();
  const uint t = gl_LocalInvocationID.x;
  return t < nrows ? mv_sum[t] : 0.0;
}

void set_lora(uint i, float s) { lora4[i >> 2][i & 3u] = s; }

// Phase 1's products: seven matrices, each with its mix slot and output.
void project_att() {
  const uint C = pc.C, t = gl_LocalInvocationID.x;
  const uint rows[7] = uint[7](C, C, C, pc.d.x, pc.d.y, pc.d.z, pc.d.w);
  const uint slot[7] = uint[7](0u, 2u, 3u, 1u, 4u, 5u, 3u);  // x_r x_w x_k x_v x_a x_g
  uint seg = 0u, first = 0u, mixed = 7u;
  for (uint blk = gl_WorkGroupID.x; seg < 7u;) {
    const uint nb = (rows[seg] + ROWS - 1u) / ROWS;
    if (blk >= first + nb) {
      first += nb;
      ++seg;
      continue;
    }
    if (mixed != seg) {
      mixed_input((P_ATT_MIX + slot[seg]) * C);
      mixed = seg;
    }
    const uint row0 = (blk - first) * ROWS, nrows = min(ROWS, rows[seg] - row0);
    const float s = rows_dot(seg, row0, nrows, C);  // matrices 0..6 are the segments
    if (t < nrows) {
      const uint row = row0 + t;
      if (seg == 0u) r[row] = s;
      else if (seg == 1u) k[row] = s;
      else if (seg == 2u) v[row] = s;
      else if (seg == 3u) set_lora(pc.lora_off.x + row, tanh(s));
      else if (seg == 4u) set_lora(pc.lora_off.y + row, s);
      else if (seg == 5u) set_lora(pc.lora_off.z + row, 1.0 / (1.0 + exp(-s)));
      else set_lora(pc.lora_off.w + row, s);
    }
    blk += gl_NumWorkGroups.x;
  }
}

// With UP_SPLIT: the four up-projections (C rows of d[m] columns each, f32) of
// the LoRA vectors, spread over every workgroup, into upo (m * C + row). Their
// rows are narrow (d = 32-512), so rows_dot, which spreads one row over the
// whole workgroup, would leave most invocations idle and take C / ROWS blocks:
// here eight invocations take a row (columns lane*8 + 64*q), 32 rows a block,
// summed through shared memory (no clustered subgroup ops needed).
shared float up_red[WG];
void project_up() {
  const uint C = pc.C, t = gl_LocalInvocationID.x, lane = t & 7u, nb = (C + 31u) / 32u;
  for (uint blk = gl_WorkGroupID.x; blk < 4u * nb; blk += gl_NumWorkGroups.x) {
    const uint m = blk / nb, d = pc.d[m];
    if (d == 0u) continue;  // layer 0 has no V LoRA (uniform: m depends on blk only)
    const uint row = (blk - m * nb) * 32u + (t >> 3);
    float acc = 0.0;
    if (row < C)
      for (uint kc = lane * 8u; kc < d; kc += 64u) {
        vec4 a, b;
        load_w(10u + m, (row * d + kc) / 8u, a, b);
        const uint o = (pc.lora_off[m] + kc) / 4u;
        acc += dot(a, lora4[o]) + dot(b, lora4[o + 1u]);
      }
    up_red[t] = acc;
    barrier();
    if (lane == 0u && row < C) {
      float s = 0.0;
      for (uint i = 0u; i < 8u; ++i) s += up_red[t + i];
      upo4[(m * C + row) >> 2][row & 3u] = s;
    }
    barrier();
  }
}

// rows of matrix m (cols columns) times the input: x += (to_x) or ffk = relu^2.
void product(uint m, uint nrows_all, uint cols, bool to_x) {
  const uint nb = (nrows_all + ROWS - 1u) / ROWS, t = gl_LocalInvocationID.x;
  for (uint blk = gl_WorkGroupID.x; blk < nb; blk += gl_NumWorkGroups.x) {
    const uint row0 = blk * ROWS, nrows = min(ROWS, nrows_all - row0);
    const float s = rows_dot(m, row0, nrows, cols);
    if (t < nrows) {
      const uint row = row0 + t;
      if (to_x) x[row] += s;
      else {
        const float h = max(s, 0.0);
        ffk[row] = h * h;
      }
    }
  }
}

void main() {
  const uint C = pc.C;
  // Phase 1: LN1, token shift, projections and LoRA down-projections.
  norm_x(P_LN1 * C, pc.att_shift);
  project_att();
  grid_sync();
  if (UP_SPLIT != 0u) {
    project_up();
    grid_sync();
  }
  // Phase 2: the heads' WKV step.
  store_shift(pc.att_shift);
  const Wkv7Args A = Wkv7Args(C, pc.N, pc.wkv_off, 0u, pc.gn_eps, pc.layer0, UP_SPLIT, pc.d, pc.lora_off);
  for (uint h = gl_WorkGroupID.x; h < C / pc.N; h += gl_NumWorkGroups.x) wkv7_head(A, h, 0u);
  grid_sync();
  // Phase 3: output projection into the residual.
  INPUT_FROM(outv, C);
  product(M_O, C, C, true);
  grid_sync();
  // Phase 4: LN2, token shift, FFN key.
  norm_x(P_LN2 * C, pc.ffn_shift);
  mixed_input(P_FFN_MIX * C);
  product(M_FK, pc.F, C, false);
  grid_sync();
  // Phase 5: FFN value into the residual.
  store_shift(pc.ffn_shift);
  INPUT_FROM(ffk, pc.F);
  product(M_FV, C, pc.F, true);
  // A barrier that gave up: poison the residual (the host reads sync.fail and runs the call again).
  if (gl_LocalInvocationID.x == 0u && sync_.fail != 0u) x[gl_WorkGroupID.x % C] = uintBitsToFloat(0x7fc00000u);
}
