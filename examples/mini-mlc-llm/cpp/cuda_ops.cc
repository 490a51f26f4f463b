/*!
 * \file cuda_ops.cc
 * \brief Forwarders to the CUDA kernels of the TVM runtime; compiled to
 *        nothing unless TVM was built with USE_CUDA=ON.
 */
#include <tvm/runtime/c_runtime_api.h>

#include "base.h"

#ifdef TVM_STANDIN_USE_CUDA
extern "C" {

MLC_LLM_DLL int mlc_llm_cuda_saxpy(const float* a, const float* b, float x, float* out, int n) {
  return tvm_standin_cuda_saxpy(a, b, x, out, n);
}

MLC_LLM_DLL const char* mlc_llm_cuda_error_string(int status) {
  return tvm_standin_cuda_error_string(status);
}

}  // extern "C"
#endif  // TVM_STANDIN_USE_CUDA
