// A restricted pickle reader for PyTorch state dicts (protocols 2..5).
//
// It never executes anything: it interprets only the opcodes a state dict
// needs and builds a tree of plain values. GLOBAL / STACK_GLOBAL are accepted
// only for an allow-list (collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter and torch.<Type>Storage); any other name,
// e.g. `os system` or `builtins eval`, is refused with Errc::security at the
// moment it is named. REDUCE is only "called" on the allowed rebuild functions
// and produces a Tensor record. Stack, memo and object counts are bounded.
//
//   WB_TRY(p, wb::pickle::load(bytes));
//   const wb::pickle::Object* root = p.root;   // a Dict of String -> Tensor for a state dict
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/model/tensor_file.hpp"

namespace wb::pickle {

enum class Kind : uint8_t { none, boolean, integer, floating, string, bytes, tuple, list, dict, global, storage, tensor };
const char* kind_name(Kind k);

struct Object {
  Kind kind = Kind::none;
  int64_t i = 0;       // integer, boolean
  double f = 0;        // floating
  std::string s;       // string, bytes; global: "module.name"; storage: key
  std::vector<const Object*> items;                            // tuple, list
  std::vector<std::pair<const Object*, const Object*>> entries;  // dict, in insertion order
  // storage: element type as named by its torch.<Type>Storage and element count
  std::string storage_type;
  bool dtype_known = false;
  DType dtype = DType::f32;
  uint64_t numel = 0;
  // tensor: its storage, offset (elements), size and stride
  const Object* storage = nullptr;
  int64_t offset = 0;
  std::vector<int64_t> shape, stride;
};

struct Limits {
  size_t max_stack = size_t{1} << 20;
  size_t max_memo = size_t{1} << 20;
  size_t max_objects = size_t{1} << 20;
};

// Owns every object; pointers stay valid as long as the Pickle lives.
struct Pickle {
  std::vector<std::unique_ptr<Object>> arena;
  const Object* root = nullptr;
};

Result<Pickle> load(std::span<const uint8_t> bytes, const Limits& limits = {});

}  // namespace wb::pickle
