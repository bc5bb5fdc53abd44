/* Compile-only: the SDK headers are valid C11 under -Wall -Wextra -pedantic -Werror. */
#include <wb/plugin_all.h>

_Static_assert(sizeof(wb_version) == 12, "wb_version is three uint32_t");
_Static_assert(WB_OK == 0 && WB_ERR_INVALID_ARGUMENT < 0, "status codes");

const wb_version wb_sdk_check_c11_version = WB_ABI_VERSION_INIT;

/* Initialiser macros are valid C11 too. */
const wb_sampler_settings wb_sdk_check_c11_settings = WB_SAMPLER_SETTINGS_INIT;
