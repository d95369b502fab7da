//! The Gamma family: positive responses with mean mu = g^-1(eta) (log, inverse or identity
//! link) and variance mu^2 / a, a the shape, whose step is in `steps/extra/shape.rs`.

use super::glm::{finite_or_invalid, INVALID};
use super::negbin::check_rate;
use super::{ExtraPrior, Family};
use crate::links::Link;
use crate::steps::extra::shape::{draw_shape, ln_y};
use crate::steps::extra::{ExtraData, ExtraState};
use crate::vmath::{exp_lane, exp_slice};
use rand::Rng;
use rand_distr::Distribution;

/// Gamma responses of shape `shape` (the chain's extra parameter, carried here for the rows).
#[derive(Clone, Copy, Debug)]
pub struct GammaFam {
    pub link: Link,
    pub shape: f64,
}

impl GammaFam {
    pub fn new(link: Link, shape: f64) -> Self {
        GammaFam { link, shape }
    }

    /// A log-link row from e^-eta.
    #[inline(always)]
    fn log_row(&self, y: f64, eta: f64, inv_mu: f64) -> (f64, f64) {
        let r = y * inv_mu;
        finite_or_invalid((-self.shape * (eta + r), self.shape * (r - 1.0)))
    }
}

impl Family for GammaFam {
    fn name(&self) -> &'static str {
        "Gamma"
    }
    /// -a (ln mu + y/mu) and a (y/mu - 1) (ln mu)'; the log link's 1/mu = e^-eta by vmath's
    /// exp, as `prepare`'s.
    #[inline]
    fn loglik_score(&self, y: f64, _n: f64, eta: f64) -> (f64, f64) {
        if self.link == Link::Log {
            return self.log_row(y, eta, exp_lane(-eta));
        }
        match self.link.positive_mean(eta) {
            Some(m) => {
                let r = y / m.mu;
                finite_or_invalid((-self.shape * (m.ln_mu + r), self.shape * (r - 1.0) * m.dln_mu))
            }
            None => INVALID,
        }
    }
    /// Log link: e^-eta into `t`, several rows at a time (`u` holds -eta).
    fn prepare(&self, eta: &[f64], t: &mut [f64], u: &mut [f64]) {
        if self.link == Link::Log {
            u.iter_mut().zip(eta).for_each(|(v, &e)| *v = -e);
            exp_slice(u, t);
        }
    }
    #[inline]
    fn loglik_score_prepared(&self, y: f64, n: f64, eta: f64, inv_mu: f64, _u: f64) -> (f64, f64) {
        if self.link == Link::Log {
            self.log_row(y, eta, inv_mu)
        } else {
            self.loglik_score(y, n, eta)
        }
    }
    /// mu'^2 / Var y = a (ln mu)'^2.
    fn weight(&self, _n: f64, eta: f64) -> f64 {
        self.link.positive_mean(eta).map_or(0.0, |m| self.shape * m.dln_mu * m.dln_mu)
    }
    fn check_response(&self, y: &[f64], _trials: &[f64]) -> Result<(), String> {
        if y.iter().any(|&v| v <= 0.0) {
            return Err("a Gamma response must be positive".into());
        }
        Ok(())
    }
    fn extra_name(&self) -> Option<&'static str> {
        Some("shape")
    }
    fn check_extra_prior(&self, prior: &ExtraPrior) -> Result<(), String> {
        check_rate(prior, "shape")
    }
    fn extra_start(&self, shape: f64) -> f64 {
        shape
    }
    fn with_extra(self, shape: f64) -> Self {
        GammaFam { shape, ..self }
    }
    fn observe_response(&self, y: &[f64], st: &mut ExtraState) {
        ln_y(y, &mut st.ln_y);
    }
    fn draw_extra<R: Rng + ?Sized>(&self, rng: &mut R, d: ExtraData, prior: &ExtraPrior, st: &mut ExtraState, shape: f64) -> f64 {
        draw_shape(rng, self.link, d, prior.rate, st, shape)
    }
    /// gamma(a, mu / a), at least the smallest normal double (a tiny shape's draws
    /// underflow to 0, which is not a Gamma response).
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, _trials: f64, shape: f64) -> f64 {
        let mu = self.link.positive_mean(eta).map_or(f64::NAN, |m| m.mu);
        rand_distr::Gamma::new(shape, mu / shape).map_or(f64::NAN, |g| g.sample(rng)).max(f64::MIN_POSITIVE)
    }
}

#[cfg(test)]
mod tests {
    use super::super::glm::tests::{check_prepared, check_rows};
    use super::*;
    use crate::special::ln_gamma;

    /// Points and weights with the Gamma(a, mu) distribution's first two moments (the
    /// log density is linear in y and ln y, but the curvature in eta only needs E y).
    fn moments(mu: f64, a: f64) -> Vec<(f64, f64)> {
        let sd = mu / a.sqrt();
        vec![(mu - 0.5 * sd, 0.5), (mu + 0.5 * sd, 0.5)]
    }

    /// log dgamma(y, shape = a, rate = a / mu).
    fn ln_dgamma(y: f64, mu: f64, a: f64) -> f64 {
        a * (a / mu).ln() + (a - 1.0) * y.ln() - a * y / mu - ln_gamma(a)
    }

    #[test]
    fn rows_scores_and_weights_of_every_link() {
        for link in [Link::Log, Link::Inverse, Link::Identity] {
            for a in [0.5, 4.0, 300.0] {
                let f = GammaFam::new(link, a);
                check_rows(&f, 1.0, &[0.3, 1.1, 2.5], |eta| moments(link.positive_mean(eta).unwrap().mu, a));
                let lp = |eta: f64| ln_dgamma(2.2, link.positive_mean(eta).unwrap().mu, a);
                let (d, want) = (f.loglik(2.2, 1.0, 1.7) - f.loglik(2.2, 1.0, 0.4), lp(1.7) - lp(0.4));
                assert!((d - want).abs() < 1e-11 * want.abs().max(1.0), "{link:?} a {a}: {d} vs {want}");
            }
            if link != Link::Log {
                assert_eq!(GammaFam::new(link, 2.0).loglik_score(1.0, 1.0, -0.1), INVALID);
                assert_eq!(GammaFam::new(link, 2.0).weight(1.0, 0.0), 0.0);
            }
        }
        // a mean that underflows to 0: impossible, not NaN
        assert_eq!(GammaFam::new(Link::Log, 2.0).loglik_score(1.0, 1.0, -800.0), INVALID);
    }

    #[test]
    fn prepared_batches_equal_single_rows() {
        for link in [Link::Log, Link::Inverse] {
            check_prepared(&GammaFam::new(link, 2.7), 1.5);
        }
    }

    #[test]
    fn responses_priors_and_simulations() {
        let f = GammaFam::new(Link::Log, 2.0);
        assert!(f.check_response(&[0.1, 4.0], &[]).is_ok());
        assert!(f.check_response(&[0.0], &[]).unwrap_err().contains("Gamma response must be positive"));
        assert!(f.check_response(&[-2.0], &[]).is_err());
        assert!(f.check_extra_prior(&ExtraPrior { df: 1.0, scale: 1.0, rate: f64::INFINITY }).unwrap_err().contains("shape"));
        assert_eq!((f.extra_name(), f.extra_start(3.0), f.extra_value(3.0)), (Some("shape"), 3.0, 3.0));
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let (mu, a, n) = (3.0f64, 4.0, 200_000);
        let ys: Vec<f64> = (0..n).map(|_| f.simulate(&mut rng, mu.ln(), 1.0, a)).collect();
        let m = ys.iter().sum::<f64>() / n as f64;
        let v = ys.iter().map(|y| (y - m).powi(2)).sum::<f64>() / n as f64;
        assert!((m - mu).abs() < 5.0 * (mu * mu / a / n as f64).sqrt(), "{m}");
        assert!((v - mu * mu / a).abs() < 0.03 * mu * mu / a, "{v}");
        // tiny shapes: positive draws
        assert!((0..1000).all(|_| f.simulate(&mut rng, 0.0, 1.0, 0.002) > 0.0));
    }
}
