//! One Markov chain: its state (`state.rs`), the warmup adaptation and its schedule
//! (`adapt.rs`), the sweep (`sweep.rs`) and the storing of kept draws (`store.rs`); here the
//! chain's settings and its loops over iterations (a run, and Geweke's test).

mod adapt;
mod state;
mod store;
mod sweep;

use crate::draws::{ChainDraws, Draws};
use crate::error::Error;
use crate::family::{Family, FamilyVisitor};
use crate::model::Model;
use adapt::{aux_schedule_point, gain, is_curvature_point};
use state::Chain;
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

    pub fn check(&self) -> Result<(), Error> {
        if self.thin == 0 || self.iter <= self.warmup {
            return Err(Error::invalid("iter must exceed warmup and thin must be positive"));
        }
        Ok(())
    }
}

/// Starting values: fixed effects jittered by `jitter_sd` per chain, and the family's extra
/// parameter (gaussian: sigma; neg_binomial_2: phi; Gamma: the shape; ignored by families
/// without one).
#[derive(Clone, Debug)]
pub struct ChainInit {
    pub fixef: Vec<f64>,
    pub jitter_sd: Vec<f64>,
    pub extra: f64,
}

/// What one chain returns besides its draws.
#[derive(Clone, Debug)]
pub struct ChainOutput {
    /// Post-warmup acceptance rate of the joint fixed-effects step (NaN if Gibbs or none).
    pub accept_fixef: f64,
    /// Post-warmup mean acceptance rate of the group steps, per term (NaN where Gibbs).
    pub accept_groups: Vec<f64>,
    /// Post-warmup acceptance rate of the extra parameter's Metropolis proposals (NaN where
    /// Gibbs or none).
    pub accept_extra: f64,
}

/// Where a chain runs: its random stream (stream `chain` of `seed`), its threads for the
/// group steps (1: this one; the draws are the same), the count of its finished iterations
/// for the caller, and the caller's flag to stop it.
#[derive(Clone, Copy, Debug)]
pub struct ChainEnv<'a> {
    pub seed: u64,
    pub chain: u64,
    pub threads: usize,
    pub progress: &'a AtomicUsize,
    pub stop: &'a AtomicBool,
}

/// Runs one chain and writes its kept draws to `draws`; setting `env.stop` ends it early
/// with [`Error::Stopped`].
pub fn run_chain(model: &Model, cfg: ChainConfig, init: &ChainInit, env: ChainEnv, draws: &mut ChainDraws) -> Result<ChainOutput, Error> {
    cfg.check()?;
    if (draws.n_kept(), draws.n_params()) != (cfg.n_kept(), model.n_kept_params(cfg.save_ranef)) {
        return Err(Error::Internal("the draws buffer does not match the number of draws".into()));
    }
    let mut run = |parallel| model.family.visit(Run { model, cfg, init, env, parallel, draws });
    if env.threads > 1 {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(env.threads).build().map_err(|e| Error::Threads(e.to_string()))?;
        return pool.install(|| run(true));
    }
    run(false)
}

/// A chain's run, for one family's type.
struct Run<'a, 'd> {
    model: &'a Model,
    cfg: ChainConfig,
    init: &'a ChainInit,
    env: ChainEnv<'a>,
    /// Update the groups of a term on the current rayon pool.
    parallel: bool,
    draws: &'a mut ChainDraws<'d>,
}

impl FamilyVisitor for Run<'_, '_> {
    type Output = Result<ChainOutput, Error>;

    fn visit<F: Family + Copy>(self, fam: F) -> Self::Output {
        let Run { model, cfg, init, env, parallel, draws } = self;
        let mut c = Chain::new(fam, model, init, env.seed, env.chain, parallel)?;
        for i in 0..cfg.iter {
            if env.stop.load(Ordering::Relaxed) {
                return Err(Error::Stopped);
            }
            let warm = i < cfg.warmup;
            if warm && is_curvature_point(i, cfg.warmup) || (i == 0 && cfg.warmup == 0) {
                c.update_curvature();
            }
            if let Some(end) = aux_schedule_point(i, cfg.warmup) {
                c.choose_aux_every(end);
            }
            if i == cfg.warmup {
                c.reset_acceptance();
            }
            let adapt = warm.then(|| gain(i));
            for _ in 0..cfg.sweeps.max(1) {
                c.sweep(adapt)?;
            }
            if !warm && (i - cfg.warmup) % cfg.thin == 0 {
                c.store(draws, (i - cfg.warmup) / cfg.thin, cfg.save_ranef);
            }
            env.progress.store(i + 1, Ordering::Relaxed);
        }
        Ok(c.output(((cfg.iter - cfg.warmup) * cfg.sweeps.max(1)) as f64))
    }
}

/// Geweke's (2004) successive-conditional simulator: alternates a full sweep with a fresh
/// response drawn given the parameters. Its stationary distribution is the joint prior of
/// parameters and data, so the kept parameter draws must reproduce the prior; a sampler
/// step that targets the wrong conditional shifts them. Warmup adapts as usual.
/// Returns the kept draws, `iter` x n_params, column-major.
#[doc(hidden)]
pub fn geweke(model: &Model, init: &ChainInit, seed: u64, warmup: usize, iter: usize) -> Result<Vec<f64>, Error> {
    model.family.visit(Geweke { model, init, seed, warmup, iter })
}

struct Geweke<'a> {
    model: &'a Model,
    init: &'a ChainInit,
    seed: u64,
    warmup: usize,
    iter: usize,
}

impl FamilyVisitor for Geweke<'_> {
    type Output = Result<Vec<f64>, Error>;

    fn visit<F: Family + Copy>(self, fam: F) -> Self::Output {
        let Geweke { model, init, seed, warmup, iter } = self;
        let mut c = Chain::new(fam, model, init, seed, 0, false)?;
        let mut all = Draws::zeros(iter, 1, model.n_params());
        let mut draws = all.buffer().split().pop().expect("one chain");
        c.y_sim = Some(c.simulate_y());
        c.refresh_cache();
        for i in 0..warmup + iter {
            let warm = i < warmup;
            if warm && is_curvature_point(i, warmup) {
                c.update_curvature();
            }
            c.sweep(warm.then(|| gain(i)))?;
            if !warm {
                c.store(&mut draws, i - warmup, true);
            }
            c.y_sim = Some(c.simulate_y());
            c.refresh_cache();
        }
        Ok(all.values)
    }
}
