// Compile-only: the SDK headers are valid C++20 under -Wall -Wextra -pedantic -Werror,
// and every struct crossing the ABI is plain data.
#include <wb/plugin_all.h>

#include <type_traits>

template <class... T>
constexpr bool all_plain = (... && (std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T>));

static_assert(all_plain<wb_version, wb_host, wb_plugin, wb_plugin_descriptor, wb_plugin_factory, wb_plugin_entry,
                        wb_host_log, wb_host_presets, wb_host_ui, wb_ui_widget, wb_ui_panel, wb_ui_draw_cmd,
                        wb_ui_event, wb_plugin_ui, wb_output, wb_plugin_headless, wb_host_tokenizer,
                        wb_host_tree, wb_node_info, wb_token_prob, wb_host_generate, wb_sampler_settings,
                        wb_generate_event>);

extern "C" const wb_version wb_sdk_check_cxx20_version = WB_ABI_VERSION_INIT;

extern "C" const wb_sampler_settings wb_sdk_check_cxx20_settings = WB_SAMPLER_SETTINGS_INIT;
