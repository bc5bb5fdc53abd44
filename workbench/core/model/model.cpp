#include "core/model/model.hpp"

namespace wb {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::v4: return "rwkv4";
    case Arch::v5_1: return "rwkv5.1";
    case Arch::v5_2: return "rwkv5.2";
    case Arch::v6: return "rwkv6";
    case Arch::v7: return "rwkv7";
  }
  return "?";
}

}  // namespace wb
