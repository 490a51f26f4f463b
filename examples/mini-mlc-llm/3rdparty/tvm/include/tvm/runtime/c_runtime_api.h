/*
 * STAND-IN for apache/tvm's include/tvm/runtime/c_runtime_api.h.
 * Only the handful of C functions the mini MLC-LLM workspace uses.
 */
#ifndef TVM_RUNTIME_C_RUNTIME_API_H_
#define TVM_RUNTIME_C_RUNTIME_API_H_

#ifdef _WIN32
#ifdef TVM_EXPORTS
#define TVM_DLL __declspec(dllexport)
#else
#define TVM_DLL __declspec(dllimport)
#endif
#else
#define TVM_DLL __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*! \brief Version string of the stand-in runtime. */
TVM_DLL const char* tvm_standin_version(void);

/*! \brief ABI version of the libtvm_ffi this runtime was loaded with. */
TVM_DLL int tvm_standin_ffi_abi(void);

/*!
 * \brief Comma separated list of the backends compiled into this library,
 *        always starting with "cpu", e.g. "cpu,cuda,vulkan".
 */
TVM_DLL const char* tvm_standin_enabled_backends(void);

/* Status codes of tvm_standin_cuda_saxpy. */
#define TVM_STANDIN_CUDA_OK 0
#define TVM_STANDIN_CUDA_ERROR_INVALID_ARGUMENT 1
/* cudaErrorNoDevice, cudaErrorInsufficientDriver (no driver / no GPU). */
#define TVM_STANDIN_CUDA_ERROR_NO_DEVICE 2
/* cudaErrorNoKernelImageForDevice: not compiled for this GPU's architecture. */
#define TVM_STANDIN_CUDA_ERROR_NO_KERNEL_IMAGE 3
#define TVM_STANDIN_CUDA_ERROR_OUT_OF_MEMORY 4
#define TVM_STANDIN_CUDA_ERROR_OTHER 5

#ifdef TVM_STANDIN_USE_CUDA
/*!
 * \brief out[i] = a[i] * x + b[i] for i < n, computed by a CUDA kernel.
 * \return one of the TVM_STANDIN_CUDA_* status codes.
 */
TVM_DLL int tvm_standin_cuda_saxpy(const float* a, const float* b, float x, float* out, int n);

/*! \brief Human readable text for a TVM_STANDIN_CUDA_* status code. */
TVM_DLL const char* tvm_standin_cuda_error_string(int status);

/*! \brief cudaGetErrorName() of the last CUDA error seen on this thread. */
TVM_DLL const char* tvm_standin_cuda_last_error_name(void);
#endif

#ifdef TVM_STANDIN_USE_VULKAN
/*! \brief Only present when built with USE_VULKAN=ON; returns 1. */
TVM_DLL int mlc_standin_vulkan_enabled(void);
#endif

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // TVM_RUNTIME_C_RUNTIME_API_H_
