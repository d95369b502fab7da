//! Time per observation per iteration on simulated GLMMs like bench/models.R's poisson_100k
//! and bernoulli_50k_crossed (one chain, this thread), for profiling the sampler alone:
//! `cargo run --release --example speed [iter] [poisson|bernoulli|small|gaussian|tiny|nb|gamma]`
//! (small: a cbpp-sized binomial model with an observation-level term, where a sweep's
//! fixed costs dominate; nb and gamma: like bench/models.R's nb_counts and gamma_times).

use bglmm_sampler::{run_chains_vec, ChainConfig, ChainInit, CovPrior, Model, ModelSpec, TermSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Normal, Poisson};
use std::time::Instant;

fn main() {
    let iter: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let spec = match std::env::args().nth(2).as_deref() {
        Some("bernoulli") => bernoulli(),
        Some("small") => small(),
        Some("gaussian") => gaussian_small(),
        Some("tiny") => gaussian_tiny(),
        Some("nb") => nb_counts(),
        Some("gamma") => gamma_times(),
        _ => poisson(),
    };
    let n = spec.y.len();
    let model = Model::new(spec).unwrap();
    let init = vec![ChainInit { fixef: vec![0.0; model.p], jitter_sd: vec![0.01; model.p], extra: 1.0 }];
    let extra = model.layout(true).iter().position(|p| p == bglmm_sampler::Param::Extra);
    let cfg = ChainConfig { iter, warmup: iter / 2, ..Default::default() };
    let t = Instant::now();
    let (draws, out) = run_chains_vec(&model, cfg, &init, 1, 1, 50, |_| true).unwrap();
    let s = t.elapsed().as_secs_f64();
    let mean = |c: usize| draws.param(c).iter().sum::<f64>() / draws.n_kept as f64;
    let np = model.n_params();
    println!(
        "{iter} iterations: {s:.2} s, {:.1} ns/obs/iter; means: fixef {:.3} {:.3}, last Sigma entry {:.3}{}; accept {:.2} {:?}",
        1e9 * s / (n * iter) as f64,
        mean(0),
        mean(1),
        mean(np - 1),
        extra.map_or(String::new(), |c| format!(", extra {:.3} (accept {:.2})", mean(c), out[0].accept_extra)),
        out[0].accept_fixef,
        out[0].accept_groups
    );
}

fn poisson() -> ModelSpec<'static> {
    let (m, n) = (1000, 100_000);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let z = Normal::new(0.0, 1.0).unwrap();
    let b: Vec<(f64, f64)> = (0..m)
        .map(|_| {
            let (u, v): (f64, f64) = (z.sample(&mut rng), z.sample(&mut rng));
            (0.5 * u, 0.1 * u + 0.28 * v)
        })
        .collect();
    let group: Vec<usize> = (0..n).map(|_| rng.gen_range(0..m)).collect();
    let x: Vec<f64> = (0..n).map(|_| z.sample(&mut rng)).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let (b0, b1) = b[group[i]];
            Poisson::new((0.5 + b0 + (0.3 + b1) * x[i]).exp()).unwrap().sample(&mut rng)
        })
        .collect();
    let mut xm = vec![1.0; n];
    xm.extend_from_slice(&x);
    ModelSpec {
        family: "poisson".into(),
        link: String::new(),
        y: y.into(),
        trials: vec![].into(),
        offset: vec![0.0; n].into(),
        x: xm.clone().into(),
        p: 2,
        terms: vec![TermSpec {
            n_groups: m,
            group,
            z: xm.into(),
            mean_col: vec![Some(0), Some(1)],
            shadow_col: vec![],
            cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![2.5, 2.5] },
        }],
        fixef_mean: vec![0.0, 0.0],
        fixef_sd: vec![2.5, 2.5],
        sigma_df: 1.0,
        sigma_scale: 1.0,
        aux_rate: 1.0,
    }
}

fn bernoulli() -> ModelSpec<'static> {
    let (m1, m2, n) = (500, 100, 50_000);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let z = Normal::new(0.0, 1.0).unwrap();
    let u1: Vec<f64> = (0..m1).map(|_| 0.7 * z.sample(&mut rng)).collect();
    let u2: Vec<f64> = (0..m2).map(|_| 0.4 * z.sample(&mut rng)).collect();
    let g1: Vec<usize> = (0..n).map(|_| rng.gen_range(0..m1)).collect();
    let g2: Vec<usize> = (0..n).map(|_| rng.gen_range(0..m2)).collect();
    let x: Vec<f64> = (0..n).map(|_| z.sample(&mut rng)).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let eta = -0.3 + 0.6 * x[i] + u1[g1[i]] + u2[g2[i]];
            f64::from(u8::from(rng.gen::<f64>() < 1.0 / (1.0 + (-eta).exp())))
        })
        .collect();
    let mut xm = vec![1.0; n];
    xm.extend_from_slice(&x);
    ModelSpec {
        family: "binomial".into(),
        link: String::new(),
        y: y.into(),
        trials: vec![1.0; n].into(),
        offset: vec![0.0; n].into(),
        x: xm.into(),
        p: 2,
        terms: vec![intercept_term(m1, g1, Some(0), None), intercept_term(m2, g2, None, Some(0))],
        fixef_mean: vec![0.0, 0.0],
        fixef_sd: vec![2.5, 2.5],
        sigma_df: 1.0,
        sigma_scale: 1.0,
        aux_rate: 1.0,
    }
}

/// Like lme4's cbpp with `(1 | herd) + (1 | obs)`: 56 rows of binomial counts, 15 herds,
/// four fixed effects (intercept and a three-column factor).
fn small() -> ModelSpec<'static> {
    let (m, n) = (15, 56);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let z = Normal::new(0.0, 1.0).unwrap();
    let herd: Vec<usize> = (0..n).map(|i| i * m / n).collect();
    let u: Vec<f64> = (0..m).map(|_| 0.6 * z.sample(&mut rng)).collect();
    let period: Vec<usize> = (0..n).map(|i| i % 4).collect();
    let trials: Vec<f64> = (0..n).map(|_| f64::from(rng.gen_range(5..25u8))).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let eta = -1.4 + [0.0, -1.0, -1.1, -1.6][period[i]] + u[herd[i]] + 0.4 * z.sample(&mut rng);
            let pr = 1.0 / (1.0 + (-eta).exp());
            (0..trials[i] as usize).filter(|_| rng.gen::<f64>() < pr).count() as f64
        })
        .collect();
    let mut x = vec![1.0; n];
    for c in 1..4 {
        x.extend(period.iter().map(|&k| f64::from(u8::from(k == c))));
    }
    ModelSpec {
        family: "binomial".into(),
        link: String::new(),
        y: y.into(),
        trials: trials.into(),
        offset: vec![0.0; n].into(),
        x: x.into(),
        p: 4,
        terms: vec![intercept_term(m, herd, Some(0), None), intercept_term(n, (0..n).collect(), None, Some(0))],
        fixef_mean: vec![0.0; 4],
        fixef_sd: vec![2.5; 4],
        sigma_df: 1.0,
        sigma_scale: 1.0,
        aux_rate: 1.0,
    }
}

/// Like nlme's Orthodont with `distance ~ age * Sex + (age | Subject)`: 27 subjects measured
/// at ages 8 to 14 (not centred), gaussian, a random slope whose variance is near zero.
fn gaussian_small() -> ModelSpec<'static> {
    let (m, k) = (27, 4);
    let n = m * k;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let z = Normal::new(0.0, 1.0).unwrap();
    let subject: Vec<usize> = (0..n).map(|i| i / k).collect();
    let age: Vec<f64> = (0..n).map(|i| 8.0 + 2.0 * (i % k) as f64).collect();
    let female: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i / k < 11))).collect();
    let u: Vec<f64> = (0..m).map(|_| 1.8 * z.sample(&mut rng)).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| 16.3 + 0.78 * age[i] + female[i] * (1.0 - 0.3 * age[i]) + u[subject[i]] + 1.4 * z.sample(&mut rng))
        .collect();
    let mut x = vec![1.0; n];
    x.extend_from_slice(&age);
    x.extend_from_slice(&female);
    x.extend(age.iter().zip(&female).map(|(a, f)| a * f));
    let mut zm = vec![1.0; n];
    zm.extend_from_slice(&age);
    ModelSpec {
        family: "gaussian".into(),
        link: String::new(),
        y: y.into(),
        trials: vec![].into(),
        offset: vec![0.0; n].into(),
        x: x.into(),
        p: 4,
        terms: vec![TermSpec {
            n_groups: m,
            group: subject,
            z: zm.into(),
            mean_col: vec![Some(0), Some(1)],
            shadow_col: vec![],
            cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![2.9, 1.3] },
        }],
        fixef_mean: vec![0.0; 4],
        fixef_sd: vec![20.0, 2.0, 20.0, 2.0],
        sigma_df: 1.0,
        sigma_scale: 2.9,
        aux_rate: 1.0,
    }
}

/// Like lme4's Dyestuff2 with `Yield ~ 1 + (1 | Batch)`: 6 batches of 5, gaussian, where
/// a sweep is all fixed costs.
fn gaussian_tiny() -> ModelSpec<'static> {
    let (m, k) = (6, 5);
    let n = m * k;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let z = Normal::new(0.0, 1.0).unwrap();
    let batch: Vec<usize> = (0..n).map(|i| i / k).collect();
    let y: Vec<f64> = (0..n).map(|_| 5.7 + 3.7 * z.sample(&mut rng)).collect();
    ModelSpec {
        family: "gaussian".into(),
        link: String::new(),
        y: y.into(),
        trials: vec![].into(),
        offset: vec![0.0; n].into(),
        x: vec![1.0; n].into(),
        p: 1,
        terms: vec![intercept_term(m, batch, Some(0), None)],
        fixef_mean: vec![5.7],
        fixef_sd: vec![9.0],
        sigma_df: 1.0,
        sigma_scale: 3.7,
        aux_rate: 1.0,
    }
}

/// Like bench/models.R's nb_counts: `y ~ x + trt + (1 | g)`, 100 groups of 20,
/// neg_binomial_2 with phi = 3 (log link).
fn nb_counts() -> ModelSpec<'static> {
    let (m, k) = (100, 20);
    let n = m * k;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let z = Normal::new(0.0, 1.0).unwrap();
    let x: Vec<f64> = (0..n).map(|_| z.sample(&mut rng)).collect();
    let trt: Vec<f64> = (0..m).map(|_| f64::from(u8::from(rng.gen::<bool>()))).collect();
    let u: Vec<f64> = (0..m).map(|_| 0.6 * z.sample(&mut rng)).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let mu = (1.0 + 0.4 * x[i] - 0.5 * trt[i / k] + u[i / k]).exp();
            Poisson::new(Gamma::new(3.0, mu / 3.0).unwrap().sample(&mut rng)).map_or(0.0, |d| d.sample(&mut rng))
        })
        .collect();
    let mut xm = vec![1.0; n];
    xm.extend_from_slice(&x);
    xm.extend((0..n).map(|i| trt[i / k]));
    ModelSpec {
        family: "neg_binomial_2".into(),
        link: "log".into(),
        y: y.into(),
        trials: vec![].into(),
        offset: vec![].into(),
        x: xm.into(),
        p: 3,
        terms: vec![intercept_term(m, (0..n).map(|i| i / k).collect(), Some(0), None)],
        fixef_mean: vec![0.0; 3],
        fixef_sd: vec![2.5; 3],
        sigma_df: 1.0,
        sigma_scale: 1.0,
        aux_rate: 1.0,
    }
}

/// Like bench/models.R's gamma_times: `y ~ x + (1 + x | g)`, 100 groups of 20, Gamma with
/// shape 4 (log link).
fn gamma_times() -> ModelSpec<'static> {
    let (m, k) = (100, 20);
    let n = m * k;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let z = Normal::new(0.0, 1.0).unwrap();
    let x: Vec<f64> = (0..n).map(|_| z.sample(&mut rng)).collect();
    let b: Vec<(f64, f64)> = (0..m).map(|_| (0.4 * z.sample(&mut rng), 0.2 * z.sample(&mut rng))).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let (b0, b1) = b[i / k];
            let mu = (2.0 + b0 + (0.3 + b1) * x[i]).exp();
            Gamma::new(4.0, mu / 4.0).unwrap().sample(&mut rng)
        })
        .collect();
    let mut xm = vec![1.0; n];
    xm.extend_from_slice(&x);
    ModelSpec {
        family: "Gamma".into(),
        link: "log".into(),
        y: y.into(),
        trials: vec![].into(),
        offset: vec![].into(),
        x: xm.clone().into(),
        p: 2,
        terms: vec![TermSpec {
            n_groups: m,
            group: (0..n).map(|i| i / k).collect(),
            z: xm.into(),
            mean_col: vec![Some(0), Some(1)],
            shadow_col: vec![],
            cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![2.5, 2.5] },
        }],
        fixef_mean: vec![0.0; 2],
        fixef_sd: vec![2.5; 2],
        sigma_df: 1.0,
        sigma_scale: 1.0,
        aux_rate: 1.0,
    }
}

/// A random intercept over `m` groups, centred on fixed effect `mean_col` or a shadow of
/// `shadow_col`.
fn intercept_term(m: usize, group: Vec<usize>, mean_col: Option<usize>, shadow_col: Option<usize>) -> TermSpec<'static> {
    TermSpec {
        n_groups: m,
        z: vec![1.0; group.len()].into(),
        group,
        mean_col: vec![mean_col],
        shadow_col: vec![shadow_col],
        cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![2.5] },
    }
}
