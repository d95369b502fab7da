//! exp and ln(1 + t) over slices, 8 values at a time with AVX-512 or 4 with AVX2 where
//! the CPU has it: ln(1 + t) for t in [0, 1] (the logistic rows) and for any t >= 0 (the
//! negative binomial's rows).
//!
//! A Poisson row costs one exp and a logistic row an exp and a log; libm's are a call per
//! value: exp alone was 40% of a Poisson sweep. The kernels here are branch-free arithmetic
//! (range reduction, a table, short polynomials, exponent bits). The compiler does not
//! vectorize them by itself, so the vector versions (chosen at run time) are written with
//! intrinsics; they do the same IEEE operations in the same order as the scalar ones (no
//! fused multiply-adds), so the results, and hence the draws, do not depend on the CPU.

/// exp(x) = 2^k 2^(j/64) exp(r) with x = (64 k + j) ln(2)/64 + r, |r| <= ln(2)/128: a table
/// lookup and a degree-5 polynomial (about half the arithmetic of one polynomial over
/// |r| <= ln(2)/2).
const EXP_TABLE_BITS: u32 = 6;
/// 64 / ln 2.
const INV_LN2_64: f64 = 92.332_482_616_893_66;
/// ln(2)/64 split so that n * LN2_64_HI is exact for |n| <= 2^17 (36 significant bits).
const LN2_64_HI: f64 = 0.010_830_424_696_223_417;
const LN2_64_LO: f64 = 2.572_804_622_327_669e-14;
/// 2^(j/64), j = 0..63, correctly rounded.
#[rustfmt::skip]
static EXP_TABLE: [f64; 64] = [
    1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284,
    1.0442737824274138, 1.0556451783605572, 1.0671404006768237, 1.0787607977571199,
    1.0905077326652577, 1.102382583307841, 1.1143867425958924, 1.1265216186082418,
    1.1387886347566916, 1.1511892299529827, 1.1637248587775775, 1.1763969916502812,
    1.189207115002721, 1.202156731452703, 1.215247359980469, 1.22848053610687,
    1.241857812073484, 1.255380757024691, 1.2690509571917332, 1.2828700160787783,
    1.2968395546510096, 1.3109612115247644, 1.3252366431597413, 1.339667524053303,
    1.3542555469368927, 1.3690024229745905, 1.383909881963832, 1.3989796725383112,
    std::f64::consts::SQRT_2, 1.42961333839197, 1.4451808069770467, 1.460917794180647,
    1.4768261459394993, 1.4929077282912648, 1.5091644275934228, 1.5255981507445384,
    1.5422108254079407, 1.559004400237837, 1.5759808451078865, 1.593142151342267,
    1.6104903319492543, 1.6280274218573478, 1.645755478153965, 1.6636765803267364,
    1.681792830507429, 1.7001063537185235, 1.718619298122478, 1.7373338352737062,
    1.7562521603732995, 1.7753764925265212, 1.7947090750031072, 1.8142521755003989,
    1.8340080864093424, 1.8539791250833855, 1.8741676341103, 1.8945759815869656,
    1.9152065613971474, 1.9360617934922943, 1.9571441241754002, 1.978456026387951,
];
/// 1.5 * 2^52: adding it rounds to an integer, which then sits in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// Above this exp overflows.
const MAX_ARG: f64 = 709.782_712_893_384;
/// Below this the result is taken as 0 (exp(-707) = 9.8e-308, near the edge of normal
/// numbers; the scale 2^(k - 1) below stays normal down to here).
const MIN_ARG: f64 = -707.0;
/// 1/k! for k = 2..5: exp(r) - 1 - r for |r| <= ln(2)/128 to below 4e-17 relative.
const C: [f64; 4] = [1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0];
/// ln 2 split so that e * LN2_HI is exact (ln(1 + t) below, e in {0, 1}).
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;

/// 2/(2k + 3) for k = 0..9: ln(1 + f) = 2 atanh(s) = f - s f + s R, s = f/(2 + f),
/// R = z sum_k L[k] z^k, z = s^2; for 1 + f in [sqrt(1/2), sqrt(2)], z <= 0.0295 and the
/// truncation error is below 1e-17 relative.
const L: [f64; 10] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
];

/// ln(1 + t) for t in [0, 1] (the logistic family's log(1 + exp(-|eta|))), to within 1 ulp
/// of libm's ln(1 + t). u = 1 + t is halved above sqrt(2), so that ln(u) = e ln 2 + ln(m)
/// with m = 1 + f in [sqrt(1/2), sqrt(2)] and e in {0, 1}; ln(m) is summed as
/// f - (f^2/2 - s (f^2/2 + R)) (as fdlibm's log), whose leading term f is exact.
#[inline(always)]
pub fn ln1p_unit_lane(t: f64) -> f64 {
    let u = 1.0 + t;
    let e = if u > std::f64::consts::SQRT_2 { 1.0 } else { 0.0 };
    let m = if u > std::f64::consts::SQRT_2 { u * 0.5 } else { u };
    let f = m - 1.0;
    let (hfsq, sr) = ln_series(f);
    e * LN2_HI + (f - (hfsq - (sr + e * LN2_LO)))
}

/// The series of ln(1 + f) for 1 + f in [sqrt(1/2), sqrt(2)] (see `L`): f^2/2 and s (f^2/2
/// + R), so that ln(1 + f) = f - (f^2/2 - s (f^2/2 + R)).
#[inline(always)]
fn ln_series(f: f64) -> (f64, f64) {
    let s = f / (2.0 + f);
    let z = s * s;
    let (z2, q) = (z * z, |a: usize| L[a] + L[a + 1] * (s * s));
    let r = |a: usize| q(a) + q(a + 2) * (z * z);
    let z4 = z2 * z2;
    let big_r = z * ((r(0) + r(4) * z4) + q(8) * (z4 * z4));
    let hfsq = 0.5 * f * f;
    (hfsq, s * (hfsq + big_r))
}

/// 2^52 as a double, and its bits: OR-ing an integer below 2^52 into them and subtracting
/// 2^52 converts it to a double exactly (AVX2 has no 64-bit integer conversion).
const TWO52: f64 = 4_503_599_627_370_496.0;
const TWO52_BITS: u64 = 0x4330_0000_0000_0000;
/// A double's mantissa bits, and the exponent bits of 1.0.
const MANT_MASK: u64 = 0x000f_ffff_ffff_ffff;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;

/// ln(1 + t) for t >= 0 of any size (the negative binomial's ln(1 + mu/phi)), to within an
/// ulp of libm's ln_1p; +inf for +inf, NaN for NaN. u = 1 + t (rounded) is 2^k m with m in
/// [sqrt(1/2), sqrt(2)) (k from u's exponent bits), ln(m) is summed as in
/// `ln1p_unit_lane`, and fdlibm's correction (t - (u - 1)) / u restores what the rounding
/// of u lost (all of ln(1 + t) for tiny t).
#[inline(always)]
pub fn ln1p_lane(t: f64) -> f64 {
    let u = 1.0 + t;
    let bits = u.to_bits();
    let e = f64::from_bits((bits >> 52) | TWO52_BITS) - TWO52;
    let mb = f64::from_bits((bits & MANT_MASK) | ONE_BITS);
    let big = mb > std::f64::consts::SQRT_2;
    let m = if big { mb * 0.5 } else { mb };
    let k = (e - 1023.0) + if big { 1.0 } else { 0.0 };
    let f = m - 1.0;
    let (hfsq, sr) = ln_series(f);
    let c = (t - (u - 1.0)) / u;
    let y = k * LN2_HI + (f - (hfsq - (sr + (k * LN2_LO + c))));
    if u == f64::INFINITY {
        u
    } else {
        y
    }
}

/// v = ln(1 + v) in place for v >= 0 (see [`ln1p_lane`]), 8 or 4 values at a time where
/// the CPU allows.
pub fn ln1p_in_place(v: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512F
        return unsafe { ln1p_avx512(v) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2
        return unsafe { ln1p_avx2(v) };
    }
    v.iter_mut().for_each(|x| *x = ln1p_lane(*x));
}

/// ln1p_lane on 4 lanes, the same operations in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn ln1p4(t: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    let set = |v: f64| _mm256_set1_pd(v);
    let u = _mm256_add_pd(set(1.0), t);
    let bits = _mm256_castpd_si256(u);
    let e = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64::<52>(bits), _mm256_set1_epi64x(TWO52_BITS as i64))), set(TWO52));
    let mb = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(MANT_MASK as i64)), _mm256_set1_epi64x(ONE_BITS as i64)));
    let big = _mm256_cmp_pd::<_CMP_GT_OQ>(mb, set(std::f64::consts::SQRT_2));
    let m = _mm256_blendv_pd(mb, _mm256_mul_pd(mb, set(0.5)), big);
    let k = _mm256_add_pd(_mm256_sub_pd(e, set(1023.0)), _mm256_and_pd(big, set(1.0)));
    let f = _mm256_sub_pd(m, set(1.0));
    let (hfsq, sr) = ln_series4(f);
    let c = _mm256_div_pd(_mm256_sub_pd(t, _mm256_sub_pd(u, set(1.0))), u);
    let inner = _mm256_add_pd(sr, _mm256_add_pd(_mm256_mul_pd(k, set(LN2_LO)), c));
    let y = _mm256_add_pd(_mm256_mul_pd(k, set(LN2_HI)), _mm256_sub_pd(f, _mm256_sub_pd(hfsq, inner)));
    _mm256_blendv_pd(y, u, _mm256_cmp_pd::<_CMP_EQ_OQ>(u, set(f64::INFINITY)))
}

/// ln1p_in_place, 4 lanes at a time, the tail by `ln1p_lane`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn ln1p_avx2(v: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = v.len();
    let mut k = 0;
    while k + 4 <= n {
        // SAFETY: k + 4 <= n; unaligned loads and stores
        let p = v.as_mut_ptr().add(k);
        _mm256_storeu_pd(p, ln1p4(_mm256_loadu_pd(p)));
        k += 4;
    }
    for x in &mut v[k..] {
        *x = ln1p_lane(*x);
    }
}

/// ln1p_lane on 8 lanes with AVX-512, as `ln1p4`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn ln1p8(t: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d {
    use std::arch::x86_64::*;
    let set = |v: f64| _mm512_set1_pd(v);
    let u = _mm512_add_pd(set(1.0), t);
    let bits = _mm512_castpd_si512(u);
    let e = _mm512_sub_pd(_mm512_castsi512_pd(_mm512_or_si512(_mm512_srli_epi64::<52>(bits), _mm512_set1_epi64(TWO52_BITS as i64))), set(TWO52));
    let mb = _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64(MANT_MASK as i64)), _mm512_set1_epi64(ONE_BITS as i64)));
    let big = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(mb, set(std::f64::consts::SQRT_2));
    let m = _mm512_mask_blend_pd(big, mb, _mm512_mul_pd(mb, set(0.5)));
    let k = _mm512_add_pd(_mm512_sub_pd(e, set(1023.0)), _mm512_maskz_mov_pd(big, set(1.0)));
    let f = _mm512_sub_pd(m, set(1.0));
    let (hfsq, sr) = ln_series8(f);
    let c = _mm512_div_pd(_mm512_sub_pd(t, _mm512_sub_pd(u, set(1.0))), u);
    let inner = _mm512_add_pd(sr, _mm512_add_pd(_mm512_mul_pd(k, set(LN2_LO)), c));
    let y = _mm512_add_pd(_mm512_mul_pd(k, set(LN2_HI)), _mm512_sub_pd(f, _mm512_sub_pd(hfsq, inner)));
    _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(u, set(f64::INFINITY)), y, u)
}

/// ln1p_in_place, 8 lanes at a time, the tail as masked lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn ln1p_avx512(v: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = v.len();
    for k in (0..n).step_by(8) {
        let mask = lanes8(k, n);
        // SAFETY: the mask covers positions k..min(k + 8, n) only
        let p = v.as_mut_ptr().add(k);
        _mm512_mask_storeu_pd(p, mask, ln1p8(_mm512_maskz_loadu_pd(mask, p)));
    }
}

/// exp(x) to within 1 ulp of glibc's for x in [-707, 709.78]; 0 below, inf above, NaN for NaN.
#[inline(always)]
pub fn exp_lane(x: f64) -> f64 {
    let xc = x.clamp(MIN_ARG, MAX_ARG);
    // x = n ln(2)/64 + r, n = 64 k + j
    let t = xc * INV_LN2_64 + SHIFT;
    let n = t - SHIFT;
    let r = (xc - n * LN2_64_HI) - n * LN2_64_LO;
    let r2 = r * r;
    let p = r + r2 * ((C[0] + C[1] * r) + (C[2] + C[3] * r) * r2);
    // n from t's low bits; j its last 6 bits, and 2^(k - 1) (k - 1 >= -1022 keeps it
    // normal, k <= 1024 needs the final times 2, which is exact)
    let nbits = t.to_bits().wrapping_sub(SHIFT.to_bits());
    let tj = EXP_TABLE[(nbits & 63) as usize];
    let scale = f64::from_bits((nbits.wrapping_add(1022 << EXP_TABLE_BITS) >> EXP_TABLE_BITS) << 52);
    let y = (tj + tj * p) * scale * 2.0;
    let y = if x < MIN_ARG { 0.0 } else { y };
    let y = if x > MAX_ARG { f64::INFINITY } else { y };
    if x.is_nan() {
        x
    } else {
        y
    }
}

#[inline(always)]
fn exp_loop(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = exp_lane(v);
    }
}

/// exp_lane on 4 lanes with AVX2 intrinsics (the compiler does not vectorize the scalar
/// kernel by itself); the same operations in the same order, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp4(x: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    let set = |v: f64| _mm256_set1_pd(v);
    let xc = _mm256_min_pd(_mm256_max_pd(x, set(MIN_ARG)), set(MAX_ARG));
    let t = _mm256_add_pd(_mm256_mul_pd(xc, set(INV_LN2_64)), set(SHIFT));
    let n = _mm256_sub_pd(t, set(SHIFT));
    let r = _mm256_sub_pd(_mm256_sub_pd(xc, _mm256_mul_pd(n, set(LN2_64_HI))), _mm256_mul_pd(n, set(LN2_64_LO)));
    let r2 = _mm256_mul_pd(r, r);
    let q = |a: usize| _mm256_add_pd(set(C[a]), _mm256_mul_pd(set(C[a + 1]), r));
    let p = _mm256_add_pd(r, _mm256_mul_pd(r2, _mm256_add_pd(q(0), _mm256_mul_pd(q(2), r2))));
    let nbits = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(SHIFT.to_bits() as i64));
    // SAFETY: every index is masked to 0..63
    let tj = _mm256_i64gather_pd::<8>(EXP_TABLE.as_ptr(), _mm256_and_si256(nbits, _mm256_set1_epi64x(63)));
    let biased = _mm256_add_epi64(nbits, _mm256_set1_epi64x(1022 << EXP_TABLE_BITS));
    let scale = _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_srli_epi64::<{ EXP_TABLE_BITS as i32 }>(biased)));
    let y = _mm256_mul_pd(_mm256_mul_pd(_mm256_add_pd(tj, _mm256_mul_pd(tj, p)), scale), set(2.0));
    let y = _mm256_andnot_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(x, set(MIN_ARG)), y);
    let y = _mm256_blendv_pd(y, set(f64::INFINITY), _mm256_cmp_pd::<_CMP_GT_OQ>(x, set(MAX_ARG)));
    _mm256_blendv_pd(y, x, _mm256_cmp_pd::<_CMP_UNORD_Q>(x, x))
}

/// out = exp(x), 4 lanes at a time, the tail by `exp_lane`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp_avx2(x: &[f64], out: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = x.len().min(out.len());
    let mut k = 0;
    while k + 4 <= n {
        // SAFETY: k + 4 <= n; unaligned loads and stores
        _mm256_storeu_pd(out.as_mut_ptr().add(k), exp4(_mm256_loadu_pd(x.as_ptr().add(k))));
        k += 4;
    }
    for i in k..n {
        out[i] = exp_lane(x[i]);
    }
}

/// exp_lane on 8 lanes with AVX-512, as `exp4`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn exp8(x: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d {
    use std::arch::x86_64::*;
    let set = |v: f64| _mm512_set1_pd(v);
    let xc = _mm512_min_pd(_mm512_max_pd(x, set(MIN_ARG)), set(MAX_ARG));
    let t = _mm512_add_pd(_mm512_mul_pd(xc, set(INV_LN2_64)), set(SHIFT));
    let n = _mm512_sub_pd(t, set(SHIFT));
    let r = _mm512_sub_pd(_mm512_sub_pd(xc, _mm512_mul_pd(n, set(LN2_64_HI))), _mm512_mul_pd(n, set(LN2_64_LO)));
    let r2 = _mm512_mul_pd(r, r);
    let q = |a: usize| _mm512_add_pd(set(C[a]), _mm512_mul_pd(set(C[a + 1]), r));
    let p = _mm512_add_pd(r, _mm512_mul_pd(r2, _mm512_add_pd(q(0), _mm512_mul_pd(q(2), r2))));
    let nbits = _mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(SHIFT.to_bits() as i64));
    // SAFETY: every index is masked to 0..63
    let tj = _mm512_i64gather_pd::<8>(_mm512_and_si512(nbits, _mm512_set1_epi64(63)), EXP_TABLE.as_ptr());
    let biased = _mm512_add_epi64(nbits, _mm512_set1_epi64(1022 << EXP_TABLE_BITS));
    let scale = _mm512_castsi512_pd(_mm512_slli_epi64::<52>(_mm512_srli_epi64::<EXP_TABLE_BITS>(biased)));
    let y = _mm512_mul_pd(_mm512_mul_pd(_mm512_add_pd(tj, _mm512_mul_pd(tj, p)), scale), set(2.0));
    let y = _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, set(MIN_ARG)), y, set(0.0));
    let y = _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_GT_OQ>(x, set(MAX_ARG)), y, set(f64::INFINITY));
    _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_UNORD_Q>(x, x), y, x)
}

/// out = exp(x), 8 lanes at a time, the tail as masked lanes (a group's rows are often
/// fewer than a few dozen, so a scalar tail of up to 7 would weigh).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn exp_avx512(x: &[f64], out: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = x.len().min(out.len());
    for k in (0..n).step_by(8) {
        let mask = lanes8(k, n);
        // SAFETY: the mask covers positions k..min(k + 8, n) only
        _mm512_mask_storeu_pd(out.as_mut_ptr().add(k), mask, exp8(_mm512_maskz_loadu_pd(mask, x.as_ptr().add(k))));
    }
}

/// The mask of the lanes at positions k..min(k + 8, n), k < n.
#[inline(always)]
fn lanes8(k: usize, n: usize) -> u8 {
    if n - k >= 8 {
        0xff
    } else {
        (1u8 << (n - k)) - 1
    }
}

/// `ln_series` on 4 lanes, the same operations in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn ln_series4(f: std::arch::x86_64::__m256d) -> (std::arch::x86_64::__m256d, std::arch::x86_64::__m256d) {
    use std::arch::x86_64::*;
    let set = |v: f64| _mm256_set1_pd(v);
    let s = _mm256_div_pd(f, _mm256_add_pd(set(2.0), f));
    let z = _mm256_mul_pd(s, s);
    let q = |a: usize| _mm256_add_pd(set(L[a]), _mm256_mul_pd(set(L[a + 1]), _mm256_mul_pd(s, s)));
    let r = |a: usize| _mm256_add_pd(q(a), _mm256_mul_pd(q(a + 2), _mm256_mul_pd(z, z)));
    let z2 = _mm256_mul_pd(z, z);
    let z4 = _mm256_mul_pd(z2, z2);
    let big_r = _mm256_mul_pd(z, _mm256_add_pd(_mm256_add_pd(r(0), _mm256_mul_pd(r(4), z4)), _mm256_mul_pd(q(8), _mm256_mul_pd(z4, z4))));
    let hfsq = _mm256_mul_pd(_mm256_mul_pd(set(0.5), f), f);
    (hfsq, _mm256_mul_pd(s, _mm256_add_pd(hfsq, big_r)))
}

/// `ln_series` on 8 lanes with AVX-512, as `ln_series4`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn ln_series8(f: std::arch::x86_64::__m512d) -> (std::arch::x86_64::__m512d, std::arch::x86_64::__m512d) {
    use std::arch::x86_64::*;
    let set = |v: f64| _mm512_set1_pd(v);
    let s = _mm512_div_pd(f, _mm512_add_pd(set(2.0), f));
    let z = _mm512_mul_pd(s, s);
    let q = |a: usize| _mm512_add_pd(set(L[a]), _mm512_mul_pd(set(L[a + 1]), _mm512_mul_pd(s, s)));
    let r = |a: usize| _mm512_add_pd(q(a), _mm512_mul_pd(q(a + 2), _mm512_mul_pd(z, z)));
    let z2 = _mm512_mul_pd(z, z);
    let z4 = _mm512_mul_pd(z2, z2);
    let big_r = _mm512_mul_pd(z, _mm512_add_pd(_mm512_add_pd(r(0), _mm512_mul_pd(r(4), z4)), _mm512_mul_pd(q(8), _mm512_mul_pd(z4, z4))));
    let hfsq = _mm512_mul_pd(_mm512_mul_pd(set(0.5), f), f);
    (hfsq, _mm512_mul_pd(s, _mm512_add_pd(hfsq, big_r)))
}

/// ln1p_unit_lane on 4 lanes, the same operations in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn ln1p_unit4(t: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    let set = |v: f64| _mm256_set1_pd(v);
    let u = _mm256_add_pd(set(1.0), t);
    let big = _mm256_cmp_pd::<_CMP_GT_OQ>(u, set(std::f64::consts::SQRT_2));
    let e = _mm256_and_pd(big, set(1.0));
    let m = _mm256_blendv_pd(u, _mm256_mul_pd(u, set(0.5)), big);
    let f = _mm256_sub_pd(m, set(1.0));
    let (hfsq, sr) = ln_series4(f);
    let inner = _mm256_add_pd(sr, _mm256_mul_pd(e, set(LN2_LO)));
    _mm256_add_pd(_mm256_mul_pd(e, set(LN2_HI)), _mm256_sub_pd(f, _mm256_sub_pd(hfsq, inner)))
}

/// t = exp(-|x|) and l = ln(1 + t) for 4 lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn logistic_parts_avx2(x: &[f64], t: &mut [f64], l: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = x.len().min(t.len()).min(l.len());
    let mut k = 0;
    while k + 4 <= n {
        // SAFETY: k + 4 <= n; unaligned loads and stores
        let e = exp_neg_abs4(_mm256_loadu_pd(x.as_ptr().add(k)));
        _mm256_storeu_pd(t.as_mut_ptr().add(k), e);
        _mm256_storeu_pd(l.as_mut_ptr().add(k), ln1p_unit4(e));
        k += 4;
    }
    for i in k..n {
        t[i] = exp_lane(-x[i].abs());
        l[i] = ln1p_unit_lane(t[i]);
    }
}

/// ln1p_unit_lane on 8 lanes with AVX-512, as `ln1p_unit4`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn ln1p_unit8(t: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d {
    use std::arch::x86_64::*;
    let set = |v: f64| _mm512_set1_pd(v);
    let u = _mm512_add_pd(set(1.0), t);
    let big = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(u, set(std::f64::consts::SQRT_2));
    let e = _mm512_maskz_mov_pd(big, set(1.0));
    let m = _mm512_mask_blend_pd(big, u, _mm512_mul_pd(u, set(0.5)));
    let f = _mm512_sub_pd(m, set(1.0));
    let (hfsq, sr) = ln_series8(f);
    let inner = _mm512_add_pd(sr, _mm512_mul_pd(e, set(LN2_LO)));
    _mm512_add_pd(_mm512_mul_pd(e, set(LN2_HI)), _mm512_sub_pd(f, _mm512_sub_pd(hfsq, inner)))
}

/// t = exp(-|x|) and l = ln(1 + t), 8 lanes at a time, the tail as masked lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn logistic_parts_avx512(x: &[f64], t: &mut [f64], l: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = x.len().min(t.len()).min(l.len());
    for k in (0..n).step_by(8) {
        let mask = lanes8(k, n);
        // SAFETY: the mask covers positions k..min(k + 8, n) only
        let v = _mm512_maskz_loadu_pd(mask, x.as_ptr().add(k));
        // -|x|: set the sign bit
        let e = exp8(_mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(v), _mm512_set1_epi64(i64::MIN))));
        _mm512_mask_storeu_pd(t.as_mut_ptr().add(k), mask, e);
        _mm512_mask_storeu_pd(l.as_mut_ptr().add(k), mask, ln1p_unit8(e));
    }
}

/// t[k] = exp(-|x[k]|) and l[k] = ln(1 + t[k]): the two transcendental parts of a logistic
/// row.
pub fn logistic_parts(x: &[f64], t: &mut [f64], l: &mut [f64]) {
    assert!(x.len() == t.len() && x.len() == l.len(), "logistic_parts: lengths differ");
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512F
        return unsafe { logistic_parts_avx512(x, t, l) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2
        return unsafe { logistic_parts_avx2(x, t, l) };
    }
    for ((&v, tk), lk) in x.iter().zip(t.iter_mut()).zip(l.iter_mut()) {
        *tk = exp_lane(-v.abs());
        *lk = ln1p_unit_lane(*tk);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp_neg_abs4(x: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    // -|x|: set the sign bit
    exp4(_mm256_or_pd(x, _mm256_set1_pd(-0.0)))
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// out[k] = exp(x[k]) (see [`exp_lane`] for the range).
pub fn exp_slice(x: &[f64], out: &mut [f64]) {
    assert_eq!(x.len(), out.len(), "exp_slice: lengths differ");
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512F
        return unsafe { exp_avx512(x, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2
        return unsafe { exp_avx2(x, out) };
    }
    exp_loop(x, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut x: Vec<f64> = (0..200_001).map(|k| -707.0 + 1416.78 * k as f64 / 200_000.0).collect();
        x.extend((0..20_001).map(|k| -2.0 + 4.0 * k as f64 / 20_000.0));
        x.extend([0.0, -0.0, 1e-300, -1e-300, 0.5 * std::f64::consts::LN_2, 709.78, -706.99, 1.0]);
        let mut out = vec![0.0; x.len()];
        exp_slice(&x, &mut out);
        for (&v, &e) in x.iter().zip(&out) {
            // 1 ulp against glibc's; 2 allows for other libms
            assert!(ulps(e, v.exp()) <= 2, "exp({v}) = {e}, libm {}", v.exp());
            assert_eq!(e, exp_lane(v), "slice and lane agree at {v}");
        }
    }

    #[test]
    fn exp_table_holds_powers_of_two() {
        assert_eq!(EXP_TABLE[32], std::f64::consts::SQRT_2);
        for (j, &v) in EXP_TABLE.iter().enumerate() {
            assert!(ulps(v, (j as f64 / 64.0).exp2()) <= 1, "2^({j}/64) = {v}");
        }
    }

    #[test]
    fn exp_edges() {
        let x = [-1e4, -709.0, 709.8, 1e4, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        let mut out = [1.0; 7];
        exp_slice(&x, &mut out);
        assert_eq!(out[..6], [0.0, 0.0, f64::INFINITY, f64::INFINITY, f64::INFINITY, 0.0]);
        assert!(out[6].is_nan());
    }

    #[test]
    fn exp_neg_abs_matches_libm() {
        let x: Vec<f64> = (0..10_001).map(|k| -50.0 + 100.0 * k as f64 / 10_000.0).collect();
        let (mut out, mut l) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        logistic_parts(&x, &mut out, &mut l);
        for (&v, &e) in x.iter().zip(&out) {
            assert!(ulps(e, (-v.abs()).exp()) <= 2, "exp(-|{v}|) = {e}");
        }
    }

    #[test]
    fn ln1p_unit_is_within_an_ulp_of_libm() {
        let t: Vec<f64> = (0..100_001).map(|k| k as f64 / 100_000.0).chain([1e-300, 5e-324, 0.414_213_562_373_095_1, 0.414_213_562_373_095_2]).collect();
        for &v in &t {
            let (a, b) = (ln1p_unit_lane(v), (1.0 + v).ln());
            assert!(ulps(a, b) <= 1, "ln(1 + {v}) = {a}, libm {b}");
        }
        let x: Vec<f64> = (0..4099).map(|k| -40.0 + 0.0197 * k as f64).collect();
        let same = |tv: &[f64], lv: &[f64]| {
            x.iter().zip(tv).zip(lv).all(|((&v, &tk), &lk)| {
                let t = exp_lane(-v.abs());
                tk.to_bits() == t.to_bits() && lk.to_bits() == ln1p_unit_lane(t).to_bits()
            })
        };
        // every length up to 17 exercises the 4- and 8-lane tails
        for len in (0..=17).chain([x.len()]) {
            let (mut tv, mut lv) = (vec![0.0; len], vec![0.0; len]);
            logistic_parts(&x[..len], &mut tv, &mut lv);
            assert!(same(&tv, &lv), "logistic_parts differs from the lanes at length {len}");
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU has AVX2
                unsafe { logistic_parts_avx2(&x[..len], &mut tv, &mut lv) };
                assert!(same(&tv, &lv), "AVX2 logistic parts differ at length {len}");
            }
        }
    }

    /// ln(1 + t) for t >= 0: within an ulp of libm's ln_1p from subnormal t to the largest,
    /// and the 4- and 8-lane versions give the lane's bits at every length.
    #[test]
    fn ln1p_is_within_an_ulp_of_libm_and_its_lanes_agree() {
        let mut t: Vec<f64> = (0..40_001).map(|k| 10f64.powf(-320.0 + 628.0 * k as f64 / 40_000.0)).collect();
        t.extend((0..20_001).map(|k| 3.0 * k as f64 / 20_000.0));
        t.extend([0.0, 5e-324, 1e-16, 0.414_213_562_373_095, 0.414_213_562_373_096, 1.0, 2f64.powi(52), 2f64.powi(53) + 2.0, f64::MAX]);
        for &v in &t {
            let (a, b) = (ln1p_lane(v), v.ln_1p());
            assert!(ulps(a, b) <= 1, "ln(1 + {v:e}) = {a}, libm {b}");
        }
        assert_eq!(ln1p_lane(f64::INFINITY), f64::INFINITY);
        assert!(ln1p_lane(f64::NAN).is_nan());
        t.extend([f64::INFINITY, f64::NAN]);
        let same = |v: &[f64], len: usize| t[..len].iter().zip(v).all(|(&x, y)| y.to_bits() == ln1p_lane(x).to_bits() || (y.is_nan() && x.is_nan()));
        for len in (0..=17).chain([t.len()]) {
            let mut v = t[..len].to_vec();
            ln1p_in_place(&mut v);
            assert!(same(&v, len), "ln1p_in_place differs from the lane at length {len}");
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                let mut v = t[..len].to_vec();
                // SAFETY: the CPU has AVX2
                unsafe { ln1p_avx2(&mut v) };
                assert!(same(&v, len), "AVX2 ln1p differs at length {len}");
            }
        }
    }

    #[test]
    fn generic_and_vector_paths_agree() {
        let mut x: Vec<f64> = (0..4097).map(|k| -30.0 + 0.0151 * k as f64).collect();
        x.extend([-1e4, -707.5, 709.8, 1e4, f64::INFINITY, f64::NEG_INFINITY, f64::NAN]);
        let same = |b: &[f64]| x.iter().zip(b).all(|(&v, u)| u.to_bits() == exp_lane(v).to_bits());
        // every length up to 17 exercises the 4- and 8-lane tails
        for len in (0..=17).chain([x.len()]) {
            let mut b = vec![0.0; len];
            exp_slice(&x[..len], &mut b);
            assert!(same(&b), "exp_slice differs from exp_lane at length {len}");
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU has AVX2
                unsafe { exp_avx2(&x[..len], &mut b) };
                assert!(same(&b), "AVX2 exp differs at length {len}");
            }
        }
    }
}
