/*
 * STAND-IN for apache/tvm's src/runtime/c_runtime_api.cc.
 */
#include <tvm/ffi/c_api.h>
#include <tvm/runtime/c_runtime_api.h>

namespace tvm {
namespace runtime {
namespace {

// Built at compile time from the USE_* switches (see CMakeLists.txt).
constexpr const char kEnabledBackends[] = "cpu"
#ifdef TVM_STANDIN_USE_CUDA
                                          ",cuda"
#endif
#ifdef TVM_STANDIN_USE_ROCM
                                          ",rocm"
#endif
#ifdef TVM_STANDIN_USE_VULKAN
                                          ",vulkan"
#endif
#ifdef TVM_STANDIN_USE_OPENCL
                                          ",opencl"
#endif
#ifdef TVM_STANDIN_USE_METAL
                                          ",metal"
#endif
    ;

// Like TVM's TVM_REGISTER_GLOBAL: registered when the library is loaded. A second
// copy of this library in one process registers again and aborts.
struct StaticRegistration {
  StaticRegistration() { TVMFFIStandinRegisterGlobal("runtime.StandinVersion"); }
};
const StaticRegistration kRegistration;

}  // namespace
}  // namespace runtime
}  // namespace tvm

extern "C" {

TVM_DLL const char* tvm_standin_version(void) { return "0.0.0-standin"; }

TVM_DLL int tvm_standin_ffi_abi(void) { return TVMFFIStandinABIVersion(); }

TVM_DLL const char* tvm_standin_enabled_backends(void) {
  return tvm::runtime::kEnabledBackends;
}

}  // extern "C"
