// op: y[v][row] = act(sum_k W[row][k] * x[v][k]) (+ y[v][row] when accumulate), q8_0 weights,
// as a tiled matrix product for many vectors (prefill chunks): see gemm_body.glsl.
// binding 0: W (weights_q8_0.glsl)   binding 1: float x[]   binding 2: float y[]   binding 3: float scales[]
// push constants: as matmul_q8_0 (wb::vk::MatmulPush).
// grid: x = ceil(rows / 64), y = ceil(n_vec / 64).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gemm_head.glsl"
#include "weights_q8_0.glsl"
#include "gemm_body.glsl"
