/*
 * STAND-IN for tokenizers-cpp's C header. Byte-level tokenizer implemented in
 * rust/src/lib.rs: ids 0,1,2 are <pad>,<bos>,<eos>; byte b is id b + 3.
 * Both calls return the full size needed and write at most `cap` elements.
 */
#ifndef TOKENIZERS_C_H_
#define TOKENIZERS_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

size_t tokenizers_encode(const char* text, size_t len, uint32_t* out_ids, size_t cap);
size_t tokenizers_decode(const uint32_t* ids, size_t n, char* out, size_t cap);
size_t tokenizers_vocab_size(void);

#ifdef __cplusplus
}
#endif

#endif  // TOKENIZERS_C_H_
