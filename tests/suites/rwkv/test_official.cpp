// The `official` value convention (what BlinkDL's trainer saves), exercised by
// converting the rwkv.cpp fixtures back in memory: undo the converter's
// transforms (fixtures README §3.6) and give the tensors official names and
// shapes. The builders must then reproduce rwkv.cpp's expected logits.
#include <cmath>
#include <memory>

#include "core/model/cpu/matmul.hpp"
#include "core/model/read_tensor_file.hpp"
#include "official_convention.hpp"
#include "rwkv_helpers.hpp"

using namespace wb;
using namespace wb::test;

TEST_CASE("official-convention tensors reproduce the expected logits", "[rwkv][official]") {
  for (const TinyModel& tm : tiny_models()) {
    SECTION(tm.id) {
      auto src = read_tensor_file(tiny_path(tm, "FP32"));
      REQUIRE(src.ok());
      auto arch = detect_arch(*src);
      REQUIRE(arch.ok());
      TensorFile off = to_official(*src, *arch);
      const bool v5 = *arch == Arch::v5_1 || *arch == Arch::v5_2;
      // Official v5 files use BlinkDL's eps 64e-5; the expected logits embody
      // rwkv.cpp's 1e-5, so the comparison overrides it (README §7).
      if (v5) off.meta["group_norm_eps"] = "1e-5";
      REQUIRE(detect_arch(off).ok());
      CHECK(*detect_arch(off) == *arch);
      auto model = build_model(std::move(off), {});
      INFO(tm.id << ": " << (model ? std::string() : model.error().message));
      REQUIRE(model.ok());
      const auto expected = expected_logits(tm);
      const auto seq = run_sequence(**model, kPrompt);
      const auto ser = run_serial(**model, kPrompt);
      // Undoing exp(-exp(w)) in float costs a little precision on v5.
      const double tol = v5 ? 1e-3 : 1e-4;
      CHECK(max_abs_diff(seq, expected) <= tol);
      CHECK(max_abs_diff(ser, expected) <= tol);
    }
  }
}

TEST_CASE("official v5 defaults to BlinkDL's group-norm epsilon", "[rwkv][official]") {
  auto src = read_tensor_file(tiny_path(tiny_models()[2], "FP32"));
  REQUIRE(src.ok());
  auto model = build_model(to_official(*src, Arch::v5_2), {});
  REQUIRE(model.ok());
  CHECK((*model)->info().group_norm_eps == 64e-5f);
  // And the difference is real on this model (README §6: > 1.0 in logits).
  CHECK(max_abs_diff(run_sequence(**model, kPrompt), expected_logits(tiny_models()[2])) > 0.1);
}

TEST_CASE("v6 honours rescale_every_n_layers", "[rwkv][official]") {
  const TinyModel& tm = tiny_models()[3];
  auto src = read_tensor_file(tiny_path(tm, "FP32"));
  REQUIRE(src.ok());
  // Hugging Face / GGUF style: block i's att.output and ffn.value weights are
  // divided by 2^(i / n) and the residual stream is halved after every n-th block.
  const int n = 3;
  auto make = [&](bool with_meta) {
    TensorFile off = to_official(*src, Arch::v6);
    for (TensorView& t : off.tensors) {
      int layer = -1;
      if (std::sscanf(t.name.c_str(), "blocks.%d.", &layer) != 1) continue;
      if (!ends_with(t.name, "att.output.weight") && !ends_with(t.name, "ffn.value.weight")) continue;
      auto* f = const_cast<float*>(reinterpret_cast<const float*>(t.data));  // owned by the test
      const float scale = float(1 << (layer / n));
      for (uint64_t i = 0; i < t.numel(); ++i) f[i] /= scale;
    }
    if (with_meta) off.meta["rescale_every_n_layers"] = std::to_string(n);
    auto m = build_model(std::move(off), {});
    REQUIRE(m.ok());
    return run_sequence(**m, kPrompt);
  };
  const auto expected = expected_logits(tm);
  CHECK(max_abs_diff(make(true), expected) <= 2e-3);   // layer-norm eps sees the smaller scale
  CHECK(max_abs_diff(make(false), expected) > 0.05);  // ignoring the key is visibly wrong
}

TEST_CASE("official v7 with placeholder layer-0 value LoRA still works", "[rwkv][official]") {
  const TinyModel& tm = tiny_models()[4];
  auto src = read_tensor_file(tiny_path(tm, "FP32"));
  REQUIRE(src.ok());
  TensorFile off = to_official(*src, Arch::v7);
  // Some checkpoints carry (unused) v0/v1/v2 in block 0.
  Builder extra;
  extra.add("blocks.0.att.v0", {1, 1, 64}, std::vector<float>(64, 5.0f));
  extra.add("blocks.0.att.v1", {64, 32}, std::vector<float>(64 * 32, 1.0f));
  extra.add("blocks.0.att.v2", {32, 64}, std::vector<float>(32 * 64, 1.0f));
  for (auto& t : extra.out.tensors) off.tensors.push_back(t);
  for (auto& o : extra.out.owners) off.owners.push_back(o);
  auto m = build_model(std::move(off), {});
  REQUIRE(m.ok());
  CHECK(max_abs_diff(run_sequence(**m, kPrompt), expected_logits(tm)) <= 1e-4);
}
