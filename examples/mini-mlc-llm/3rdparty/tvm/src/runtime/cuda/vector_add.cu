/*
 * STAND-IN for apache/tvm's CUDA runtime: one real kernel, out = a * x + b.
 * Compiled only with USE_CUDA=ON, for CMAKE_CUDA_ARCHITECTURES.
 */
#include <cuda_runtime.h>
#include <tvm/runtime/c_runtime_api.h>

namespace {

thread_local cudaError_t last_error = cudaSuccess;

__global__ void SaxpyKernel(const float* a, const float* b, float x, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a[i] * x + b[i];
}

int ToStatus(cudaError_t err) {
  last_error = err;
  switch (err) {
    case cudaSuccess:
      return TVM_STANDIN_CUDA_OK;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorStubLibrary:
      return TVM_STANDIN_CUDA_ERROR_NO_DEVICE;
    case cudaErrorNoKernelImageForDevice:
      return TVM_STANDIN_CUDA_ERROR_NO_KERNEL_IMAGE;
    case cudaErrorMemoryAllocation:
      return TVM_STANDIN_CUDA_ERROR_OUT_OF_MEMORY;
    default:
      return TVM_STANDIN_CUDA_ERROR_OTHER;
  }
}

struct DeviceBuffers {
  float* a = nullptr;
  float* b = nullptr;
  float* out = nullptr;
  ~DeviceBuffers() {
    if (a) cudaFree(a);
    if (b) cudaFree(b);
    if (out) cudaFree(out);
  }
};

}  // namespace

#define STANDIN_CUDA_CALL(expr)                 \
  do {                                          \
    cudaError_t err_ = (expr);                  \
    if (err_ != cudaSuccess) return ToStatus(err_); \
  } while (0)

extern "C" TVM_DLL int tvm_standin_cuda_saxpy(const float* a, const float* b, float x,
                                              float* out, int n) {
  last_error = cudaSuccess;
  if (n < 0 || (n > 0 && (a == nullptr || b == nullptr || out == nullptr))) {
    return TVM_STANDIN_CUDA_ERROR_INVALID_ARGUMENT;
  }
  int device_count = 0;
  STANDIN_CUDA_CALL(cudaGetDeviceCount(&device_count));
  if (device_count == 0) return ToStatus(cudaErrorNoDevice);
  if (n == 0) return TVM_STANDIN_CUDA_OK;

  const size_t bytes = sizeof(float) * static_cast<size_t>(n);
  DeviceBuffers dev;
  STANDIN_CUDA_CALL(cudaMalloc(reinterpret_cast<void**>(&dev.a), bytes));
  STANDIN_CUDA_CALL(cudaMalloc(reinterpret_cast<void**>(&dev.b), bytes));
  STANDIN_CUDA_CALL(cudaMalloc(reinterpret_cast<void**>(&dev.out), bytes));
  STANDIN_CUDA_CALL(cudaMemcpy(dev.a, a, bytes, cudaMemcpyHostToDevice));
  STANDIN_CUDA_CALL(cudaMemcpy(dev.b, b, bytes, cudaMemcpyHostToDevice));

  const int threads = 256;
  const int blocks = (n + threads - 1) / threads;
  SaxpyKernel<<<blocks, threads>>>(dev.a, dev.b, x, dev.out, n);
  STANDIN_CUDA_CALL(cudaGetLastError());  // e.g. cudaErrorNoKernelImageForDevice
  STANDIN_CUDA_CALL(cudaDeviceSynchronize());
  STANDIN_CUDA_CALL(cudaMemcpy(out, dev.out, bytes, cudaMemcpyDeviceToHost));
  return TVM_STANDIN_CUDA_OK;
}

extern "C" TVM_DLL const char* tvm_standin_cuda_error_string(int status) {
  switch (status) {
    case TVM_STANDIN_CUDA_OK:
      return "success";
    case TVM_STANDIN_CUDA_ERROR_INVALID_ARGUMENT:
      return "invalid argument (null pointer or negative length)";
    case TVM_STANDIN_CUDA_ERROR_NO_DEVICE:
      return "no CUDA device or driver available (cudaErrorNoDevice/cudaErrorInsufficientDriver)";
    case TVM_STANDIN_CUDA_ERROR_NO_KERNEL_IMAGE:
      return "no kernel image for this device: rebuild with a matching CMAKE_CUDA_ARCHITECTURES "
             "(cudaErrorNoKernelImageForDevice)";
    case TVM_STANDIN_CUDA_ERROR_OUT_OF_MEMORY:
      return "out of device memory (cudaErrorMemoryAllocation)";
    case TVM_STANDIN_CUDA_ERROR_OTHER:
      return "other CUDA error (see tvm_standin_cuda_last_error_name)";
    default:
      return "unknown status code";
  }
}

extern "C" TVM_DLL const char* tvm_standin_cuda_last_error_name(void) {
  return cudaGetErrorName(last_error);
}
