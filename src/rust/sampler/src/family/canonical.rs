//! The canonical links of the gaussian, poisson and binomial families, whose rows the
//! sweeps evaluate several at a time (`prepare`, `loglik_score_prepared`); the gaussian
//! identity model is all Gibbs. Their draws must not change when other families are added.

use super::{ExtraPrior, Family};
use crate::dist::std_normal;
use crate::steps::extra::{ExtraData, ExtraState};
use rand::Rng;

use crate::vmath::{exp_lane, exp_slice, ln1p_unit_lane, logistic_parts};

/// Normal response, identity link. Its steps are all Gibbs and read sigma^2 from the
/// chain; its log density here is at unit variance.
#[derive(Clone, Copy, Debug)]
pub struct Gaussian;
/// Poisson counts, log link.
#[derive(Clone, Copy, Debug)]
pub struct Poisson;
/// Binomial successes out of `n` trials, logit link.
#[derive(Clone, Copy, Debug)]
pub struct Binomial;

impl Family for Gaussian {
    fn name(&self) -> &'static str {
        "gaussian"
    }
    fn loglik(&self, y: f64, _n: f64, eta: f64) -> f64 {
        let r = y - eta;
        -0.5 * r * r
    }
    fn score(&self, y: f64, _n: f64, eta: f64) -> f64 {
        y - eta
    }
    fn loglik_score(&self, y: f64, n: f64, eta: f64) -> (f64, f64) {
        (self.loglik(y, n, eta), self.score(y, n, eta))
    }
    fn weight(&self, _n: f64, _eta: f64) -> f64 {
        1.0
    }
    fn all_gibbs(&self) -> bool {
        true
    }
    gaussian_sigma_extra!();
    fn draw_extra<R: Rng + ?Sized>(&self, rng: &mut R, d: ExtraData, prior: &ExtraPrior, _st: &mut ExtraState, _sigma2: f64) -> f64 {
        crate::steps::extra::draw_sigma2(rng, d.y, &d.rows.cur.eta, prior.df, prior.scale)
    }
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, _trials: f64, sigma2: f64) -> f64 {
        eta + sigma2.sqrt() * std_normal(rng)
    }
}

impl Family for Poisson {
    fn name(&self) -> &'static str {
        "poisson"
    }
    fn loglik(&self, y: f64, _n: f64, eta: f64) -> f64 {
        y * eta - exp_lane(eta)
    }
    fn score(&self, y: f64, _n: f64, eta: f64) -> f64 {
        y - exp_lane(eta)
    }
    fn loglik_score(&self, y: f64, n: f64, eta: f64) -> (f64, f64) {
        self.loglik_score_prepared(y, n, eta, exp_lane(eta), 0.0)
    }
    fn prepare(&self, eta: &[f64], t: &mut [f64], _u: &mut [f64]) {
        exp_slice(eta, t)
    }
    #[inline]
    fn loglik_score_prepared(&self, y: f64, _n: f64, eta: f64, mu: f64, _u: f64) -> (f64, f64) {
        (y * eta - mu, y - mu)
    }
    fn weight(&self, _n: f64, eta: f64) -> f64 {
        exp_lane(eta)
    }
    fn check_response(&self, y: &[f64], _trials: &[f64]) -> Result<(), String> {
        check_counts(y, "poisson")
    }
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, _trials: f64, _extra: f64) -> f64 {
        rand_distr::Poisson::new(eta.exp().max(1e-300)).map_or(0.0, |d| rand_distr::Distribution::sample(&d, rng))
    }
}

/// log(1 + exp(x)) without overflow or loss of precision.
#[inline]
pub fn log1p_exp(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

impl Family for Binomial {
    fn name(&self) -> &'static str {
        "binomial"
    }
    fn loglik(&self, y: f64, n: f64, eta: f64) -> f64 {
        y * eta - n * log1p_exp(eta)
    }
    fn score(&self, y: f64, n: f64, eta: f64) -> f64 {
        y - n / (1.0 + (-eta).exp())
    }
    fn loglik_score(&self, y: f64, n: f64, eta: f64) -> (f64, f64) {
        let t = exp_lane(-eta.abs());
        self.loglik_score_prepared(y, n, eta, t, ln1p_unit_lane(t))
    }
    fn prepare(&self, eta: &[f64], t: &mut [f64], u: &mut [f64]) {
        logistic_parts(eta, t, u)
    }
    #[inline]
    fn loglik_score_prepared(&self, y: f64, n: f64, eta: f64, t: f64, l: f64) -> (f64, f64) {
        // t = exp(-|eta|) gives both log(1 + e^eta) = max(eta, 0) + l, l = ln(1 + t), and p
        // without overflow. ln(1 + t) is exact to 1e-16 absolute, all a sum of
        // log-likelihoods can resolve, at a fraction of the cost of ln_1p.
        let p = 1.0 / (1.0 + t);
        let (l1pe, p) = if eta > 0.0 { (eta + l, p) } else { (l, t * p) };
        (y * eta - n * l1pe, y - n * p)
    }
    fn weight(&self, n: f64, eta: f64) -> f64 {
        let p = 1.0 / (1.0 + (-eta).exp());
        n * p * (1.0 - p)
    }
    fn uses_trials(&self) -> bool {
        true
    }
    fn check_response(&self, y: &[f64], trials: &[f64]) -> Result<(), String> {
        check_successes(y, trials)
    }
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, trials: f64, _extra: f64) -> f64 {
        let p = 1.0 / (1.0 + (-eta).exp());
        rand_distr::Binomial::new(trials as u64, p).map_or(0.0, |d| rand_distr::Distribution::sample(&d, rng) as f64)
    }
}

/// The gaussian sigma^2's scaled-inverse-chi^2 prior needs positive degrees of freedom
/// and scale.
pub(super) fn check_sigma_prior(prior: &ExtraPrior) -> Result<(), String> {
    if prior.df > 0.0 && prior.scale > 0.0 && prior.scale.is_finite() {
        Ok(())
    } else {
        Err("sigma's prior degrees of freedom and scale must be positive".into())
    }
}

/// A count response (poisson, negative binomial) is non-negative whole numbers.
pub(super) fn check_counts(y: &[f64], family: &str) -> Result<(), String> {
    if y.iter().any(|&v| v < 0.0 || v.fract() != 0.0) {
        return Err(format!("a {family} response must be non-negative whole numbers"));
    }
    Ok(())
}

/// A binomial response is whole successes out of whole trials, one number of trials per row.
pub(super) fn check_successes(y: &[f64], trials: &[f64]) -> Result<(), String> {
    if trials.len() != y.len() {
        return Err("binomial trials must have one value per row".into());
    }
    for (&s, &t) in y.iter().zip(trials) {
        if !(s >= 0.0 && t >= s && s.fract() == 0.0 && t.fract() == 0.0) || !t.is_finite() {
            return Err("a binomial response must be whole successes between 0 and the number of trials".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_weight(f: &dyn Family, y: f64, n: f64, eta: f64) -> f64 {
        // -second derivative by central differences; equals the Fisher weight for canonical links
        let h = 1e-4;
        -(f.loglik(y, n, eta + h) - 2.0 * f.loglik(y, n, eta) + f.loglik(y, n, eta - h))
            / (h * h)
    }

    #[test]
    fn weights_are_curvature_of_loglik() {
        for &eta in &[-3.0, -0.2, 0.0, 1.7] {
            let p = numeric_weight(&Poisson, 2.0, 1.0, eta);
            assert!((p - Poisson.weight(1.0, eta)).abs() < 1e-5 * (1.0 + p));
            let b = numeric_weight(&Binomial, 3.0, 7.0, eta);
            assert!((b - Binomial.weight(7.0, eta)).abs() < 1e-5 * (1.0 + b));
        }
    }

    #[test]
    fn scores_are_derivatives_of_loglik() {
        let fams: [&dyn Family; 3] = [&Gaussian, &Poisson, &Binomial];
        for f in fams {
            for &eta in &[-2.0, 0.3, 1.5] {
                let h = 1e-6;
                let num = (f.loglik(3.0, 7.0, eta + h) - f.loglik(3.0, 7.0, eta - h)) / (2.0 * h);
                assert!((num - f.score(3.0, 7.0, eta)).abs() < 1e-6 * (1.0 + num.abs()), "{}", f.name());
            }
        }
    }

    #[test]
    fn loglik_score_matches_separate_evaluations() {
        let fams: [&dyn Family; 3] = [&Gaussian, &Poisson, &Binomial];
        for f in fams {
            for &eta in &[-40.0, -2.0, 0.0, 0.3, 1.5, 40.0] {
                let (l, s) = f.loglik_score(3.0, 7.0, eta);
                assert!((l - f.loglik(3.0, 7.0, eta)).abs() <= 1e-12 * (1.0 + l.abs()), "{}", f.name());
                assert!((s - f.score(3.0, 7.0, eta)).abs() <= 1e-12 * (1.0 + s.abs()), "{}", f.name());
            }
        }
    }

    #[test]
    fn prepared_batches_equal_single_rows() {
        let fams: [&dyn Family; 3] = [&Gaussian, &Poisson, &Binomial];
        for f in fams {
            super::super::glm::tests::check_prepared(f, 3.0);
        }
    }

    #[test]
    fn binomial_loglik_matches_log_density_differences() {
        // log dbinom(3, 7, p(eta1)) - log dbinom(3, 7, p(eta0))
        let (y, n) = (3.0, 7.0);
        let lp = |eta: f64| {
            let p: f64 = 1.0 / (1.0 + (-eta).exp());
            y * p.ln() + (n - y) * (1.0 - p).ln()
        };
        let d = Binomial.loglik(y, n, 0.8) - Binomial.loglik(y, n, -1.1);
        assert!((d - (lp(0.8) - lp(-1.1))).abs() < 1e-12);
    }

    #[test]
    fn log1p_exp_is_stable() {
        assert!((log1p_exp(800.0) - 800.0).abs() < 1e-12);
        assert!(log1p_exp(-800.0) >= 0.0 && log1p_exp(-800.0) < 1e-300);
        assert!((log1p_exp(0.0) - 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn responses_are_checked_by_their_family() {
        assert!(Poisson.check_response(&[0.0, 3.0], &[]).is_ok());
        assert!(Poisson.check_response(&[1.5], &[]).unwrap_err().contains("non-negative whole"));
        assert!(Binomial.check_response(&[1.0, 2.0], &[3.0, 2.0]).is_ok());
        assert!(Binomial.check_response(&[1.0], &[]).unwrap_err().contains("one value per row"));
        assert!(Binomial.check_response(&[3.0], &[2.0]).is_err());
        assert!(Gaussian.check_response(&[-1.5], &[]).is_ok());
        let bad = ExtraPrior { df: 1.0, scale: 0.0, rate: 1.0 };
        assert!(Gaussian.check_extra_prior(&bad).is_err() && Poisson.check_extra_prior(&bad).is_ok());
    }
}
