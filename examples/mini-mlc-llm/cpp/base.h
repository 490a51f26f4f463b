/*
 * STAND-IN for mlc-ai/mlc-llm's cpp/ sources: export macro and C API of the
 * mini libmlc_llm.
 */
#ifndef MLC_LLM_BASE_H_
#define MLC_LLM_BASE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#ifdef MLC_LLM_EXPORTS
#define MLC_LLM_DLL __declspec(dllexport)
#else
#define MLC_LLM_DLL __declspec(dllimport)
#endif
#else
#define MLC_LLM_DLL __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

MLC_LLM_DLL const char* mlc_llm_version(void);
MLC_LLM_DLL const char* mlc_llm_backends(void);

/* Byte-level tokenizer (see 3rdparty/tokenizers-cpp). Both return the full
 * size needed and write at most `cap` elements (snprintf convention). */
MLC_LLM_DLL size_t mlc_llm_encode(const char* text, size_t len, uint32_t* out_ids, size_t cap);
MLC_LLM_DLL size_t mlc_llm_decode(const uint32_t* ids, size_t n, char* out, size_t cap);

/* Encode then decode the NUL-terminated `in` into `out` (NUL-terminated).
 * Returns the decoded length, -1 for null arguments, -2 if `cap` is too small. */
MLC_LLM_DLL int mlc_llm_tokenize_roundtrip(const char* in, char* out, size_t cap);

#ifdef TVM_STANDIN_USE_CUDA
/* Only exported when built with USE_CUDA=ON. Returns TVM_STANDIN_CUDA_* codes. */
MLC_LLM_DLL int mlc_llm_cuda_saxpy(const float* a, const float* b, float x, float* out, int n);
MLC_LLM_DLL const char* mlc_llm_cuda_error_string(int status);
#endif

#ifdef __cplusplus
}
#endif

#endif  // MLC_LLM_BASE_H_
