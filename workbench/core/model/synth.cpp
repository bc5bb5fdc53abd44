#include "core/model/synth.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace wb {
namespace {

// splitmix64: tiny, fast, and the same on every platform, so a seed names one model.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() >> 40) * (1.0f / 16777216.0f); }
};

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const int32_t exp = int32_t((x >> 23) & 0xff) - 127 + 15;
  uint32_t man = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) return uint16_t(sign | 0x7c00 | (man ? 0x200 : 0));
  if (exp >= 31) return uint16_t(sign | 0x7c00);
  if (exp <= 0) {  // subnormal or zero
    if (exp < -10) return uint16_t(sign);
    man |= 0x800000;
    const int shift = 14 - exp;
    uint32_t h = man >> shift;
    const uint32_t rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return uint16_t(sign | h);
  }
  uint32_t h = (uint32_t(exp) << 10) | (man >> 13);
  const uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // may carry into the exponent: still correct
  return uint16_t(sign | h);
}

enum GgmlType : uint32_t { kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8 };

// ggml's block encoders (q8_0: d = amax/127; q4_0: d = the signed extreme / -8).
void put_q8_0(const float* x, int64_t n, std::vector<uint8_t>& out) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* v = x + 32 * b;
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t dh = float_to_half(d);
    out.push_back(uint8_t(dh)), out.push_back(uint8_t(dh >> 8));
    for (int j = 0; j < 32; ++j) out.push_back(uint8_t(int8_t(std::lround(v[j] * id))));
  }
}

void put_q4_0(const float* x, int64_t n, std::vector<uint8_t>& out) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* v = x + 32 * b;
    float amax = 0, mx = 0;
    for (int j = 0; j < 32; ++j)
      if (std::fabs(v[j]) > amax) amax = std::fabs(v[j]), mx = v[j];
    const float d = mx / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t dh = float_to_half(d);
    out.push_back(uint8_t(dh)), out.push_back(uint8_t(dh >> 8));
    for (int j = 0; j < 16; ++j) {
      const int lo = std::min(15, int(v[j] * id + 8.5f)), hi = std::min(15, int(v[j + 16] * id + 8.5f));
      out.push_back(uint8_t(lo | (hi << 4)));
    }
  }
}

struct Tensor {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the contiguous dimension
  uint32_t type;
  std::vector<float> values;  // emptied once encoded into `bytes`
  std::vector<uint8_t> bytes;
};

class Writer {
 public:
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void str(const std::string& s) { u64(s.size()), raw(s.data(), s.size()); }
  void raw(const void* p, size_t n) { buf.insert(buf.end(), (const uint8_t*)p, (const uint8_t*)p + n); }
  void kv_u32(const std::string& k, uint32_t v) { str(k), u32(4), u32(v); }
  void kv_f32(const std::string& k, float v) { str(k), u32(6), raw(&v, 4); }
  void kv_str(const std::string& k, const std::string& v) { str(k), u32(8), str(v); }
  std::vector<uint8_t> buf;
};

std::vector<uint8_t> encode(const Tensor& t) {
  std::vector<uint8_t> out;
  const int64_t n = static_cast<int64_t>(t.values.size());
  switch (t.type) {
    case kF32: out.resize(n * 4), std::memcpy(out.data(), t.values.data(), n * 4); break;
    case kF16:
      out.resize(n * 2);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = float_to_half(t.values[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
      break;
    case kQ8_0: out.reserve(n / 32 * 34), put_q8_0(t.values.data(), n, out); break;
    case kQ4_0: out.reserve(n / 32 * 18), put_q4_0(t.values.data(), n, out); break;
  }
  return out;
}

}  // namespace

Rwkv7LoraRanks rwkv7_lora_ranks(int C) {
  auto r = [](double x) { return std::max(32, int(std::lround(x / 32.0)) * 32); };
  const double s = std::sqrt(double(C));
  return {r(1.8 * s), r(1.8 * s), r(1.3 * s), r(0.6 * std::pow(double(C), 0.8))};
}

Status write_synth_rwkv7_gguf(const SynthSpec& spec, const std::string& path) {
  const int64_t C = spec.n_embd, L = spec.n_layer, V = spec.n_vocab, N = spec.head_size, F = 4 * C;
  if (L < 1 || L > 1024 || C < 32 || C > 16384 || C % 32 != 0 || V < 256 || V > (1 << 22) || N < 1 || C % N != 0)
    return make_error(Errc::invalid_argument,
                      "synth: unsupported shape (layers {}, embd {}, vocab {}, head size {}): need 1..1024 layers, "
                      "embd a multiple of 32 and of the head size, vocab 256..4M",
                      L, C, V, N);
  uint32_t big;
  if (spec.dtype == "f32") big = kF32;
  else if (spec.dtype == "f16") big = kF16;
  else if (spec.dtype == "q8_0") big = kQ8_0;
  else if (spec.dtype == "q4_0") big = kQ4_0;
  else return make_error(Errc::invalid_argument, "synth: unknown dtype '{}' (f32, f16, q8_0, q4_0)", spec.dtype);
  const Rwkv7LoraRanks rk = rwkv7_lora_ranks(static_cast<int>(C));
  Rng rng{spec.seed * 0x2545f4914f6cdd1dull + 12345};

  // The small LoRA matrices stay f16 in f16 files (as the converter does) and
  // f32 in quantised ones (llama-quantize never quantises them).
  const uint32_t lora_t = big == kF32 ? kF32 : kF16;
  std::vector<Tensor> ts;
  auto fill = [&](std::string name, std::vector<int64_t> ne, uint32_t type, float lo, float hi) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    Tensor t{std::move(name), std::move(ne), type, std::vector<float>(size_t(n)), {}};
    for (float& v : t.values) v = rng.uniform(lo, hi);
    t.bytes = encode(t);
    t.values = {};
    ts.push_back(std::move(t));
  };
  auto constant = [&](std::string name, std::vector<int64_t> ne, float v) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    Tensor t{std::move(name), std::move(ne), kF32, std::vector<float>(size_t(n), v), {}};
    t.bytes = encode(t);
    t.values = {};
    ts.push_back(std::move(t));
  };
  // Projections: uniform with std ~ 0.5/sqrt(fan_in) keeps the residual stream O(1).
  auto proj = [&](std::string name, int64_t in, int64_t out, uint32_t type) {
    const float a = 0.87f / std::sqrt(float(in));
    fill(std::move(name), {in, out}, type, -a, a);
  };

  fill("token_embd.weight", {C, V}, big, -1e-1f, 1e-1f);
  constant("token_embd_norm.weight", {C}, 1.0f);
  constant("token_embd_norm.bias", {C}, 0.0f);
  for (int64_t i = 0; i < L; ++i) {
    const std::string g = "blk." + std::to_string(i) + ".";
    constant(g + "attn_norm.weight", {C}, 1.0f);
    constant(g + "attn_norm.bias", {C}, 0.0f);
    constant(g + "attn_norm_2.weight", {C}, 1.0f);
    constant(g + "attn_norm_2.bias", {C}, 0.0f);
    fill(g + "time_mix_lerp_fused.weight", {C, 1, 1, 6}, kF32, 0.0f, 1.0f);
    fill(g + "time_mix_w0.weight", {C}, kF32, -6.0f, -0.5f);
    proj(g + "time_mix_w1.weight", C, rk.decay, lora_t);
    proj(g + "time_mix_w2.weight", rk.decay, C, lora_t);
    fill(g + "time_mix_a0.weight", {C}, kF32, -0.5f, 0.5f);
    proj(g + "time_mix_a1.weight", C, rk.iclr, lora_t);
    proj(g + "time_mix_a2.weight", rk.iclr, C, lora_t);
    const int64_t vr = i == 0 ? rk.iclr : rk.value;  // layer 0: the converter's unused placeholder (a's shape)
    fill(g + "time_mix_v0.weight", {C}, kF32, 0.5f, 1.5f);
    proj(g + "time_mix_v1.weight", C, vr, lora_t);
    proj(g + "time_mix_v2.weight", vr, C, lora_t);
    proj(g + "time_mix_g1.weight", C, rk.gate, lora_t);
    proj(g + "time_mix_g2.weight", rk.gate, C, lora_t);
    fill(g + "time_mix_k_k.weight", {C}, kF32, 0.7f, 1.0f);
    fill(g + "time_mix_k_a.weight", {C}, kF32, 0.8f, 1.2f);
    fill(g + "time_mix_r_k.weight", {C}, kF32, -0.2f, 0.2f);
    proj(g + "time_mix_key.weight", C, C, big);
    proj(g + "time_mix_value.weight", C, C, big);
    proj(g + "time_mix_receptance.weight", C, C, big);
    proj(g + "time_mix_output.weight", C, C, big);
    fill(g + "time_mix_ln.weight", {C}, kF32, 0.5f, 1.0f);
    constant(g + "time_mix_ln.bias", {C}, 0.0f);
    fill(g + "channel_mix_lerp_k.weight", {C, 1, 1}, kF32, 0.0f, 1.0f);
    proj(g + "channel_mix_key.weight", C, F, big);
    proj(g + "channel_mix_value.weight", F, C, big);
  }
  constant("output_norm.weight", {C}, 1.0f);
  constant("output_norm.bias", {C}, 0.0f);
  proj("output.weight", C, V, big);

  // Header: metadata as llama.cpp's converter writes it, plus an "rwkv" vocab
  // (256 byte tokens, then filler tokens) so llama.cpp can load the file.
  Writer w;
  const int n_kv = 18;
  w.u32(0x46554747), w.u32(3), w.u64(ts.size()), w.u64(n_kv);
  w.kv_str("general.architecture", "rwkv7");
  w.kv_str("general.name", "wb-synth-rwkv7");
  w.kv_u32("rwkv7.context_length", 1048576);
  w.kv_u32("rwkv7.embedding_length", uint32_t(C));
  w.kv_u32("rwkv7.block_count", uint32_t(L));
  w.kv_f32("rwkv7.attention.layer_norm_epsilon", 1e-5f);
  w.kv_u32("rwkv7.wkv.head_size", uint32_t(N));
  w.kv_u32("rwkv7.feed_forward_length", uint32_t(F));
  w.kv_u32("rwkv7.attention.head_count", 0);
  w.kv_u32("rwkv7.attention.decay_lora_rank", uint32_t(rk.decay));
  w.kv_u32("rwkv7.attention.iclr_lora_rank", uint32_t(rk.iclr));
  w.kv_u32("rwkv7.attention.value_residual_mix_lora_rank", uint32_t(rk.value));
  w.kv_u32("rwkv7.attention.gate_lora_rank", uint32_t(rk.gate));
  w.kv_u32("general.file_type", big == kF32 ? 0 : big == kF16 ? 1 : big == kQ8_0 ? 7 : 2);
  w.kv_u32("general.seed", uint32_t(spec.seed));
  w.kv_str("tokenizer.ggml.model", "rwkv");
  w.str("tokenizer.ggml.tokens"), w.u32(9), w.u32(8), w.u64(uint64_t(V));
  for (int64_t t = 0; t < V; ++t) {
    std::string s;
    if (t < 256) {  // escaped like the converter (repr of one byte, quotes stripped)
      const int b = int(t);
      if (b == '\\') s = "\\\\";
      else if (b == '\'') s = "\\'";
      else if (b == '\t') s = "\\t";
      else if (b == '\n') s = "\\n";
      else if (b == '\r') s = "\\r";
      else if (b >= 32 && b < 127) s = std::string(1, char(b));
      else {
        char h[8];
        std::snprintf(h, sizeof h, "\\x%02x", b);
        s = h;
      }
    } else {
      s = "<t" + std::to_string(t) + ">";
    }
    w.str(s);
  }
  w.str("tokenizer.ggml.token_type"), w.u32(9), w.u32(5), w.u64(uint64_t(V));
  for (int64_t t = 0; t < V; ++t) w.u32(1);

  uint64_t off = 0;
  for (const Tensor& t : ts) {
    w.str(t.name), w.u32(uint32_t(t.ne.size()));
    for (int64_t d : t.ne) w.u64(uint64_t(d));
    w.u32(t.type), w.u64(off);
    off += (t.bytes.size() + 31) / 32 * 32;
  }
  while (w.buf.size() % 32) w.buf.push_back(0);

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return make_error(Errc::io, "synth: cannot create '{}': {}", path, std::strerror(errno));
  bool ok = std::fwrite(w.buf.data(), 1, w.buf.size(), f.get()) == w.buf.size();
  static const uint8_t zeros[32] = {};
  for (const Tensor& t : ts) {
    const std::vector<uint8_t>& b = t.bytes;
    ok = ok && std::fwrite(b.data(), 1, b.size(), f.get()) == b.size();
    const size_t pad = (32 - b.size() % 32) % 32;
    ok = ok && std::fwrite(zeros, 1, pad, f.get()) == pad;
  }
  if (!ok || std::fflush(f.get()) != 0) return make_error(Errc::io, "synth: writing '{}' failed", path);
  return {};
}

}  // namespace wb
