#include "core/model/gguf_file.hpp"

#include <algorithm>
#include <set>

#include "core/model/format_util.hpp"
#include "core/util/mapped_file.hpp"

namespace wb {

namespace {

using fmt_util::ByteReader;

enum : uint32_t {
  kU8 = 0, kI8, kU16, kI16, kU32, kI32, kF32, kBool, kString, kArray, kU64, kI64, kF64, kTypeCount
};
const char* type_name(uint32_t t) {
  static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                "bool", "string", "array", "u64", "i64", "f64"};
  return t < kTypeCount ? names[t] : "?";
}

constexpr uint64_t kMaxString = 1ull << 24;   // one key or value string
constexpr uint64_t kMaxTensors = 1ull << 20;  // tensor infos
constexpr uint64_t kMaxKv = 1ull << 20;       // key/value pairs

Result<std::string> read_string(ByteReader& r, const char* what) {
  WB_TRY(n, r.u64(what));
  if (n > kMaxString) return make_error(Errc::limit, "{} claims {} bytes", what, n);
  WB_TRY(b, r.bytes(n, what));
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Reads one scalar of type t into v (numbers into i/u/f, and as a double into *num).
Status read_scalar(ByteReader& r, uint32_t t, GgufValue& v, double* num) {
  switch (t) {
    case kU8: { WB_TRY(x, r.u8("u8")); v.u = x; v.i = x; *num = x; break; }
    case kI8: { WB_TRY(x, r.u8("i8")); v.i = static_cast<int8_t>(x); *num = static_cast<double>(v.i); break; }
    case kU16: { WB_TRY(x, r.u16("u16")); v.u = x; v.i = x; *num = x; break; }
    case kI16: { WB_TRY(x, r.u16("i16")); v.i = static_cast<int16_t>(x); *num = static_cast<double>(v.i); break; }
    case kU32: { WB_TRY(x, r.u32("u32")); v.u = x; v.i = x; *num = x; break; }
    case kI32: { WB_TRY(x, r.i32("i32")); v.i = x; *num = x; break; }
    case kF32: { WB_TRY(x, r.scalar<float>("f32")); v.f = x; *num = x; break; }
    case kBool: {
      WB_TRY(x, r.u8("bool"));
      if (x > 1) return make_error(Errc::format, "bool value {} is neither 0 nor 1", x);
      v.u = x; v.i = x; *num = x;
      break;
    }
    case kU64: { WB_TRY(x, r.u64("u64")); v.u = x; v.i = static_cast<int64_t>(x); *num = static_cast<double>(x); break; }
    case kI64: { WB_TRY(x, r.scalar<int64_t>("i64")); v.i = x; *num = static_cast<double>(x); break; }
    case kF64: { WB_TRY(x, r.scalar<double>("f64")); v.f = x; *num = x; break; }
    default: return make_error(Errc::format, "unknown value type {}", t);
  }
  if (t != kF32 && t != kF64) v.f = *num;
  if (t == kI8 || t == kI16 || t == kI32 || t == kI64) v.u = static_cast<uint64_t>(v.i);
  return {};
}

size_t scalar_size(uint32_t t) {
  switch (t) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kU64: case kI64: case kF64: return 8;
    default: return 0;
  }
}

Result<GgufValue> read_value(ByteReader& r, uint32_t t) {
  GgufValue v;
  v.type = t;
  if (t == kString) {
    WB_TRY(s, read_string(r, "string value"));
    v.s = std::move(s);
    return v;
  }
  if (t == kArray) {
    WB_TRY(et, r.u32("array element type"));
    WB_TRY(n, r.u64("array length"));
    v.array_type = et;
    if (et == kArray) return make_error(Errc::unsupported, "nested arrays are not supported");
    if (et == kString) {
      // Each string needs at least its 8-byte length: bounds n before reserving.
      if (n > r.remaining() / 8) return make_error(Errc::format, "string array claims {} entries, file too short", n);
      v.strs.reserve(static_cast<size_t>(n));
      for (uint64_t k = 0; k < n; ++k) {
        WB_TRY(s, read_string(r, "array string"));
        v.strs.push_back(std::move(s));
      }
      return v;
    }
    const size_t es = scalar_size(et);
    if (es == 0) return make_error(Errc::format, "unknown array element type {}", et);
    if (n > r.remaining() / es) return make_error(Errc::format, "{} array claims {} entries, file too short", type_name(et), n);
    v.nums.resize(static_cast<size_t>(n));
    GgufValue tmp;
    for (uint64_t k = 0; k < n; ++k) WB_CHECK(read_scalar(r, et, tmp, &v.nums[static_cast<size_t>(k)]));
    return v;
  }
  double d;
  WB_CHECK(read_scalar(r, t, v, &d));
  return v;
}

Result<DType> ggml_dtype(uint32_t t, const std::string& name) {
  switch (t) {
    case 0: return DType::f32;
    case 1: return DType::f16;
    case 2: return DType::q4_0;
    case 3: return DType::q4_1;
    case 6: return DType::q5_0;
    case 7: return DType::q5_1;
    case 8: return DType::q8_0;
    case 30: return DType::bf16;
    default:
      return make_error(Errc::unsupported,
                        "tensor '{}' has ggml type {} (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0)", name,
                        t);
  }
}

// ---- rwkv6 / rwkv7 name mapping -------------------------------------------

enum class Fix { none, vec, transpose, transpose3, split, r_k, drop };

struct Rule {
  const char* gguf;      // suffix after "blk.N."
  const char* official;  // suffix after "blocks.N."; for split: comma-separated parts
  Fix fix;
};

// What llama.cpp's converter does, undone (conversion/rwkv.py, Rwkv6Model and
// Rwkv7Model): `vec` = squeezed (1,1,C) vector, `transpose` = LoRA matrix stored
// transposed, `transpose3` = v6 time_maa_w2 with its last two axes swapped,
// `split` = stacked token-shift lerps, `r_k` = flattened (H,N).
const Rule kRwkv6Rules[] = {
    {"attn_norm.weight", "ln1.weight", Fix::none},
    {"attn_norm.bias", "ln1.bias", Fix::none},
    {"attn_norm_2.weight", "ln2.weight", Fix::none},
    {"attn_norm_2.bias", "ln2.bias", Fix::none},
    {"time_mix_lerp_x.weight", "att.time_maa_x", Fix::vec},
    {"time_mix_lerp_fused.weight", "att.time_maa_w,att.time_maa_k,att.time_maa_v,att.time_maa_r,att.time_maa_g", Fix::split},
    {"time_mix_lerp_w.weight", "att.time_maa_w", Fix::vec},
    {"time_mix_lerp_k.weight", "att.time_maa_k", Fix::vec},
    {"time_mix_lerp_v.weight", "att.time_maa_v", Fix::vec},
    {"time_mix_lerp_r.weight", "att.time_maa_r", Fix::vec},
    {"time_mix_lerp_g.weight", "att.time_maa_g", Fix::vec},
    {"time_mix_w1.weight", "att.time_maa_w1", Fix::transpose},
    {"time_mix_w2.weight", "att.time_maa_w2", Fix::transpose3},
    {"time_mix_decay.weight", "att.time_decay", Fix::vec},
    {"time_mix_decay_w1.weight", "att.time_decay_w1", Fix::transpose},
    {"time_mix_decay_w2.weight", "att.time_decay_w2", Fix::transpose},
    {"time_mix_first.weight", "att.time_faaaa", Fix::none},
    {"time_mix_key.weight", "att.key.weight", Fix::none},
    {"time_mix_value.weight", "att.value.weight", Fix::none},
    {"time_mix_receptance.weight", "att.receptance.weight", Fix::none},
    {"time_mix_gate.weight", "att.gate.weight", Fix::none},
    {"time_mix_output.weight", "att.output.weight", Fix::none},
    {"time_mix_ln.weight", "att.ln_x.weight", Fix::none},
    {"time_mix_ln.bias", "att.ln_x.bias", Fix::none},
    {"channel_mix_lerp_k.weight", "ffn.time_maa_k", Fix::vec},
    {"channel_mix_lerp_r.weight", "ffn.time_maa_r", Fix::vec},
    {"channel_mix_key.weight", "ffn.key.weight", Fix::none},
    {"channel_mix_value.weight", "ffn.value.weight", Fix::none},
    {"channel_mix_receptance.weight", "ffn.receptance.weight", Fix::none},
};

const Rule kRwkv7Rules[] = {
    {"attn_norm.weight", "ln1.weight", Fix::none},
    {"attn_norm.bias", "ln1.bias", Fix::none},
    {"attn_norm_2.weight", "ln2.weight", Fix::none},
    {"attn_norm_2.bias", "ln2.bias", Fix::none},
    {"time_mix_lerp_fused.weight", "att.x_r,att.x_w,att.x_k,att.x_v,att.x_a,att.x_g", Fix::split},
    {"time_mix_w0.weight", "att.w0", Fix::vec},
    {"time_mix_a0.weight", "att.a0", Fix::vec},
    {"time_mix_v0.weight", "att.v0", Fix::vec},
    {"time_mix_w1.weight", "att.w1", Fix::transpose},
    {"time_mix_w2.weight", "att.w2", Fix::transpose},
    {"time_mix_a1.weight", "att.a1", Fix::transpose},
    {"time_mix_a2.weight", "att.a2", Fix::transpose},
    {"time_mix_v1.weight", "att.v1", Fix::transpose},
    {"time_mix_v2.weight", "att.v2", Fix::transpose},
    {"time_mix_g1.weight", "att.g1", Fix::transpose},
    {"time_mix_g2.weight", "att.g2", Fix::transpose},
    {"time_mix_k_k.weight", "att.k_k", Fix::vec},
    {"time_mix_k_a.weight", "att.k_a", Fix::vec},
    {"time_mix_r_k.weight", "att.r_k", Fix::r_k},
    {"time_mix_key.weight", "att.key.weight", Fix::none},
    {"time_mix_value.weight", "att.value.weight", Fix::none},
    {"time_mix_receptance.weight", "att.receptance.weight", Fix::none},
    {"time_mix_output.weight", "att.output.weight", Fix::none},
    {"time_mix_ln.weight", "att.ln_x.weight", Fix::none},
    {"time_mix_ln.bias", "att.ln_x.bias", Fix::none},
    {"channel_mix_lerp_k.weight", "ffn.x_k", Fix::vec},
    {"channel_mix_key.weight", "ffn.key.weight", Fix::none},
    {"channel_mix_value.weight", "ffn.value.weight", Fix::none},
};

const std::pair<const char*, const char*> kGlobalNames[] = {
    {"token_embd.weight", "emb.weight"},
    {"token_embd_norm.weight", "blocks.0.ln0.weight"},
    {"token_embd_norm.bias", "blocks.0.ln0.bias"},
    {"output_norm.weight", "ln_out.weight"},
    {"output_norm.bias", "ln_out.bias"},
    {"output.weight", "head.weight"},
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (true) {
    size_t e = s.find(',', b);
    out.push_back(s.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

Status map_rwkv(GgufFile& g, bool v7) {
  TensorFile& tf = g.tensors;
  const std::string arch = v7 ? "rwkv7" : "rwkv6";
  int64_t head_size = 0;
  if (const GgufValue* hs = g.find(arch + ".wkv.head_size")) head_size = hs->i;
  if (!v7) {
    const GgufValue* re = g.find("rwkv6.rescale_every_n_layers");
    tf.meta["rescale_every_n_layers"] = re ? std::to_string(re->i) : "0";
  }
  std::vector<TensorView> out;
  for (TensorView& t : tf.tensors) {
    bool global = false;
    for (const auto& [from, to] : kGlobalNames)
      if (t.name == from) {
        t.name = to;
        global = true;
      }
    if (global) {
      out.push_back(std::move(t));
      continue;
    }
    // "blk.<N>.<suffix>"
    if (t.name.rfind("blk.", 0) != 0) return make_error(Errc::format, "{} tensor '{}' has an unknown name", arch, t.name);
    const size_t dot = t.name.find('.', 4);
    if (dot == std::string::npos || dot == 4 || dot - 4 > 6)
      return make_error(Errc::format, "{} tensor '{}' has no layer number", arch, t.name);
    const std::string layer = t.name.substr(4, dot - 4);
    if (!std::all_of(layer.begin(), layer.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return make_error(Errc::format, "{} tensor '{}' has a malformed layer number", arch, t.name);
    const std::string suffix = t.name.substr(dot + 1);
    const Rule* rule = nullptr;
    for (const Rule& r : v7 ? std::span<const Rule>(kRwkv7Rules) : std::span<const Rule>(kRwkv6Rules))
      if (suffix == r.gguf) rule = &r;
    if (!rule) return make_error(Errc::unsupported, "{} tensor '{}' is not one llama.cpp's converter writes", arch, t.name);
    const std::string prefix = "blocks." + std::to_string(std::stoul(layer)) + ".";
    // Layer 0 of RWKV-7 has no value-residual LoRA; the converter writes
    // placeholder copies of a0/a1/a2 there, which the official layout lacks.
    if (v7 && layer == "0" && (suffix.rfind("time_mix_v0", 0) == 0 || suffix.rfind("time_mix_v1", 0) == 0 ||
                               suffix.rfind("time_mix_v2", 0) == 0))
      continue;
    const int64_t n = static_cast<int64_t>(t.numel());
    switch (rule->fix) {
      case Fix::none:
      case Fix::drop:
        t.name = prefix + rule->official;
        out.push_back(std::move(t));
        break;
      case Fix::vec:
        t.name = prefix + rule->official;
        t.shape = {1, 1, n};
        out.push_back(std::move(t));
        break;
      case Fix::r_k: {
        if (head_size <= 0 || n % head_size != 0)
          return make_error(Errc::format, "tensor '{}' ({} values) needs {}.wkv.head_size (got {})", t.name, n, arch,
                            head_size);
        t.name = prefix + rule->official;
        t.shape = {n / head_size, head_size};
        out.push_back(std::move(t));
        break;
      }
      case Fix::transpose: {
        if (t.shape.size() != 2) return make_error(Errc::format, "tensor '{}' is not 2-D", t.name);
        t.name = prefix + rule->official;
        WB_CHECK(fmt_util::transpose_owned(tf, t, 1, t.shape[0], t.shape[1]));
        out.push_back(std::move(t));
        break;
      }
      case Fix::transpose3: {
        if (t.shape.size() != 3) return make_error(Errc::format, "tensor '{}' is not 3-D", t.name);
        t.name = prefix + rule->official;
        WB_CHECK(fmt_util::transpose_owned(tf, t, t.shape[0], t.shape[1], t.shape[2]));
        out.push_back(std::move(t));
        break;
      }
      case Fix::split: {
        const auto parts = split_commas(rule->official);
        int64_t k = static_cast<int64_t>(parts.size());
        if (!t.shape.empty() && t.shape[0] != k && v7 && t.shape[0] == 5) k = 5;  // no gate (wkv_has_gate false)
        if (t.shape.empty() || t.shape[0] != k || n % k != 0)
          return make_error(Errc::format, "tensor '{}' of shape [{}] does not stack {} vectors", t.name,
                            fmt::join(t.shape, ","), k);
        const int64_t c = n / k;
        WB_TRY(part_bytes, dtype_bytes_for(t.dtype, static_cast<uint64_t>(c)));
        for (int64_t i = 0; i < k; ++i) {
          TensorView p;
          p.name = prefix + parts[static_cast<size_t>(i)];
          p.dtype = t.dtype;
          p.shape = {1, 1, c};
          p.data = t.data + static_cast<uint64_t>(i) * part_bytes;
          p.nbytes = part_bytes;
          out.push_back(std::move(p));
        }
        break;
      }
    }
  }
  tf.tensors = std::move(out);
  tf.convention = ValueConvention::official;
  return {};
}

Result<GgufFile> parse_impl(std::span<const uint8_t> bytes, const std::string& path, bool map) {
  ByteReader r(bytes);
  WB_TRY(magic, r.u32("magic"));
  if (magic != 0x46554747u) return make_error(Errc::format, "not a GGUF file (bad magic)");
  GgufFile g;
  WB_TRY(version, r.u32("version"));
  if (version != 2 && version != 3) return make_error(Errc::unsupported, "GGUF version {} (supported: 2, 3)", version);
  g.version = version;
  WB_TRY(n_tensors, r.u64("tensor count"));
  WB_TRY(n_kv, r.u64("metadata count"));
  if (n_tensors > kMaxTensors || n_tensors > r.remaining() / 24)
    return make_error(Errc::limit, "header claims {} tensors", n_tensors);
  if (n_kv > kMaxKv || n_kv > r.remaining() / 12) return make_error(Errc::limit, "header claims {} metadata entries", n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    WB_TRY(key, read_string(r, "metadata key"));
    WB_TRY(t, r.u32("metadata type"));
    auto v = read_value(r, t);
    if (!v) return make_error(v.error().code, "metadata '{}': {}", key, v.error().message);
    if (g.kv.count(key)) return make_error(Errc::format, "metadata key '{}' appears twice", key);
    g.kv.emplace(std::move(key), std::move(*v));
  }
  uint64_t alignment = 32;
  if (const GgufValue* a = g.find("general.alignment")) {
    if (a->type != kU32 || a->u == 0 || (a->u & (a->u - 1)) != 0 || a->u > 65536)
      return make_error(Errc::format, "general.alignment must be a power-of-two u32 up to 65536");
    alignment = a->u;
  }
  TensorFile& tf = g.tensors;
  tf.path = path;
  tf.format = "gguf";
  struct Info {
    uint64_t off, size;
  };
  std::vector<Info> infos;
  std::set<std::string> names;
  for (uint64_t k = 0; k < n_tensors; ++k) {
    WB_TRY(name, read_string(r, "tensor name"));
    if (name.empty() || !fmt_util::valid_utf8(name))
      return make_error(Errc::format, "tensor #{} has an empty or non-UTF-8 name", k);
    if (!names.insert(name).second) return make_error(Errc::format, "tensor '{}' appears twice", name);
    WB_TRY(nd, r.u32("tensor dims"));
    if (nd == 0 || nd > 4) return make_error(Errc::format, "tensor '{}' has {} dimensions (1..4)", name, nd);
    std::vector<int64_t> ne(nd);
    for (uint32_t d = 0; d < nd; ++d) {
      WB_TRY(x, r.u64("tensor dim"));
      if (x > fmt_util::kMaxTensorElems) return make_error(Errc::limit, "tensor '{}' claims dimension {}", name, x);
      ne[d] = static_cast<int64_t>(x);
    }
    WB_TRY(gt, r.u32("tensor type"));
    WB_TRY(off, r.u64("tensor offset"));
    WB_TRY(dt, ggml_dtype(gt, name));
    TensorView t;
    t.name = name;
    t.dtype = dt;
    t.shape.assign(ne.rbegin(), ne.rend());  // ggml ne[0] is the innermost dimension
    WB_TRY(numel, fmt_util::checked_numel(t.shape, name));
    if (ne[0] % dtype_block_elems(dt) != 0)
      return make_error(Errc::format, "tensor '{}': row of {} is not a whole number of {} blocks", name, ne[0],
                        dtype_name(dt));
    WB_TRY(nbytes, dtype_bytes_for(dt, numel));
    if (off % alignment != 0) return make_error(Errc::format, "tensor '{}' offset {} is not {}-aligned", name, off, alignment);
    t.nbytes = nbytes;
    infos.push_back({off, nbytes});
    tf.tensors.push_back(std::move(t));
  }
  const uint64_t data_start = (r.pos() + alignment - 1) / alignment * alignment;
  if (data_start > bytes.size() && !tf.tensors.empty())
    return make_error(Errc::format, "data section starts at {} beyond the end of the file ({} bytes)", data_start,
                      bytes.size());
  const uint64_t data_size = data_start <= bytes.size() ? bytes.size() - data_start : 0;
  std::vector<size_t> order(infos.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return infos[a].off < infos[b].off; });
  uint64_t prev_end = 0;
  for (size_t i : order) {
    const Info& in = infos[i];
    if (in.off > data_size || in.size > data_size - in.off)
      return make_error(Errc::format, "tensor '{}' ({} bytes at offset {}) runs past the end of the file",
                        tf.tensors[i].name, in.size, in.off);
    if (in.off < prev_end && in.size > 0)
      return make_error(Errc::format, "tensor '{}' overlaps the tensor before it", tf.tensors[i].name);
    prev_end = std::max(prev_end, in.off + in.size);
    tf.tensors[i].data = bytes.data() + data_start + in.off;
  }
  for (const auto& [k, v] : g.kv) tf.meta[k] = v.to_text();
  if (map) {
    const GgufValue* arch = g.find("general.architecture");
    if (arch && (arch->s == "rwkv6" || arch->s == "rwkv7")) WB_CHECK(map_rwkv(g, arch->s == "rwkv7"));
  }
  return g;
}

}  // namespace

std::string GgufValue::to_text() const {
  switch (type) {
    case kString: return s;
    case kF32: case kF64: return fmt::format("{}", f);
    case kBool: return u ? "true" : "false";
    case kI8: case kI16: case kI32: case kI64: return std::to_string(i);
    case kArray: {
      const size_t n = array_type == kString ? strs.size() : nums.size();
      if (n > 16) return fmt::format("[{} x {}]", n, type_name(array_type));
      if (array_type == kString) return fmt::format("[{}]", fmt::join(strs, ", "));
      return fmt::format("[{}]", fmt::join(nums, ", "));
    }
    default: return std::to_string(u);
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv.find(key);
  return it == kv.end() ? nullptr : &it->second;
}

bool looks_like_gguf(std::span<const uint8_t> head) {
  return head.size() >= 4 && std::memcmp(head.data(), "GGUF", 4) == 0;
}

Result<GgufFile> parse_gguf(std::span<const uint8_t> bytes, const std::string& path, std::shared_ptr<const void> owner,
                            bool map_rwkv_names) {
  auto r = parse_impl(bytes, path, map_rwkv_names);
  if (!r) return make_error(r.error().code, "{}: gguf: {}", path, r.error().message);
  if (owner) r->tensors.owners.push_back(std::move(owner));
  return r;
}

Result<GgufFile> read_gguf(const std::string& path, bool map_rwkv_names) {
  WB_TRY(map, MappedFile::open(path));
  WB_TRY(g, parse_gguf(map->bytes(), path, map, map_rwkv_names));
  g.tensors.file_map = map;
  return g;
}

Result<TensorFile> read_gguf_file(const std::string& path) {
  WB_TRY(g, read_gguf(path, true));
  return std::move(g.tensors);
}

}  // namespace wb
