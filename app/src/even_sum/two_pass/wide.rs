//! The first of the two passes (`super`) with AVX-512, on the CPUs that have its
//! byte instructions and byte compress (Intel since Ice Lake, AMD since Zen 4): a block is
//! classified with one 64-byte compare per class, straight into bit masks, and the positions
//! where its even numbers end are written sixteen at a time by compressing the block's byte
//! indices under its mask, with no loop over the bits. 1 GiB summed on one thread 0.37 s →
//! 0.32 s (`docs/benchmarks.md`). The second pass is the AVX2 one: its numbers are 32 bytes.
//!
//! `unsafe` here: the 64-byte load and stores, each in bounds by type or by an assert.

use std::arch::x86_64::{
    __m512i, _mm_setr_epi8, _mm512_add_epi32, _mm512_broadcast_i32x4, _mm512_castsi512_si128,
    _mm512_cmpeq_epi8_mask, _mm512_cmple_epu8_mask, _mm512_cvtepu8_epi32,
    _mm512_extracti32x4_epi32, _mm512_loadu_si512, _mm512_mask_test_epi8_mask,
    _mm512_maskz_compress_epi8, _mm512_set1_epi8, _mm512_set1_epi32, _mm512_shuffle_epi8,
    _mm512_storeu_si512, _mm512_sub_epi8,
};

use super::super::blocks::Masks;

/// The CPU has every feature the functions here enable (and the AVX2 ones the pass around
/// them needs).
pub(super) fn cpu_has_avx512() -> bool {
    use std::arch::is_x86_feature_detected as has;
    super::super::columns::cpu_has_avx2()
        && has!("avx512f")
        && has!("avx512bw")
        && has!("avx512vbmi2")
}

/// The masks of a block (as `super::super::columns::masks`: whitespace and signs by table lookup on
/// each byte's low half, a byte past 0x7F looking up 0, which is in neither set).
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
pub(super) fn masks(block: &[u8; 64]) -> Masks {
    #[rustfmt::skip]
    let spaces = _mm512_broadcast_i32x4(_mm_setr_epi8(
        0x20, -1, -1, -1, -1, -1, -1, -1, -1, 0x09, 0x0A, -1, 0x0C, 0x0D, -1, -1,
    ));
    #[rustfmt::skip]
    let signs = _mm512_broadcast_i32x4(_mm_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x2B, -1, 0x2D, -1, -1,
    ));
    #[allow(unsafe_code)]
    // SAFETY: reads the 64 bytes of `block`; an unaligned load needs no alignment.
    let x: __m512i = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
    let from_zero = _mm512_sub_epi8(x, _mm512_set1_epi8(b'0' as i8));
    let digit = _mm512_cmple_epu8_mask(from_zero, _mm512_set1_epi8(9));
    Masks {
        digit,
        odd: _mm512_mask_test_epi8_mask(digit, x, _mm512_set1_epi8(1)),
        space: _mm512_cmpeq_epi8_mask(x, _mm512_shuffle_epi8(spaces, x)),
        sign: _mm512_cmpeq_epi8_mask(x, _mm512_shuffle_epi8(signs, x)),
    }
}

/// Writes `at` plus the index of each bit of `bits` (at most 32, as a block's even numbers)
/// to `to`, sixteen whether there are that many or not, 32 when there are more; returns how
/// many there are.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2")]
#[inline]
pub(super) fn positions(to: &mut [u32], at: u32, bits: u64) -> usize {
    assert!(to.len() >= 32, "room for a block's 32 positions");
    let count = bits.count_ones() as usize;
    let indices: [u8; 64] = std::array::from_fn(|k| k as u8);
    #[allow(unsafe_code)]
    // SAFETY: reads the 64 bytes of `indices`.
    let indices: __m512i = unsafe { _mm512_loadu_si512(indices.as_ptr().cast()) };
    let packed = _mm512_maskz_compress_epi8(bits, indices);
    let base = _mm512_set1_epi32(at as i32);
    let first = _mm512_add_epi32(base, _mm512_cvtepu8_epi32(_mm512_castsi512_si128(packed)));
    #[allow(unsafe_code)]
    // SAFETY: writes 16 u32s, within `to` (at least 32, asserted above).
    unsafe {
        _mm512_storeu_si512(to.as_mut_ptr().cast(), first);
    }
    if count > 16 {
        let next = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32::<1>(packed));
        #[allow(unsafe_code)]
        // SAFETY: writes 16 u32s from `to[16]` on, within `to` (at least 32).
        unsafe {
            _mm512_storeu_si512(to[16..].as_mut_ptr().cast(), _mm512_add_epi32(base, next));
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::super::super::blocks::masks_bytewise;
    use super::*;

    #[test]
    fn masks_match_the_bytewise_ones_for_every_byte() {
        if !cpu_has_avx512() {
            return;
        }
        let mut blocks: Vec<[u8; 64]> = (0..=255u8)
            .step_by(64)
            .map(|first| std::array::from_fn(|k| first.wrapping_add(k as u8)))
            .collect();
        blocks
            .push(*b"-12 +7\t\n\r\x0b\x0c 9x0 123456789 -0 +00 8\r\n 13579 2468 999 1 +-:/ 24680");
        for block in blocks {
            #[allow(unsafe_code)]
            // SAFETY: the CPU has the features `masks` enables.
            let wide = unsafe { masks(&block) };
            assert_eq!(wide, masks_bytewise(&block), "{block:?}");
        }
    }

    #[test]
    fn positions_are_every_bit_s_index_from_at_whatever_their_count() {
        if !cpu_has_avx512() {
            return;
        }
        let mut seed = 3u64;
        let mut masks = vec![
            0,
            1,
            1 << 63,
            0x5555_5555_5555_5555,
            0xFFFF_0000,
            0xFFFF_FFFF << 32,
        ];
        masks.extend((0..200).map(|_| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            seed & (seed >> 7)
        }));
        masks.retain(|bits| bits.count_ones() <= 32);
        for bits in masks {
            let mut to = [u32::MAX; 64];
            #[allow(unsafe_code)]
            // SAFETY: the CPU has the features `positions` enables.
            let count = unsafe { positions(&mut to, 1000, bits) };
            let expected: Vec<u32> = (0..64)
                .filter(|k| bits >> k & 1 == 1)
                .map(|k| 1000 + k)
                .collect();
            assert_eq!(count, expected.len());
            assert_eq!(&to[..count], &expected[..], "{bits:#x}");
        }
    }
}
