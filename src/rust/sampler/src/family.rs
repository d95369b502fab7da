//! Response families: the only place that knows a density.
//!
//! The sampler needs two things of a family: the log density as a function of the linear
//! predictor (for Metropolis ratios) and its expected curvature, the GLM working weight (for
//! proposal covariances). Terms constant in eta are dropped: they cancel in every ratio.

/// An exponential-family response with a fixed link.
pub trait Family: Send + Sync {
    /// Name as R's `family()$family`.
    fn name(&self) -> &'static str;
    /// log f(y | eta) up to terms that do not depend on eta. `n` is the number of binomial
    /// trials (ignored elsewhere); `disp` is the dispersion (sigma^2 for gaussian, else 1).
    fn loglik(&self, y: f64, n: f64, eta: f64, disp: f64) -> f64;
    /// d loglik / d eta (the score), for Langevin proposals.
    fn score(&self, y: f64, n: f64, eta: f64, disp: f64) -> f64;
    /// (loglik, score) together: one transcendental evaluation where the family allows.
    fn loglik_score(&self, y: f64, n: f64, eta: f64, disp: f64) -> (f64, f64) {
        (self.loglik(y, n, eta, disp), self.score(y, n, eta, disp))
    }
    /// The transcendental parts of `loglik_score` for a batch of linear predictors, into `t`
    /// and `u` (Poisson: exp(eta); binomial: exp(-|eta|) and its ln(1 + .)), 4 or 8 rows at
    /// a time where the CPU allows; `loglik_score_prepared` finishes each row. Nothing for
    /// gaussian.
    fn prepare(&self, _eta: &[f64], _t: &mut [f64], _u: &mut [f64]) {}
    /// `loglik_score(y, n, eta, 1)` from `t` and `u` filled by `prepare`, bit for bit.
    fn loglik_score_prepared(&self, y: f64, n: f64, eta: f64, _t: f64, _u: f64) -> (f64, f64) {
        self.loglik_score(y, n, eta, 1.0)
    }
    /// Fisher information of eta: -E[d^2 loglik / d eta^2].
    fn weight(&self, n: f64, eta: f64, disp: f64) -> f64;
    /// True when the model is conditionally normal-linear, so every step can be Gibbs.
    fn is_gaussian(&self) -> bool {
        false
    }
}

use crate::vmath::{exp_lane, exp_slice, ln1p_unit_lane, logistic_parts};

/// Normal response, identity link.
pub struct Gaussian;
/// Poisson counts, log link.
pub struct Poisson;
/// Binomial successes out of `n` trials, logit link.
pub struct Binomial;

impl Family for Gaussian {
    fn name(&self) -> &'static str {
        "gaussian"
    }
    fn loglik(&self, y: f64, _n: f64, eta: f64, disp: f64) -> f64 {
        let r = y - eta;
        -0.5 * r * r / disp
    }
    fn score(&self, y: f64, _n: f64, eta: f64, disp: f64) -> f64 {
        (y - eta) / disp
    }
    fn weight(&self, _n: f64, _eta: f64, disp: f64) -> f64 {
        1.0 / disp
    }
    fn is_gaussian(&self) -> bool {
        true
    }
}

impl Family for Poisson {
    fn name(&self) -> &'static str {
        "poisson"
    }
    fn loglik(&self, y: f64, _n: f64, eta: f64, _disp: f64) -> f64 {
        y * eta - exp_lane(eta)
    }
    fn score(&self, y: f64, _n: f64, eta: f64, _disp: f64) -> f64 {
        y - exp_lane(eta)
    }
    fn loglik_score(&self, y: f64, n: f64, eta: f64, _disp: f64) -> (f64, f64) {
        self.loglik_score_prepared(y, n, eta, exp_lane(eta), 0.0)
    }
    fn prepare(&self, eta: &[f64], t: &mut [f64], _u: &mut [f64]) {
        exp_slice(eta, t)
    }
    #[inline]
    fn loglik_score_prepared(&self, y: f64, _n: f64, eta: f64, mu: f64, _u: f64) -> (f64, f64) {
        (y * eta - mu, y - mu)
    }
    fn weight(&self, _n: f64, eta: f64, _disp: f64) -> f64 {
        exp_lane(eta)
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
    fn loglik(&self, y: f64, n: f64, eta: f64, _disp: f64) -> f64 {
        y * eta - n * log1p_exp(eta)
    }
    fn score(&self, y: f64, n: f64, eta: f64, _disp: f64) -> f64 {
        y - n / (1.0 + (-eta).exp())
    }
    fn loglik_score(&self, y: f64, n: f64, eta: f64, _disp: f64) -> (f64, f64) {
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
    fn weight(&self, n: f64, eta: f64, _disp: f64) -> f64 {
        let p = 1.0 / (1.0 + (-eta).exp());
        n * p * (1.0 - p)
    }
}

/// The family named `name`, or an error that lists the supported ones.
pub fn family_by_name(name: &str) -> Result<Box<dyn Family>, String> {
    match name {
        "gaussian" => Ok(Box::new(Gaussian)),
        "poisson" => Ok(Box::new(Poisson)),
        "binomial" => Ok(Box::new(Binomial)),
        other => Err(format!(
            "family '{other}' is not supported: use gaussian, poisson or binomial"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_weight(f: &dyn Family, y: f64, n: f64, eta: f64) -> f64 {
        // -second derivative by central differences; equals the Fisher weight for canonical links
        let h = 1e-4;
        -(f.loglik(y, n, eta + h, 1.0) - 2.0 * f.loglik(y, n, eta, 1.0) + f.loglik(y, n, eta - h, 1.0))
            / (h * h)
    }

    #[test]
    fn weights_are_curvature_of_loglik() {
        for &eta in &[-3.0, -0.2, 0.0, 1.7] {
            let p = numeric_weight(&Poisson, 2.0, 1.0, eta);
            assert!((p - Poisson.weight(1.0, eta, 1.0)).abs() < 1e-5 * (1.0 + p));
            let b = numeric_weight(&Binomial, 3.0, 7.0, eta);
            assert!((b - Binomial.weight(7.0, eta, 1.0)).abs() < 1e-5 * (1.0 + b));
        }
    }

    #[test]
    fn scores_are_derivatives_of_loglik() {
        let fams: [&dyn Family; 3] = [&Gaussian, &Poisson, &Binomial];
        for f in fams {
            for &eta in &[-2.0, 0.3, 1.5] {
                let h = 1e-6;
                let num = (f.loglik(3.0, 7.0, eta + h, 2.0) - f.loglik(3.0, 7.0, eta - h, 2.0)) / (2.0 * h);
                assert!((num - f.score(3.0, 7.0, eta, 2.0)).abs() < 1e-6 * (1.0 + num.abs()), "{}", f.name());
            }
        }
    }

    #[test]
    fn loglik_score_matches_separate_evaluations() {
        let fams: [&dyn Family; 3] = [&Gaussian, &Poisson, &Binomial];
        for f in fams {
            for &eta in &[-40.0, -2.0, 0.0, 0.3, 1.5, 40.0] {
                let (l, s) = f.loglik_score(3.0, 7.0, eta, 2.0);
                assert!((l - f.loglik(3.0, 7.0, eta, 2.0)).abs() <= 1e-12 * (1.0 + l.abs()), "{}", f.name());
                assert!((s - f.score(3.0, 7.0, eta, 2.0)).abs() <= 1e-12 * (1.0 + s.abs()), "{}", f.name());
            }
        }
    }

    #[test]
    fn prepared_batches_equal_single_rows() {
        let fams: [&dyn Family; 3] = [&Gaussian, &Poisson, &Binomial];
        let eta: Vec<f64> = (0..203).map(|k| -40.0 + 0.4 * k as f64).collect();
        for f in fams {
            let (mut t, mut u) = (vec![0.0; eta.len()], vec![0.0; eta.len()]);
            f.prepare(&eta, &mut t, &mut u);
            for ((&e, &tk), &uk) in eta.iter().zip(&t).zip(&u) {
                let (a, b) = (f.loglik_score_prepared(3.0, 7.0, e, tk, uk), f.loglik_score(3.0, 7.0, e, 1.0));
                assert!(a.0.to_bits() == b.0.to_bits() && a.1.to_bits() == b.1.to_bits(), "{} at {e}", f.name());
            }
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
        let d = Binomial.loglik(y, n, 0.8, 1.0) - Binomial.loglik(y, n, -1.1, 1.0);
        assert!((d - (lp(0.8) - lp(-1.1))).abs() < 1e-12);
    }

    #[test]
    fn log1p_exp_is_stable() {
        assert!((log1p_exp(800.0) - 800.0).abs() < 1e-12);
        assert!(log1p_exp(-800.0) >= 0.0 && log1p_exp(-800.0) < 1e-300);
        assert!((log1p_exp(0.0) - 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn unknown_family_is_an_error() {
        assert!(family_by_name("gamma").is_err());
        assert_eq!(family_by_name("poisson").unwrap().name(), "poisson");
    }
}
