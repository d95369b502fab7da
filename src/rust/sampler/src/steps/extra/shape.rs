//! The Gamma family's shape a (Var y = mu^2 / a).
//!
//! With mu_i fixed, sum_i ln f(y_i | mu_i, a) = n (a ln a - lnGamma(a) - a) - a D + terms
//! free of a, with D = sum_i (y_i/mu_i - ln(y_i/mu_i) - 1) >= 0 (the Gamma deviance over 2).
//! One pass over the rows gives D, each summand as expm1(t) - t with t = ln y - ln mu (no
//! cancellation when y is near mu, where the shape is large); every proposal after it is
//! O(1) (`x_ln_x_minus_ln_gamma`, a Stirling series for large a), so a sweep makes several.
//! The rows' cached log-likelihood, -a (ln mu + y/mu), and score are proportional to a and
//! are rescaled once when a changed.

use super::{log_scale_step, ExtraData, ExtraState};
use crate::links::Link;
use crate::special::x_ln_x_minus_ln_gamma;
use rand::Rng;

/// Metropolis proposals of the shape per sweep (each O(1)): on a model like
/// bench/models.R's gamma_times (2 x 1000, 8 seeds) the shape's mean ESS was 236, 624 and
/// 752 with 1, 4 and 10, at the same time per fit (0.38 to 0.41 s); a covariance entry's
/// (about 470) was the smallest with 4 or more.
pub const SHAPE_PROPOSALS: usize = 10;

/// ln y per row (the response is positive).
pub fn ln_y(y: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.extend(y.iter().map(|v| v.ln()));
}

/// D = sum_i (r_i - ln r_i - 1), r_i = y_i / mu_i, from ln y and eta (every eta valid for
/// the link: the chain's state).
pub fn deviance(link: Link, eta: &[f64], ln_y: &[f64]) -> f64 {
    let term = |t: f64| t.exp_m1() - t;
    match link {
        Link::Log => eta.iter().zip(ln_y).map(|(&e, &ly)| term(ly - e)).sum(),
        _ => eta.iter().zip(ln_y).map(|(&e, &ly)| link.positive_mean(e).map_or(f64::INFINITY, |m| term(ly - m.ln_mu))).sum(),
    }
}

/// The shape's log-likelihood with deviance `dev` over n rows, up to terms free of a.
pub fn shape_loglik(n: f64, dev: f64, a: f64) -> f64 {
    n * x_ln_x_minus_ln_gamma(a) - a * dev
}

/// The step of the shape (`SHAPE_PROPOSALS` log-scale Metropolis proposals with its
/// exponential prior) for a Gamma response with link `link`. Returns the new shape; the
/// rows' cache follows it.
pub fn draw_shape<R: Rng + ?Sized>(rng: &mut R, link: Link, d: ExtraData, rate: f64, st: &mut ExtraState, shape: f64) -> f64 {
    let n = d.y.len() as f64;
    let dev = deviance(link, &d.rows.cur.eta, &st.ln_y);
    let log_lik = |a: f64| shape_loglik(n, dev, a);
    let (mut a, mut ll) = (shape, log_lik(shape));
    for _ in 0..SHAPE_PROPOSALS {
        let (mv, a_new, ll_new) = log_scale_step(rng, st.log_step, rate, a, ll, log_lik);
        st.record(mv);
        if mv.accepted {
            (a, ll) = (a_new, ll_new);
        }
    }
    if a != shape {
        d.rows.cur.scale_cache(a / shape);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::super::testing::{quadrature, rows_at};
    use super::*;
    use crate::family::GammaFam;
    use crate::special::ln_gamma;
    use crate::steps::testing::mean_sd;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// log dgamma(y, shape = a, rate = a / mu)
    fn ln_dgamma(y: f64, mu: f64, a: f64) -> f64 {
        a * (a / mu).ln() + (a - 1.0) * y.ln() - a * y / mu - ln_gamma(a)
    }

    #[test]
    fn the_shape_loglik_is_the_gamma_density_in_a() {
        let y = [0.7, 2.5, 1.1, 4.0, 0.2];
        let eta: [f64; 5] = [0.1, 0.8, -0.2, 1.5, -1.0];
        for link in [Link::Log, Link::Inverse, Link::Identity] {
            let eta: Vec<f64> = eta.iter().map(|&e| if link == Link::Log { e } else { e.exp() }).collect();
            let mut ly = Vec::new();
            ln_y(&y, &mut ly);
            let dev = deviance(link, &eta, &ly);
            let mu: Vec<f64> = eta.iter().map(|&e| link.positive_mean(e).unwrap().mu).collect();
            let direct = |a: f64| y.iter().zip(&mu).map(|(&v, &m)| ln_dgamma(v, m, a)).sum::<f64>();
            for (a0, a1) in [(0.3, 2.0), (5.0, 40.0), (100.0, 1e4)] {
                let (want, got) = (direct(a1) - direct(a0), shape_loglik(5.0, dev, a1) - shape_loglik(5.0, dev, a0));
                assert!((want - got).abs() < 1e-9 * want.abs().max(1.0), "{link:?} {a0} -> {a1}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn the_deviance_is_accurate_when_y_is_near_mu() {
        // y = mu (1 + 1e-7): each term is about 1e-14 / 2, which y/mu - ln(y/mu) - 1 loses
        let eta = [0.3, 1.7];
        let y: Vec<f64> = eta.iter().map(|e: &f64| e.exp() * (1.0 + 1e-7)).collect();
        let mut ly = Vec::new();
        ln_y(&y, &mut ly);
        let dev = deviance(Link::Log, &eta, &ly);
        assert!((dev - 1e-14).abs() < 1e-17, "{dev}");
    }

    /// Rows of known mu: the shape step, iterated, must reproduce the shape's exact
    /// conditional (Gamma likelihood times the exponential prior) by quadrature on ln a.
    /// Without the Jacobian in `log_scale_step` the draws' mean was 5.07 against 6.24.
    #[test]
    fn shape_step_targets_its_conditional() {
        let y = [0.7, 2.5, 1.1, 4.0, 0.2, 1.6, 0.9, 3.1];
        let eta: [f64; 8] = [0.1, 0.8, -0.2, 1.5, -1.0, 0.4, 0.0, 1.0];
        let rate = 0.5;
        let ll = |a: f64| y.iter().zip(&eta).map(|(&v, &e)| ln_dgamma(v, e.exp(), a)).sum::<f64>();
        let (mean, sd) = quadrature(-6.0, 6.0, |a| ll(a) - rate * a);
        let fam = |a| GammaFam::new(Link::Log, a);
        let mut a = 1.0;
        let (mut rows, mut st) = rows_at(&fam(a), &y, &eta, 0.0);
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut draws = Vec::new();
        for _ in 0..200_000 {
            st.begin_sweep();
            a = draw_shape(&mut rng, Link::Log, ExtraData { y: &y, trials: &y, rows: &mut rows }, rate, &mut st, a);
            draws.push(a);
        }
        let mut fresh = rows.cur.clone();
        fresh.refresh(&fam(a), &y, &y);
        for i in 0..y.len() {
            assert!((fresh.ll[i] - rows.cur.ll[i]).abs() < 1e-9 * fresh.ll[i].abs().max(1.0), "the cache follows the shape");
            assert!((fresh.sc[i] - rows.cur.sc[i]).abs() < 1e-9 * fresh.sc[i].abs().max(1.0));
        }
        let (m, s) = mean_sd(&draws);
        let se = 3.0 * s / (draws.len() as f64).sqrt();
        assert!((m - mean).abs() < 5.0 * se, "mean {m} vs {mean} (se {se})");
        assert!((s - sd).abs() < 0.03 * sd, "sd {s} vs {sd}");
    }

    /// Nearly constant data with a nearly flat prior: the shape's conditional is centred near
    /// n / (2 D), about 1e12 here; the steps stay finite and the rows' cache with them. (With
    /// the default rate 1 the prior keeps it near n / 2.)
    #[test]
    fn a_huge_shape_stays_finite() {
        let eta = [0.3, 1.7, -0.4, 0.9];
        let y: Vec<f64> = eta.iter().enumerate().map(|(i, e): (usize, &f64)| e.exp() * (1.0 + if i % 2 == 0 { 1e-6 } else { -1e-6 })).collect();
        let fam = |a| GammaFam::new(Link::Log, a);
        let mut a = 1.0;
        let (mut rows, mut st) = rows_at(&fam(a), &y, &eta, 1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..20_000 {
            st.begin_sweep();
            a = draw_shape(&mut rng, Link::Log, ExtraData { y: &y, trials: &y, rows: &mut rows }, 1e-14, &mut st, a);
            assert!(a.is_finite() && a > 0.0);
        }
        assert!(a > 1e10 && a < 1e14, "{a}");
        assert!(rows.cur.ll.iter().chain(&rows.cur.sc).all(|v| v.is_finite()));
    }
}
