//! A random-effects term's parameters as the steps update them: the group coefficients with
//! their means ([`Coefs`]) and the covariance with its prior's current conditional
//! ([`CovState`]).

use crate::error::Error;
use crate::spec::CovPrior;

/// Group coefficients beta_j (q per group, group after group) and their mean theta (q).
#[derive(Clone, Debug, PartialEq)]
pub struct Coefs {
    pub beta: Vec<f64>,
    pub theta: Vec<f64>,
}

impl Coefs {
    /// m groups all at `theta`.
    pub fn at_mean(theta: Vec<f64>, m: usize) -> Self {
        let beta = (0..m).flat_map(|_| theta.iter().copied()).collect();
        Coefs { beta, theta }
    }
    /// Coefficients per group.
    pub fn q(&self) -> usize {
        self.theta.len()
    }
    /// Number of groups.
    pub fn m(&self) -> usize {
        self.beta.len() / self.theta.len().max(1)
    }
}

/// Huang and Wand's auxiliary variances: a_k ~ IG(1/2, 1/A_k^2), Sigma | a ~ IW(nu + q - 1,
/// 2 nu diag(1/a)).
#[derive(Clone, Debug, PartialEq)]
pub struct HuangWand {
    pub nu: f64,
    /// A_k, the half-t scale of each standard deviation.
    pub sd_scale: Vec<f64>,
    pub a: Vec<f64>,
}

/// A term's covariance Sigma (q x q, column-major), Sigma^-1, and the inverse-Wishart df and
/// scale of Sigma's current conditional prior: fixed, or set by the Huang-Wand variances.
#[derive(Clone, Debug, PartialEq)]
pub struct CovState {
    pub q: usize,
    pub sigma: Vec<f64>,
    pub prec: Vec<f64>,
    pub iw_df: f64,
    pub iw_scale: Vec<f64>,
    /// The Huang-Wand variances, under that prior.
    pub hw: Option<HuangWand>,
}

impl CovState {
    /// The starting state under `prior`: Sigma at the inverse-Wishart prior's mode
    /// S0 / (nu0 + q + 1), or each sd at half its half-t scale.
    pub fn start(prior: &CovPrior, q: usize) -> Result<Self, Error> {
        let (iw_df, iw_scale, hw, sigma) = match prior {
            CovPrior::InvWishart { df, scale } => {
                (*df, scale.clone(), None, scale.iter().map(|v| v / (df + q as f64 + 1.0)).collect::<Vec<f64>>())
            }
            CovPrior::HuangWand { nu, sd_scale } => {
                let a: Vec<f64> = sd_scale.iter().map(|s| s * s).collect();
                let mut s0 = vec![0.0; q * q];
                let mut sig = vec![0.0; q * q];
                for k in 0..q {
                    s0[k + k * q] = 2.0 * nu / a[k];
                    sig[k + k * q] = 0.25 * sd_scale[k] * sd_scale[k];
                }
                (nu + q as f64 - 1.0, s0, Some(HuangWand { nu: *nu, sd_scale: sd_scale.clone(), a }), sig)
            }
        };
        let prec = nalgebra::DMatrix::from_column_slice(q, q, &sigma)
            .try_inverse()
            .ok_or_else(|| Error::invalid("the inverse-Wishart scale is singular"))?;
        Ok(CovState { q, sigma, prec: prec.as_slice().to_vec(), iw_df, iw_scale, hw })
    }

    /// A state with the given Sigma and Sigma^-1 and a fixed inverse-Wishart prior (tests).
    #[cfg(test)]
    pub(crate) fn fixed(sigma: &[f64], prec: &[f64], iw_df: f64, iw_scale: &[f64]) -> Self {
        let q = (sigma.len() as f64).sqrt() as usize;
        CovState { q, sigma: sigma.to_vec(), prec: prec.to_vec(), iw_df, iw_scale: iw_scale.to_vec(), hw: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_states() {
        let iw = CovState::start(&CovPrior::InvWishart { df: 3.0, scale: vec![2.0, 0.5, 0.5, 1.0] }, 2).unwrap();
        assert_eq!(iw.sigma, vec![2.0 / 6.0, 0.5 / 6.0, 0.5 / 6.0, 1.0 / 6.0]);
        assert!(iw.hw.is_none() && iw.iw_df == 3.0);
        let hw = CovState::start(&CovPrior::HuangWand { nu: 2.0, sd_scale: vec![2.0] }, 1).unwrap();
        assert_eq!((hw.sigma[0], hw.prec[0], hw.iw_df, hw.iw_scale[0]), (1.0, 1.0, 2.0, 1.0));
        assert_eq!(hw.hw.unwrap().a, vec![4.0]);
        let c = Coefs::at_mean(vec![1.0, 2.0], 3);
        assert_eq!((c.q(), c.m(), c.beta[4]), (2, 3, 1.0));
    }
}
