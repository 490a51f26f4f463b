/*!
 * \file engine_info.cc
 * \brief Version and build information of the (stand-in) MLC-LLM library.
 */
#include <tvm/ffi/c_api.h>
#include <tvm/runtime/c_runtime_api.h>

#include "base.h"

#ifndef MLC_LLM_VERSION
#define MLC_LLM_VERSION "0.0.0"
#endif

namespace {

// Like upstream's TVM_REGISTER_GLOBAL in libmlc_llm: a second copy in one process aborts.
struct StaticRegistration {
  StaticRegistration() { TVMFFIStandinRegisterGlobal("mlc.StandinVersion"); }
};
const StaticRegistration kRegistration;

}  // namespace

extern "C" {

MLC_LLM_DLL const char* mlc_llm_version(void) { return MLC_LLM_VERSION; }

MLC_LLM_DLL const char* mlc_llm_backends(void) { return tvm_standin_enabled_backends(); }

MLC_LLM_DLL int mlc_llm_ffi_abi(void) { return TVMFFIStandinABIVersion(); }

}  // extern "C"
