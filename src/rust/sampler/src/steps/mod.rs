//! One function per full-conditional update (Hoff 2009, ch. 8 and 11; shared/notes/sampler.md),
//! by concern:
//!
//! - [`group`]: the Langevin Metropolis step of one group's coefficients;
//! - [`gibbs`]: the Gibbs step of one group's coefficients (gaussian);
//! - [`block`]: the fixed effects as one block, Gibbs or Langevin;
//! - [`hyper`]: the group means theta, the covariances Sigma and the Huang-Wand variances;
//! - [`extra`]: the families' extra parameters (gaussian sigma^2 by Gibbs; the negative
//!   binomial's phi and the Gamma shape by log-scale Metropolis);
//! - [`expansion`]: the scaling and shear moves of (b, Sigma), along the directions of
//!   [`direction`];
//! - [`translate`]: exact draws along directions that leave eta unchanged.
//!
//! Each step reads and writes the linear predictor `eta` in place, so that a sweep costs
//! O(n q) and never recomputes eta from scratch. Buffers come from the caller.

pub mod block;
pub mod direction;
pub mod expansion;
pub mod extra;
pub mod gibbs;
pub mod group;
pub mod hyper;
mod langevin;
pub mod translate;

pub use langevin::drift_coef;

use crate::dist::std_normal;
use crate::linalg::{solve_lower, solve_lower_t};
use rand::Rng;

/// The response and its family: what a log-likelihood needs.
pub struct Likelihood<'a, F: ?Sized> {
    pub fam: &'a F,
    pub y: &'a [f64],
    /// Binomial trials per row (see `Model::trials`).
    pub trials: &'a [f64],
}

impl<F: ?Sized> Clone for Likelihood<'_, F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F: ?Sized> Copy for Likelihood<'_, F> {}

/// The normal-linear model's response and residual variance: what its Gibbs steps read.
#[derive(Clone, Copy)]
pub struct Gauss<'a> {
    pub y: &'a [f64],
    pub sigma2: f64,
}

/// A normal prior N(mean, prec^-1) of one group's coefficients.
#[derive(Clone, Copy)]
pub struct GroupPrior<'a> {
    pub mean: &'a [f64],
    pub prec: &'a [f64],
}

/// A Langevin proposal's metric (its Cholesky factor) and step size.
#[derive(Clone, Copy)]
pub struct Proposal<'a> {
    pub chol: &'a [f64],
    pub scale: f64,
}

/// Outcome of one Metropolis step: whether it moved, and its log acceptance ratio.
#[derive(Clone, Copy, Debug)]
pub struct Move {
    pub accepted: bool,
    pub log_ratio: f64,
}

impl Move {
    /// Accepts with probability min(1, exp(log_ratio)), never for a non-finite ratio. A
    /// proposal at least as probable as the current state is accepted without a uniform
    /// draw (its log is a libm call per step, which weighs where groups have one row).
    pub fn decide<R: Rng + ?Sized>(rng: &mut R, log_ratio: f64) -> Move {
        let accepted = log_ratio.is_finite() && (log_ratio >= 0.0 || rng.gen::<f64>().ln() < log_ratio);
        Move { accepted, log_ratio }
    }
    /// `decide` with the uniform `u` drawn beforehand (group steps draw it with the
    /// proposal; it is used only when log_ratio < 0, as in `decide`).
    pub fn decide_with(u: f64, log_ratio: f64) -> Move {
        let accepted = log_ratio.is_finite() && (log_ratio >= 0.0 || u.ln() < log_ratio);
        Move { accepted, log_ratio }
    }
    /// A move not tried (its proposal was impossible).
    pub fn rejected() -> Move {
        Move { accepted: false, log_ratio: f64::NEG_INFINITY }
    }
    /// min(1, ratio), for adapting step sizes (warmup only, so its exp is not paid after).
    pub fn prob(&self) -> f64 {
        if self.log_ratio.is_finite() {
            self.log_ratio.min(0.0).exp()
        } else {
            0.0
        }
    }
}

/// Draws x ~ N(H^-1 b, H^-1) given H's Cholesky factor `l`; `b` is overwritten with the draw.
fn draw_canonical_normal<R: Rng + ?Sized>(rng: &mut R, l: &[f64], q: usize, b: &mut [f64], u: &mut [f64]) {
    solve_lower(l, q, b);
    for (bi, ui) in b.iter_mut().zip(u.iter_mut()) {
        *ui = std_normal(rng);
        *bi += *ui;
    }
    solve_lower_t(l, q, b);
}

/// Test helpers shared by the steps' tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::model::Model;
    use crate::rows::{RowState, Rows};
    use crate::spec::{CovPrior, ModelSpec, TermSpec};

    pub fn mean_sd(v: &[f64]) -> (f64, f64) {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        (m, s)
    }

    /// A model whose term has m groups without data (one row sits in an extra group m), so
    /// that moves of (b, Sigma) must keep Sigma's prior; with its row state, cached as Poisson.
    pub fn prior_only(family: &str, m: usize, q: usize, cov_prior: CovPrior) -> (Model, Rows) {
        let model = Model::new(ModelSpec {
            family: family.into(),
            link: String::new(),
            y: vec![1.0].into(),
            trials: vec![].into(),
            offset: vec![0.0].into(),
            x: vec![].into(),
            p: 0,
            terms: vec![TermSpec { n_groups: m + 1, group: vec![m], z: vec![0.0; q].into(), mean_col: vec![None; q], shadow_col: vec![], cov_prior }],
            fixef_mean: vec![],
            fixef_sd: vec![],
            sigma_df: 1.0,
            sigma_scale: 1.0,
            aux_rate: 1.0,
        })
        .unwrap();
        let mut rows = Rows { cur: RowState::new(1, true), prop: RowState::new(1, true) };
        rows.cur.refresh(&crate::family::Poisson, &model.y, model.trials());
        (model, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn metropolis_decision_accepts_at_the_ratio() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // at least as probable: accepted, and no uniform is drawn
        let before = rng.clone();
        assert!(Move::decide(&mut rng, 0.0).accepted && Move::decide(&mut rng, 2.0).accepted);
        assert_eq!(rng, before);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mv = Move::decide(&mut rng, bad);
            assert!(!mv.accepted && mv.prob() == 0.0);
        }
        // ratio 0.3: 20,000 tries, sd of the share 0.0032, tolerance 4 sd
        let n = 20_000;
        let acc = (0..n).filter(|_| Move::decide(&mut rng, 0.3f64.ln()).accepted).count();
        assert!((acc as f64 / n as f64 - 0.3).abs() < 0.013, "accepted {acc} of {n}");
        assert!((Move::decide(&mut rng, 0.3f64.ln()).prob() - 0.3).abs() < 1e-15);
    }
}
