#include "core/util/result.hpp"

namespace wb {

const char* errc_name(Errc c) {
  switch (c) {
    case Errc::io: return "io";
    case Errc::format: return "format";
    case Errc::unsupported: return "unsupported";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::out_of_range: return "out_of_range";
    case Errc::limit: return "limit";
    case Errc::security: return "security";
    case Errc::cancelled: return "cancelled";
    case Errc::device: return "device";
    case Errc::not_implemented: return "not_implemented";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace wb
