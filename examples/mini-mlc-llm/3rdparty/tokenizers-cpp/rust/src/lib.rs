//! STAND-IN for tokenizers-cpp's Rust layer: a byte-level tokenizer with a C ABI.
//!
//! Vocabulary (259 ids):
//!   * 0 = `<pad>`, 1 = `<bos>`, 2 = `<eos>` (special ids, never produced by
//!     `tokenizers_encode`, dropped by `tokenizers_decode`);
//!   * byte `b` (0..=255) of the UTF-8 input = id `b + 3` (3..=258).
//!
//! Both functions follow the `snprintf` convention: they return the number of
//! elements the complete result needs and write at most `cap` of them, so a
//! caller may first ask for the size with `cap == 0` (the output pointer may
//! then be null). No function panics or allocates.

use std::slice;

/// Number of special ids placed before the 256 byte ids.
pub const NUM_SPECIAL_IDS: u32 = 3;
/// Total vocabulary size.
pub const VOCAB_SIZE: u32 = NUM_SPECIAL_IDS + 256;

#[inline]
fn byte_to_id(b: u8) -> u32 {
    u32::from(b) + NUM_SPECIAL_IDS
}

#[inline]
fn id_to_byte(id: u32) -> Option<u8> {
    if (NUM_SPECIAL_IDS..VOCAB_SIZE).contains(&id) {
        Some((id - NUM_SPECIAL_IDS) as u8)
    } else {
        None
    }
}

/// Encode `len` bytes of `text` into ids. Returns `len` (the ids needed) and
/// writes `min(len, cap)` ids into `out_ids`. A null `text` encodes nothing.
///
/// # Safety
/// `text` must point to `len` readable bytes (or be null); `out_ids` must
/// point to `cap` writable `u32`s (or be null when `cap == 0`).
#[no_mangle]
pub unsafe extern "C" fn tokenizers_encode(
    text: *const u8,
    len: usize,
    out_ids: *mut u32,
    cap: usize,
) -> usize {
    if text.is_null() || len == 0 {
        return 0;
    }
    let input = slice::from_raw_parts(text, len);
    if !out_ids.is_null() && cap > 0 {
        let out = slice::from_raw_parts_mut(out_ids, cap.min(len));
        for (dst, &b) in out.iter_mut().zip(input) {
            *dst = byte_to_id(b);
        }
    }
    len
}

/// Decode `n` ids into bytes (not NUL-terminated). Special and out-of-range
/// ids are skipped. Returns the number of bytes the whole text needs and
/// writes the first `min(needed, cap)` of them into `out`.
///
/// # Safety
/// `ids` must point to `n` readable `u32`s (or be null); `out` must point to
/// `cap` writable bytes (or be null when `cap == 0`).
#[no_mangle]
pub unsafe extern "C" fn tokenizers_decode(
    ids: *const u32,
    n: usize,
    out: *mut u8,
    cap: usize,
) -> usize {
    if ids.is_null() || n == 0 {
        return 0;
    }
    let input = slice::from_raw_parts(ids, n);
    let writable = if out.is_null() { 0 } else { cap };
    let mut needed = 0usize;
    for byte in input.iter().filter_map(|&id| id_to_byte(id)) {
        if needed < writable {
            *out.add(needed) = byte;
        }
        needed += 1;
    }
    needed
}

/// Size of the vocabulary (special ids included).
#[no_mangle]
pub extern "C" fn tokenizers_vocab_size() -> usize {
    VOCAB_SIZE as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let text = "héllo, wörld";
        let mut ids = vec![0u32; text.len()];
        let n = unsafe { tokenizers_encode(text.as_ptr(), text.len(), ids.as_mut_ptr(), ids.len()) };
        assert_eq!(n, text.len());
        assert_eq!(ids[0], u32::from(b'h') + 3);
        let mut out = vec![0u8; n];
        let m = unsafe { tokenizers_decode(ids.as_ptr(), ids.len(), out.as_mut_ptr(), out.len()) };
        assert_eq!(m, n);
        assert_eq!(std::str::from_utf8(&out).unwrap(), text);
    }

    #[test]
    fn specials_are_dropped_and_size_query_works() {
        let ids = [1u32, 3 + 65, 2, 999];
        let needed = unsafe { tokenizers_decode(ids.as_ptr(), ids.len(), std::ptr::null_mut(), 0) };
        assert_eq!(needed, 1);
    }
}
