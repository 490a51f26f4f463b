/*
 * STAND-IN for apache/tvm-ffi's library: libtvm_ffi, which every library of
 * upstream MLC-LLM's wheel NEEDs and which only the tvm-ffi wheel ships. It
 * holds the process-wide registry of global functions, as the real one does.
 */
#include <tvm/ffi/c_api.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

namespace {

std::set<std::string>& Registry() {
  static std::set<std::string> names;
  return names;
}

}  // namespace

extern "C" {

TVM_FFI_DLL int TVMFFIStandinABIVersion(void) { return 1; }

TVM_FFI_DLL void TVMFFIStandinRegisterGlobal(const char* name) {
  if (!Registry().insert(name).second) {
    std::fprintf(stderr, "Global Function %s is already registered\n", name);
    std::fflush(stderr);
    std::abort();
  }
}

}  // extern "C"
