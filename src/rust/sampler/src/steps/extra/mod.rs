//! Steps of the families' extra parameters (see `Family::draw_extra`), one sweep each:
//!
//! - the gaussian residual variance sigma^2: a Gibbs draw for every link (here);
//! - the negative binomial's reciprocal dispersion phi ([`dispersion`]) and the Gamma shape
//!   ([`shape`]): random-walk Metropolis on the log scale with an exponential prior
//!   ([`log_scale_step`]), its step size tuned in warmup only (by the chain, from the
//!   acceptance this state records) and fixed after.
//!
//! Each step leaves the rows' cached log-likelihood and score at the parameter's new value.

pub mod dispersion;
pub mod shape;

use super::Move;
use crate::dist::{inv_gamma, std_normal};
use crate::links::Link;
use crate::rows::Rows;
use dispersion::CountTable;
use rand::Rng;

/// What an extra parameter's step reads: the response, the binomial trials (see
/// `Model::trials`) and the rows (eta with the cached log-likelihood and score at the
/// parameter's current value, and the proposal's scratch).
pub struct ExtraData<'a> {
    pub y: &'a [f64],
    pub trials: &'a [f64],
    pub rows: &'a mut Rows,
}

/// What the step of a chain's extra parameter keeps between sweeps.
#[derive(Clone, Debug, Default)]
pub struct ExtraState {
    /// Log step size of the random walk on the log scale.
    pub log_step: f64,
    /// Proposals and acceptances since the counts were last reset (at the end of warmup).
    pub tried: usize,
    pub accepted: usize,
    /// The acceptance probabilities summed over the last sweep's proposals, and their
    /// number: what the warmup adapts the step size from.
    pub sweep_prob: f64,
    pub sweep_tried: usize,
    /// Negative binomial: the response's count table (see `Family::observe_response`).
    pub counts: CountTable,
    /// Gamma: ln y per row.
    pub ln_y: Vec<f64>,
}

impl ExtraState {
    /// A state with log step size `log_step` and no statistics of the response.
    pub fn new(log_step: f64) -> Self {
        ExtraState { log_step, ..Default::default() }
    }

    /// The acceptance of the last sweep's proposals, if it made any.
    pub fn sweep_acceptance(&self) -> Option<f64> {
        (self.sweep_tried > 0).then(|| self.sweep_prob / self.sweep_tried as f64)
    }

    /// Starts a sweep's record of acceptance (the chain calls it before each step).
    pub fn begin_sweep(&mut self) {
        self.sweep_prob = 0.0;
        self.sweep_tried = 0;
    }

    /// Counts a proposal's outcome.
    pub fn record(&mut self, mv: Move) {
        self.tried += 1;
        self.accepted += usize::from(mv.accepted);
        self.sweep_tried += 1;
        self.sweep_prob += mv.prob();
    }
}

/// One random-walk Metropolis step of a positive parameter x on u = ln x: u* = u + s z with
/// s = exp(`log_step`), z ~ N(0, 1). The target's log density in u is
/// `log_lik(x) - rate x + u`: the likelihood's part (`log_lik`, up to a constant; `ll` is
/// its value at x), an exponential(rate) prior, and u, the log Jacobian of x = e^u.
/// Returns the decision, the proposal and `log_lik` there (not evaluated where the proposal
/// overflows; then rejected).
pub fn log_scale_step<R: Rng + ?Sized>(rng: &mut R, log_step: f64, rate: f64, x: f64, ll: f64, log_lik: impl FnOnce(f64) -> f64) -> (Move, f64, f64) {
    let du = log_step.exp() * std_normal(rng);
    let x_new = x * du.exp();
    let (mv, ll_new) = if x_new > 0.0 && x_new.is_finite() {
        let ll_new = log_lik(x_new);
        (Move::decide(rng, ll_new - ll - rate * (x_new - x) + du), ll_new)
    } else {
        (Move::rejected(), f64::NEG_INFINITY)
    };
    (mv, x_new, ll_new)
}

/// Gibbs step for sigma^2 with a scaled-inverse-chi^2(nu, s^2) prior, identity link:
/// inverse-gamma((nu + n)/2, (nu s^2 + SSR)/2).
pub fn draw_sigma2<R: Rng + ?Sized>(rng: &mut R, y: &[f64], eta: &[f64], nu: f64, s: f64) -> f64 {
    let ssr: f64 = y.iter().zip(eta).map(|(a, b)| (a - b) * (a - b)).sum();
    inv_gamma(rng, 0.5 * (nu + y.len() as f64), 0.5 * (nu * s * s + ssr))
}

/// `draw_sigma2` for a gaussian response with mean g^-1(eta) (log or inverse link): SSR
/// = sum (y - mu)^2. The rows' cached log-likelihood and score, -(y - mu)^2 / (2 sigma^2)
/// and its derivative, are rescaled to the new sigma^2.
pub fn draw_sigma2_link<R: Rng + ?Sized>(rng: &mut R, link: Link, d: ExtraData, nu: f64, s: f64, sigma2: f64) -> f64 {
    let ssr: f64 = d.y.iter().zip(&d.rows.cur.eta).map(|(&y, &e)| link.real_mean(e).map_or(f64::INFINITY, |(mu, _)| (y - mu) * (y - mu))).sum();
    let new = inv_gamma(rng, 0.5 * (nu + d.y.len() as f64), 0.5 * (nu * s * s + ssr));
    d.rows.cur.scale_cache(sigma2 / new);
    new
}

#[cfg(test)]
pub(crate) mod testing {
    use super::ExtraState;
    use crate::family::Family;
    use crate::rows::Rows;

    /// Rows at `eta` with the cache of `fam` for the response y, and a step's state with
    /// log step size `log_step` that has observed y.
    pub fn rows_at<F: Family>(fam: &F, y: &[f64], eta: &[f64], log_step: f64) -> (Rows, ExtraState) {
        let mut rows = Rows::new(y.len(), true);
        rows.cur.eta.copy_from_slice(eta);
        rows.cur.refresh(fam, y, y);
        let mut st = ExtraState::new(log_step);
        fam.observe_response(y, &mut st);
        (rows, st)
    }

    /// Mean and sd of a density on a grid of ln x from its log density `lp(x)` (plus the
    /// Jacobian ln x): exact moments of x to compare a step's draws with.
    pub fn quadrature(lo: f64, hi: f64, lp: impl Fn(f64) -> f64) -> (f64, f64) {
        let k = 40_000;
        let us: Vec<f64> = (0..=k).map(|i| lo + (hi - lo) * i as f64 / k as f64).collect();
        let lw: Vec<f64> = us.iter().map(|&u| lp(u.exp()) + u).collect();
        let top = lw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = lw.iter().map(|l| (l - top).exp()).collect();
        let tot: f64 = w.iter().sum();
        let mean = us.iter().zip(&w).map(|(u, w)| u.exp() * w).sum::<f64>() / tot;
        let var = us.iter().zip(&w).map(|(u, w)| (u.exp() - mean).powi(2) * w).sum::<f64>() / tot;
        (mean, var.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::quadrature;
    use super::*;
    use crate::steps::testing::mean_sd;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn sigma2_step_matches_its_inverse_gamma() {
        // nu = 4, s = 0.5, SSR = 2 from 3 rows: IG(3.5, 1.5), mean 1.5 / 2.5 = 0.6
        let (y, eta) = ([1.0, 0.0, -1.0], [0.0, 0.0, 0.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 100_000;
        let draws: Vec<f64> = (0..n).map(|_| draw_sigma2(&mut rng, &y, &eta, 4.0, 0.5)).collect();
        let m = draws.iter().sum::<f64>() / n as f64;
        let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / n as f64;
        assert!((m - 0.6).abs() < 5.0 * (v / n as f64).sqrt(), "{m}");
    }

    #[test]
    fn sigma2_step_with_a_link_uses_the_means_and_rescales_the_rows() {
        // log link: mu = e^eta; SSR = (1 - e^0)^2 + (3 - e^1)^2 + (0.5 - e^-1)^2
        let y = [1.0, 3.0, 0.5];
        let fam = |s2: f64| crate::family::GaussianLink::new(Link::Log, s2);
        let (mut rows, _) = super::testing::rows_at(&fam(2.0), &y, &[0.0, 1.0, -1.0], 0.0);
        let ssr: f64 = y.iter().zip(&rows.cur.eta).map(|(a, e): (&f64, &f64)| (a - e.exp()).powi(2)).sum();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let (mut sum, n) = (0.0, 50_000);
        let mut s2 = 2.0;
        for _ in 0..n {
            s2 = draw_sigma2_link(&mut rng, Link::Log, ExtraData { y: &y, trials: &y, rows: &mut rows }, 4.0, 0.5, s2);
            sum += s2;
        }
        // IG((4 + 3)/2, (4 * 0.25 + SSR)/2): mean (1 + SSR) / 5
        let expect = (1.0 + ssr) / 5.0;
        assert!((sum / n as f64 - expect).abs() < 0.02 * expect, "{} vs {expect}", sum / n as f64);
        let mut fresh = rows.cur.clone();
        fresh.refresh(&fam(s2), &y, &y);
        for i in 0..3 {
            assert!((fresh.ll[i] - rows.cur.ll[i]).abs() <= 1e-9 * fresh.ll[i].abs() && (fresh.sc[i] - rows.cur.sc[i]).abs() <= 1e-9 * fresh.sc[i].abs());
        }
    }

    /// The log-scale step on a gamma(a, b) likelihood in x (log_lik = (a - 1) ln x - b x)
    /// with the exponential prior must give the gamma(a, b + rate) posterior. Without the
    /// Jacobian term it samples gamma(a - 1, b + rate) instead (mean lower by 1/(b + rate)).
    #[test]
    fn log_scale_step_targets_its_density() {
        let (a, b, rate) = (3.5, 2.0, 0.5);
        let log_lik = |x: f64| (a - 1.0) * x.ln() - b * x;
        let (mean, sd) = quadrature(-8.0, 4.0, |x| log_lik(x) - rate * x);
        assert!((mean - a / (b + rate)).abs() < 1e-6, "quadrature {mean}");
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let mut st = ExtraState::new(0.0);
        let (mut x, mut ll) = (1.0, log_lik(1.0));
        let mut draws = Vec::new();
        for it in 0..400_000 {
            let (mv, x_new, ll_new) = log_scale_step(&mut rng, st.log_step, rate, x, ll, log_lik);
            st.record(mv);
            if mv.accepted {
                (x, ll) = (x_new, ll_new);
            }
            if it % 4 == 0 {
                draws.push(x);
            }
        }
        let (m, s) = mean_sd(&draws);
        let se = 3.0 * s / (draws.len() as f64).sqrt();
        assert!((m - mean).abs() < 5.0 * se, "mean {m} vs {mean} (se {se})");
        assert!((s - sd).abs() < 0.02 * sd, "sd {s} vs {sd}");
        assert!(st.tried == 400_000 && st.accepted > 100_000);
    }

    #[test]
    fn log_scale_step_rejects_overflowing_proposals() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut st = ExtraState::new(5.0);
        let mut called = 0;
        for _ in 0..50 {
            let (mv, x, _) = log_scale_step(&mut rng, st.log_step, 1.0, 1e300, 0.0, |_| {
                called += 1;
                0.0
            });
            st.record(mv);
            assert!(!mv.accepted || x.is_finite());
        }
        assert!(called < 50, "a proposal beyond the largest double is not evaluated");
        assert_eq!(st.sweep_tried, 50);
    }
}
