//! Running chains: worker threads, the caller's polls (progress, interrupts) and the
//! errors of a run.

use crate::chain::{run_chain, ChainConfig, ChainEnv, ChainInit, ChainOutput};
use crate::draws::{DrawBuffer, Draws};
use crate::error::Error;
use crate::model::Model;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Runs `init.len()` chains on `cores` worker threads; chain c writes its kept draws to
/// chain c of `draws` (shape: `cfg.n_kept()`, chains, `model.n_kept_params(cfg.save_ranef)`).
/// Chain c uses stream `cfg.first_chain + c` of `seed`, so the draws do not depend on
/// `cores` or on how chains are split over calls. `poll` is called on the calling thread
/// about every `poll_ms` milliseconds with each chain's finished iterations; returning false
/// stops all chains, and the result is then an error.
#[allow(clippy::too_many_arguments)]
pub fn run_chains(
    model: &Model,
    cfg: ChainConfig,
    init: &[ChainInit],
    draws: DrawBuffer,
    seed: u64,
    cores: usize,
    poll_ms: u64,
    mut poll: impl FnMut(&[usize]) -> bool,
) -> Result<Vec<ChainOutput>, Error> {
    let chains = init.len();
    if chains == 0 {
        return Err(Error::invalid("chains must be at least 1"));
    }
    cfg.check()?;
    if draws.shape() != (cfg.n_kept(), chains, model.n_kept_params(cfg.save_ranef)) {
        return Err(Error::Internal("the draws buffer does not match the number of draws".into()));
    }
    let progress: Vec<AtomicUsize> = (0..chains).map(|_| AtomicUsize::new(0)).collect();
    let stop = AtomicBool::new(false);
    // the chains still to run, each with its writer
    let queue = Mutex::new(draws.split().into_iter().enumerate());
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<ChainOutput, Error>>>> = Mutex::new((0..chains).map(|_| None).collect());
    let workers = cores.clamp(1, chains);
    // cores beyond one per chain update groups in parallel
    let threads = (cores / chains).max(1);
    let mut interrupted = false;
    // workers wake this thread when they finish (std::thread::scope also does, when the
    // last one exits), so a short run does not wait out a poll
    let caller = std::thread::current();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some((c, mut w)) = queue.lock().unwrap().next() else { break };
                let env = ChainEnv { seed, chain: cfg.first_chain + c as u64, threads, progress: &progress[c], stop: &stop };
                let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_chain(model, cfg, &init[c], env, &mut w)))
                    .unwrap_or(Err(Error::Panicked));
                if out.is_err() {
                    stop.store(true, Ordering::SeqCst);
                }
                results.lock().unwrap()[c] = Some(out);
                done.fetch_add(1, Ordering::SeqCst);
                caller.unpark();
            });
        }
        let mut snapshot = vec![0usize; chains];
        loop {
            let finished = done.load(Ordering::SeqCst) == chains;
            for (s, p) in snapshot.iter_mut().zip(&progress) {
                *s = p.load(Ordering::Relaxed);
            }
            if !interrupted && !poll(&snapshot) {
                interrupted = true;
                stop.store(true, Ordering::SeqCst);
            }
            if finished {
                break;
            }
            std::thread::park_timeout(Duration::from_millis(poll_ms));
        }
    });
    if interrupted {
        return Err(Error::Interrupted);
    }
    let results = results.into_inner().unwrap();
    // report the first real error, not the Stopped of the chains it stopped
    let mut outs = Vec::with_capacity(chains);
    let mut first_err = None;
    for r in results {
        match r {
            Some(Ok(o)) => outs.push(o),
            Some(Err(e)) => {
                if first_err.is_none() || first_err == Some(Error::Stopped) {
                    first_err = Some(e);
                }
            }
            None => first_err = first_err.or(Some(Error::NotFinished)),
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(outs),
    }
}

/// [`run_chains`] into a new [`Draws`] (for Rust callers and tests).
pub fn run_chains_vec(
    model: &Model,
    cfg: ChainConfig,
    init: &[ChainInit],
    seed: u64,
    cores: usize,
    poll_ms: u64,
    poll: impl FnMut(&[usize]) -> bool,
) -> Result<(Draws, Vec<ChainOutput>), Error> {
    cfg.check()?;
    let mut draws = Draws::zeros(cfg.n_kept(), init.len(), model.n_kept_params(cfg.save_ranef));
    let outs = run_chains(model, cfg, init, draws.buffer(), seed, cores, poll_ms, poll)?;
    Ok((draws, outs))
}
