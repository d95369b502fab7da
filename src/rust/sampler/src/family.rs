//! Response families: the only place that knows a family by its name or its density.
//!
//! The sampler asks a family for its log density as a function of the linear predictor (for
//! Metropolis ratios) and its expected curvature, the GLM working weight (for proposal
//! covariances); whether its model is conditionally normal-linear (then every step is
//! Gibbs); its extra parameter (gaussian: sigma), that parameter's step and prior; how to
//! check a response and simulate one. Terms constant in eta are dropped from the density:
//! they cancel in every ratio. [`FamilyKind`] names the supported families and hands the
//! sampler a family's type ([`FamilyKind::visit`]), so that a chain is compiled for one family.
//!
//! A new family: a type implementing [`Family`] here, a variant of [`FamilyKind`], and a
//! step for its extra parameter (if it has one) in `steps/`.

use crate::dist::std_normal;
use crate::error::Error;
use rand::Rng;

/// Prior of a family's extra parameter; gaussian: sigma^2 ~ scaled-inv-chi^2(df, scale^2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExtraPrior {
    pub df: f64,
    pub scale: f64,
}

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
    fn all_gibbs(&self) -> bool {
        false
    }
    /// Whether the likelihood reads the number of trials per row.
    fn uses_trials(&self) -> bool {
        false
    }
    /// Checks the response (finite already; `trials` as given, empty if none).
    fn check_response(&self, _y: &[f64], _trials: &[f64]) -> Result<(), String> {
        Ok(())
    }
    /// The name in the draws of the family's parameter besides eta (gaussian: "sigma"), if any.
    fn extra_name(&self) -> Option<&'static str> {
        None
    }
    /// Checks the prior of the extra parameter (families that have one).
    fn check_extra_prior(&self, _prior: &ExtraPrior) -> Result<(), String> {
        Ok(())
    }
    /// The chain's state of the extra parameter from its starting value (gaussian: sigma^2
    /// from sigma); families without one keep 0.
    fn extra_start(&self, _init: f64) -> f64 {
        0.0
    }
    /// The value kept in the draws for the state `extra` (gaussian: sigma).
    fn extra_value(&self, extra: f64) -> f64 {
        extra
    }
    /// The extra parameter's step in the sweep: its new state given the response and eta.
    fn draw_extra<R: Rng + ?Sized>(&self, _rng: &mut R, _y: &[f64], _eta: &[f64], _prior: &ExtraPrior, extra: f64) -> f64
    where
        Self: Sized,
    {
        extra
    }
    /// A response drawn given eta, the trials and the extra parameter's state (Geweke's test).
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, trials: f64, extra: f64) -> f64
    where
        Self: Sized;
}

/// The supported families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyKind {
    Gaussian,
    Poisson,
    Binomial,
}

/// Work to do with a family's type (see [`FamilyKind::visit`]).
pub trait FamilyVisitor {
    type Output;
    fn visit<F: Family + Copy>(self, fam: F) -> Self::Output;
}

impl FamilyKind {
    /// The family named `name` (as R's `family()$family`), or an error that lists the supported ones.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name {
            "gaussian" => Ok(FamilyKind::Gaussian),
            "poisson" => Ok(FamilyKind::Poisson),
            "binomial" => Ok(FamilyKind::Binomial),
            other => Err(Error::invalid(format!("family '{other}' is not supported: use gaussian, poisson or binomial"))),
        }
    }

    /// The family as a trait object, for what runs outside the sweeps.
    pub fn family(self) -> &'static dyn Family {
        match self {
            FamilyKind::Gaussian => &Gaussian,
            FamilyKind::Poisson => &Poisson,
            FamilyKind::Binomial => &Binomial,
        }
    }

    /// Runs `v` with the family's type, so that what it runs is compiled for that family.
    pub fn visit<V: FamilyVisitor>(self, v: V) -> V::Output {
        match self {
            FamilyKind::Gaussian => v.visit(Gaussian),
            FamilyKind::Poisson => v.visit(Poisson),
            FamilyKind::Binomial => v.visit(Binomial),
        }
    }
}

use crate::vmath::{exp_lane, exp_slice, ln1p_unit_lane, logistic_parts};

/// Normal response, identity link.
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
    fn all_gibbs(&self) -> bool {
        true
    }
    fn extra_name(&self) -> Option<&'static str> {
        Some("sigma")
    }
    fn check_extra_prior(&self, prior: &ExtraPrior) -> Result<(), String> {
        if prior.df > 0.0 && prior.scale > 0.0 && prior.scale.is_finite() {
            Ok(())
        } else {
            Err("sigma's prior degrees of freedom and scale must be positive".into())
        }
    }
    fn extra_start(&self, sigma: f64) -> f64 {
        sigma * sigma
    }
    fn extra_value(&self, sigma2: f64) -> f64 {
        sigma2.sqrt()
    }
    fn draw_extra<R: Rng + ?Sized>(&self, rng: &mut R, y: &[f64], eta: &[f64], prior: &ExtraPrior, _sigma2: f64) -> f64 {
        crate::steps::extra::draw_sigma2(rng, y, eta, prior.df, prior.scale)
    }
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, _trials: f64, sigma2: f64) -> f64 {
        eta + sigma2.sqrt() * std_normal(rng)
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
    fn check_response(&self, y: &[f64], _trials: &[f64]) -> Result<(), String> {
        if y.iter().any(|&v| v < 0.0 || v.fract() != 0.0) {
            return Err("a poisson response must be non-negative whole numbers".into());
        }
        Ok(())
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
    fn uses_trials(&self) -> bool {
        true
    }
    fn check_response(&self, y: &[f64], trials: &[f64]) -> Result<(), String> {
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
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, trials: f64, _extra: f64) -> f64 {
        let p = 1.0 / (1.0 + (-eta).exp());
        rand_distr::Binomial::new(trials as u64, p).map_or(0.0, |d| rand_distr::Distribution::sample(&d, rng) as f64)
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
    fn families_are_known_by_their_names_only_here() {
        assert!(FamilyKind::from_name("gamma").unwrap_err().to_string().contains("'gamma' is not supported"));
        for name in ["gaussian", "poisson", "binomial"] {
            let kind = FamilyKind::from_name(name).unwrap();
            assert_eq!(kind.family().name(), name);
            struct Name;
            impl FamilyVisitor for Name {
                type Output = &'static str;
                fn visit<F: Family + Copy>(self, fam: F) -> &'static str {
                    fam.name()
                }
            }
            assert_eq!(kind.visit(Name), name);
        }
        assert_eq!(FamilyKind::Gaussian.family().extra_name(), Some("sigma"));
        assert_eq!(FamilyKind::Binomial.family().extra_name(), None);
    }

    #[test]
    fn responses_are_checked_by_their_family() {
        assert!(Poisson.check_response(&[0.0, 3.0], &[]).is_ok());
        assert!(Poisson.check_response(&[1.5], &[]).unwrap_err().contains("non-negative whole"));
        assert!(Binomial.check_response(&[1.0, 2.0], &[3.0, 2.0]).is_ok());
        assert!(Binomial.check_response(&[1.0], &[]).unwrap_err().contains("one value per row"));
        assert!(Binomial.check_response(&[3.0], &[2.0]).is_err());
        assert!(Gaussian.check_response(&[-1.5], &[]).is_ok());
        let bad = ExtraPrior { df: 1.0, scale: 0.0 };
        assert!(Gaussian.check_extra_prior(&bad).is_err() && Poisson.check_extra_prior(&bad).is_ok());
    }
}
