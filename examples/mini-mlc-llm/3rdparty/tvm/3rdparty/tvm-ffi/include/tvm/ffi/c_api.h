/*
 * STAND-IN for apache/tvm-ffi's include/tvm/ffi/c_api.h: one function.
 */
#ifndef TVM_FFI_C_API_H_
#define TVM_FFI_C_API_H_

#ifdef _WIN32
#ifdef TVM_FFI_EXPORTS
#define TVM_FFI_DLL __declspec(dllexport)
#else
#define TVM_FFI_DLL __declspec(dllimport)
#endif
#else
#define TVM_FFI_DLL __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*! \brief ABI version of the stand-in FFI library. */
TVM_FFI_DLL int TVMFFIStandinABIVersion(void);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // TVM_FFI_C_API_H_
