// .pth / safetensors / GGUF parsers against the rwkv.cpp tiny fixtures,
// converted by tests/tools/convert_fixture.py. Every container's tensors must
// equal the official state dict (the fixture with rwkv.cpp's transforms undone,
// dumped as <model>.ref): same names, same shapes, same values within the
// rounding of the container's dtype.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <set>

#include "core/model/format_util.hpp"
#include "core/model/gguf_file.hpp"
#include "core/model/pth_file.hpp"
#include "core/model/safetensors_file.hpp"
#include "support/converted.hpp"
#include "support/fixtures.hpp"

using wb::test::converted;

namespace {

const char* kModels[] = {"4v0", "5v1", "5v2", "6v0", "7v0"};

std::vector<float> values_of(const wb::TensorView& t) {
  std::vector<float> v(t.numel());
  wb::fmt_util::dequantize_row(t.dtype, t.data, v.data(), t.numel());
  return v;
}

// Relative spacing of each dtype (one ulp): f16 has 10 stored mantissa bits, bf16 7.
double rel_tol(wb::DType d) {
  switch (d) {
    case wb::DType::f32: return 0;
    case wb::DType::f16: return std::ldexp(1.0, -10);
    case wb::DType::bf16: return std::ldexp(1.0, -7);
    default: return -1;
  }
}

// Compares a parsed file with the reference dump. `scale(name)` multiplies the
// parsed values first (GGUF rwkv6 rescaling); quantised tensors are held to
// the block-quantisation bound relative to the tensor's largest magnitude.
// `lora_q`: the quantisation the file applied to RWKV-7's a/v/g LoRA matrices,
// which the GGUF reader hands out dequantised (and transposed) as f32.
template <class Scale>
void expect_matches_ref(const wb::TensorFile& tf, const std::string& model, Scale scale,
                        wb::DType lora_q = wb::DType::f32) {
  auto ref = wb::test::read_ref(converted(model + ".ref"));
  std::set<std::string> names;
  for (const auto& t : tf.tensors) {
    INFO("tensor " << t.name);
    CHECK(names.insert(t.name).second);
    auto it = ref.find(t.name);
    REQUIRE(it != ref.end());
    CHECK(t.shape == it->second.shape);
    REQUIRE(t.numel() == it->second.values.size());
    const auto got = values_of(t);
    const double s = scale(t.name);
    double amax = 0;
    for (float x : it->second.values) amax = std::max(amax, std::fabs(static_cast<double>(x)));
    double bound_abs = 0;
    wb::DType stored = t.dtype;
    for (const char* l : {".att.a1", ".att.a2", ".att.v1", ".att.v2", ".att.g1", ".att.g2"})
      if (t.name.ends_with(l) && lora_q != wb::DType::f32) stored = lora_q;
    if (stored == wb::DType::f16) bound_abs = 0;
    if (stored == wb::DType::q8_0) bound_abs = amax / 127 * 0.6;
    if (stored == wb::DType::q4_0) bound_abs = amax / 8 * 1.05;
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      const double want = it->second.values[i];
      const double err = std::fabs(got[i] * s - want);
      const double allowed = bound_abs > 0 ? bound_abs : rel_tol(stored) * std::fabs(want) * 0.5 * 1.0001 + 3e-8 * s;
      worst = std::max(worst, err - allowed);
    }
    CHECK(worst <= 0);
  }
  CHECK(names.size() == ref.size());
}

void expect_matches_ref(const wb::TensorFile& tf, const std::string& model) {
  expect_matches_ref(tf, model, [](const std::string&) { return 1.0; });
}

}  // namespace

TEST_CASE("pth files written by torch.save hold the official tensors (f32, f16, bf16)", "[formats][pth]") {
  for (const char* m : kModels)
    for (const char* dt : {"f32", "f16", "bf16"}) {
      const std::string name = std::string(m) + "-" + dt + ".pth";
      INFO(name);
      auto tf = wb::read_pth_file(converted(name));
      INFO((tf ? std::string() : tf.error().message));
      REQUIRE(tf.ok());
      CHECK(tf->format == "pth");
      CHECK(tf->convention == wb::ValueConvention::official);
      CHECK(tf->tensors.front().dtype == (std::string(dt) == "f32"   ? wb::DType::f32
                                          : std::string(dt) == "f16" ? wb::DType::f16
                                                                     : wb::DType::bf16));
      expect_matches_ref(*tf, m);
    }
}

TEST_CASE("pth tensors point into the file map (no copy)", "[formats][pth]") {
  const std::string path = converted("7v0-f32.pth");
  auto tf = wb::read_pth_file(path);
  REQUIRE(tf.ok());
  // Stored zip entries are used in place; torch aligns them to 64 bytes.
  for (const auto& t : tf->tensors) {
    INFO(t.name);
    CHECK(reinterpret_cast<uintptr_t>(t.data) % 64 == 0);
  }
  CHECK(tf->owners.size() == 1);  // only the map itself
}

TEST_CASE("safetensors files hold the official tensors (f32, f16, bf16)", "[formats][safetensors]") {
  for (const char* m : kModels)
    for (const char* dt : {"f32", "f16", "bf16"}) {
      const std::string name = std::string(m) + "-" + dt + ".safetensors";
      INFO(name);
      auto tf = wb::read_safetensors_file(converted(name));
      INFO((tf ? std::string() : tf.error().message));
      REQUIRE(tf.ok());
      CHECK(tf->format == "safetensors");
      CHECK(tf->meta.at("format") == "pt");
      expect_matches_ref(*tf, m);
    }
}

TEST_CASE("GGUF rwkv7 files map back to the official names, shapes and values", "[formats][gguf]") {
  for (const char* q : {"f32", "f16", "q8_0", "q4_0"}) {
    const std::string name = std::string("7v0-") + q + ".gguf";
    INFO(name);
    auto tf = wb::read_gguf_file(converted(name));
    INFO((tf ? std::string() : tf.error().message));
    REQUIRE(tf.ok());
    CHECK(tf->meta.at("general.architecture") == "rwkv7");
    CHECK(tf->find("blocks.0.att.v1") == nullptr);  // layer-0 placeholders dropped
    REQUIRE(tf->find("blocks.1.att.v1") != nullptr);
    REQUIRE(tf->find("blocks.3.att.r_k") != nullptr);
    CHECK(tf->find("blocks.3.att.r_k")->shape == std::vector<int64_t>{1, 64});
    // The converter quantises a/v/g LoRAs to Q8_0 or F16 (llama-quantize keeps them as they were).
    const std::string qs = q;
    const wb::DType lora = qs == "q8_0" ? wb::DType::q8_0 : qs == "f16" ? wb::DType::f16 : wb::DType::f32;
    expect_matches_ref(*tf, "7v0", [](const std::string&) { return 1.0; }, lora);
  }
}

TEST_CASE("GGUF quantised tensors stay quantised and in the map", "[formats][gguf]") {
  const std::string path = converted("7v0-q8_0.gguf");
  auto tf = wb::read_gguf_file(path);
  REQUIRE(tf.ok());
  const auto* k = tf->find("blocks.2.att.key.weight");
  REQUIRE(k);
  CHECK(k->dtype == wb::DType::q8_0);
  CHECK(k->nbytes == 64 * 64 / 32 * 34);
  // The converter quantises the transposed a1 LoRA; transposing it back needs
  // an owned f32 copy (documented in gguf_file.hpp).
  const auto* a1 = tf->find("blocks.2.att.a1");
  REQUIRE(a1);
  CHECK(a1->dtype == wb::DType::f32);
  CHECK(a1->shape == std::vector<int64_t>{64, 32});
  auto q4 = wb::read_gguf_file(converted("7v0-q4_0.gguf"));
  REQUIRE(q4.ok());
  CHECK(q4->find("head.weight")->dtype == wb::DType::q4_0);
}

TEST_CASE("GGUF rwkv6 files map back and report rescale_every_n_layers", "[formats][gguf]") {
  for (const char* q : {"f32", "f16", "q8_0", "q4_0"}) {
    const std::string name = std::string("6v0-") + q + ".gguf";
    INFO(name);
    auto tf = wb::read_gguf_file(converted(name));
    INFO((tf ? std::string() : tf.error().message));
    REQUIRE(tf.ok());
    REQUIRE(tf->meta.at("rescale_every_n_layers") == "6");
    CHECK(tf->meta.at("rwkv6.wkv.head_size") == "8");
    // The converter divided output and FFN value weights by 2^(layer / 6).
    expect_matches_ref(*tf, "6v0", [](const std::string& n) {
      if (n.find("att.output.weight") == std::string::npos && n.find("ffn.value.weight") == std::string::npos)
        return 1.0;
      const int layer = std::stoi(n.substr(7));
      return std::ldexp(1.0, layer / 6);
    });
  }
}

TEST_CASE("GGUF metadata and the embedded vocab are readable", "[formats][gguf]") {
  auto g = wb::read_gguf(converted("world-vocab.gguf"));
  REQUIRE(g.ok());
  CHECK(g->version == 3);
  CHECK(g->tensors.tensors.empty());
  const auto* toks = g->find("tokenizer.ggml.tokens");
  REQUIRE(toks);
  CHECK(toks->strs.size() == 65536);
  CHECK(toks->strs[11] == "\\n");
  CHECK(g->tensors.meta.at("tokenizer.ggml.model") == "rwkv");
}

// ---------------------------------------------------------------- bad input

namespace {
std::vector<uint8_t> file_bytes(const std::string& p) {
  auto b = wb::test::read_bytes(p);
  return {b.begin(), b.end()};
}
}  // namespace

TEST_CASE("a hostile pickle naming os.system is refused and nothing runs", "[formats][pth][security]") {
  const std::string p = converted("hostile-os-system.pth");
  // The converter proved the same payload live: Python's unpickler created the control file.
  REQUIRE(std::filesystem::exists(converted("hostile-control-was-run")));
  auto tf = wb::read_pth_file(p);
  REQUIRE_FALSE(tf.ok());
  CHECK(tf.error().code == wb::Errc::security);
  CHECK_THAT(tf.error().message, Catch::Contains("os.system") && Catch::Contains(p));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(p).parent_path() / "hostile-was-run"));

  auto ev = wb::read_pth_file(converted("hostile-builtins-eval.pth"));
  REQUIRE_FALSE(ev.ok());
  CHECK(ev.error().code == wb::Errc::security);
  CHECK_THAT(ev.error().message, Catch::Contains("builtins.eval"));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(p).parent_path() / "hostile-was-run"));
}

TEST_CASE("broken .pth files give clear errors", "[formats][pth]") {
  struct Case {
    const char* file;
    wb::Errc code;
    const char* text;
  } cases[] = {
      {"bad-missing-storage.pth", wb::Errc::format, "storage '7'"},
      {"bad-shape-beyond-storage.pth", wb::Errc::format, "exceeds its storage"},
      {"bad-storage-claims.pth", wb::Errc::format, "claims 1000000000000 elements"},
      {"bad-huge-shape.pth", wb::Errc::limit, "elements"},
      {"bad-non-contiguous.pth", wb::Errc::unsupported, "not contiguous"},
      {"bad-int64.pth", wb::Errc::unsupported, "LongStorage"},
      {"bad-truncated.pth", wb::Errc::format, "zip"},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    auto tf = wb::read_pth_file(converted(c.file));
    REQUIRE_FALSE(tf.ok());
    INFO(tf.error().message);
    CHECK(tf.error().code == c.code);
    CHECK_THAT(tf.error().message, Catch::Contains(c.text) && Catch::Contains(c.file));
  }
  auto good = wb::read_pth_file(converted("good-tiny.pth"));
  REQUIRE(good.ok());
  REQUIRE(good->tensors.size() == 1);
  CHECK(good->tensors[0].shape == std::vector<int64_t>{3, 4});
  CHECK(values_of(good->tensors[0]).front() == 4.0f);  // storage offset 4 honoured
  CHECK(values_of(good->tensors[0]).back() == 15.0f);
}

TEST_CASE("every truncation of a .pth, safetensors and GGUF file is an error, never a crash", "[formats]") {
  for (const char* f : {"good-tiny.pth", "4v0-f16.safetensors", "7v0-q8_0.gguf"}) {
    const auto bytes = file_bytes(converted(f));
    INFO(f);
    // Every cut in the header region, then coarse steps through the data.
    for (size_t cut = 0; cut < bytes.size(); cut += cut < 4096 ? 1 : 9973) {
      std::span<const uint8_t> s(bytes.data(), cut);
      bool ok = false;
      if (std::string(f).ends_with(".pth")) ok = wb::parse_pth(s, f, nullptr).ok();
      if (std::string(f).ends_with(".safetensors")) ok = wb::parse_safetensors(s, f, nullptr).ok();
      if (std::string(f).ends_with(".gguf")) ok = wb::parse_gguf(s, f, nullptr).ok();
      if (ok) FAIL("a " << cut << "-byte prefix parsed");
    }
  }
}

TEST_CASE("safetensors headers that lie are refused", "[formats][safetensors]") {
  auto make = [](const std::string& json, size_t data) {
    std::vector<uint8_t> b(8);
    uint64_t n = json.size();
    std::memcpy(b.data(), &n, 8);
    b.insert(b.end(), json.begin(), json.end());
    b.resize(b.size() + data, 0);
    return b;
  };
  struct Case {
    std::string json;
    wb::Errc code;
    const char* text;
  } cases[] = {
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       wb::Errc::format, "overlap"},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", wb::Errc::format, "outside"},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", wb::Errc::format, "needs 12"},
      {R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", wb::Errc::unsupported, "I64"},
      {R"({"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,8]}})", wb::Errc::limit, "elements"},
      {R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", wb::Errc::format, "non-integer"},
      {R"({"a":[1,2]})", wb::Errc::format, "not an object"},
      {"{\"\xff\xfe\":1}", wb::Errc::format, "JSON"},
      {R"({"a":{"dtype":"F32")", wb::Errc::format, "JSON"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    auto b = make(c.json, 12);
    auto tf = wb::parse_safetensors(b, "x.safetensors", nullptr);
    REQUIRE_FALSE(tf.ok());
    INFO(tf.error().message);
    CHECK(tf.error().code == c.code);
    CHECK_THAT(tf.error().message, Catch::Contains(c.text) && Catch::Contains("x.safetensors"));
  }
  std::vector<uint8_t> huge(16, 0);
  uint64_t n = uint64_t{1} << 40;
  std::memcpy(huge.data(), &n, 8);
  auto tf = wb::parse_safetensors(huge, "h.safetensors", nullptr);
  REQUIRE_FALSE(tf.ok());
  CHECK(tf.error().code == wb::Errc::limit);
}

TEST_CASE("GGUF headers that lie are refused", "[formats][gguf]") {
  const auto good = file_bytes(converted("7v0-f32.gguf"));
  REQUIRE(wb::parse_gguf(good, "g.gguf", nullptr).ok());
  auto patched = [&](size_t off, uint64_t v, size_t width) {
    auto b = good;
    std::memcpy(b.data() + off, &v, width);
    return b;
  };
  struct Case {
    std::vector<uint8_t> bytes;
    wb::Errc code;
    const char* text;
  } cases[] = {
      {patched(0, 0x46554746, 4), wb::Errc::format, "magic"},
      {patched(4, 1, 4), wb::Errc::unsupported, "version 1"},
      {patched(8, uint64_t{1} << 40, 8), wb::Errc::limit, "tensors"},
      {patched(16, uint64_t{1} << 40, 8), wb::Errc::limit, "metadata"},
  };
  for (auto& c : cases) {
    auto r = wb::parse_gguf(c.bytes, "g.gguf", nullptr);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().code == c.code);
    CHECK_THAT(r.error().message, Catch::Contains(c.text) && Catch::Contains("g.gguf"));
  }
  // A tensor dimension of 10^12 (first tensor's ne[0]): find it after the KV block.
  auto g = wb::parse_gguf(good, "g.gguf", nullptr, false);
  REQUIRE(g.ok());
  const std::string first = g->tensors.tensors.front().name;  // "token_embd.weight", ne = [64, 256]
  auto pos = std::search(good.begin(), good.end(), first.begin(), first.end()) - good.begin();
  auto b = patched(static_cast<size_t>(pos) + first.size() + 4, 1000000000000ull, 8);
  auto r = wb::parse_gguf(b, "g.gguf", nullptr);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == wb::Errc::limit);
  // An unknown ggml type (Q6_K = 14) in the first tensor.
  auto t = patched(static_cast<size_t>(pos) + first.size() + 4 + 16, 14, 4);
  r = wb::parse_gguf(t, "g.gguf", nullptr);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == wb::Errc::unsupported);
  CHECK_THAT(r.error().message, Catch::Contains("ggml type 14"));
}

TEST_CASE("the GGUF fuzz seeds parse and exercise the rwkv mappings", "[formats][gguf]") {
  const std::string dir = std::string(WB_TEST_SOURCE_DIR) + "/fuzz/corpus/gguf_file/";
  auto v7 = wb::read_gguf_file(dir + "tiny-rwkv7.gguf");
  INFO((v7 ? std::string() : v7.error().message));
  REQUIRE(v7.ok());
  CHECK(v7->find("emb.weight")->dtype == wb::DType::q8_0);
  CHECK(v7->find("blocks.0.att.x_g")->shape == std::vector<int64_t>{1, 1, 32});
  CHECK(v7->find("blocks.0.att.r_k")->shape == std::vector<int64_t>{1, 32});
  // time_mix_w1 was written as numpy (32, 32) = arange: element [r][c] = 32r + c; official is its transpose.
  const auto* w1 = v7->find("blocks.0.att.w1");
  REQUIRE(w1);
  CHECK(w1->dtype == wb::DType::f16);
  auto w1v = values_of(*w1);
  CHECK(w1v[1] == 32.0f);
  CHECK(w1v[32] == 1.0f);
  const auto* a1 = v7->find("blocks.1.att.a1");  // Q4_0 in the file: dequantised + transposed
  REQUIRE(a1);
  CHECK(a1->dtype == wb::DType::f32);
  for (float x : values_of(*a1)) CHECK(x == 1.0f);
  auto v6 = wb::read_gguf_file(dir + "tiny-rwkv6.gguf");
  REQUIRE(v6.ok());
  const auto* w2 = v6->find("blocks.0.att.time_maa_w2");
  REQUIRE(w2);
  CHECK(w2->shape == std::vector<int64_t>{5, 32, 32});
  auto w2v = values_of(*w2);
  CHECK(w2v[1] == 32.0f);                 // [0][0][1] = file [0][1][0]
  CHECK(w2v[1024 + 32] == 1024.0f + 1);  // [1][1][0] = file [1][0][1]
  CHECK(v6->meta.at("rescale_every_n_layers") == "6");
}

TEST_CASE("pth files of a Module state_dict, of Parameters and of shared storages", "[formats][pth]") {
  for (const char* f : {"module-state-dict.pth", "parameters.pth"}) {
    INFO(f);
    auto tf = wb::read_pth_file(converted(f));
    INFO((tf ? std::string() : tf.error().message));
    REQUIRE(tf.ok());
    REQUIRE(tf->tensors.size() == 4);
    const auto* w = tf->find("0.weight");
    REQUIRE(w);
    CHECK(w->shape == std::vector<int64_t>{16, 32});
    const auto v = values_of(*w);
    for (size_t i = 0; i < v.size(); ++i) REQUIRE(v[i] == 0.5f * static_cast<float>(i));
    REQUIRE(tf->find("1.bias"));
    CHECK(tf->find("1.bias")->shape == std::vector<int64_t>{16});
  }
  auto tf = wb::read_pth_file(converted("shared-storage.pth"));
  INFO((tf ? std::string() : tf.error().message));
  REQUIRE(tf.ok());
  const auto a = values_of(*tf->find("a"));
  const auto b = values_of(*tf->find("b"));
  CHECK(tf->find("a")->dtype == wb::DType::f16);
  CHECK(a == std::vector<float>{16, 17, 18, 19, 20, 21, 22, 23});
  CHECK(tf->find("b")->shape == std::vector<int64_t>{2, 8});
  CHECK(b.front() == 40.0f);
  CHECK(b.back() == 55.0f);
}
