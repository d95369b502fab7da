//! Warmup adaptation: the tuning constants, the step sizes' Robbins-Monro updates, the
//! schedule of the proposal curvatures and of the expansion moves.

use super::state::Chain;
use crate::family::Family;
use crate::model::Term;
use crate::steps::block::block_curvature;
use crate::steps::group::{group_curvature, mh_work_len};

/// Gain of the Robbins-Monro updates at warmup iteration i: (i + 1)^-GAIN_DECAY.
const GAIN_DECAY: f64 = 0.6;

/// The adaptation gain of warmup iteration `i`.
pub(super) fn gain(i: usize) -> f64 {
    1.0 / ((i + 1) as f64).powf(GAIN_DECAY)
}

/// Target acceptance of the Langevin steps (near MALA's optimum of 0.57); where the target is
/// met at the largest step (s = 1, independent Laplace draws) the step stays there.
const TARGET_ACCEPT: f64 = 0.6;

/// Target acceptance of the expansion moves (scalings and shears): one-dimensional random
/// walks, whose optimum is 0.44.
const MOVE_TARGET_ACCEPT: f64 = 0.44;

/// Target acceptance of the extra parameter's log-scale random walk (one-dimensional, as
/// the expansion moves).
const EXTRA_TARGET_ACCEPT: f64 = 0.44;

/// Starting log step size of the extra parameter's random walk on the log scale, for n
/// rows: 2.4 posterior sds where the log of a Gamma shape or of a negative binomial phi
/// that the data identify well has sd about sqrt(2/n); at most 1.
pub(super) fn initial_extra_log_step(n: usize) -> f64 {
    (2.4 * (2.0 / n.max(1) as f64).sqrt()).min(1.0).ln()
}

/// Robbins-Monro update of the extra parameter's log step size from the mean acceptance
/// probability of a sweep's proposals.
pub(super) fn adapt_extra_step(ls: &mut f64, gain: f64, prob: f64) {
    *ls += gain * (prob - EXTRA_TARGET_ACCEPT);
}

/// Starting log step size: the full Laplace step.
pub(super) fn initial_log_scale(_d: usize) -> f64 {
    0.0
}

/// Starting log step size of the expansion moves: log 1/2.
pub(super) fn initial_move_log_step() -> f64 {
    (0.5f64).ln()
}

/// Robbins-Monro update of a Langevin log step size, capped at log 1 = 0.
pub(super) fn adapt_log_scale(ls: &mut f64, gain: f64, prob: f64) {
    *ls = (*ls + gain * (prob - TARGET_ACCEPT)).min(0.0);
}

/// Robbins-Monro update of an expansion move's log step size.
pub(super) fn adapt_move_step(ls: &mut f64, gain: f64, prob: f64) {
    *ls += gain * (prob - MOVE_TARGET_ACCEPT);
}

/// A group step's size, adapted on the log scale in warmup; its value is kept beside it, so
/// that steps after warmup do not each pay an exp (a tenth of a one-row group's step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct StepSize {
    pub log: f64,
    pub value: f64,
}

impl StepSize {
    pub fn new(log: f64) -> Self {
        StepSize { log, value: log.exp() }
    }
    pub fn adapt(&mut self, gain: f64, prob: f64) {
        adapt_log_scale(&mut self.log, gain, prob);
        self.value = self.log.exp();
    }
}

/// Scratch values per group step: the metric factor (q x q) and `mh_group`'s.
pub(super) fn group_work_len(q: usize) -> usize {
    q * q + mh_work_len(q)
}

/// Rows per block of group steps: the family is evaluated for a block's proposals at once
/// (see `GroupBlock`). Small enough for a block's rows to stay in the L1 cache between the
/// halves of its steps.
pub(super) const BLOCK_ROWS: usize = 64;

/// Groups per block of term `t`: as many as BLOCK_ROWS rows hold when every group is as
/// large as the largest, at least one.
pub(super) fn block_groups(t: &Term) -> usize {
    let largest = t.ptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(1);
    (BLOCK_ROWS / largest.max(1)).max(1)
}

/// With this many groups a covariance is well identified by the data: the shear moves, a
/// full pass each, are skipped and scaling moves are done once per sweep.
pub(super) const MANY_GROUPS: usize = 200;

/// Where the prior's share f of the group coefficients' precision is small, the expansion
/// moves run only every AUX_SHARE / f sweeps, at most every MAX_AUX_EVERY (`choose_aux_every`).
/// 0.5 leaves terms with f > 0.25 (small binomial and Poisson data) at every sweep; 1.0
/// thinned those too and lost them a third of their ESS/s (cbpp).
const AUX_SHARE: f64 = 0.5;
const MAX_AUX_EVERY: usize = 16;

/// After warmup, a one-coefficient term whose groups get less than this share of their
/// precision from the prior keeps at most 2 scaling moves per sweep: there the funnel is
/// mild and more moves cost more time than they gain ESS (measured on small binomial and
/// Poisson models). Prior-dominated terms keep all: with 2, the crossed bernoulli SBC
/// design mixed too slowly.
const DATA_DOMINATE: f64 = 0.25;

/// Terms with at most this many rows per group get at least 3 scaling moves (`scaling_moves`).
const FEW_ROWS: usize = 4;

/// Scaling moves per component and sweep: few groups make small variances poorly identified
/// (funnels), many make the funnel rare. Each move is a pass over the term's rows. Terms
/// with at most FEW_ROWS rows per group (observation-level terms, small clusters) keep at
/// least 3: their groups' steps cost far more than a pass, and their variances, weakly
/// identified by each group, mixed slowly with one (on grouseticks the INDEX term held back
/// the BROOD and LOCATION variances too; with 3 their min ESS rose by about 70% for 8%
/// more time).
pub(super) fn scaling_moves(m: usize, rows: usize) -> usize {
    let least = if rows <= FEW_ROWS * m { 3 } else { 1 };
    MANY_GROUPS.div_ceil(m.max(1)).clamp(least, 5)
}

/// Warmup iteration of the first choice of the expansion moves' schedule: the group
/// coefficients have left their common start by then (the prior's share f of
/// poisson_100k and the crossed bernoulli model is within 20% of its value at iteration
/// 10; 10 cost those 200-iteration fits 5% more time).
const EARLY_SCHEDULE: usize = 5;

/// Whether iteration `i` chooses the schedule of the expansion moves (`choose_aux_every`):
/// Some(false) in warmup, at iteration EARLY_SCHEDULE and again with every new proposal
/// curvature after it (f moves with Sigma), Some(true) at its end.
pub(super) fn aux_schedule_point(i: usize, warmup: usize) -> Option<bool> {
    if i == warmup {
        Some(true)
    } else if i < warmup && (i == EARLY_SCHEDULE || (i > EARLY_SCHEDULE && is_curvature_point(i, warmup))) {
        Some(false)
    } else {
        None
    }
}

/// Warmup iterations at which proposal curvatures are recomputed from the current state.
pub(super) fn is_curvature_point(i: usize, warmup: usize) -> bool {
    i == 0 || (i < warmup / 2 && i >= 25 && (i / 25).is_power_of_two() && i % 25 == 0)
}

impl<F: Family + Copy> Chain<'_, F> {
    /// Proposal curvatures at the current state (warmup only; Gibbs steps have none).
    pub fn update_curvature(&mut self) {
        let m = self.model;
        let fam = &self.fam;
        if fam.all_gibbs() {
            return;
        }
        for (t, s) in m.terms.iter().zip(self.terms.iter_mut()) {
            let qq = t.q * t.q;
            for j in 0..t.m {
                group_curvature(fam, m.trials(), &self.rows.cur.eta, t.group(j), &mut s.curv[j * qq..(j + 1) * qq]);
            }
        }
        if m.p > 0 {
            let a = self.fixef_block();
            if !block_curvature(fam, a, m.trials(), &self.rows.cur.eta, &mut self.fix_chol) {
                let p = m.p;
                self.fix_chol.iter_mut().for_each(|v| *v = 0.0);
                for c in 0..p {
                    self.fix_chol[c + c * p] = 1.0 / a.prior_sd[c];
                }
            }
        }
    }

    /// The largest share of a group coefficient's posterior precision that comes from the
    /// prior, [(C_j + Sigma^-1)^-1 Sigma^-1]_kk averaged over groups, over terms and
    /// components k (C_j: the group's data curvature).
    pub fn prior_share(&self) -> f64 {
        (0..self.terms.len()).map(|ti| self.term_prior_share(ti)).fold(0.0, f64::max)
    }

    /// `prior_share` of term `ti` alone.
    fn term_prior_share(&self, ti: usize) -> f64 {
        let (t, s) = (&self.model.terms[ti], &self.terms[ti]);
        let (q, qq) = (t.q, t.q * t.q);
        let p = nalgebra::DMatrix::from_column_slice(q, q, &s.cov.prec);
        let mut sum = vec![0.0; q];
        for j in 0..t.m {
            let c = nalgebra::DMatrix::from_column_slice(q, q, &s.curv[j * qq..(j + 1) * qq]);
            let Some(ch) = (c + &p).cholesky() else { return 1.0 };
            let x = ch.solve(&p);
            (0..q).for_each(|k| sum[k] += x[(k, k)]);
        }
        sum.iter().fold(0.0, |a, v| a.max(v / t.m as f64))
    }

    /// Where the data dominate every group (prior share f small), the centred Gibbs steps
    /// alone mix at rate about f (Papaspiliopoulos, Roberts and Skold 2007), so the expansion
    /// moves, and the block step if every fixed effect is centred, each a pass over the data,
    /// run only every min(16, 0.5 / f) sweeps: chosen early in warmup and again as it goes
    /// (`aux_schedule_point`), and fixed at its end (then also fewer scaling moves, see
    /// `DATA_DOMINATE`). It is fixed for all of sampling, so each sweep there leaves the
    /// posterior invariant. All-Gibbs models run them every sweep.
    pub fn choose_aux_every(&mut self, end_of_warmup: bool) {
        if !self.fam.all_gibbs() && !self.model.terms.is_empty() {
            let f = self.prior_share();
            self.aux_every = ((AUX_SHARE / f).floor() as usize).clamp(1, MAX_AUX_EVERY);
            if !end_of_warmup {
                return;
            }
            for ti in 0..self.terms.len() {
                if self.model.terms[ti].q == 1 && self.term_prior_share(ti) < DATA_DOMINATE {
                    let s = &mut self.terms[ti];
                    s.n_scalings = s.n_scalings.min(2);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::ChainInit;
    use crate::dist::std_normal;
    use crate::family::Poisson;
    use crate::model::Model;
    use crate::spec::{CovPrior, ModelSpec, TermSpec};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Poisson counts around 3 in m groups of k rows, random intercepts (sd 0.5).
    pub(crate) fn model(m: usize, k: usize) -> Model {
        let n = m * k;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let b: Vec<f64> = (0..m).map(|_| 0.5 * std_normal(&mut rng)).collect();
        let y = (0..n).map(|i| (1.1 + b[i / k] + 0.3 * std_normal(&mut rng)).exp().round()).collect();
        Model::new(ModelSpec {
            family: "poisson".into(),
            link: String::new(),
            y,
            trials: vec![].into(),
            offset: vec![0.0; n].into(),
            x: vec![1.0; n].into(),
            p: 1,
            terms: vec![TermSpec {
                n_groups: m,
                group: (0..n).map(|i| i / k).collect(),
                z: vec![1.0; n].into(),
                mean_col: vec![Some(0)],
                shadow_col: vec![],
                cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0] },
            }],
            fixef_mean: vec![0.0],
            fixef_sd: vec![2.5],
            sigma_df: 1.0,
            sigma_scale: 1.0,
            aux_rate: 1.0,
        })
        .unwrap()
    }

    /// The prior's share f after a short warmup, the schedule chosen from it, and the
    /// term's scaling moves per sweep.
    fn schedule(m: usize, k: usize) -> (f64, usize, usize) {
        let model = model(m, k);
        let init = ChainInit { fixef: vec![1.0], jitter_sd: vec![0.1], extra: 1.0 };
        let mut c = Chain::new(Poisson, &model, &init, 3, 0, false).unwrap();
        c.update_curvature();
        for _ in 0..50 {
            c.sweep(Some(0.1)).unwrap();
        }
        c.update_curvature();
        c.choose_aux_every(true);
        (c.prior_share(), c.aux_every, c.terms[0].n_scalings)
    }

    #[test]
    fn the_schedule_is_chosen_in_warmup_and_at_its_end() {
        let points: Vec<(usize, bool)> = (0..=1000).filter_map(|i| aux_schedule_point(i, 1000).map(|e| (i, e))).collect();
        let warm = [5, 25, 50, 100, 200, 400].map(|i| (i, false));
        assert_eq!(points, [&warm[..], &[(1000, true)]].concat());
        let short: Vec<usize> = (0..=100).filter(|&i| aux_schedule_point(i, 100).is_some()).collect();
        assert_eq!(short, [5, 25, 100]);
        // no warmup: chosen once, before the first kept draw
        assert_eq!(aux_schedule_point(0, 0), Some(true));
        assert_eq!((0..10).filter(|&i| aux_schedule_point(i, 2).is_some()).count(), 1);
    }

    #[test]
    fn the_gain_and_the_step_updates() {
        assert_eq!(gain(0), 1.0);
        assert_eq!(gain(9).to_bits(), (1.0 / 10f64.powf(0.6)).to_bits());
        let mut ls = -0.1;
        adapt_log_scale(&mut ls, 1.0, 1.0);
        assert_eq!(ls, 0.0, "capped at the full step");
        let mut s = 0.0;
        adapt_move_step(&mut s, 0.5, 0.44);
        assert_eq!(s, 0.0);
    }

    #[test]
    fn expansion_moves_are_thinned_only_where_the_data_dominate() {
        // 100 counts of about 3 per group: curvature about 300 against a prior precision of
        // about 4, so f is about 0.013 and the moves run every 16th sweep
        // (and 2 scaling moves per sweep instead of scaling_moves(50) = 4)
        let (f, every, scalings) = schedule(50, 100);
        assert!(f < 0.05 && every == 16 && scalings == 2, "f = {f}, every = {every}, scalings = {scalings}");
        // 2 counts per group: f is about 0.4, every sweep, all 4 scaling moves
        let (f, every, scalings) = schedule(50, 2);
        assert!(f > 0.25 && every == 1 && scalings == 4, "f = {f}, every = {every}, scalings = {scalings}");
        // many groups of few rows keep 3 (scaling_moves' floor), many of more rows 1
        let (f, _, scalings) = schedule(400, 2);
        assert!(f > 0.25 && scalings == 3, "f = {f}, scalings = {scalings}");
        assert_eq!(scaling_moves(400, 400 * 5), 1);
        assert_eq!(scaling_moves(400, 400 * 4), 3);
    }
}
