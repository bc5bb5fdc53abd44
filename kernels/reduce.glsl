// Workgroup-wide sums for kernels of up to 256 invocations (included, not
// compiled alone). Every invocation of the workgroup must call them (they use barriers).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

shared vec2 red2_sh[64];  // one slot per subgroup (256 invocations, subgroup size >= 4)

vec2 wg_sum2(vec2 v) {
  vec2 s = subgroupAdd(v);
  if (subgroupElect()) red2_sh[gl_SubgroupID] = s;
  barrier();
  vec2 t = vec2(0.0);
  for (uint g = 0; g < gl_NumSubgroups; ++g) t += red2_sh[g];
  barrier();  // the next call reuses red2_sh
  return t;
}

float wg_sum(float v) { return wg_sum2(vec2(v, 0.0)).x; }
