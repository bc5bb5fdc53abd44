# CMake helpers for workbench plugins, used in-tree and installed with the SDK.
#
#   wb_plugin_manifest(my_plugin ID org.example.hello VERSION 1.0.0
#                      NAME "Hello" DESCRIPTION "Says hello")
#
# Writes <output dir of the target>/<target>.wbplugin.json next to the
# library at build time (the host lists plugins from these manifests without
# loading them). ABI_VERSION defaults to the SDK's; OUTPUT_DIR defaults to the
# target's LIBRARY_OUTPUT_DIRECTORY, else the current binary dir.
function(wb_plugin_manifest target)
  cmake_parse_arguments(P "" "ID;NAME;VERSION;DESCRIPTION;ABI_VERSION;OUTPUT_DIR" "" ${ARGN})
  if(NOT P_ID OR NOT P_VERSION)
    message(FATAL_ERROR "wb_plugin_manifest(${target}): ID and VERSION are required")
  endif()
  if(NOT P_ABI_VERSION)
    set(P_ABI_VERSION "${WB_PLUGIN_ABI_VERSION}")
  endif()
  if(NOT P_NAME)
    set(P_NAME "${P_ID}")
  endif()
  if(NOT P_OUTPUT_DIR)
    get_target_property(P_OUTPUT_DIR ${target} LIBRARY_OUTPUT_DIRECTORY)
    if(NOT P_OUTPUT_DIR)
      set(P_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}")
    endif()
  endif()
  string(REPLACE "\"" "\\\"" P_DESCRIPTION "${P_DESCRIPTION}")
  string(REPLACE "\"" "\\\"" P_NAME "${P_NAME}")
  file(GENERATE OUTPUT "${P_OUTPUT_DIR}/${target}.wbplugin.json" CONTENT
"{
  \"id\": \"${P_ID}\",
  \"name\": \"${P_NAME}\",
  \"version\": \"${P_VERSION}\",
  \"abi_version\": \"${P_ABI_VERSION}\",
  \"description\": \"${P_DESCRIPTION}\",
  \"library\": \"$<TARGET_FILE_NAME:${target}>\"
}
")
  set_property(TARGET ${target} PROPERTY WB_PLUGIN_MANIFEST "${P_OUTPUT_DIR}/${target}.wbplugin.json")
endfunction()
