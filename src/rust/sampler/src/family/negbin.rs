//! rstanarm's `neg_binomial_2`: counts with mean mu = g^-1(eta) (log, identity or sqrt link)
//! and variance mu + mu^2 / phi, phi the reciprocal dispersion (the size of R's dnbinom),
//! whose step is in `steps/extra/dispersion.rs`.

use super::canonical::check_counts;
use super::glm::{finite_or_invalid, INVALID};
use super::{ExtraPrior, Family};
use crate::links::Link;
use crate::special::mul_ln;
use crate::steps::extra::dispersion::{draw_phi, CountTable};
use crate::steps::extra::{ExtraData, ExtraState};
use crate::vmath::{exp_lane, exp_slice, ln1p_in_place, ln1p_lane};
use rand::Rng;
use rand_distr::Distribution;

/// Negative binomial counts at reciprocal dispersion `phi` (the chain's extra parameter,
/// carried here for the rows).
#[derive(Clone, Copy, Debug)]
pub struct NegBinomial {
    pub link: Link,
    pub phi: f64,
}

impl NegBinomial {
    pub fn new(link: Link, phi: f64) -> Self {
        NegBinomial { link, phi }
    }

    /// A log-link row from mu = e^eta and l = ln(1 + mu/phi).
    #[inline(always)]
    fn log_row(&self, y: f64, eta: f64, mu: f64, l: f64) -> (f64, f64) {
        let phi = self.phi;
        finite_or_invalid((mul_ln(y, eta) - (y + phi) * l, phi * (y - mu) / (mu + phi)))
    }
}

/// The prior rate of the exponential prior of phi or the Gamma shape must be positive.
pub(super) fn check_rate(prior: &ExtraPrior, what: &str) -> Result<(), String> {
    if prior.rate > 0.0 && prior.rate.is_finite() {
        Ok(())
    } else {
        Err(format!("the rate of the exponential prior of the {what} must be positive and finite"))
    }
}

impl Family for NegBinomial {
    fn name(&self) -> &'static str {
        "neg_binomial_2"
    }
    /// y ln mu - (y + phi) ln(1 + mu/phi) (no cancellation as phi grows: it tends to the
    /// poisson's y ln mu - mu) and phi (y - mu) / (mu + phi) (ln mu)'. The log link's
    /// transcendentals are vmath's, as `prepare`'s.
    #[inline]
    fn loglik_score(&self, y: f64, _n: f64, eta: f64) -> (f64, f64) {
        if self.link == Link::Log {
            let mu = exp_lane(eta);
            return self.log_row(y, eta, mu, ln1p_lane(mu / self.phi));
        }
        match self.link.positive_mean(eta) {
            Some(m) => {
                let phi = self.phi;
                let ll = mul_ln(y, m.ln_mu) - (y + phi) * (m.mu / phi).ln_1p();
                finite_or_invalid((ll, phi * (y - m.mu) / (m.mu + phi) * m.dln_mu))
            }
            None => INVALID,
        }
    }
    /// Log link: mu = e^eta into `t`, ln(1 + mu/phi) into `u`, several rows at a time (the
    /// ln(1 + x) was 58% of a sweep's time when taken row by row from libm).
    fn prepare(&self, eta: &[f64], t: &mut [f64], u: &mut [f64]) {
        if self.link == Link::Log {
            exp_slice(eta, t);
            u.iter_mut().zip(t.iter()).for_each(|(l, &mu)| *l = mu / self.phi);
            ln1p_in_place(u);
        }
    }
    #[inline]
    fn loglik_score_prepared(&self, y: f64, n: f64, eta: f64, mu: f64, l: f64) -> (f64, f64) {
        if self.link == Link::Log {
            self.log_row(y, eta, mu, l)
        } else {
            self.loglik_score(y, n, eta)
        }
    }
    /// mu'^2 / Var y = (ln mu)'^2 mu phi / (mu + phi).
    fn weight(&self, _n: f64, eta: f64) -> f64 {
        self.link.positive_mean(eta).map_or(0.0, |m| m.dln_mu * m.dln_mu * m.mu * self.phi / (m.mu + self.phi))
    }
    fn check_response(&self, y: &[f64], _trials: &[f64]) -> Result<(), String> {
        check_counts(y, "neg_binomial_2")
    }
    fn extra_name(&self) -> Option<&'static str> {
        Some("reciprocal_dispersion")
    }
    fn check_extra_prior(&self, prior: &ExtraPrior) -> Result<(), String> {
        check_rate(prior, "reciprocal dispersion")
    }
    fn extra_start(&self, phi: f64) -> f64 {
        phi
    }
    fn with_extra(self, phi: f64) -> Self {
        NegBinomial { phi, ..self }
    }
    fn observe_response(&self, y: &[f64], st: &mut ExtraState) {
        st.counts = CountTable::new(y);
    }
    fn draw_extra<R: Rng + ?Sized>(&self, rng: &mut R, d: ExtraData, prior: &ExtraPrior, st: &mut ExtraState, phi: f64) -> f64 {
        draw_phi(rng, *self, d, prior.rate, st, phi)
    }
    /// A poisson count whose mean is gamma(phi, mu / phi) distributed.
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, _trials: f64, phi: f64) -> f64 {
        let mu = self.link.positive_mean(eta).map_or(0.0, |m| m.mu);
        let lambda = rand_distr::Gamma::new(phi, mu / phi).map_or(0.0, |g| g.sample(rng));
        crate::dist::poisson(rng, lambda)
    }
}

#[cfg(test)]
mod tests {
    use super::super::glm::tests::{check_prepared, check_rows, poisson_pmf};
    use super::*;
    use crate::special::ln_gamma;

    /// dnbinom(y, size = phi, mu) for y = 0, 1, ... while it matters.
    fn pmf(mu: f64, phi: f64) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut p = (phi / (phi + mu)).powf(phi);
        for k in 0..(mu * 8.0 + 200.0) as usize {
            out.push((k as f64, p));
            p *= (k as f64 + phi) / (k + 1) as f64 * mu / (phi + mu);
        }
        out
    }

    /// log dnbinom(y, size = phi, mu = mu).
    fn ln_dnbinom(y: f64, mu: f64, phi: f64) -> f64 {
        ln_gamma(y + phi) - ln_gamma(phi) - ln_gamma(y + 1.0) + phi * (phi / (phi + mu)).ln() + y * (mu / (phi + mu)).ln()
    }

    #[test]
    fn rows_scores_and_weights_of_every_link() {
        for link in [Link::Log, Link::Identity, Link::Sqrt] {
            for phi in [0.4, 3.0, 50.0] {
                let f = NegBinomial::new(link, phi);
                check_rows(&f, 1.0, &[0.3, 1.1, 2.5], |eta| pmf(link.positive_mean(eta).unwrap().mu, phi));
                // differences of R's log density in eta
                for y in [0.0, 4.0] {
                    let lp = |eta: f64| ln_dnbinom(y, link.positive_mean(eta).unwrap().mu, phi);
                    let (d, want) = (f.loglik(y, 1.0, 1.7) - f.loglik(y, 1.0, 0.4), lp(1.7) - lp(0.4));
                    assert!((d - want).abs() < 1e-11 * want.abs().max(1.0), "{link:?} phi {phi} y {y}: {d} vs {want}");
                }
            }
            if link != Link::Log {
                assert_eq!(NegBinomial::new(link, 2.0).loglik_score(1.0, 1.0, -0.1), INVALID);
                assert_eq!(NegBinomial::new(link, 2.0).weight(1.0, 0.0), 0.0);
            }
        }
    }

    #[test]
    fn prepared_batches_equal_single_rows() {
        for link in [Link::Log, Link::Sqrt] {
            check_prepared(&NegBinomial::new(link, 2.7), 3.0);
        }
    }

    #[test]
    fn without_overdispersion_it_is_the_poisson() {
        // phi -> inf: loglik -> y ln mu - mu (no cancellation), weight -> mu
        let f = NegBinomial::new(Link::Log, 1e15);
        for (y, eta) in [(0.0, -2.0), (3.0, 0.4), (40.0, 3.5)] {
            let mu: f64 = f64::exp(eta);
            assert!((f.loglik(y, 1.0, eta) - (y * eta - mu)).abs() < 1e-10 * (1.0 + mu), "{y} {eta}");
            assert!((f.weight(1.0, eta) - mu).abs() < 1e-10 * mu);
        }
        check_rows(&f, 1.0, &[0.2, 1.5], |eta| poisson_pmf(eta.exp()));
        // an overflowing mean is an impossible eta, not a NaN
        assert_eq!(NegBinomial::new(Link::Log, 2.0).loglik_score(3.0, 1.0, 800.0), INVALID);
    }

    #[test]
    fn responses_priors_and_simulations() {
        let f = NegBinomial::new(Link::Log, 2.0);
        assert!(f.check_response(&[0.0, 4.0, 17.0], &[]).is_ok());
        assert!(f.check_response(&[1.5], &[]).unwrap_err().contains("neg_binomial_2 response must be non-negative whole"));
        assert!(f.check_response(&[-1.0], &[]).is_err());
        assert!(f.check_extra_prior(&ExtraPrior { df: 1.0, scale: 1.0, rate: 0.0 }).unwrap_err().contains("reciprocal dispersion"));
        assert!(f.check_extra_prior(&ExtraPrior { df: 0.0, scale: 0.0, rate: 0.5 }).is_ok());
        assert_eq!((f.extra_name(), f.extra_start(3.0), f.extra_value(3.0)), (Some("reciprocal_dispersion"), 3.0, 3.0));
        // simulated counts: mean mu, variance mu + mu^2 / phi
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (mu, phi, n) = (4.0f64, 2.0, 200_000);
        let ys: Vec<f64> = (0..n).map(|_| f.simulate(&mut rng, mu.ln(), 1.0, phi)).collect();
        let m = ys.iter().sum::<f64>() / n as f64;
        let v = ys.iter().map(|y| (y - m).powi(2)).sum::<f64>() / n as f64;
        assert!((m - mu).abs() < 5.0 * (12.0 / n as f64).sqrt(), "{m}");
        assert!((v - 12.0).abs() < 0.03 * 12.0, "{v}");
    }
}
