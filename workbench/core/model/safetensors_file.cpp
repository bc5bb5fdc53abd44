#include "core/model/safetensors_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/model/format_util.hpp"
#include "core/util/mapped_file.hpp"

namespace wb {

namespace {

// A header larger than this is not a model index but an attack or garbage
// (the reference implementation uses the same 100 MB bound).
constexpr uint64_t kMaxHeader = 100ull << 20;

Result<DType> parse_dtype(const std::string& s, const std::string& tname) {
  if (s == "F32") return DType::f32;
  if (s == "F16") return DType::f16;
  if (s == "BF16") return DType::bf16;
  return make_error(Errc::unsupported, "tensor '{}' has dtype {} (supported: F32, F16, BF16)", tname, s);
}

Result<TensorFile> parse_impl(std::span<const uint8_t> bytes, const std::string& path) {
  fmt_util::ByteReader r(bytes);
  WB_TRY(hlen, r.u64("header length"));
  if (hlen > kMaxHeader) return make_error(Errc::limit, "header length {} exceeds {} bytes", hlen, kMaxHeader);
  WB_TRY(hbytes, r.bytes(hlen, "JSON header"));
  const uint64_t data_start = 8 + hlen;
  const uint64_t data_size = bytes.size() - data_start;
  nlohmann::json j = nlohmann::json::parse(hbytes.begin(), hbytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(Errc::format, "header is not valid JSON (or not UTF-8)");
  if (!j.is_object()) return make_error(Errc::format, "header is not a JSON object");

  TensorFile tf;
  tf.path = path;
  tf.format = "safetensors";
  tf.convention = ValueConvention::official;
  struct Range {
    uint64_t b, e;
    size_t idx;
  };
  std::vector<Range> ranges;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return make_error(Errc::format, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) return make_error(Errc::format, "__metadata__ value '{}' is not a string", m.key());
        tf.meta[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (name.empty()) return make_error(Errc::format, "a tensor has an empty name");
    if (!v.is_object()) return make_error(Errc::format, "entry '{}' is not an object", name);
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) return make_error(Errc::format, "tensor '{}' has no dtype string", name);
    if (sh == v.end() || !sh->is_array()) return make_error(Errc::format, "tensor '{}' has no shape array", name);
    if (off == v.end() || !off->is_array() || off->size() != 2)
      return make_error(Errc::format, "tensor '{}' has no [begin, end] data_offsets", name);
    WB_TRY(dtype, parse_dtype(dt->get<std::string>(), name));
    TensorView t;
    t.name = name;
    t.dtype = dtype;
    if (sh->size() > 8) return make_error(Errc::format, "tensor '{}' has {} dimensions", name, sh->size());
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) return make_error(Errc::format, "tensor '{}' has a non-integer dimension", name);
      const uint64_t du = d.get<uint64_t>();
      if (du > fmt_util::kMaxTensorElems)
        return make_error(Errc::limit, "tensor '{}' claims dimension {}", name, du);
      t.shape.push_back(static_cast<int64_t>(du));
    }
    WB_TRY(numel, fmt_util::checked_numel(t.shape, name));
    WB_TRY(nbytes, dtype_bytes_for(dtype, numel));
    const auto& o0 = (*off)[0];
    const auto& o1 = (*off)[1];
    if (!o0.is_number_unsigned() || !o1.is_number_unsigned())
      return make_error(Errc::format, "tensor '{}' has non-integer data_offsets", name);
    const uint64_t b = o0.get<uint64_t>(), e = o1.get<uint64_t>();
    if (e < b || e > data_size)
      return make_error(Errc::format, "tensor '{}' data_offsets [{}, {}] fall outside the {}-byte data section", name,
                        b, e, data_size);
    if (e - b != nbytes)
      return make_error(Errc::format, "tensor '{}' has {} bytes but its {} shape of {} elements needs {}", name, e - b,
                        dtype_name(dtype), numel, nbytes);
    t.nbytes = nbytes;
    t.data = bytes.data() + data_start + b;
    ranges.push_back({b, e, tf.tensors.size()});
    tf.tensors.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.b < b.b; });
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].b < ranges[i - 1].e && ranges[i].e > ranges[i].b)
      return make_error(Errc::format, "tensors '{}' and '{}' overlap in the data section",
                        tf.tensors[ranges[i - 1].idx].name, tf.tensors[ranges[i].idx].name);
  // Keep the file's tensor order (by offset) rather than JSON's sorted key order.
  std::vector<TensorView> ordered;
  ordered.reserve(tf.tensors.size());
  for (const Range& rg : ranges) ordered.push_back(std::move(tf.tensors[rg.idx]));
  tf.tensors = std::move(ordered);
  return tf;
}

}  // namespace

bool looks_like_safetensors(std::span<const uint8_t> head) {
  if (head.size() < 9) return false;
  uint64_t n;
  std::memcpy(&n, head.data(), 8);
  return n >= 2 && n <= kMaxHeader && head[8] == '{';
}

Result<TensorFile> parse_safetensors(std::span<const uint8_t> bytes, const std::string& path,
                                     std::shared_ptr<const void> owner) {
  auto r = parse_impl(bytes, path);
  if (!r) return make_error(r.error().code, "{}: safetensors: {}", path, r.error().message);
  if (owner) r->owners.push_back(std::move(owner));
  return r;
}

Result<TensorFile> read_safetensors_file(const std::string& path) {
  WB_TRY(map, MappedFile::open(path));
  WB_TRY(tf, parse_safetensors(map->bytes(), path, map));
  tf.file_map = map;
  return tf;
}

}  // namespace wb
