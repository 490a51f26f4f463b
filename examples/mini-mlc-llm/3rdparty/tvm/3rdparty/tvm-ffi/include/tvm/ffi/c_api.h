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

/*!
 * \brief Register a global function name in the process-wide registry, as
 *        TVM's static registrations do. A name registered twice aborts the
 *        process with upstream's message ("Global Function ... is already
 *        registered"): what happens when a second copy of libtvm_runtime is
 *        loaded into a process that already holds one.
 */
TVM_FFI_DLL void TVMFFIStandinRegisterGlobal(const char* name);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // TVM_FFI_C_API_H_
