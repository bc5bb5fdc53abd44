// End to end: load_model on every converted container gives the logits the
// rwkv.cpp fixtures expect (README §7), in sequence and token-by-token mode.
//
// Tolerances. FP32 containers: 1e-4 max abs, as for the .bin files. Files in
// f16 / bf16 round EVERY tensor (decays, mixes, norms too), so their logits
// move by an amount that depends on the model: measured max |diff| on this
// machine is listed per model and the bound is about 3x that. The 6v0 and 7v0
// tiny models were trained in bf16 and their weights are exactly
// representable in f16 and bf16 (README §6 notes it for 7v0 FP16), so their
// f16/bf16 files are held to the FP32 bound. Quantised GGUF files are held to
// two things: the same file evaluated on its dequantised weights in f32
// (LoadOptions::dequantize_to_f32; quantised matmuls must not change the
// result beyond float rounding), and the FP32 expected logits within the
// weight-quantisation error measured here (x~3). Mapping mistakes (a
// transposed LoRA, a missing rescale: ~0.6, README §7) exceed the f32/f16/q8_0
// bounds by far.
#include <catch2/catch.hpp>

#include "core/model/read_tensor_file.hpp"
#include "suites/rwkv/rwkv_helpers.hpp"
#include "support/converted.hpp"

using namespace wb::test;

namespace {

const TinyModel& tiny(const std::string& id) {
  for (const auto& m : tiny_models())
    if (std::string(m.id).rfind(id, 0) == 0) return m;
  FAIL("no tiny model " << id);
  throw;
}

struct Measured {
  double seq, serial;
};

Measured measure(const std::string& file, const std::vector<float>& want, const std::string& format,
                 wb::LoadOptions opt = {}) {
  auto m = must_load(converted(file), opt);
  CHECK(m->info().format == format);
  const auto a = run_sequence(*m, kPrompt);
  const auto b = run_serial(*m, kPrompt);
  Measured r{max_abs_diff(a, want), max_abs_diff(b, want)};
  INFO(file << ": max |logit - reference| sequence " << r.seq << ", token-by-token " << r.serial);
  return r;
}

}  // namespace

namespace {

struct Tol {
  const char* id;
  double f16, bf16;  // measured: f16 / bf16
};
const Tol kTol[] = {
    {"4v0", 5e-3, 0.1},   // 1.6e-3 / 3.2e-2
    {"5v1", 2e-2, 0.1},   // 6.7e-3 / 2.8e-2 (against the 64e-5 FP32 path)
    {"5v2", 1e-2, 0.15},  // 3.4e-3 / 5.0e-2 (against the 64e-5 FP32 path)
    {"6v0", 1e-4, 1e-4},  // 2.9e-6 / 1.9e-6: weights exactly representable
    {"7v0", 1e-4, 1e-4},  // 4.8e-7 / 4.8e-7: weights exactly representable
};

double tol_for(const std::string& id, const std::string& dt) {
  if (dt == "f32") return 1e-4;
  for (const Tol& t : kTol)
    if (id == t.id) return dt == "f16" ? t.f16 : t.bf16;
  FAIL("no tolerance for " << id << " " << dt);
  return 0;
}

}  // namespace

// v4, v6, v7: BlinkDL's convention gives the same logits as rwkv.cpp's files.
TEST_CASE("pth and safetensors models reproduce the FP32 expected logits", "[formats][e2e]") {
  for (const char* id : {"4v0", "6v0", "7v0"})
    for (const char* ext : {".pth", ".safetensors"})
      for (const char* dt : {"f32", "f16", "bf16"}) {
        const std::string file = std::string(id) + "-" + dt + ext;
        INFO(file);
        const auto r = measure(file, expected_logits(tiny(id)), ext == std::string(".pth") ? "pth" : "safetensors");
        CHECK(r.seq <= tol_for(id, dt));
        CHECK(r.serial <= tol_for(id, dt));
      }
}

// v5.x: official files use group-norm eps 64e-5 (BlinkDL's code), rwkv.cpp's
// expected logits embody 1e-5, so the reference is the runtime's FP32 path on
// the .bin file with eps overridden to 64e-5 (README §7).
TEST_CASE("v5 pth and safetensors models match the FP32 path with eps 64e-5", "[formats][e2e]") {
  for (const char* id : {"5v1", "5v2"}) {
    auto tf = wb::read_tensor_file(tiny_path(tiny(id), "FP32"));
    REQUIRE(tf.ok());
    tf->meta["group_norm_eps"] = "0.00064";
    auto ref = wb::build_model(std::move(*tf), {});
    REQUIRE(ref.ok());
    const auto want = run_sequence(**ref, kPrompt);
    for (const char* ext : {".pth", ".safetensors"})
      for (const char* dt : {"f32", "f16", "bf16"}) {
        const std::string file = std::string(id) + "-" + dt + ext;
        INFO(file);
        auto m = must_load(converted(file));
        CHECK(m->info().group_norm_eps == Approx(64e-5f));
        const auto r = measure(file, want, ext == std::string(".pth") ? "pth" : "safetensors");
        CHECK(r.seq <= tol_for(id, dt));
        CHECK(r.serial <= tol_for(id, dt));
      }
    // ...and they really differ from rwkv.cpp's 1e-5 numbers (the eps matters).
    CHECK(max_abs_diff(want, expected_logits(tiny(id))) > 0.5);
  }
}

TEST_CASE("GGUF rwkv6 and rwkv7 models reproduce the expected logits", "[formats][e2e][gguf]") {
  struct Q {
    const char* id;
    const char* q;
    double tol;
  } cases[] = {
      {"7v0", "f32", 1e-4},  {"7v0", "f16", 1e-4},  {"7v0", "q8_0", 0.04}, {"7v0", "q4_0", 0.5},  // q: 1.1e-2, 0.18
      {"6v0", "f32", 1e-4},  {"6v0", "f16", 1e-4},  {"6v0", "q8_0", 0.2},  {"6v0", "q4_0", 2.0},  // q: 5.8e-2, 0.77
  };
  wb::LoadOptions deq;
  deq.dequantize_to_f32 = true;
  for (const auto& c : cases) {
    const std::string file = std::string(c.id) + "-" + c.q + ".gguf";
    INFO(file);
    const auto r = measure(file, expected_logits(tiny(c.id)), "gguf");
    CHECK(r.seq <= c.tol);
    CHECK(r.serial <= c.tol);
    // Quantised files, and f16 ones (whose transposed LoRA matrices stay f16
    // on the CPU), against the same file dequantised to f32 at load.
    if (std::string(c.q).rfind("q", 0) == 0 || std::string(c.q) == "f16") {
      auto ref = must_load(converted(file), deq);
      const auto d = measure(file, run_sequence(*ref, kPrompt), "gguf");
      CHECK(d.seq <= 1e-5);
      CHECK(d.serial <= 1e-5);
    }
  }
}

TEST_CASE("load_model reports each container's format and main dtype", "[formats][e2e]") {
  struct E {
    const char* file;
    const char* format;
    const char* dtype;
  } cases[] = {{"7v0-bf16.pth", "pth", "bf16"}, {"4v0-f16.safetensors", "safetensors", "f16"},
               {"6v0-q8_0.gguf", "gguf", "q8_0"}, {"7v0-q4_0.gguf", "gguf", "q4_0"}};
  for (const auto& c : cases) {
    INFO(c.file);
    auto m = must_load(converted(c.file));
    CHECK(m->info().format == c.format);
    CHECK(m->info().dtype == c.dtype);
    CHECK(m->info().n_vocab == 256);
  }
  auto r = wb::test::run_wb("info '" + converted("7v0-q8_0.gguf") + "'");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("\"format\":\"gguf\"") && Catch::Contains("rwkv7"));
  r = wb::test::run_wb("info '" + converted("hostile-os-system.pth") + "'");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.out, Catch::Contains("os.system"));
}
