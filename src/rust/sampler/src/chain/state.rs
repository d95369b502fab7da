//! A chain's state: the parameters, the row state, the step sizes it adapts, and its scratch.

use super::adapt::{block_groups, group_work_len, initial_extra_log_step, initial_log_scale, initial_move_log_step, scaling_moves, StepSize};
use super::ChainOutput;
use crate::dist::std_normal;
use crate::error::Error;
use crate::family::Family;
use crate::model::{Model, Source};
use crate::params::{Coefs, CovState};
use crate::rows::Rows;
use crate::steps::block::Block;
use crate::steps::extra::ExtraState;
use crate::steps::Gauss;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A term's parameters and what its steps adapt and use.
pub(super) struct TermState {
    pub coefs: Coefs,
    pub cov: CovState,
    /// Log step sizes of the scaling moves, one per component, and of the shear moves, one
    /// per ordered pair of components.
    pub scale_steps: Vec<f64>,
    pub shear_steps: Vec<f64>,
    /// Scaling moves per component and sweep (see `scaling_moves`; fewer after warmup where
    /// the data dominate the groups, see `choose_aux_every`).
    pub n_scalings: usize,
    /// Data curvature of each group (frozen after warmup); the metric adds Sigma^-1.
    pub curv: Vec<f64>,
    /// Each group's step size.
    pub step_sizes: Vec<StepSize>,
    /// Scratch of each group's step (metric and vectors), so groups can run in parallel.
    pub work: Vec<f64>,
    /// Groups per block of the Metropolis steps (`block_groups`).
    pub block: usize,
    pub accepted: usize,
}

/// One chain of family `F` on `model`.
pub(super) struct Chain<'a, F> {
    pub fam: F,
    pub model: &'a Model,
    pub rng: ChaCha8Rng,
    /// Fixed effects not centred in any term.
    pub alpha: Vec<f64>,
    /// Proposal of the joint fixed-effects step.
    pub fix_chol: Vec<f64>,
    pub fix_log_scale: f64,
    pub fix_accepted: usize,
    pub fix_tried: usize,
    /// All fixed effects before and after the joint step.
    pub f_old: Vec<f64>,
    pub f_new: Vec<f64>,
    pub terms: Vec<TermState>,
    /// The state of the family's extra parameter (gaussian: sigma^2; see `Family::extra_start`);
    /// `fam` carries it (`Family::with_extra`).
    pub extra: f64,
    /// What its step keeps between sweeps: step size, acceptance, statistics of the response.
    pub extra_state: ExtraState,
    /// eta with the cached log-likelihood and score per row, and the scratch of proposals.
    pub rows: Rows,
    /// Update the groups of a term on the chain's rayon pool (the draws are the same).
    pub parallel: bool,
    /// Log step sizes of the nested scaling moves, one per `Nesting`.
    pub nest_steps: Vec<f64>,
    /// The non-centred block step and the expansion moves run every `aux_every` sweeps
    /// (every sweep early in warmup; see `choose_aux_every`).
    pub aux_every: usize,
    pub n_sweeps: usize,
    pub work: Vec<f64>,
    /// A simulated response used instead of the model's (Geweke's joint-distribution test).
    pub y_sim: Option<Vec<f64>>,
}

/// Mutable references to two different elements of `v`.
pub(super) fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert!(a != b, "two_mut: the same element twice");
    if a < b {
        let (lo, hi) = v.split_at_mut(b);
        (&mut lo[a], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(a);
        (&mut hi[0], &mut lo[b])
    }
}

impl<'a, F: Family + Copy> Chain<'a, F> {
    /// The chain on stream `chain` of `seed`, at the jittered starting values (group
    /// coefficients at their means). Where the log-likelihood is not finite there (means
    /// outside the link's range), it starts without the jitter; if it is still not finite,
    /// the model is invalid.
    pub fn new(fam: F, model: &'a Model, init: &super::ChainInit, seed: u64, chain: u64, parallel: bool) -> Result<Self, Error> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(chain);
        let p = model.p;
        if init.fixef.len() != p || init.jitter_sd.len() != p {
            return Err(Error::invalid("starting values must have one value per fixed effect"));
        }
        let start: Vec<f64> = (0..p).map(|c| init.fixef[c] + init.jitter_sd[c] * std_normal(&mut rng)).collect();
        if start.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid("starting values must be finite"));
        }
        let mut terms = Vec::new();
        for t in &model.terms {
            let q = t.q;
            terms.push(TermState {
                coefs: Coefs::at_mean(vec![0.0; q], 0),
                cov: CovState::start(&t.cov_prior, q)?,
                scale_steps: vec![initial_move_log_step(); q],
                shear_steps: vec![initial_move_log_step(); q * q],
                n_scalings: scaling_moves(t.m, t.rows.len()),
                curv: vec![0.0; t.m * q * q],
                step_sizes: vec![StepSize::new(initial_log_scale(q)); t.m],
                work: vec![0.0; t.m * group_work_len(q)],
                block: block_groups(t),
                accepted: 0,
            });
        }
        let qmax = model.terms.iter().map(|t| t.q).max().unwrap_or(0).max(p);
        let extra = fam.extra_start(init.extra);
        let mut c = Chain {
            fam: fam.with_extra(extra),
            model,
            rng,
            alpha: vec![],
            fix_chol: vec![0.0; p * p],
            fix_log_scale: initial_log_scale(p),
            fix_accepted: 0,
            fix_tried: 0,
            f_old: vec![0.0; p],
            f_new: vec![0.0; p],
            terms,
            extra,
            extra_state: ExtraState::new(initial_extra_log_step(model.n)),
            // Gibbs steps need no cached log-likelihood
            rows: Rows::new(model.n, !fam.all_gibbs()),
            parallel,
            aux_every: 1,
            nest_steps: vec![initial_move_log_step(); model.nested.len()],
            n_sweeps: 0,
            // the group and block steps' scratch, and draw_sigma's 3 q^2
            work: vec![0.0; 3 * qmax * qmax + 7 * qmax + 4],
            y_sim: None,
        };
        c.start_at(&start);
        if !c.rows.cur.loglik().is_finite() {
            c.start_at(&init.fixef);
            if !c.rows.cur.loglik().is_finite() {
                let (fam, link) = (model.family.family(), model.family.link());
                return Err(Error::invalid(format!(
                    "the starting values give means outside the range of the {} family's {} link (the log-likelihood is not finite there): start the fixed effects where every mean is valid",
                    fam.name(),
                    link.name()
                )));
            }
        }
        Ok(c)
    }

    /// Fixed effects at `start`, every group's coefficients at their means, eta and the
    /// row cache from them.
    fn start_at(&mut self, start: &[f64]) {
        let m = self.model;
        self.alpha = m.alpha_cols.iter().map(|&c| start[c]).collect();
        for (t, s) in m.terms.iter().zip(self.terms.iter_mut()) {
            let theta: Vec<f64> = t.mean_col.iter().map(|mc| mc.map_or(0.0, |c| start[c])).collect();
            s.coefs = Coefs::at_mean(theta, t.m);
        }
        self.recompute_eta();
    }

    fn recompute_eta(&mut self) {
        let m = self.model;
        let n = m.n;
        let eta = &mut self.rows.cur.eta;
        if m.offset.is_empty() {
            eta.fill(0.0);
        } else {
            eta.copy_from_slice(&m.offset);
        }
        for (a, &c) in self.alpha.iter().zip(&m.alpha_cols) {
            for i in 0..n {
                eta[i] += a * m.x[c * n + i];
            }
        }
        for (t, s) in m.terms.iter().zip(&self.terms) {
            let q = t.q;
            for j in 0..t.m {
                let b = &s.coefs.beta[j * q..(j + 1) * q];
                for pos in t.ptr[j]..t.ptr[j + 1] {
                    eta[t.rows[pos]] += crate::linalg::dot(&t.z[pos * q..(pos + 1) * q], b);
                }
            }
        }
        self.refresh_cache();
    }

    /// Recomputes the cached log-likelihood and score, and what the extra parameter's step
    /// keeps of the response (after eta or the response changed).
    pub fn refresh_cache(&mut self) {
        let m = self.model;
        let y = self.y_sim.as_deref().unwrap_or(&m.y);
        self.rows.cur.refresh(&self.fam, y, m.trials());
        self.fam.observe_response(y, &mut self.extra_state);
    }

    /// The normal-linear model's data for its Gibbs steps: its residual variance is the
    /// family's extra parameter.
    pub fn gauss<'y>(&self, y: &'y [f64]) -> Gauss<'y> {
        Gauss { y, sigma2: self.extra }
    }

    /// All fixed effects as one block with design X (the non-centred view).
    pub fn fixef_block(&self) -> Block<'a> {
        let m = self.model;
        Block { w: &m.x, wtw: &m.xtx, prior_mean: &m.fixef_mean, prior_sd: &m.fixef_sd }
    }

    pub fn fixef_value(&self, c: usize) -> f64 {
        match self.model.fixef_source[c] {
            Source::Alpha(a) => self.alpha[a],
            Source::Theta(t, q) => self.terms[t].coefs.theta[q],
        }
    }

    /// Moves every fixed effect by f_new - f_old; a centred one moves its group
    /// coefficients along, so the deviations b_j = beta_j - theta stay as they were.
    pub fn shift_fixef(&mut self) {
        for c in 0..self.model.p {
            self.shift_one_fixef(c, self.f_new[c] - self.f_old[c]);
        }
    }

    /// Fixed effect c + d, with its group coefficients if it is centred (eta not updated).
    pub fn shift_one_fixef(&mut self, c: usize, d: f64) {
        match self.model.fixef_source[c] {
            Source::Alpha(a) => self.alpha[a] += d,
            Source::Theta(t, q) => {
                let s = &mut self.terms[t].coefs;
                let qt = s.theta.len();
                s.theta[q] += d;
                s.beta.iter_mut().skip(q).step_by(qt).for_each(|b| *b += d);
            }
        }
    }

    /// A response drawn from the model given the current state (Geweke's test).
    pub fn simulate_y(&mut self) -> Vec<f64> {
        let m = self.model;
        (0..m.n).map(|i| self.fam.simulate(&mut self.rng, self.rows.cur.eta[i], m.trials()[i], self.extra)).collect()
    }

    /// Acceptance counts start again (at the end of warmup).
    pub fn reset_acceptance(&mut self) {
        self.fix_accepted = 0;
        self.fix_tried = 0;
        self.terms.iter_mut().for_each(|t| t.accepted = 0);
        self.extra_state.tried = 0;
        self.extra_state.accepted = 0;
    }

    /// Acceptance rates after `kept_sweeps` sweeps of sampling (NaN for Gibbs steps).
    pub fn output(&self, kept_sweeps: f64) -> ChainOutput {
        let (model, gibbs) = (self.model, self.fam.all_gibbs());
        let accept_fixef = if gibbs || model.p == 0 { f64::NAN } else { self.fix_accepted as f64 / self.fix_tried.max(1) as f64 };
        let accept_groups = model
            .terms
            .iter()
            .zip(&self.terms)
            .map(|(t, s)| if gibbs { f64::NAN } else { s.accepted as f64 / (kept_sweeps * t.m as f64) })
            .collect();
        let st = &self.extra_state;
        let accept_extra = if st.tried == 0 { f64::NAN } else { st.accepted as f64 / st.tried as f64 };
        ChainOutput { accept_fixef, accept_groups, accept_extra }
    }
}
