// A small reader of rwkv.cpp .bin files for this suite only, so the Vulkan
// backend can be tested before the project's format parsers land (format:
// fixtures/rwkv-cpp-tiny/README.md §3). Shapes come out in PyTorch order.
#pragma once
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "core/model/tensor_file.hpp"

namespace wb::test {

inline TensorFile read_rwkv_cpp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  auto bytes = std::make_shared<std::vector<uint8_t>>(std::istreambuf_iterator<char>(f),
                                                      std::istreambuf_iterator<char>());
  const std::vector<uint8_t>& b = *bytes;
  size_t pos = 0;
  auto u32 = [&]() {
    REQUIRE(pos + 4 <= b.size());
    uint32_t v;
    std::memcpy(&v, &b[pos], 4);
    pos += 4;
    return v;
  };
  TensorFile tf;
  tf.path = path;
  tf.format = "rwkv.cpp";
  tf.convention = ValueConvention::rwkv_cpp;
  REQUIRE(u32() == 0x67676d66u);
  u32();  // version
  for (int i = 0; i < 4; ++i) u32();
  while (pos < b.size()) {
    const uint32_t n_dims = u32(), name_len = u32(), type = u32();
    REQUIRE((n_dims >= 1 && n_dims <= 3));
    std::vector<int64_t> ne;
    for (uint32_t d = 0; d < n_dims; ++d) ne.push_back(u32());
    REQUIRE(pos + name_len <= b.size());
    TensorView t;
    t.name.assign(reinterpret_cast<const char*>(&b[pos]), name_len);
    pos += name_len;
    switch (type) {
      case 0: t.dtype = DType::f32; break;
      case 1: t.dtype = DType::f16; break;
      case 2: t.dtype = DType::q4_0; break;
      case 3: t.dtype = DType::q4_1; break;
      case 7: t.dtype = DType::q5_0; break;
      case 8: t.dtype = DType::q5_1; break;
      case 9: t.dtype = DType::q8_0; break;
      default: FAIL("unexpected rwkv.cpp type " << type);
    }
    t.shape.assign(ne.rbegin(), ne.rend());
    auto nb = dtype_bytes_for(t.dtype, t.numel());
    REQUIRE(nb.ok());
    REQUIRE(pos + *nb <= b.size());
    t.data = &b[pos];
    t.nbytes = *nb;
    pos += *nb;
    tf.tensors.push_back(std::move(t));
  }
  tf.owners.push_back(bytes);
  return tf;
}

}  // namespace wb::test
