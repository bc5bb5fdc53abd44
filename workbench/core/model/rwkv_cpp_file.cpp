#include "core/model/rwkv_cpp_file.hpp"

#include <cstring>
#include <set>

#include "core/util/mapped_file.hpp"

namespace wb {
namespace {

// Limits well beyond any real RWKV model, so that a corrupt header is caught
// before it can ask for a huge allocation or an overflowing size.
constexpr uint32_t kMaxNameLen = 1024;
constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr uint64_t kMaxElems = uint64_t(1) << 36;  // 64 Gi elements
constexpr uint32_t kMaxHeaderValue = 1u << 24;     // n_vocab / n_embed / n_layer

class Reader {
 public:
  Reader(std::span<const uint8_t> b) : b_(b) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return b_.size() - pos_; }
  bool u32(uint32_t& v) {
    if (left() < 4) return false;
    v = uint32_t(b_[pos_]) | uint32_t(b_[pos_ + 1]) << 8 | uint32_t(b_[pos_ + 2]) << 16 |
        uint32_t(b_[pos_ + 3]) << 24;
    pos_ += 4;
    return true;
  }
  const uint8_t* take(uint64_t n) {
    if (left() < n) return nullptr;
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }

 private:
  std::span<const uint8_t> b_;
  uint64_t pos_ = 0;
};

// rwkv.cpp type codes (fixtures README §3.2).
Result<DType> dtype_from_code(uint32_t code, const std::string& path, const std::string& what) {
  switch (code) {
    case 0: return DType::f32;
    case 1: return DType::f16;
    case 2: return DType::q4_0;
    case 3: return DType::q4_1;
    case 7: return DType::q5_0;
    case 8: return DType::q5_1;
    case 9: return DType::q8_0;
    case 4:
    case 5:
    case 6:
      return make_error(Errc::unsupported, "{}: {}: data type code {} (Q4_1_O/Q4_2/Q4_3) was removed from rwkv.cpp and is not supported",
                        path, what, code);
    default:
      if (code < 16)
        return make_error(Errc::unsupported, "{}: {}: data type code {} (a ggml k-quant/Q8_1) is not used by rwkv.cpp files",
                          path, what, code);
      return make_error(Errc::format, "{}: {}: unknown data type code {}", path, what, code);
  }
}

bool valid_utf8(const uint8_t* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return false;
    if (c == 0) return false;  // NUL inside a tensor name is never legitimate
    i += len;
  }
  return true;
}

}  // namespace

Result<TensorFile> parse_rwkv_cpp_bytes(std::span<const uint8_t> bytes, const std::string& path) {
  Reader r(bytes);
  uint32_t magic = 0, version = 0, n_vocab = 0, n_embed = 0, n_layer = 0, ftype = 0;
  if (!r.u32(magic))
    return make_error(Errc::format, "{}: file too short for an rwkv.cpp header ({} bytes)", path, bytes.size());
  if (magic != kRwkvCppMagic)
    return make_error(Errc::format, "{}: wrong magic 0x{:08x} (expected 0x{:08x}, rwkv.cpp 'ggmf')", path, magic,
                      kRwkvCppMagic);
  if (!r.u32(version) || !r.u32(n_vocab) || !r.u32(n_embed) || !r.u32(n_layer) || !r.u32(ftype))
    return make_error(Errc::format, "{}: truncated rwkv.cpp header ({} of 24 bytes)", path, bytes.size());
  if (version != 100 && version != 101)
    return make_error(Errc::unsupported, "{}: rwkv.cpp file version {} (expected 100 or 101)", path, version);
  if (n_vocab == 0 || n_embed == 0 || n_layer == 0 || n_vocab > kMaxHeaderValue || n_embed > kMaxHeaderValue ||
      n_layer > 4096)
    return make_error(Errc::format, "{}: implausible header sizes n_vocab={} n_embed={} n_layer={}", path, n_vocab,
                      n_embed, n_layer);
  {
    auto t = dtype_from_code(ftype, path, "header data_type");
    if (!t) return t.take_error();
  }

  TensorFile tf;
  tf.path = path;
  tf.format = "rwkv.cpp";
  tf.convention = ValueConvention::rwkv_cpp;
  tf.meta["version"] = std::to_string(version);
  tf.meta["n_vocab"] = std::to_string(n_vocab);
  tf.meta["n_embed"] = std::to_string(n_embed);
  tf.meta["n_layer"] = std::to_string(n_layer);
  tf.meta["data_type"] = std::to_string(ftype);

  std::set<std::string> seen;
  while (r.left() > 0) {
    const uint64_t rec_at = r.pos();
    const std::string where = fmt::format("tensor record #{} at offset {}", tf.tensors.size(), rec_at);
    uint32_t n_dims = 0, name_len = 0, code = 0;
    if (!r.u32(n_dims) || !r.u32(name_len) || !r.u32(code))
      return make_error(Errc::format, "{}: {}: truncated record header", path, where);
    if (n_dims < 1 || n_dims > 3)
      return make_error(Errc::format, "{}: {}: n_dims = {} (must be 1, 2 or 3)", path, where, n_dims);
    if (name_len == 0 || name_len > kMaxNameLen)
      return make_error(Errc::limit, "{}: {}: name length {} (must be 1..{})", path, where, name_len, kMaxNameLen);
    WB_TRY(dtype, dtype_from_code(code, path, where));
    int64_t ne[3] = {1, 1, 1};
    uint64_t n_elems = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint32_t v = 0;
      if (!r.u32(v)) return make_error(Errc::format, "{}: {}: truncated dimensions", path, where);
      const int64_t sv = static_cast<int32_t>(v);
      if (sv <= 0 || sv > kMaxDim)
        return make_error(Errc::format, "{}: {}: dimension {} is {} (must be positive)", path, where, d, sv);
      ne[d] = sv;
      n_elems *= static_cast<uint64_t>(sv);  // at most 3 * 31 bits: cannot overflow
      if (n_elems > kMaxElems)
        return make_error(Errc::limit, "{}: {}: tensor claims more than {} elements", path, where, kMaxElems);
    }
    const uint8_t* name_p = r.take(name_len);
    if (!name_p) return make_error(Errc::format, "{}: {}: truncated name ({} bytes claimed)", path, where, name_len);
    if (!valid_utf8(name_p, name_len))
      return make_error(Errc::format, "{}: {}: tensor name is not valid UTF-8", path, where);
    std::string name(reinterpret_cast<const char*>(name_p), name_len);
    if (dtype_block_elems(dtype) > 1) {
      if (version != 101)
        return make_error(Errc::format, "{}: tensor '{}': quantized {} data needs file version 101, file is {}", path,
                          name, dtype_name(dtype), version);
      if (ne[0] % 32 != 0)
        return make_error(Errc::format, "{}: tensor '{}': quantized row length {} is not a multiple of 32", path, name,
                          ne[0]);
    }
    WB_TRY(nbytes, dtype_bytes_for(dtype, n_elems));
    const uint8_t* data = r.take(nbytes);
    if (!data)
      return make_error(Errc::format, "{}: tensor '{}': data ({} bytes) runs past the end of the file (truncated?)",
                        path, name, nbytes);
    if (!seen.insert(name).second) return make_error(Errc::format, "{}: duplicate tensor name '{}'", path, name);
    TensorView tv;
    tv.name = std::move(name);
    tv.dtype = dtype;
    for (int d = static_cast<int>(n_dims) - 1; d >= 0; --d) tv.shape.push_back(ne[d]);  // PyTorch order
    tv.data = data;
    tv.nbytes = nbytes;
    tf.tensors.push_back(std::move(tv));
  }
  if (tf.tensors.empty()) return make_error(Errc::format, "{}: no tensors after the header", path);
  return tf;
}

Result<TensorFile> read_rwkv_cpp_file(const std::string& path) {
  WB_TRY(map, MappedFile::open(path));
  WB_TRY(tf, parse_rwkv_cpp_bytes(map->bytes(), path));
  tf.owners.push_back(map);
  tf.file_map = map;
  return tf;
}

}  // namespace wb
