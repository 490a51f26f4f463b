/*
 * STAND-IN for apache/tvm-ffi's library: libtvm_ffi, which every library of
 * upstream MLC-LLM's wheel NEEDs and which only the tvm-ffi wheel ships.
 */
#include <tvm/ffi/c_api.h>

extern "C" {

TVM_FFI_DLL int TVMFFIStandinABIVersion(void) { return 1; }

}  // extern "C"
