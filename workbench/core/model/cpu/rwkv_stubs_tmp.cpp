#include "core/model/cpu/cpu_model.hpp"
namespace wb::cpu {
Result<std::unique_ptr<Model>> build_rwkv4(TensorFile, const LoadOptions&) { return make_error(Errc::not_implemented, "v4"); }
Result<std::unique_ptr<Model>> build_rwkv5(TensorFile, const LoadOptions&, Arch) { return make_error(Errc::not_implemented, "v5"); }
Result<std::unique_ptr<Model>> build_rwkv6(TensorFile, const LoadOptions&) { return make_error(Errc::not_implemented, "v6"); }
}
