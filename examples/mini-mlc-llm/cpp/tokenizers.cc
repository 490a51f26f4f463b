/*!
 * \file tokenizers.cc
 * \brief C API over the Rust tokenizer from 3rdparty/tokenizers-cpp.
 */
#include <tokenizers_c.h>

#include <cstring>
#include <vector>

#include "base.h"

extern "C" {

MLC_LLM_DLL size_t mlc_llm_encode(const char* text, size_t len, uint32_t* out_ids, size_t cap) {
  return tokenizers_encode(text, len, out_ids, cap);
}

MLC_LLM_DLL size_t mlc_llm_decode(const uint32_t* ids, size_t n, char* out, size_t cap) {
  return tokenizers_decode(ids, n, out, cap);
}

MLC_LLM_DLL int mlc_llm_tokenize_roundtrip(const char* in, char* out, size_t cap) {
  if (in == nullptr || out == nullptr) return -1;
  const size_t len = std::strlen(in);
  std::vector<uint32_t> ids(tokenizers_encode(in, len, nullptr, 0));
  tokenizers_encode(in, len, ids.data(), ids.size());
  const size_t needed = tokenizers_decode(ids.data(), ids.size(), nullptr, 0);
  if (needed + 1 > cap) return -2;
  tokenizers_decode(ids.data(), ids.size(), out, cap);
  out[needed] = '\0';
  return static_cast<int>(needed);
}

}  // extern "C"
