//! One Markov chain: state, sweep order, warmup adaptation, kept draws.

use crate::dist::std_normal;
use crate::draws::{ChainDraws, Draws};
use crate::model::Model;
use crate::family::{Binomial, Family, Gaussian, Poisson};
use crate::model::{CovPrior, Source};
use crate::rows::{GroupBlock, RowState};
use crate::steps::{self, Block, Group, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Iterations, warmup and thinning; warmup iterations are not kept. Each iteration runs
/// `sweeps` full sweeps of the sampler (more than one where a sweep is cheap).
#[derive(Clone, Copy, Debug)]
pub struct ChainConfig {
    pub iter: usize,
    pub warmup: usize,
    pub thin: usize,
    pub sweeps: usize,
    /// Keep the group coefficients in the draws (they dominate the memory of big fits).
    pub save_ranef: bool,
    /// Random stream of the first chain: chain c of a run uses stream `first_chain + c`, so
    /// chains run one at a time elsewhere (e.g. on other machines) give the same draws.
    pub first_chain: u64,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig { iter: 1000, warmup: 500, thin: 1, sweeps: 1, save_ranef: true, first_chain: 0 }
    }
}

impl ChainConfig {
    /// Kept draws per chain (call [`ChainConfig::check`] first).
    pub fn n_kept(&self) -> usize {
        (self.iter - self.warmup).div_ceil(self.thin)
    }

    pub fn check(&self) -> Result<(), String> {
        if self.thin == 0 || self.iter <= self.warmup {
            return Err("iter must exceed warmup and thin must be positive".into());
        }
        Ok(())
    }
}

/// Starting values: fixed effects jittered by `jitter_sd` per chain, and sigma (gaussian).
#[derive(Clone, Debug)]
pub struct ChainInit {
    pub fixef: Vec<f64>,
    pub jitter_sd: Vec<f64>,
    pub sigma: f64,
}

/// What one chain returns besides its draws.
#[derive(Clone, Debug)]
pub struct ChainOutput {
    /// Post-warmup acceptance rate of the joint fixed-effects step (NaN if Gibbs or none).
    pub accept_fixef: f64,
    /// Post-warmup mean acceptance rate of the group steps, per term (NaN where Gibbs).
    pub accept_groups: Vec<f64>,
}

struct TermState {
    /// Inverse-Wishart df and scale of Sigma's current conditional prior (fixed, or set by
    /// the Huang-Wand auxiliary variances `a`).
    iw_df: f64,
    iw_scale: Vec<f64>,
    a: Vec<f64>,
    /// Log step sizes of the scaling moves, one per component, and of the shear moves, one
    /// per ordered pair of components.
    scale_steps: Vec<f64>,
    shear_steps: Vec<f64>,
    /// Scaling moves per component and sweep (see `scaling_moves`; fewer after warmup where
    /// the data dominate the groups, see `choose_aux_every`).
    n_scalings: usize,
    beta: Vec<f64>,
    theta: Vec<f64>,
    sigma: Vec<f64>,
    prec: Vec<f64>,
    /// Data curvature of each group (frozen after warmup); the metric adds Sigma^-1.
    curv: Vec<f64>,
    /// Each group's step size.
    step_sizes: Vec<StepSize>,
    /// Scratch of each group's step (metric and vectors), so groups can run in parallel.
    work: Vec<f64>,
    /// Groups per block of the Metropolis steps (`block_groups`).
    block: usize,
    accepted: usize,
}

/// Mutable references to two different elements of `v`.
fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert!(a != b, "two_mut: the same element twice");
    if a < b {
        let (lo, hi) = v.split_at_mut(b);
        (&mut lo[a], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(a);
        (&mut hi[0], &mut lo[b])
    }
}

/// Scratch values per group step: the metric factor (q x q) and `mh_group`'s.
fn group_work_len(q: usize) -> usize {
    q * q + steps::mh_work_len(q)
}

/// Rows per block of group steps: the family is evaluated for a block's proposals at once
/// (see `GroupBlock`). Small enough for a block's rows to stay in the L1 cache between the
/// halves of its steps.
const BLOCK_ROWS: usize = 64;

/// Groups per block of term `t`: as many as BLOCK_ROWS rows hold when every group is as
/// large as the largest, at least one.
fn block_groups(t: &crate::model::Term) -> usize {
    let largest = t.ptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(1);
    (BLOCK_ROWS / largest.max(1)).max(1)
}

/// Target acceptance of the Langevin steps (near MALA's optimum of 0.57); where the target is
/// met at the largest step (s = 1, independent Laplace draws) the step stays there.
const TARGET_ACCEPT: f64 = 0.6;

/// Starting log step size: the full Laplace step.
fn initial_log_scale(_d: usize) -> f64 {
    0.0
}

/// With this many groups a covariance is well identified by the data: the shear moves, a
/// full pass each, are skipped and scaling moves are done once per sweep.
const MANY_GROUPS: usize = 200;

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
fn scaling_moves(m: usize, rows: usize) -> usize {
    let least = if rows <= FEW_ROWS * m { 3 } else { 1 };
    MANY_GROUPS.div_ceil(m.max(1)).clamp(least, 5)
}

/// Terms with fewer rows update their groups on one thread: a sweep over them is too short
/// to gain from splitting.
const PARALLEL_MIN_ROWS: usize = 5000;

/// Ordered pairs (k, l), k != l, of a term's components: the shear moves.
fn pairs(q: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..q).flat_map(move |k| (0..q).filter(move |&l| l != k).map(move |l| (k, l)))
}

/// An ordered pair (k, l), k != l, uniformly at random.
fn random_pair<R: Rng>(rng: &mut R, q: usize) -> (usize, usize) {
    let k = rng.gen_range(0..q);
    let l = rng.gen_range(0..q - 1);
    (k, l + usize::from(l >= k))
}

/// Robbins-Monro update of a log step size, capped at log 1 = 0.
fn adapt_log_scale(ls: &mut f64, gain: f64, prob: f64, target: f64) {
    *ls = (*ls + gain * (prob - target)).min(0.0);
}

/// A group step's size, adapted on the log scale in warmup; its value is kept beside it, so
/// that steps after warmup do not each pay an exp (a tenth of a one-row group's step).
#[derive(Clone, Copy, Debug, PartialEq)]
struct StepSize {
    log: f64,
    value: f64,
}

impl StepSize {
    fn new(log: f64) -> Self {
        StepSize { log, value: log.exp() }
    }
    fn adapt(&mut self, gain: f64, prob: f64) {
        adapt_log_scale(&mut self.log, gain, prob, TARGET_ACCEPT);
        self.value = self.log.exp();
    }
}

/// Warmup iteration of the first choice of the expansion moves' schedule: the group
/// coefficients have left their common start by then (the prior's share f of
/// poisson_100k and the crossed bernoulli model is within 20% of its value at iteration
/// 10; 10 cost those 200-iteration fits 5% more time).
const EARLY_SCHEDULE: usize = 5;

/// Whether iteration `i` chooses the schedule of the expansion moves (`choose_aux_every`):
/// Some(false) in warmup, at iteration EARLY_SCHEDULE and again with every new proposal
/// curvature after it (f moves with Sigma), Some(true) at its end.
fn aux_schedule_point(i: usize, warmup: usize) -> Option<bool> {
    if i == warmup {
        Some(true)
    } else if i < warmup && (i == EARLY_SCHEDULE || (i > EARLY_SCHEDULE && is_curvature_point(i, warmup))) {
        Some(false)
    } else {
        None
    }
}

/// Warmup iterations at which proposal curvatures are recomputed from the current state.
fn is_curvature_point(i: usize, warmup: usize) -> bool {
    i == 0 || (i < warmup / 2 && i >= 25 && (i / 25).is_power_of_two() && i % 25 == 0)
}

struct Chain<'a> {
    model: &'a Model,
    rng: ChaCha8Rng,
    /// Fixed effects not centred in any term.
    alpha: Vec<f64>,
    /// Proposal of the joint fixed-effects step.
    fix_chol: Vec<f64>,
    fix_log_scale: f64,
    fix_accepted: usize,
    fix_tried: usize,
    /// All fixed effects before and after the joint step.
    f_old: Vec<f64>,
    f_new: Vec<f64>,
    terms: Vec<TermState>,
    sigma2: f64,
    /// eta with the cached log-likelihood and score per row, and the scratch of proposals.
    rows: RowState,
    prop: RowState,
    /// Update the groups of a term on the chain's rayon pool (the draws are the same).
    parallel: bool,
    /// Log step sizes of the nested scaling moves, one per `Nesting`.
    nest_steps: Vec<f64>,
    /// The non-centred block step and the expansion moves run every `aux_every` sweeps
    /// (every sweep early in warmup; see `choose_aux_every`).
    aux_every: usize,
    n_sweeps: usize,
    work: Vec<f64>,
    /// A simulated response used instead of the model's (Geweke's joint-distribution test).
    y_sim: Option<Vec<f64>>,
}

impl<'a> Chain<'a> {
    fn new(model: &'a Model, init: &ChainInit, seed: u64, chain: u64, parallel: bool) -> Result<Self, String> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(chain);
        let p = model.p;
        if init.fixef.len() != p || init.jitter_sd.len() != p {
            return Err("starting values must have one value per fixed effect".into());
        }
        let start: Vec<f64> = (0..p).map(|c| init.fixef[c] + init.jitter_sd[c] * std_normal(&mut rng)).collect();
        if start.iter().any(|v| !v.is_finite()) {
            return Err("starting values must be finite".into());
        }
        let alpha: Vec<f64> = model.alpha_cols.iter().map(|&c| start[c]).collect();
        let mut terms = Vec::new();
        for t in &model.terms {
            let q = t.q;
            let theta: Vec<f64> = t.mean_col.iter().map(|mc| mc.map_or(0.0, |c| start[c])).collect();
            let beta: Vec<f64> = (0..t.m).flat_map(|_| theta.iter().copied()).collect();
            let (iw_df, iw_scale, a, sigma) = match &t.cov_prior {
                // start Sigma at the prior mode S0 / (nu0 + q + 1)
                CovPrior::InvWishart { df, scale } => {
                    (*df, scale.clone(), vec![], scale.iter().map(|v| v / (df + q as f64 + 1.0)).collect::<Vec<f64>>())
                }
                // start each sd at half its prior scale
                CovPrior::HuangWand { nu, sd_scale } => {
                    let a: Vec<f64> = sd_scale.iter().map(|s| s * s).collect();
                    let mut s0 = vec![0.0; q * q];
                    let mut sig = vec![0.0; q * q];
                    for k in 0..q {
                        s0[k + k * q] = 2.0 * nu / a[k];
                        sig[k + k * q] = 0.25 * sd_scale[k] * sd_scale[k];
                    }
                    (nu + q as f64 - 1.0, s0, a, sig)
                }
            };
            let prec = nalgebra::DMatrix::from_column_slice(q, q, &sigma)
                .try_inverse()
                .ok_or("the inverse-Wishart scale is singular")?;
            terms.push(TermState {
                iw_df,
                iw_scale,
                a,
                scale_steps: vec![(0.5f64).ln(); q],
                shear_steps: vec![(0.5f64).ln(); q * q],
                n_scalings: scaling_moves(t.m, t.rows.len()),
                beta,
                theta,
                sigma,
                prec: prec.as_slice().to_vec(),
                curv: vec![0.0; t.m * q * q],
                step_sizes: vec![StepSize::new(initial_log_scale(q)); t.m],
                work: vec![0.0; t.m * group_work_len(q)],
                block: block_groups(t),
                accepted: 0,
            });
        }
        let qmax = model.terms.iter().map(|t| t.q).max().unwrap_or(0).max(p);
        let cached = !model.family.is_gaussian();
        let mut c = Chain {
            model,
            rng,
            alpha,
            fix_chol: vec![0.0; p * p],
            fix_log_scale: initial_log_scale(p),
            fix_accepted: 0,
            fix_tried: 0,
            f_old: vec![0.0; p],
            f_new: vec![0.0; p],
            terms,
            sigma2: init.sigma * init.sigma,
            rows: RowState::new(model.n, cached),
            prop: RowState::new(model.n, cached),
            parallel,
            aux_every: 1,
            nest_steps: vec![(0.5f64).ln(); model.nested.len()],
            n_sweeps: 0,
            // the group and block steps' scratch, and draw_sigma's 3 q^2
            work: vec![0.0; 3 * qmax * qmax + 7 * qmax + 4],
            y_sim: None,
        };
        c.recompute_eta();
        Ok(c)
    }

    fn recompute_eta(&mut self) {
        let m = self.model;
        let n = m.n;
        let eta = &mut self.rows.eta;
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
                let b = &s.beta[j * q..(j + 1) * q];
                for pos in t.ptr[j]..t.ptr[j + 1] {
                    eta[t.rows[pos]] += crate::linalg::dot(&t.z[pos * q..(pos + 1) * q], b);
                }
            }
        }
        self.refresh_cache();
    }

    /// Recomputes the cached log-likelihood and score (after eta or the response changed).
    fn refresh_cache(&mut self) {
        let m = self.model;
        let y = self.y_sim.as_deref().unwrap_or(&m.y);
        self.rows.refresh(m.family.as_ref(), y, m.trials());
    }

    /// All fixed effects as one block with design X (the non-centred view).
    fn fixef_block(&self) -> Block<'a> {
        let m = self.model;
        Block { w: &m.x, wtw: &m.xtx, prior_mean: &m.fixef_mean, prior_sd: &m.fixef_sd }
    }

    fn fixef_value(&self, c: usize) -> f64 {
        match self.model.fixef_source[c] {
            Source::Alpha(a) => self.alpha[a],
            Source::Theta(t, q) => self.terms[t].theta[q],
        }
    }

    /// Moves every fixed effect by f_new - f_old; a centred one moves its group
    /// coefficients along, so the deviations b_j = beta_j - theta stay as they were.
    fn shift_fixef(&mut self) {
        for c in 0..self.model.p {
            self.shift_one_fixef(c, self.f_new[c] - self.f_old[c]);
        }
    }

    /// Fixed effect c + d, with its group coefficients if it is centred (eta not updated).
    fn shift_one_fixef(&mut self, c: usize, d: f64) {
        match self.model.fixef_source[c] {
            Source::Alpha(a) => self.alpha[a] += d,
            Source::Theta(t, q) => {
                let s = &mut self.terms[t];
                let qt = s.theta.len();
                s.theta[q] += d;
                s.beta.iter_mut().skip(q).step_by(qt).for_each(|b| *b += d);
            }
        }
    }

    /// Proposal curvatures at the current state (warmup only).
    fn update_curvature(&mut self) {
        let m = self.model;
        let fam = m.family.as_ref();
        if fam.is_gaussian() {
            return;
        }
        for (t, s) in m.terms.iter().zip(self.terms.iter_mut()) {
            let qq = t.q * t.q;
            for j in 0..t.m {
                let g = group(t, j);
                steps::group_curvature(fam, m.trials(), &self.rows.eta, g, &mut s.curv[j * qq..(j + 1) * qq]);
            }
        }
        if m.p > 0 {
            let a = self.fixef_block();
            if !steps::block_curvature(fam, a, m.trials(), &self.rows.eta, &mut self.fix_chol) {
                let p = m.p;
                self.fix_chol.iter_mut().for_each(|v| *v = 0.0);
                for c in 0..p {
                    self.fix_chol[c + c * p] = 1.0 / a.prior_sd[c];
                }
            }
        }
    }

    /// One full sweep. `adapt` is Some(gain) during warmup.
    fn sweep(&mut self, adapt: Option<f64>) -> Result<(), String> {
        match self.model.family.name() {
            "gaussian" => self.sweep_with(&Gaussian, adapt),
            "poisson" => self.sweep_with(&Poisson, adapt),
            _ => self.sweep_with(&Binomial, adapt),
        }
    }

    /// The sweep for one family type, so that its density inlines into the row loops.
    fn sweep_with<F: Family>(&mut self, fam: &F, adapt: Option<f64>) -> Result<(), String> {
        let m = self.model;
        let y_sim = self.y_sim.take();
        let y: &[f64] = y_sim.as_deref().unwrap_or(&m.y);
        let resp = Response { y, trials: m.trials() };
        self.n_sweeps += 1;
        let aux = self.n_sweeps % self.aux_every == 0;
        // Fixed effects jointly, non-centred: interweaves with the centred theta step below,
        // and is the only update of fixed effects not centred in a term (every sweep then).
        if m.p > 0 && (aux || !m.alpha_cols.is_empty()) {
            self.fixef_step(fam, resp, adapt);
        }
        self.translate_shadows();
        self.translate_group_level();
        self.translate_nested();
        self.scale_nested(adapt);
        for ti in 0..m.terms.len() {
            self.group_steps(fam, resp, ti, adapt);
            self.hyper_steps(ti)?;
            if aux {
                self.expansion_steps(fam, resp, ti, adapt);
            }
        }
        if fam.is_gaussian() {
            self.sigma2 = steps::draw_sigma2(&mut self.rng, y, &self.rows.eta, m.sigma_df, m.sigma_scale);
        }
        self.y_sim = y_sim;
        // a fold without early exit vectorizes (any() compiles to a branch per row)
        let bad_eta = self.rows.eta.iter().fold(false, |bad, e| bad | !e.is_finite());
        if !self.sigma2.is_finite() || bad_eta {
            return Err("the sampler reached a non-finite state; check the data and prior scales".into());
        }
        Ok(())
    }

    /// All fixed effects as one block (Gibbs or Langevin Metropolis).
    fn fixef_step<F: Family>(&mut self, fam: &F, resp: Response, adapt: Option<f64>) {
        for c in 0..self.model.p {
            self.f_old[c] = self.fixef_value(c);
        }
        self.f_new.copy_from_slice(&self.f_old);
        let a = self.fixef_block();
        if fam.is_gaussian() {
            steps::gibbs_block(&mut self.rng, a, resp.y, &mut self.rows.eta, &mut self.f_new, self.sigma2, &mut self.work);
        } else {
            let mv = steps::mh_block(
                &mut self.rng,
                fam,
                a,
                resp,
                &mut self.rows,
                &mut self.prop,
                &mut self.f_new,
                &self.fix_chol,
                self.fix_log_scale.exp(),
                &mut self.work,
            );
            self.fix_accepted += usize::from(mv.accepted);
            self.fix_tried += 1;
            if let Some(g) = adapt {
                adapt_log_scale(&mut self.fix_log_scale, g, mv.prob(), TARGET_ACCEPT);
            }
        }
        self.shift_fixef();
    }

    /// Every group's coefficients of term `ti`. Metropolis steps draw from a stream of their
    /// own (seeded from the chain's stream and the group), so the draws are the same whether
    /// the groups run one after another or in parallel.
    fn group_steps<F: Family>(&mut self, fam: &F, resp: Response, ti: usize, adapt: Option<f64>) {
        let model = self.model;
        let t = &model.terms[ti];
        let q = t.q;
        let TermState { beta, theta, prec, curv, step_sizes: sizes, work, block, accepted, .. } = &mut self.terms[ti];
        if fam.is_gaussian() {
            for j in 0..t.m {
                let ztz = &t.ztz[j * q * q..(j + 1) * q * q];
                let b = &mut beta[j * q..(j + 1) * q];
                steps::gibbs_group(&mut self.rng, resp.y, &mut self.rows.eta, group(t, j), ztz, b, theta, prec, self.sigma2, &mut self.work);
            }
            return;
        }
        let key: u64 = self.rng.gen();
        let (theta, prec) = (&*theta, &*prec);
        let (qq, wl, size) = (q * q, group_work_len(q), *block);
        // each block: the first half of every group's step, the family for all their
        // proposals, the second halves
        type Item<'g> = (usize, ((GroupBlock<'g>, &'g mut [f64]), (&'g mut [StepSize], (&'g [f64], &'g mut [f64]))));
        let step = |(b, ((mut blk, beta), (ls, (cv, wk)))): Item| -> usize {
            let j0 = b * size;
            for k in 0..blk.len() {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(key.wrapping_add((j0 + k) as u64));
                let (metric, w) = wk[k * wl..(k + 1) * wl].split_at_mut(qq);
                steps::metric_chol(&cv[k * qq..(k + 1) * qq], prec, metric);
                steps::mh_begin(&mut rng, &mut blk.group(k), &beta[k * q..(k + 1) * q], theta, prec, metric, ls[k].value, w);
            }
            let (pe, pl, ps) = blk.prop_slots();
            fam.prepare(pe, pl, ps);
            let mut n_acc = 0;
            for k in 0..blk.len() {
                let (metric, w) = wk[k * wl..(k + 1) * wl].split_at_mut(qq);
                let mv = steps::mh_finish(fam, resp, &mut blk.group(k), &mut beta[k * q..(k + 1) * q], theta, prec, metric, w);
                if let Some(gain) = adapt {
                    ls[k].adapt(gain, mv.prob());
                }
                n_acc += usize::from(mv.accepted);
            }
            n_acc
        };
        let n_acc: usize = if self.parallel && t.rows.len() >= PARALLEL_MIN_ROWS && t.m > 1 {
            let blocks = self.rows.par_blocks(&mut self.prop, t, size).zip(beta.par_chunks_mut(size * q));
            blocks.zip(sizes.par_chunks_mut(size).zip(curv.par_chunks(size * qq).zip(work.par_chunks_mut(size * wl)))).enumerate().map(step).sum()
        } else {
            let blocks = self.rows.blocks(&mut self.prop, t, size).zip(beta.chunks_mut(size * q));
            blocks.zip(sizes.chunks_mut(size).zip(curv.chunks(size * qq).zip(work.chunks_mut(size * wl)))).enumerate().map(step).sum()
        };
        *accepted += n_acc;
    }

    /// theta, then Sigma (and the Huang-Wand variances) of term `ti`: the eta contribution
    /// of beta does not change.
    fn hyper_steps(&mut self, ti: usize) -> Result<(), String> {
        let m = self.model;
        let t = &m.terms[ti];
        let s = &mut self.terms[ti];
        let q = t.q;
        steps::draw_theta(&mut self.rng, &s.beta, q, &s.prec, &t.mean_col, &m.fixef_mean, &m.fixef_sd, &mut s.theta, &mut self.work);
        if !steps::draw_sigma(&mut self.rng, &s.beta, &s.theta, s.iw_df, &s.iw_scale, &mut self.work, &mut s.sigma, &mut s.prec) {
            return Err("the covariance draw was numerically singular; check the scale of the predictors and the prior".into());
        }
        if let CovPrior::HuangWand { nu, sd_scale } = &t.cov_prior {
            steps::draw_hw_a(&mut self.rng, &s.prec, *nu, sd_scale, &mut s.a);
            for k in 0..q {
                s.iw_scale[k + k * q] = 2.0 * nu / s.a[k];
            }
        }
        Ok(())
    }

    /// Parameter-expansion moves of term `ti`: scalings and shears of (b, Sigma), exact
    /// Gibbs draws in the gaussian model, Metropolis steps otherwise.
    fn expansion_steps<F: Family>(&mut self, fam: &F, resp: Response, ti: usize, adapt: Option<f64>) {
        let t = &self.model.terms[ti];
        let s = &mut self.terms[ti];
        let q = t.q;
        if fam.is_gaussian() {
            let y = resp.y;
            if let CovPrior::HuangWand { sd_scale, .. } = &t.cov_prior {
                for k in 0..q {
                    steps::gibbs_scale_component(
                        &mut self.rng,
                        y,
                        &mut self.rows.eta,
                        t,
                        k,
                        &mut s.beta,
                        &s.theta,
                        &mut s.sigma,
                        &mut s.prec,
                        self.sigma2,
                        &mut s.a[k],
                        sd_scale[k],
                        &mut s.iw_scale,
                    );
                }
            }
            for kl in pairs(q) {
                steps::gibbs_shear_component(
                    &mut self.rng,
                    y,
                    &mut self.rows.eta,
                    t,
                    kl,
                    &mut s.beta,
                    &s.theta,
                    &mut s.sigma,
                    &mut s.prec,
                    self.sigma2,
                    &s.iw_scale,
                );
            }
            return;
        }
        for k in (0..q).cycle().take(s.n_scalings * q) {
            let hw = match &t.cov_prior {
                CovPrior::HuangWand { sd_scale, .. } => Some((&mut s.a[k], sd_scale[k])),
                CovPrior::InvWishart { .. } => None,
            };
            let mv = steps::scale_component(
                &mut self.rng,
                fam,
                resp,
                &mut self.rows,
                &mut self.prop,
                t,
                k,
                &mut s.beta,
                &s.theta,
                &mut s.sigma,
                &mut s.prec,
                s.iw_df,
                &mut s.iw_scale,
                hw,
                s.scale_steps[k].exp(),
            );
            if let Some(gm) = adapt {
                s.scale_steps[k] += gm * (mv.prob() - 0.44);
            }
        }
        // every ordered pair for q <= 2; for larger q, q pairs at random: as many passes as
        // the scalings instead of q(q - 1), which mixes better per second (tumor, q = 5)
        let n_shears = if t.m >= MANY_GROUPS { 0 } else if q <= 2 { q * (q - 1) } else { q };
        for r in 0..n_shears {
            let (k, l) = if q <= 2 { (r, 1 - r) } else { random_pair(&mut self.rng, q) };
            let mv = steps::shear_component(
                &mut self.rng,
                fam,
                resp,
                &mut self.rows,
                &mut self.prop,
                t,
                (k, l),
                &mut s.beta,
                &s.theta,
                &mut s.sigma,
                &mut s.prec,
                &s.iw_scale,
                s.shear_steps[k + l * q].exp(),
            );
            if let Some(gm) = adapt {
                s.shear_steps[k + l * q] += gm * (mv.prob() - 0.44);
            }
        }
    }

    /// The largest share of a group coefficient's posterior precision that comes from the
    /// prior, [(C_j + Sigma^-1)^-1 Sigma^-1]_kk averaged over groups, over terms and
    /// components k (C_j: the group's data curvature).
    fn prior_share(&self) -> f64 {
        (0..self.terms.len()).map(|ti| self.term_prior_share(ti)).fold(0.0, f64::max)
    }

    /// `prior_share` of term `ti` alone.
    fn term_prior_share(&self, ti: usize) -> f64 {
        let (t, s) = (&self.model.terms[ti], &self.terms[ti]);
        let (q, qq) = (t.q, t.q * t.q);
        let p = nalgebra::DMatrix::from_column_slice(q, q, &s.prec);
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
    /// posterior invariant.
    fn choose_aux_every(&mut self, end_of_warmup: bool) {
        if !self.model.family.is_gaussian() && !self.model.terms.is_empty() {
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

    /// Exact draws along the directions that leave eta unchanged: fixed effect c (with the
    /// group coefficients centred on it) + delta and deviations b_{t,.,k} - delta, for every
    /// non-centred component k whose column equals fixed column c. delta | rest is normal:
    /// precision 1/sd_c^2 + m P_kk, mean ((mu_c - f_c)/sd_c^2 + (P sum_j b_j)_k) / precision.
    fn translate_shadows(&mut self) {
        let m = self.model;
        for (ti, t) in m.terms.iter().enumerate() {
            for k in 0..t.q {
                let Some(c) = t.shadow_col[k] else { continue };
                let q = t.q;
                let s = &self.terms[ti];
                let mut pb = 0.0;
                for j in 0..t.m {
                    for l in 0..q {
                        pb += s.prec[k + l * q] * (s.beta[j * q + l] - s.theta[l]);
                    }
                }
                let (mu, sd) = (m.fixef_mean[c], m.fixef_sd[c]);
                let h = 1.0 / (sd * sd) + t.m as f64 * s.prec[k + k * q];
                let mean = ((mu - self.fixef_value(c)) / (sd * sd) + pb) / h;
                let delta = mean + std_normal(&mut self.rng) / h.sqrt();
                self.f_new.iter_mut().for_each(|v| *v = 0.0);
                self.f_old.iter_mut().for_each(|v| *v = 0.0);
                self.f_new[c] = delta;
                self.shift_fixef();
                let s = &mut self.terms[ti];
                s.beta.iter_mut().skip(k).step_by(q).for_each(|b| *b -= delta);
            }
        }
    }

    /// Exact draws along the directions that leave eta unchanged for group-level predictors
    /// (`GroupLevel`): alpha_c + delta, intercept deviations - delta (w_j - wbar), and the
    /// intercept fixed effect c0 - delta wbar (with the intercepts it centres). Centring w
    /// keeps the move from fighting the intercept: with wbar far from 0 (an age, a baseline
    /// score) alpha_c and the intercept are otherwise strongly correlated. delta | rest is
    /// normal: precision 1/sd_c^2 + P_kk sum_j u_j^2 + wbar^2/sd_c0^2, u_j = w_j - wbar, mean
    /// ((mu_c - alpha_c)/sd_c^2 + sum_j u_j (P d_j)_k + wbar (f_c0 - mu_c0)/sd_c0^2) /
    /// precision, d_j = beta_j - theta.
    fn translate_group_level(&mut self) {
        let m = self.model;
        for (ti, t) in m.terms.iter().enumerate() {
            let q = t.q;
            for gl in &t.group_level {
                let (c, k) = (gl.col, gl.k);
                let Source::Alpha(a) = m.fixef_source[c] else { continue };
                let s = &self.terms[ti];
                let mut pb = 0.0;
                for (j, &w) in gl.w.iter().enumerate() {
                    for l in 0..q {
                        pb += (w - gl.wbar) * s.prec[k + l * q] * (s.beta[j * q + l] - s.theta[l]);
                    }
                }
                let (mu, sd) = (m.fixef_mean[c], m.fixef_sd[c]);
                let mut h = 1.0 / (sd * sd) + s.prec[k + k * q] * gl.su2;
                let mut lin = (mu - self.alpha[a]) / (sd * sd) + pb;
                if let Some(c0) = gl.intercept {
                    let (mu0, sd0) = (m.fixef_mean[c0], m.fixef_sd[c0]);
                    h += gl.wbar * gl.wbar / (sd0 * sd0);
                    lin += gl.wbar * (self.fixef_value(c0) - mu0) / (sd0 * sd0);
                }
                let delta = lin / h + std_normal(&mut self.rng) / h.sqrt();
                self.alpha[a] += delta;
                let s = &mut self.terms[ti];
                for (j, &w) in gl.w.iter().enumerate() {
                    s.beta[j * q + k] -= delta * (w - gl.wbar);
                }
                if let Some(c0) = gl.intercept {
                    self.shift_one_fixef(c0, -delta * gl.wbar);
                }
            }
        }
    }

    /// Exact draws along the directions that leave eta unchanged in nested terms
    /// (`Nesting`): outer intercept k + delta_k, intercepts of the inner groups in k - delta_k.
    /// delta_k | rest is normal: precision P_o,kk + n_k P_i,kk, mean
    /// (-(P_o d_k)_k + sum_j (P_i d_j)_k) / precision, d = beta - theta, n_k inner groups.
    fn translate_nested(&mut self) {
        let m = self.model;
        for nest in &m.nested {
            let (ti, to) = (&m.terms[nest.inner], &m.terms[nest.outer]);
            let (qi, qo, ki, ko) = (ti.q, to.q, nest.k_in, nest.k_out);
            for k in 0..to.m {
                let kids = &nest.children[nest.child_ptr[k]..nest.child_ptr[k + 1]];
                let (si, so) = (&self.terms[nest.inner], &self.terms[nest.outer]);
                let mut lin = 0.0;
                for l in 0..qo {
                    lin -= so.prec[ko + l * qo] * (so.beta[k * qo + l] - so.theta[l]);
                }
                for &j in kids {
                    for l in 0..qi {
                        lin += si.prec[ki + l * qi] * (si.beta[j * qi + l] - si.theta[l]);
                    }
                }
                let h = so.prec[ko + ko * qo] + kids.len() as f64 * si.prec[ki + ki * qi];
                let delta = lin / h + std_normal(&mut self.rng) / h.sqrt();
                self.terms[nest.outer].beta[k * qo + ko] += delta;
                let si = &mut self.terms[nest.inner];
                for &j in kids {
                    si.beta[j * qi + ki] -= delta;
                }
            }
        }
    }

    /// The scaling move of each nested pair's outer intercept against its inner groups
    /// (`steps::scale_nested`): cheap, so every sweep.
    fn scale_nested(&mut self, adapt: Option<f64>) {
        let m = self.model;
        for (ni, nest) in m.nested.iter().enumerate() {
            let (to, q_in) = (&m.terms[nest.outer], m.terms[nest.inner].q);
            let (so, si) = two_mut(&mut self.terms, nest.outer, nest.inner);
            let hw = match &to.cov_prior {
                CovPrior::HuangWand { sd_scale, .. } => Some((&mut so.a[nest.k_out], sd_scale[nest.k_out])),
                CovPrior::InvWishart { .. } => None,
            };
            let inner = steps::NestSide { beta: &mut si.beta, theta: &si.theta, prec: &si.prec };
            let mv = steps::scale_nested(
                &mut self.rng,
                to,
                nest,
                &mut so.beta,
                &so.theta,
                &mut so.sigma,
                &mut so.prec,
                so.iw_df,
                &mut so.iw_scale,
                hw,
                inner,
                q_in,
                self.nest_steps[ni].exp(),
            );
            if let Some(gm) = adapt {
                self.nest_steps[ni] += gm * (mv.prob() - 0.44);
            }
        }
    }

    /// Writes the current state as kept draw `k`; the group coefficients only if `ranef`.
    fn store(&self, draws: &mut ChainDraws, k: usize, ranef: bool) {
        let m = self.model;
        let mut col = 0;
        let mut put = |v: f64| {
            draws.set(k, col, v);
            col += 1;
        };
        for c in 0..m.p {
            put(self.fixef_value(c));
        }
        for (t, s) in m.terms.iter().zip(&self.terms).filter(|_| ranef) {
            for j in 0..t.m {
                for q in 0..t.q {
                    put(s.beta[j * t.q + q] - s.theta[q]);
                }
            }
        }
        if m.family.is_gaussian() {
            put(self.sigma2.sqrt());
        }
        for (t, s) in m.terms.iter().zip(&self.terms) {
            for c in 0..t.q {
                for r in c..t.q {
                    put(s.sigma[r + c * t.q]);
                }
            }
        }
    }
}

impl Chain<'_> {
    /// A response drawn from the model given the current state (Geweke's test).
    fn simulate_y(&mut self) -> Vec<f64> {
        use rand_distr::{Binomial, Distribution, Poisson};
        let m = self.model;
        (0..m.n)
            .map(|i| {
                let e = self.rows.eta[i];
                match m.family.name() {
                    "gaussian" => e + self.sigma2.sqrt() * std_normal(&mut self.rng),
                    "poisson" => Poisson::new(e.exp().max(1e-300)).map_or(0.0, |d| d.sample(&mut self.rng)),
                    _ => {
                        let p = 1.0 / (1.0 + (-e).exp());
                        Binomial::new(m.trials()[i] as u64, p).map_or(0.0, |d| d.sample(&mut self.rng) as f64)
                    }
                }
            })
            .collect()
    }
}

/// Geweke's (2004) successive-conditional simulator: alternates a full sweep with a fresh
/// response drawn given the parameters. Its stationary distribution is the joint prior of
/// parameters and data, so the kept parameter draws must reproduce the prior; a sampler
/// step that targets the wrong conditional shifts them. Warmup adapts as usual.
/// Returns the kept draws, `iter` x n_params, column-major.
#[doc(hidden)]
pub fn geweke(model: &Model, init: &ChainInit, seed: u64, warmup: usize, iter: usize) -> Result<Vec<f64>, String> {
    let mut c = Chain::new(model, init, seed, 0, false)?;
    let mut all = Draws::zeros(iter, 1, model.n_params());
    let mut draws = all.buffer().split().pop().expect("one chain");
    c.y_sim = Some(c.simulate_y());
    c.refresh_cache();
    for i in 0..warmup + iter {
        let warm = i < warmup;
        if warm && is_curvature_point(i, warmup) {
            c.update_curvature();
        }
        c.sweep(if warm { Some(1.0 / ((i + 1) as f64).powf(0.6)) } else { None })?;
        if !warm {
            c.store(&mut draws, i - warmup, true);
        }
        c.y_sim = Some(c.simulate_y());
        c.refresh_cache();
    }
    Ok(all.values)
}

fn group(t: &crate::model::Term, j: usize) -> Group<'_> {
    let (a, b) = (t.ptr[j], t.ptr[j + 1]);
    Group { rows: &t.rows[a..b], z: &t.z[a * t.q..b * t.q] }
}

/// Runs one chain, updating the groups of each term on `threads` threads (1: on this one;
/// the draws are the same), and writes its kept draws to `draws`. `progress` receives the
/// number of finished iterations; setting `stop` ends the chain early with an error.
#[allow(clippy::too_many_arguments)]
pub fn run_chain(
    model: &Model,
    cfg: ChainConfig,
    init: &ChainInit,
    seed: u64,
    chain: u64,
    threads: usize,
    progress: &AtomicUsize,
    stop: &AtomicBool,
    draws: &mut ChainDraws,
) -> Result<ChainOutput, String> {
    cfg.check()?;
    if (draws.n_kept(), draws.n_params()) != (cfg.n_kept(), model.n_kept_params(cfg.save_ranef)) {
        return Err("internal: the draws buffer does not match the number of draws".into());
    }
    if threads > 1 {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| format!("could not start threads: {e}"))?;
        return pool.install(|| chain_loop(model, cfg, init, seed, chain, true, progress, stop, draws));
    }
    chain_loop(model, cfg, init, seed, chain, false, progress, stop, draws)
}

#[allow(clippy::too_many_arguments)]
fn chain_loop(
    model: &Model,
    cfg: ChainConfig,
    init: &ChainInit,
    seed: u64,
    chain: u64,
    parallel: bool,
    progress: &AtomicUsize,
    stop: &AtomicBool,
    draws: &mut ChainDraws,
) -> Result<ChainOutput, String> {
    let mut c = Chain::new(model, init, seed, chain, parallel)?;
    for i in 0..cfg.iter {
        if stop.load(Ordering::Relaxed) {
            return Err("sampling was interrupted".into());
        }
        let warm = i < cfg.warmup;
        if warm && is_curvature_point(i, cfg.warmup) || (i == 0 && cfg.warmup == 0) {
            c.update_curvature();
        }
        if let Some(end) = aux_schedule_point(i, cfg.warmup) {
            c.choose_aux_every(end);
        }
        if i == cfg.warmup {
            c.fix_accepted = 0;
            c.fix_tried = 0;
            c.terms.iter_mut().for_each(|t| t.accepted = 0);
        }
        let adapt = if warm { Some(1.0 / ((i + 1) as f64).powf(0.6)) } else { None };
        for _ in 0..cfg.sweeps.max(1) {
            c.sweep(adapt)?;
        }
        if !warm && (i - cfg.warmup) % cfg.thin == 0 {
            c.store(draws, (i - cfg.warmup) / cfg.thin, cfg.save_ranef);
        }
        progress.store(i + 1, Ordering::Relaxed);
    }
    let kept_iter = ((cfg.iter - cfg.warmup) * cfg.sweeps.max(1)) as f64;
    let gaussian = model.family.is_gaussian();
    let accept_fixef = if gaussian || model.p == 0 { f64::NAN } else { c.fix_accepted as f64 / c.fix_tried.max(1) as f64 };
    let accept_groups = model
        .terms
        .iter()
        .zip(&c.terms)
        .map(|(t, s)| if gaussian { f64::NAN } else { s.accepted as f64 / (kept_iter * t.m as f64) })
        .collect();
    Ok(ChainOutput { accept_fixef, accept_groups })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelSpec, TermSpec};

    /// Poisson counts around 3 in m groups of k rows, random intercepts (sd 0.5).
    fn model(m: usize, k: usize) -> Model {
        let n = m * k;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let b: Vec<f64> = (0..m).map(|_| 0.5 * std_normal(&mut rng)).collect();
        let y = (0..n).map(|i| (1.1 + b[i / k] + 0.3 * std_normal(&mut rng)).exp().round()).collect();
        Model::new(ModelSpec {
            family: "poisson".into(),
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
        })
        .unwrap()
    }

    /// The prior's share f after a short warmup, the schedule chosen from it, and the
    /// term's scaling moves per sweep.
    fn schedule(m: usize, k: usize) -> (f64, usize, usize) {
        let model = model(m, k);
        let init = ChainInit { fixef: vec![1.0], jitter_sd: vec![0.1], sigma: 1.0 };
        let mut c = Chain::new(&model, &init, 3, 0, false).unwrap();
        c.update_curvature();
        for _ in 0..50 {
            c.sweep(Some(0.1)).unwrap();
        }
        c.update_curvature();
        c.choose_aux_every(true);
        (c.prior_share(), c.aux_every, c.terms[0].n_scalings)
    }

    /// Group steps in blocks give the draws of one group at a time: the model's nested
    /// intercepts (contiguous rows, groups of 2) and a crossed intercept-and-slope term
    /// (gathered rows, q = 2, groups of 6), with warmup adaptation and after it.
    #[test]
    fn blocks_of_group_steps_do_not_change_the_draws() {
        let base = model(21, 2);
        let n = base.n;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let x: Vec<f64> = (0..n).map(|_| std_normal(&mut rng)).collect();
        let mut z = vec![1.0; n];
        z.extend_from_slice(&x);
        let spec = ModelSpec {
            family: "poisson".into(),
            y: base.y.clone().into(),
            trials: vec![].into(),
            offset: vec![0.0; n].into(),
            x: vec![1.0; n].into(),
            p: 1,
            terms: vec![
                TermSpec {
                    n_groups: 21,
                    group: (0..n).map(|i| i / 2).collect(),
                    z: vec![1.0; n].into(),
                    mean_col: vec![Some(0)],
                    shadow_col: vec![],
                    cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0] },
                },
                TermSpec {
                    n_groups: 7,
                    group: (0..n).map(|i| i % 7).collect(),
                    z: z.into(),
                    mean_col: vec![None, None],
                    shadow_col: vec![],
                    cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0, 1.0] },
                },
            ],
            fixef_mean: vec![0.0],
            fixef_sd: vec![2.5],
            sigma_df: 1.0,
            sigma_scale: 1.0,
        };
        let model = Model::new(spec).unwrap();
        let init = ChainInit { fixef: vec![1.0], jitter_sd: vec![0.1], sigma: 1.0 };
        let (mut a, mut b) = (Chain::new(&model, &init, 4, 0, false).unwrap(), Chain::new(&model, &init, 4, 0, false).unwrap());
        assert_eq!((a.terms[0].block, a.terms[1].block), (BLOCK_ROWS / 2, BLOCK_ROWS / 6));
        b.terms.iter_mut().for_each(|t| t.block = 1);
        for it in 0..60 {
            let adapt = (it < 30).then_some(0.1);
            a.sweep(adapt).unwrap();
            b.sweep(adapt).unwrap();
        }
        for (ta, tb) in a.terms.iter().zip(&b.terms) {
            assert!(ta.accepted > 0 && ta.accepted == tb.accepted);
            assert_eq!(ta.beta.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), tb.beta.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
            assert_eq!(ta.step_sizes, tb.step_sizes);
        }
        assert_eq!(a.rows.eta, b.rows.eta);
        assert_eq!(a.rows.ll, b.rows.ll);
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
