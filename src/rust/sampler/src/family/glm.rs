//! The gaussian, poisson and binomial families with their other links (as R's and
//! rstanarm's): gaussian log and inverse, poisson identity and sqrt, binomial probit,
//! cloglog, cauchit and log. Rows are evaluated one at a time from `links.rs`; an eta
//! outside the link's range (identity or sqrt at eta <= 0, the binomial log link at
//! eta >= 0, the inverse link at 0) has log-likelihood -inf and score 0, so a proposal
//! there is rejected.

use super::canonical::{check_counts, check_sigma_prior, check_successes};
use super::{ExtraPrior, Family};
use crate::dist::std_normal;
use crate::links::{cloglog_p_side, cloglog_prob, Link, Prob};
use crate::special::mul_ln;
use crate::vmath::exp_slice;
use crate::steps::extra::{draw_sigma2_link, ExtraData, ExtraState};
use rand::Rng;

/// The (loglik, score) of a row whose eta has no valid mean.
pub(super) const INVALID: (f64, f64) = (f64::NEG_INFINITY, 0.0);

/// (loglik, score) as computed, or `INVALID` where the log-likelihood is not finite (an
/// overflowing mean), so that no NaN reaches a ratio or a gradient.
#[inline]
pub(super) fn finite_or_invalid(ls: (f64, f64)) -> (f64, f64) {
    if ls.0.is_finite() && ls.1.is_finite() {
        ls
    } else {
        INVALID
    }
}

/// Normal response with mean g^-1(eta) (log or inverse link), residual variance sigma^2
/// (the chain's extra parameter, carried here for the rows).
#[derive(Clone, Copy, Debug)]
pub struct GaussianLink {
    pub link: Link,
    pub sigma2: f64,
}

impl GaussianLink {
    pub fn new(link: Link, sigma2: f64) -> Self {
        GaussianLink { link, sigma2 }
    }
}

impl Family for GaussianLink {
    fn name(&self) -> &'static str {
        "gaussian"
    }
    /// -(y - mu)^2 / (2 sigma^2) and (y - mu) mu' / sigma^2.
    #[inline]
    fn loglik_score(&self, y: f64, _n: f64, eta: f64) -> (f64, f64) {
        match self.link.real_mean(eta) {
            Some((mu, dmu)) => {
                let r = y - mu;
                finite_or_invalid((-0.5 * r * r / self.sigma2, r * dmu / self.sigma2))
            }
            None => INVALID,
        }
    }
    fn weight(&self, _n: f64, eta: f64) -> f64 {
        self.link.real_mean(eta).map_or(0.0, |(_, dmu)| dmu * dmu / self.sigma2)
    }
    gaussian_sigma_extra!();
    fn with_extra(self, sigma2: f64) -> Self {
        GaussianLink { sigma2, ..self }
    }
    fn draw_extra<R: Rng + ?Sized>(&self, rng: &mut R, d: ExtraData, prior: &ExtraPrior, _st: &mut ExtraState, sigma2: f64) -> f64 {
        draw_sigma2_link(rng, self.link, d, prior.df, prior.scale, sigma2)
    }
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, _trials: f64, sigma2: f64) -> f64 {
        self.link.real_mean(eta).map_or(f64::NAN, |(mu, _)| mu) + sigma2.sqrt() * std_normal(rng)
    }
}

/// Poisson counts with mean g^-1(eta) (identity or sqrt link).
#[derive(Clone, Copy, Debug)]
pub struct PoissonLink {
    pub link: Link,
}

impl Family for PoissonLink {
    fn name(&self) -> &'static str {
        "poisson"
    }
    /// y ln mu - mu and (y - mu) (ln mu)'.
    #[inline]
    fn loglik_score(&self, y: f64, _n: f64, eta: f64) -> (f64, f64) {
        match self.link.positive_mean(eta) {
            Some(m) => finite_or_invalid((mul_ln(y, m.ln_mu) - m.mu, (y - m.mu) * m.dln_mu)),
            None => INVALID,
        }
    }
    /// mu'^2 / mu = mu (ln mu)'^2.
    fn weight(&self, _n: f64, eta: f64) -> f64 {
        self.link.positive_mean(eta).map_or(0.0, |m| m.mu * m.dln_mu * m.dln_mu)
    }
    fn check_response(&self, y: &[f64], _trials: &[f64]) -> Result<(), String> {
        check_counts(y, "poisson")
    }
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, _trials: f64, _extra: f64) -> f64 {
        crate::dist::poisson(rng, self.link.positive_mean(eta).map_or(0.0, |m| m.mu))
    }
}

/// Binomial successes out of `n` trials with success probability g^-1(eta) (probit,
/// cloglog, cauchit or log link).
#[derive(Clone, Copy, Debug)]
pub struct BinomialLink {
    pub link: Link,
}

impl Family for BinomialLink {
    fn name(&self) -> &'static str {
        "binomial"
    }
    /// y ln p + (n - y) ln q (an impossible outcome that did not occur costs nothing) and
    /// y (ln p)' + (n - y) (ln q)'. A row with no failures (every bernoulli success) or no
    /// successes needs one side of the probability only (`Link::p_side`, `q_side`: the
    /// same bits as `probability`'s for the probit's one side and the cloglog's).
    #[inline]
    fn loglik_score(&self, y: f64, n: f64, eta: f64) -> (f64, f64) {
        let l = self.link;
        binomial_row(y, n, || l.p_side(eta), || l.q_side(eta), || l.probability(eta))
    }
    /// The cloglog link: exp(eta) into `t`, several rows at a time.
    fn prepare(&self, eta: &[f64], t: &mut [f64], _u: &mut [f64]) {
        if self.link == Link::Cloglog {
            exp_slice(eta, t);
        }
    }
    #[inline]
    fn loglik_score_prepared(&self, y: f64, n: f64, eta: f64, t: f64, _u: f64) -> (f64, f64) {
        if self.link != Link::Cloglog {
            return self.loglik_score(y, n, eta);
        }
        let e = t.min(f64::MAX);
        binomial_row(y, n, || Some(cloglog_p_side(eta, e)), || Some((-e, -e)), || Some(cloglog_prob(eta, e)))
    }
    fn weight(&self, n: f64, eta: f64) -> f64 {
        self.link.probability(eta).map_or(0.0, |p| n * p.weight())
    }
    fn uses_trials(&self) -> bool {
        true
    }
    fn check_response(&self, y: &[f64], trials: &[f64]) -> Result<(), String> {
        check_successes(y, trials)
    }
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, trials: f64, _extra: f64) -> f64 {
        let p = self.link.probability(eta).map_or(0.0, |p| p.ln_p.exp());
        rand_distr::Binomial::new(trials as u64, p.clamp(0.0, 1.0)).map_or(0.0, |d| rand_distr::Distribution::sample(&d, rng) as f64)
    }
}

/// A binomial row's (loglik, score) from its probability's sides: the success side alone
/// (`p_side`: ln p, d ln p) for a row without failures, the failure side alone (`q_side`)
/// for a row without successes, both (`both`) otherwise; INVALID where they are None.
#[inline(always)]
fn binomial_row(
    y: f64,
    n: f64,
    p_side: impl FnOnce() -> Option<(f64, f64)>,
    q_side: impl FnOnce() -> Option<(f64, f64)>,
    both: impl FnOnce() -> Option<Prob>,
) -> (f64, f64) {
    let f = n - y;
    if f == 0.0 {
        return match p_side() {
            Some((ln_p, dln_p)) => finite_or_invalid((mul_ln(y, ln_p) + 0.0, if y == 0.0 { 0.0 } else { y * dln_p } + 0.0)),
            None => INVALID,
        };
    }
    if y == 0.0 {
        return match q_side() {
            Some((ln_q, dln_q)) => finite_or_invalid((0.0 + mul_ln(f, ln_q), 0.0 + f * dln_q)),
            None => INVALID,
        };
    }
    match both() {
        Some(p) => finite_or_invalid((mul_ln(y, p.ln_p) + mul_ln(f, p.ln_q), y * p.dln_p + f * p.dln_q)),
        None => INVALID,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The checks every family and link must pass at every eta of `etas` (all valid):
    /// the score is the derivative of the log-likelihood, the weight is the expected
    /// negative curvature (the average of -d^2 loglik / d eta^2 over `ys` weighted by
    /// `probs`, a distribution of y at eta), and loglik_score is loglik and score.
    pub fn check_rows(f: &dyn Family, n: f64, etas: &[f64], dist: impl Fn(f64) -> Vec<(f64, f64)>) {
        for &eta in etas {
            let h = 1e-5 * eta.abs().max(1.0);
            let mut expected_curv = 0.0;
            for (y, prob) in dist(eta) {
                let num = (f.loglik(y, n, eta + h) - f.loglik(y, n, eta - h)) / (2.0 * h);
                let sc = f.score(y, n, eta);
                assert!((num - sc).abs() < 1e-5 * (1.0 + sc.abs()), "{} at eta {eta}, y {y}: score {sc} vs {num}", f.name());
                let (l, s) = f.loglik_score(y, n, eta);
                assert_eq!((l, s), (f.loglik(y, n, eta), sc));
                let curv = -(f.loglik(y, n, eta + h) - 2.0 * f.loglik(y, n, eta) + f.loglik(y, n, eta - h)) / (h * h);
                expected_curv += prob * curv;
            }
            let w = f.weight(n, eta);
            assert!((w - expected_curv).abs() < 2e-4 * (1.0 + w), "{} at eta {eta}: weight {w} vs {expected_curv}", f.name());
        }
    }

    /// `prepare` and `loglik_score_prepared` give `loglik_score`'s bits at every eta of a
    /// grid from -40 to 41 and far beyond, for the response y (and 7 trials).
    pub fn check_prepared(f: &dyn Family, y: f64) {
        let eta: Vec<f64> = (0..203).map(|k| -40.0 + 0.4 * k as f64).chain([-800.0, 800.0]).collect();
        let (mut t, mut u) = (vec![0.0; eta.len()], vec![0.0; eta.len()]);
        f.prepare(&eta, &mut t, &mut u);
        for ((&e, &tk), &uk) in eta.iter().zip(&t).zip(&u) {
            let (a, b) = (f.loglik_score_prepared(y, 7.0, e, tk, uk), f.loglik_score(y, 7.0, e));
            assert!(a.0.to_bits() == b.0.to_bits() && a.1.to_bits() == b.1.to_bits(), "{} at {e}", f.name());
        }
    }

    /// Poisson(mu) probabilities, truncated where they are negligible.
    pub fn poisson_pmf(mu: f64) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut p = (-mu).exp();
        for k in 0..(mu * 4.0 + 40.0) as usize {
            out.push((k as f64, p));
            p *= mu / (k + 1) as f64;
        }
        out
    }

    fn gauss_nodes(mu: f64, sd: f64) -> Vec<(f64, f64)> {
        // two-point distribution with mean mu and variance sd^2: the expected curvature of a
        // quadratic-in-y log density only needs the first two moments
        vec![(mu - sd, 0.5), (mu + sd, 0.5)]
    }

    #[test]
    fn gaussian_links_rows_scores_and_weights() {
        let s2 = 0.7;
        for link in [Link::Log, Link::Inverse] {
            let f = GaussianLink::new(link, s2);
            let etas: &[f64] = if link == Link::Log { &[-1.0, 0.3, 2.0] } else { &[-2.0, -0.4, 0.5, 3.0] };
            check_rows(&f, 1.0, etas, |eta| gauss_nodes(link.real_mean(eta).unwrap().0, s2.sqrt()));
            // log dnorm(y, mu, sigma) up to terms free of eta
            let d = f.loglik(1.3, 1.0, 0.9) - f.loglik(1.3, 1.0, 0.2);
            let want = |eta: f64| -0.5 * (1.3 - link.real_mean(eta).unwrap().0).powi(2) / s2;
            assert!((d - (want(0.9) - want(0.2))).abs() < 1e-12);
        }
        assert_eq!(GaussianLink::new(Link::Inverse, 1.0).loglik_score(1.0, 1.0, 0.0), INVALID);
        assert_eq!(GaussianLink::new(Link::Inverse, 1.0).weight(1.0, 0.0), 0.0);
        assert_eq!(GaussianLink::new(Link::Log, 1.0).loglik_score(1.0, 1.0, 800.0), INVALID);
        assert_eq!(GaussianLink::new(Link::Log, 2.0).with_extra(3.0).sigma2, 3.0);
    }

    #[test]
    fn poisson_links_rows_scores_and_weights() {
        for link in [Link::Identity, Link::Sqrt] {
            let f = PoissonLink { link };
            check_rows(&f, 1.0, &[0.3, 1.1, 2.5], |eta| poisson_pmf(link.positive_mean(eta).unwrap().mu));
            // log dpois(3, mu) differences
            let lp = |eta: f64| {
                let mu = link.positive_mean(eta).unwrap().mu;
                3.0 * mu.ln() - mu
            };
            assert!((f.loglik(3.0, 1.0, 1.7) - f.loglik(3.0, 1.0, 0.4) - (lp(1.7) - lp(0.4))).abs() < 1e-12);
            for bad in [0.0, -0.5] {
                assert_eq!(f.loglik_score(2.0, 1.0, bad), INVALID, "{link:?} at {bad}");
                assert_eq!(f.weight(1.0, bad), 0.0);
            }
            // y = 0: -mu, finite at tiny means
            assert!(f.loglik(0.0, 1.0, 1e-200).is_finite());
        }
    }

    #[test]
    fn binomial_links_rows_scores_and_weights() {
        let n = 7.0;
        for link in [Link::Probit, Link::Cloglog, Link::Cauchit, Link::Log] {
            let f = BinomialLink { link };
            let etas: &[f64] = if link == Link::Log { &[-3.0, -0.9, -0.1] } else { &[-2.5, -0.3, 0.0, 1.2] };
            check_rows(&f, n, etas, |eta| {
                let p = link.probability(eta).unwrap().ln_p.exp();
                let mut c = 1.0;
                (0..=7)
                    .map(|k| {
                        let pr = c * p.powi(k) * (1.0 - p).powi(7 - k);
                        c *= (7 - k) as f64 / (k + 1) as f64;
                        (k as f64, pr)
                    })
                    .collect()
            });
            // log dbinom(3, 7, p) differences
            let lp = |eta: f64| {
                let p = link.probability(eta).unwrap().ln_p.exp();
                3.0 * p.ln() + 4.0 * (1.0 - p).ln()
            };
            let (a, b) = (etas[0], etas[2]);
            assert!((f.loglik(3.0, n, b) - f.loglik(3.0, n, a) - (lp(b) - lp(a))).abs() < 1e-10, "{link:?}");
        }
        // the cloglog's prepared rows (vmath's exp of a batch) are loglik_score's bits
        for link in [Link::Probit, Link::Cloglog, Link::Cauchit] {
            for y in [0.0, 3.0, 7.0] {
                check_prepared(&BinomialLink { link }, y);
            }
        }
        // rows with no failures or no successes read one side only: the same values
        for link in [Link::Probit, Link::Cloglog, Link::Cauchit, Link::Log] {
            let f = BinomialLink { link };
            for eta in [-30.0, -2.5, -0.3, -1e-6, 0.0, 1.2, 9.0] {
                for (y, n) in [(0.0, 1.0), (1.0, 1.0), (0.0, 7.0), (7.0, 7.0), (0.0, 0.0)] {
                    let (l, s) = f.loglik_score(y, n, eta);
                    let want = match link.probability(eta) {
                        Some(p) => (mul_ln(y, p.ln_p) + mul_ln(n - y, p.ln_q), if y > 0.0 { y * p.dln_p } else { 0.0 } + if n > y { (n - y) * p.dln_q } else { 0.0 }),
                        None => INVALID,
                    };
                    let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-13 * a.abs().max(b.abs());
                    assert!(close(l, want.0) && close(s, want.1), "{link:?} at {eta}, y {y} of {n}: {l} {s} vs {want:?}");
                }
            }
        }
        // log link: p >= 1 is impossible, y = n at p near 1 is not
        let f = BinomialLink { link: Link::Log };
        assert_eq!(f.loglik_score(3.0, n, 0.0), INVALID);
        assert!(f.loglik(7.0, 7.0, -1e-300).is_finite());
        // extreme tails: finite, never NaN, successes that cannot happen cost -inf or a lot
        for link in [Link::Probit, Link::Cloglog, Link::Cauchit] {
            let f = BinomialLink { link };
            for eta in [-800.0, -40.0, 40.0, 800.0] {
                for y in [0.0, 3.0, 7.0] {
                    let (l, s) = f.loglik_score(y, n, eta);
                    assert!(!l.is_nan() && !s.is_nan() && l <= 0.0, "{link:?} at {eta}, y {y}: {l} {s}");
                }
            }
        }
    }
}
