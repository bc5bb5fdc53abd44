// Broken rwkv.cpp files: each is refused with an error naming the file and the
// fault, never a crash or a huge allocation.
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "core/model/read_tensor_file.hpp"
#include "core/model/rwkv_cpp_file.hpp"
#include "rwkv_helpers.hpp"

using namespace wb;
using namespace wb::test;

namespace {

struct Bytes {
  std::vector<uint8_t> b;
  Bytes& u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
    return *this;
  }
  Bytes& str(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  Bytes& header(uint32_t version = 101) { return u32(kRwkvCppMagic).u32(version).u32(256).u32(64).u32(1).u32(0); }
};

std::string write_file(const std::string& dir, const std::string& name, const std::vector<uint8_t>& b) {
  // Per process: ctest runs test cases in parallel and temp_dir() empties its folder.
  const std::string p = (temp_dir(dir + "-" + std::to_string(::getpid())) / name).string();
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  return p;
}

// Loading must fail; the message names the file and contains `fault`.
void expect_refused(const std::string& path, const std::string& fault) {
  auto m = load_model(path);
  REQUIRE_FALSE(m.ok());
  const std::string msg = m.error().message;
  INFO("message: " << msg);
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find(fault) != std::string::npos);
}

// Re-serialises a TensorFile in rwkv.cpp layout, leaving out one tensor.
std::vector<uint8_t> rewrite_without(const TensorFile& tf, const std::string& drop) {
  Bytes o;
  o.header(101);
  for (const TensorView& t : tf.tensors) {
    if (t.name == drop) continue;
    REQUIRE(t.dtype == DType::f32);
    o.u32(uint32_t(t.shape.size())).u32(uint32_t(t.name.size())).u32(0);
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) o.u32(uint32_t(*it));
    o.str(t.name);
    o.b.insert(o.b.end(), t.data, t.data + t.nbytes);
  }
  return o.b;
}

}  // namespace

TEST_CASE("truncated model files are refused at every cut", "[rwkv][bad-input]") {
  const auto full = read_bytes(tiny_path(tiny_models()[4], "FP32"));
  // Cuts: inside the header, inside the first record header, its dims, its
  // name, its data, and deep inside a later tensor's data.
  for (size_t cut : {size_t(0), size_t(3), size_t(10), size_t(24 + 5), size_t(24 + 14), size_t(24 + 12 + 8 + 3),
                     size_t(24 + 12 + 8 + 10 + 100), full.size() / 2, full.size() - 1}) {
    const std::string p = write_file("rwkv-trunc", "cut.bin", std::vector<uint8_t>(full.begin(), full.begin() + cut));
    INFO("cut at " << cut);
    auto m = load_model(p);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message.find(p) != std::string::npos);
  }
}

TEST_CASE("headers with impossible values are refused", "[rwkv][bad-input]") {
  SECTION("wrong magic") {
    Bytes b;
    // Not "GGUF" (0x46554747): since GGUF files are read, that magic with zero
    // counts is a valid, empty GGUF file (refused later as "not a recognised RWKV model").
    b.u32(0x12345678).u32(3).u32(0).u32(0).u32(0).u32(0);
    expect_refused(write_file("rwkv-bad", "magic.bin", b.b), "unrecognised model file");
    auto tf = parse_rwkv_cpp_bytes(b.b, "mem");
    REQUIRE_FALSE(tf.ok());
    CHECK(tf.error().message.find("wrong magic") != std::string::npos);
  }
  SECTION("unknown version") {
    Bytes b;
    b.header(102);
    expect_refused(write_file("rwkv-bad", "version.bin", b.b), "version 102");
  }
  SECTION("n_dims = 4") {
    Bytes b;
    b.header().u32(4).u32(3).u32(0).u32(2).u32(2).u32(2).u32(2).str("abc").zeros(64);
    expect_refused(write_file("rwkv-bad", "ndims.bin", b.b), "n_dims = 4");
  }
  SECTION("a tensor claiming 10^12 elements") {
    Bytes b;
    b.header().u32(2).u32(10).u32(0).u32(1000000).u32(1000000).str("emb.weight").zeros(64);
    expect_refused(write_file("rwkv-bad", "huge.bin", b.b), "elements");
  }
  SECTION("a dimension of 0 or negative") {
    Bytes b;
    b.header().u32(2).u32(10).u32(0).u32(0).u32(4).str("emb.weight");
    expect_refused(write_file("rwkv-bad", "zero.bin", b.b), "must be positive");
    Bytes c;
    c.header().u32(1).u32(10).u32(0).u32(0xfffffff0u).str("emb.weight");
    expect_refused(write_file("rwkv-bad", "neg.bin", c.b), "must be positive");
  }
  SECTION("a huge name length") {
    Bytes b;
    b.header().u32(1).u32(0x7fffffff).u32(0).u32(4).str("x").zeros(16);
    expect_refused(write_file("rwkv-bad", "name.bin", b.b), "name length");
  }
  SECTION("a name longer than the rest of the file") {
    Bytes b;
    b.header().u32(1).u32(900).u32(0).u32(4).str("emb");
    expect_refused(write_file("rwkv-bad", "name2.bin", b.b), "truncated name");
  }
  SECTION("unknown and removed dtype codes") {
    Bytes b;
    b.header().u32(1).u32(3).u32(42).u32(32).str("abc").zeros(128);
    expect_refused(write_file("rwkv-bad", "dtype.bin", b.b), "unknown data type code 42");
    Bytes c;
    c.header().u32(1).u32(3).u32(5).u32(32).str("abc").zeros(128);
    expect_refused(write_file("rwkv-bad", "dtype2.bin", c.b), "removed");
    Bytes d;
    d.u32(kRwkvCppMagic).u32(101).u32(256).u32(64).u32(1).u32(77);
    expect_refused(write_file("rwkv-bad", "dtype3.bin", d.b), "unknown data type code 77");
  }
  SECTION("quantised data in a version-100 file, or rows not a multiple of 32") {
    Bytes b;
    b.header(100).u32(1).u32(3).u32(7).u32(32).str("abc").zeros(22);
    expect_refused(write_file("rwkv-bad", "q100.bin", b.b), "needs file version 101");
    Bytes c;
    c.header(101).u32(2).u32(3).u32(7).u32(16).u32(2).str("abc").zeros(22);
    expect_refused(write_file("rwkv-bad", "q16.bin", c.b), "multiple of 32");
  }
  SECTION("non-UTF-8 and duplicate names") {
    Bytes b;
    b.header().u32(1).u32(3).u32(0).u32(1).str("a\xff" "b").zeros(4);
    expect_refused(write_file("rwkv-bad", "utf8.bin", b.b), "UTF-8");
    Bytes c;
    c.header().u32(1).u32(3).u32(0).u32(1).str("abc").zeros(4).u32(1).u32(3).u32(0).u32(1).str("abc").zeros(4);
    expect_refused(write_file("rwkv-bad", "dup.bin", c.b), "duplicate tensor name 'abc'");
  }
  SECTION("data running past the end of the file") {
    Bytes b;
    b.header().u32(2).u32(3).u32(0).u32(64).u32(64).str("abc").zeros(100);
    expect_refused(write_file("rwkv-bad", "short.bin", b.b), "runs past the end");
  }
  SECTION("an empty file and a missing file") {
    expect_refused(write_file("rwkv-bad", "empty.bin", {}), "empty.bin");
    auto m = load_model("/nonexistent/dir/model.bin");
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message.find("/nonexistent/dir/model.bin") != std::string::npos);
  }
}

TEST_CASE("a model with a missing or misshapen tensor is refused by name", "[rwkv][bad-input]") {
  for (const TinyModel& tm : tiny_models()) {
    auto tf = read_tensor_file(tiny_path(tm, "FP32"));
    REQUIRE(tf.ok());
    for (const char* drop : {"blocks.3.att.key.weight", "blocks.0.ln1.bias", "head.weight", "blocks.2.ffn.value.weight"}) {
      const std::string p = write_file("rwkv-missing", std::string(tm.id) + ".bin", rewrite_without(*tf, drop));
      INFO(tm.id << " without " << drop);
      expect_refused(p, std::string("'") + drop + "'");
    }
  }
  // A shape mismatch: claim emb.weight is 128 x 128 in a 64-wide model.
  auto tf = read_tensor_file(tiny_path(tiny_models()[4], "FP32"));
  REQUIRE(tf.ok());
  for (TensorView& t : tf->tensors)
    if (t.name == "blocks.1.att.key.weight") t.shape = {32, 128};
  auto m = build_model(std::move(*tf), {});
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().message.find("blocks.1.att.key.weight") != std::string::npos);
  CHECK(m.error().message.find("shape") != std::string::npos);
}

TEST_CASE("parser gives PyTorch-order shapes and pointers into the file", "[rwkv]") {
  const std::string path = tiny_path(tiny_models()[4], "Q5_1");
  auto tf = read_tensor_file(path);
  REQUIRE(tf.ok());
  CHECK(tf->format == "rwkv.cpp");
  CHECK(tf->convention == ValueConvention::rwkv_cpp);
  const TensorView* emb = tf->find("emb.weight");
  REQUIRE(emb);
  CHECK(emb->shape == std::vector<int64_t>{256, 64});
  const TensorView* rk = tf->find("blocks.0.att.r_k");
  REQUIRE(rk);
  CHECK(rk->shape == std::vector<int64_t>{1, 64});  // ne [64, 1] reversed
  const TensorView* key = tf->find("blocks.5.att.key.weight");
  REQUIRE(key);
  CHECK(key->dtype == DType::q5_1);
  CHECK(key->nbytes == 64 * 64 / 32 * 24);
  CHECK(tf->find("blocks.0.att.v1") == nullptr);  // layer 0 has no value-residual LoRA
  // Sum of all records = file size - header (README §3.3: no padding).
  uint64_t total = 24;
  for (const TensorView& t : tf->tensors) total += 12 + 4 * t.shape.size() + t.name.size() + t.nbytes;
  CHECK(total == read_bytes(path).size());
}
