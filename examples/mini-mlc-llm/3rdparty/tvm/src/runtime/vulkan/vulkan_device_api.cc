/*
 * STAND-IN for apache/tvm's src/runtime/vulkan/vulkan_device_api.cc.
 * Compiled only with USE_VULKAN=ON. It needs no Vulkan headers; it exists so
 * that the switch visibly changes what is compiled and exported.
 */
#include <tvm/runtime/c_runtime_api.h>

#ifndef TVM_STANDIN_USE_VULKAN
#error "vulkan_device_api.cc must only be compiled with USE_VULKAN=ON"
#endif

extern "C" TVM_DLL int mlc_standin_vulkan_enabled(void) { return 1; }
