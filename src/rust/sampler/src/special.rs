//! Special functions the non-canonical links and the extra-parameter steps need: the
//! normal distribution's log density and log CDF, log-gamma and the Stirling remainder.
//! `libm` supplies erfc and lgamma (ports of musl's, accurate to a few ulp).

/// 0.5 ln(2 pi).
pub const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// log of the standard normal density.
#[inline]
pub fn ln_phi(x: f64) -> f64 {
    -0.5 * x * x - HALF_LN_2PI
}

/// log of the standard normal CDF, accurate in both tails: erfc where it is representable,
/// the asymptotic series of the Mills ratio below -37 (where erfc underflows).
pub fn ln_cdf_normal(x: f64) -> f64 {
    if x > 5.0 {
        // Phi(x) = 1 - Phi(-x): ln(1 - t) for tiny t
        return (-0.5 * libm::erfc(x / std::f64::consts::SQRT_2)).ln_1p();
    }
    if x > -37.0 {
        return (0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)).ln();
    }
    // Phi(x) = phi(x) / |x| (1 - 1/x^2 + 3/x^4 - 15/x^6 + ...) for x -> -inf
    let r = 1.0 / (x * x);
    let series = 1.0 - r * (1.0 - r * (3.0 - r * (15.0 - 105.0 * r)));
    ln_phi(x) - (-x).ln() + series.ln()
}

/// phi(x) / Phi(x) (the inverse Mills ratio), without overflow or 0/0 in the lower tail.
pub fn mills_ratio(x: f64) -> f64 {
    mills_ratio_given(x, ln_cdf_normal(x))
}

/// `mills_ratio(x)` given `ln_cdf` = ln_cdf_normal(x) (the probit link has it already).
#[inline]
pub fn mills_ratio_given(x: f64, ln_cdf: f64) -> f64 {
    if x < -37.0 {
        // phi/Phi ~ -x / (1 - 1/x^2 + 3/x^4 - ...)
        let r = 1.0 / (x * x);
        return -x / (1.0 - r * (1.0 - r * (3.0 - r * (15.0 - 105.0 * r))));
    }
    (ln_phi(x) - ln_cdf).exp()
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
            let got = ln_cdf_normal(x);
            assert!(close(got, want, 1e-12), "x = {x}: {got} vs {want}");
        }
        // continuous where the method changes
        for x in [-37.0f64, 5.0] {
            let (a, b) = (ln_cdf_normal(x - 1e-9), ln_cdf_normal(x + 1e-9));
            assert!((a - b).abs() < 1e-7 * a.abs().max(1e-16), "{x}: {a} {b}");
        }
    }

    #[test]
    fn mills_ratio_is_finite_and_continuous() {
        for x in [-300.0, -60.0, -37.5, -36.5, -3.0, 0.0, 2.0, 40.0] {
            let m = mills_ratio(x);
            assert!(m.is_finite() && m >= 0.0, "{x}: {m}");
            let direct = (ln_phi(x) - ln_cdf_normal(x)).exp();
            assert!(close(m, direct, 1e-10), "{x}: {m} vs {direct}");
        }
        assert!(close(mills_ratio(0.0), (2.0 / std::f64::consts::PI).sqrt(), 1e-14));
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
