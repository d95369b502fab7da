//! Special functions the non-canonical links and the extra-parameter steps need: the
//! normal distribution's log CDF and inverse Mills ratio, log-gamma and the Stirling
//! remainder.
//! `libm` supplies erfc and lgamma (ports of musl's, accurate to a few ulp).

/// 0.5 ln(2 pi).
pub const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// log of the standard normal density.
#[inline]
pub fn ln_phi(x: f64) -> f64 {
    -0.5 * x * x - HALF_LN_2PI
}

/// 1 / sqrt(2 pi).
#[allow(clippy::excessive_precision)] // the published digits
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_677_939_946_059_934;

/// Where Cody's central approximation ends: qnorm(3/4).
const CODY_CENTRAL: f64 = 0.674_489_75;

/// Where Cody's middle approximation ends: sqrt(32).
const CODY_SQRT_32: f64 = 5.656_854_249_492_381;

/// The coefficients of W. J. Cody's rational Chebyshev approximations of the normal
/// distribution function (Math. Comp. 23, 1969, 631-637; those of R's pnorm): A/B near 0,
/// C/D up to sqrt(32), P/Q in 1/y^2 beyond.
#[allow(clippy::excessive_precision)] // the published digits
const CODY_A: [f64; 5] = [2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249, 0.065682337918207449113];
#[allow(clippy::excessive_precision)] // the published digits
const CODY_B: [f64; 4] = [47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956];
#[allow(clippy::excessive_precision)] // the published digits
const CODY_C: [f64; 9] = [
    0.39894151208813466764,
    8.8831497943883759412,
    93.506656132177855979,
    597.27027639480026226,
    2494.5375852903726711,
    6848.1904505362823326,
    11602.651437647350124,
    9842.7148383839780218,
    1.0765576773720192317e-8,
];
#[allow(clippy::excessive_precision)] // the published digits
const CODY_D: [f64; 8] = [
    22.266688044328115691,
    235.38790178262499861,
    1519.377599407554805,
    6485.558298266760755,
    18615.571640885098091,
    34900.952721145977266,
    38912.003286093271411,
    19685.429676859990727,
];
#[allow(clippy::excessive_precision)] // the published digits
const CODY_P: [f64; 6] = [0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303];
#[allow(clippy::excessive_precision)] // the published digits
const CODY_Q: [f64; 5] = [1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244, 7.29751555083966205e-5];

/// Phi(x) - 1/2 for |x| <= qnorm(3/4) (x A(x^2) / B(x^2)).
#[inline]
fn cody_central(x: f64) -> f64 {
    let xsq = x * x;
    let (mut num, mut den) = (CODY_A[4] * xsq, xsq);
    for k in 0..3 {
        num = (num + CODY_A[k]) * xsq;
        den = (den + CODY_B[k]) * xsq;
    }
    x * (num + CODY_A[3]) / (den + CODY_B[3])
}

/// r(y) with Phi(-y) = exp(-y^2 / 2) r(y), for y > qnorm(3/4): C(y)/D(y) up to sqrt(32), then
/// (1/sqrt(2 pi) - P(1/y^2)/Q(1/y^2) / y^2) / y. r is about 1 / (y sqrt(2 pi)) in the tail and
/// never underflows, so the tail's logarithm and inverse Mills ratio need no exp.
#[inline]
fn cody_tail_ratio(y: f64) -> f64 {
    if y <= CODY_SQRT_32 {
        let (mut num, mut den) = (CODY_C[8] * y, y);
        for k in 0..7 {
            num = (num + CODY_C[k]) * y;
            den = (den + CODY_D[k]) * y;
        }
        return (num + CODY_C[7]) / (den + CODY_D[7]);
    }
    let xsq = 1.0 / (y * y);
    let (mut num, mut den) = (CODY_P[5] * xsq, xsq);
    for k in 0..4 {
        num = (num + CODY_P[k]) * xsq;
        den = (den + CODY_Q[k]) * xsq;
    }
    (INV_SQRT_2PI - xsq * (num + CODY_P[4]) / (den + CODY_Q[4])) / y
}

/// y^2 / 2, summed as s^2/2 + (y - s)(y + s)/2 with s = y rounded down to 1/16 (s^2 exact),
/// so that exp(-y^2/2) keeps its relative accuracy where y^2 is large.
#[inline]
fn half_square(y: f64) -> f64 {
    let s = (y * 16.0).trunc() / 16.0;
    0.5 * s * s + 0.5 * ((y - s) * (y + s))
}

/// (ln Phi(x), phi(x) / Phi(x)) for the standard normal: the log CDF and the inverse Mills
/// ratio (d ln Phi / dx), accurate in both tails (as R's pnorm(log.p = TRUE)). One logarithm
/// in the lower tail (x < -0.674) and near 0 (with an exp there), one exp and one ln(1 + .)
/// in the upper tail. Beyond |x| = 1e150 (where x^2 overflows), (-inf, -x) or (0, 0).
pub fn ln_cdf_mills(x: f64) -> (f64, f64) {
    let y = x.abs();
    if y <= CODY_CENTRAL {
        let p = 0.5 + cody_central(x);
        return (p.ln(), (-0.5 * x * x).exp() * INV_SQRT_2PI / p);
    }
    if y.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    if y > 1e150 {
        // y^2 overflows: Phi(x) is 0 (inverse Mills ratio about -x) or 1
        return if x < 0.0 { (f64::NEG_INFINITY, y) } else { (0.0, 0.0) };
    }
    let r = cody_tail_ratio(y);
    if x < 0.0 {
        // Phi(x) = exp(-y^2/2) r: ln Phi = -y^2/2 + ln r, phi / Phi = 1 / (sqrt(2 pi) r)
        (-half_square(y) + r.ln(), 1.0 / (r / INV_SQRT_2PI))
    } else {
        // Phi(x) = 1 - t, t = exp(-y^2/2) r = phi(y) sqrt(2 pi) r
        let t = (-half_square(y)).exp() * r;
        ((-t).ln_1p(), t / ((r / INV_SQRT_2PI) * (1.0 - t)))
    }
}

/// ln Phi(x) and ln Phi(-x) with their inverse Mills ratios: (ln Phi(x), phi/Phi(x),
/// ln Phi(-x), phi/Phi(-x)), from one rational approximation (see `ln_cdf_mills`).
pub fn ln_cdf_mills_both(x: f64) -> (f64, f64, f64, f64) {
    let y = x.abs();
    if y <= CODY_CENTRAL {
        let c = cody_central(x);
        let (p, q) = (0.5 + c, 0.5 - c);
        let phi = (-0.5 * x * x).exp() * INV_SQRT_2PI;
        return (p.ln(), phi / p, q.ln(), phi / q);
    }
    if y.is_nan() {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    if y > 1e150 {
        return if x < 0.0 { (f64::NEG_INFINITY, y, 0.0, 0.0) } else { (0.0, 0.0, f64::NEG_INFINITY, y) };
    }
    let r = cody_tail_ratio(y);
    let h = half_square(y);
    let t = (-h).exp() * r;
    let (ln_small, d_small) = (-h + r.ln(), 1.0 / (r / INV_SQRT_2PI));
    let (ln_large, d_large) = ((-t).ln_1p(), t / ((r / INV_SQRT_2PI) * (1.0 - t)));
    if x < 0.0 {
        (ln_small, d_small, ln_large, d_large)
    } else {
        (ln_large, d_large, ln_small, d_small)
    }
}

/// ln Gamma(x) for x > 0.
#[inline]
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// x ln x - ln Gamma(x) - x, stable for large x (where both terms grow like x ln x): the
/// Stirling series 0.5 ln x - 0.5 ln(2 pi) - 1/(12x) + 1/(360x^3) - 1/(1260x^5) + 1/(1680x^7) from x = 15,
/// libm's lgamma below.
pub fn x_ln_x_minus_ln_gamma(x: f64) -> f64 {
    if x < 15.0 {
        return x * x.ln() - ln_gamma(x) - x;
    }
    let r = 1.0 / x;
    let r2 = r * r;
    0.5 * x.ln() - HALF_LN_2PI - r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 / 1680.0)))
}

/// k ln(p), taken as 0 when k is 0 (so an impossible outcome that did not occur costs
/// nothing, and 0 * -inf is not NaN).
#[inline]
pub fn mul_ln(k: f64, ln_p: f64) -> f64 {
    if k == 0.0 {
        0.0
    } else {
        k * ln_p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn normal_log_cdf_matches_r_in_both_tails() {
        // pnorm(x, log.p = TRUE) in R
        let cases = [
            (-1e6, -500_000_000_014.734_44),
            (-40.0, -804.608_442_013_753_8),
            (-38.5, -745.695_270_290_411),
            (-20.0, -203.917_155_371_097_27),
            (-5.0, -15.064_998_393_988_725),
            (-1.0, -1.841_021_645_009_263_6),
            (0.0, -std::f64::consts::LN_2),
            (0.5, -0.368_946_415_288_656_52),
            (3.0, -0.001_350_809_964_748_193_8),
            (8.0, -6.220_960_574_271_786_8e-16),
            (30.0, -4.906_713_927_148_187_2e-198),
        ];
        for (x, want) in cases {
            let got = ln_cdf_mills(x).0;
            assert!(close(got, want, 1e-13), "x = {x}: {got} vs {want}");
            let both = ln_cdf_mills_both(x);
            assert!(close(both.0, want, 1e-13) && close(both.2, ln_cdf_mills(-x).0, 1e-13), "x = {x}: {both:?}");
        }
        // continuous where the approximation changes
        for x in [-5.656_854_249_492_38f64, -CODY_CENTRAL, CODY_CENTRAL, 5.656_854_249_492_38] {
            let (a, b) = (ln_cdf_mills(x - 1e-9), ln_cdf_mills(x + 1e-9));
            assert!((a.0 - b.0).abs() < 1e-8 * a.0.abs() + 1e-15, "{x}: {a:?} {b:?}");
            assert!((a.1 - b.1).abs() < 5e-8 * a.1.abs(), "{x}: {a:?} {b:?}");
        }
        assert_eq!(ln_cdf_mills(f64::INFINITY), (0.0, 0.0));
        assert_eq!(ln_cdf_mills(f64::NEG_INFINITY), (f64::NEG_INFINITY, f64::INFINITY));
        assert_eq!(ln_cdf_mills_both(-1e200), (f64::NEG_INFINITY, 1e200, 0.0, 0.0));
        assert!(ln_cdf_mills(f64::NAN).0.is_nan());
    }

    #[test]
    fn mills_ratio_is_the_derivative_of_the_log_cdf_and_finite() {
        // d ln Phi / dx by central differences, and dnorm / pnorm where both are normal numbers
        for x in [-300.0, -60.0, -37.5, -20.0, -5.7, -5.6, -3.0, -0.7, -0.3, 0.0, 0.3, 0.7, 2.0, 5.6, 5.7, 9.0, 40.0] {
            let (l, m) = ln_cdf_mills(x);
            assert!(m.is_finite() && m >= 0.0 && l <= 0.0, "{x}: {l} {m}");
            let h = 1e-5 * x.abs().max(1.0);
            let num = (ln_cdf_mills(x + h).0 - ln_cdf_mills(x - h).0) / (2.0 * h);
            assert!((num - m).abs() < 1e-6 * m.max(1e-300) + 1e-20, "{x}: {m} vs {num}");
            let both = ln_cdf_mills_both(x);
            assert!(close(both.1, m, 1e-13) && close(both.3, ln_cdf_mills(-x).1, 1e-13), "{x}: {both:?}");
        }
        assert!(close(ln_cdf_mills(0.0).1, (2.0 / std::f64::consts::PI).sqrt(), 1e-15));
        // phi(-3) / Phi(-3) = dnorm(-3) / pnorm(-3) in R
        assert!(close(ln_cdf_mills(-3.0).1, 0.004_431_848_411_938_007_5 / 0.001_349_898_031_630_094_6, 1e-14));
    }

    #[test]
    fn stirling_remainder_matches_lgamma() {
        // x log x - lgamma(x) - x in R (the 1e4 value from the series, R's loses digits)
        let cases = [(0.5, -1.418_938_533_204_672_7), (3.7, -0.287_240_893_959_726_41), (10.0, 0.224_023_449_858_991_7), (150.0, 1.585_823_559_110_849_6)];
        for (x, want) in cases {
            let got = x_ln_x_minus_ln_gamma(x);
            assert!(close(got, want, 1e-12), "{x}: {got} vs {want}");
        }
        // the two methods agree where they meet
        let x = 15.0f64;
        assert!(close(x_ln_x_minus_ln_gamma(x), x * x.ln() - ln_gamma(x) - x, 1e-12));
        let big = x_ln_x_minus_ln_gamma(1e8);
        assert!(close(big, 0.5 * 1e8f64.ln() - HALF_LN_2PI - 1.0 / 1.2e9, 1e-15));
    }

    #[test]
    fn zero_times_impossible_is_zero() {
        assert_eq!(mul_ln(0.0, f64::NEG_INFINITY), 0.0);
        assert_eq!(mul_ln(2.0, 0.5f64.ln()), 2.0 * 0.5f64.ln());
    }
}
