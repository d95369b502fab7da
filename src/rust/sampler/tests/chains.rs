//! Whole-sampler tests: reproducibility, interrupts, and recovery of known parameters.

use bglmm_sampler::{run_chains, run_chains_vec, ChainConfig, ChainInit, CovPrior, DrawBuffer, Draws, Error, ErrorKind, Model, ModelSpec, Param, TermSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Normal, Poisson};

/// y_ij ~ family(theta0 + theta1 x_ij + b_j0 + b_j1 x_ij), (b_j0, b_j1) ~ N(0, Sigma),
/// with m groups of k rows; rows are shuffled so that the sampler must sort them. `sigma`
/// is the family's extra parameter (gaussian sigma, neg_binomial_2 phi, Gamma shape; log
/// link for the last two).
fn simulate(family: &str, m: usize, k: usize, theta: [f64; 2], sd: [f64; 2], rho: f64, sigma: f64, seed: u64) -> ModelSpec<'static> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = m * k;
    let z = Normal::new(0.0, 1.0).unwrap();
    let b: Vec<[f64; 2]> = (0..m)
        .map(|_| {
            let (u, v): (f64, f64) = (z.sample(&mut rng), z.sample(&mut rng));
            [sd[0] * u, sd[1] * (rho * u + (1.0 - rho * rho).sqrt() * v)]
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    let (mut y, mut x1, mut group) = (vec![0.0; n], vec![0.0; n], vec![0usize; n]);
    for (r, &i) in order.iter().enumerate() {
        let j = i / k;
        let x: f64 = rng.gen_range(-1.0..1.0);
        let eta = theta[0] + b[j][0] + (theta[1] + b[j][1]) * x;
        y[r] = match family {
            "gaussian" => eta + sigma * z.sample(&mut rng),
            "poisson" => Poisson::new(eta.exp()).unwrap().sample(&mut rng),
            "neg_binomial_2" => Poisson::new(Gamma::new(sigma, eta.exp() / sigma).unwrap().sample(&mut rng)).unwrap().sample(&mut rng),
            "Gamma" => Gamma::new(sigma, eta.exp() / sigma).unwrap().sample(&mut rng),
            _ => f64::from(u8::from(rng.gen::<f64>() < 1.0 / (1.0 + (-eta).exp()))),
        };
        x1[r] = x;
        group[r] = j;
    }
    let mut xmat = vec![1.0; n];
    xmat.extend_from_slice(&x1);
    ModelSpec {
        family: family.into(),
        link: if matches!(family, "neg_binomial_2" | "Gamma") { "log" } else { "" }.into(),
        trials: if family == "binomial" { vec![1.0; n] } else { vec![] }.into(),
        y: y.into(),
        offset: vec![0.0; n].into(),
        x: xmat.clone().into(),
        p: 2,
        terms: vec![TermSpec {
            n_groups: m,
            group,
            z: xmat.into(),
            mean_col: vec![Some(0), Some(1)],
            shadow_col: vec![],
            cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![2.0, 2.0] },
        }],
        fixef_mean: vec![0.0, 0.0],
        fixef_sd: vec![10.0, 10.0],
        sigma_df: 1.0,
        sigma_scale: 1.0,
        aux_rate: 1.0,
    }
}

fn init(p: usize) -> Vec<ChainInit> {
    vec![ChainInit { fixef: vec![0.0; p], jitter_sd: vec![0.5; p], extra: 1.0 }; 2]
}

fn run(spec: ModelSpec, iter: usize, cores: usize, seed: u64) -> (Model, Draws) {
    let model = Model::new(spec).unwrap();
    let cfg = ChainConfig { iter, warmup: iter / 2, thin: 1, sweeps: 1, ..Default::default() };
    let (draws, _) = run_chains_vec(&model, cfg, &init(model.p), seed, cores, 5, |_| true).unwrap();
    (model, draws)
}

/// Posterior mean and sd of parameter column `c`, pooled over chains.
fn mean_sd(out: &Draws, c: usize) -> (f64, f64) {
    let v = out.param(c);
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (m, (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt())
}

/// Column of the first term's Sigma entry `entry` (lower triangle, column by column).
fn sigma_col(model: &Model, entry: usize) -> usize {
    model.layout(true).iter().position(|p| matches!(p, Param::Cov { term: 0, .. })).unwrap() + entry
}

/// Column of the family's extra parameter (gaussian: sigma).
fn extra_col(model: &Model) -> usize {
    model.layout(true).iter().position(|p| p == Param::Extra).unwrap()
}

#[test]
fn draws_are_reproducible_and_do_not_depend_on_cores() {
    let spec = simulate("poisson", 30, 5, [0.5, -0.3], [0.5, 0.3], 0.2, 0.0, 1);
    let (_, a) = run(spec.clone(), 200, 1, 42);
    let (_, b) = run(spec.clone(), 200, 2, 42);
    let (_, c) = run(spec, 200, 2, 43);
    assert_eq!(a, b);
    assert_ne!(a.chain(0), a.chain(1), "chains use different streams");
    assert_ne!(a.chain(0), c.chain(0), "seeds matter");
}

#[test]
fn a_chain_run_alone_matches_it_in_a_run_and_ranef_can_be_dropped() {
    let spec = simulate("poisson", 20, 5, [0.5, -0.3], [0.5, 0.3], 0.2, 0.0, 3);
    let model = Model::new(spec).unwrap();
    let cfg = ChainConfig { iter: 100, warmup: 50, ..Default::default() };
    let (both, _) = run_chains_vec(&model, cfg, &init(model.p), 7, 1, 5, |_| true).unwrap();
    let second = ChainConfig { first_chain: 1, ..cfg };
    let (alone, _) = run_chains_vec(&model, second, &init(model.p)[..1], 7, 1, 5, |_| true).unwrap();
    assert_eq!(alone.chain(0), both.chain(1));
    let lean = ChainConfig { save_ranef: false, ..cfg };
    let nb = model.terms[0].m * model.terms[0].q;
    let (out, _) = run_chains_vec(&model, lean, &init(model.p), 7, 1, 5, |_| true).unwrap();
    let k = out.n_kept;
    assert_eq!(out.npar, model.n_params() - nb);
    // same chain, same draws: fixed effects, then Sigma right after them
    let (lean0, both0) = (out.chain(0), both.chain(0));
    assert_eq!(lean0[..model.p * k], both0[..model.p * k]);
    assert_eq!(lean0[model.p * k..], both0[(model.p + nb) * k..]);
}

#[test]
fn chains_write_their_draws_to_their_slots_of_the_array() {
    // R's array [iteration, chain, parameter]: (i, c, p) at i + n_kept * (c + chains * p)
    let spec = simulate("poisson", 20, 5, [0.5, -0.3], [0.5, 0.3], 0.2, 0.0, 3);
    let model = Model::new(spec).unwrap();
    let cfg = ChainConfig { iter: 60, warmup: 30, thin: 2, ..Default::default() };
    let (n, np) = (cfg.n_kept(), model.n_params());
    let mut values = vec![f64::NAN; n * 2 * np];
    let buf = DrawBuffer::new(&mut values, n, 2, np).unwrap();
    run_chains(&model, cfg, &init(model.p), buf, 7, 2, 5, |_| true).unwrap();
    for c in 0..2 {
        let one = ChainConfig { first_chain: c as u64, ..cfg };
        let (alone, _) = run_chains_vec(&model, one, &init(model.p)[..1], 7, 1, 5, |_| true).unwrap();
        for p in 0..np {
            for i in 0..n {
                assert_eq!(values[i + n * (c + 2 * p)].to_bits(), alone.values[i + n * p].to_bits(), "draw {i}, chain {c}, parameter {p}");
            }
        }
    }
    let short = DrawBuffer::new(&mut values[..n * np], n, 1, np).unwrap();
    let e = run_chains(&model, cfg, &init(model.p), short, 7, 1, 5, |_| true).unwrap_err();
    assert!(e.to_string().contains("draws buffer") && e.kind() == ErrorKind::Internal);
}

#[test]
fn parallel_group_updates_do_not_change_the_draws() {
    // a second, crossed term whose groups' rows are scattered, as the hard case
    let mut spec = simulate("binomial", 2000, 4, [0.2, 0.5], [0.6, 0.3], 0.0, 0.0, 4);
    let n = spec.y.len();
    spec.terms.push(TermSpec {
        n_groups: 7,
        group: (0..n).map(|i| (i * 5) % 7).collect(),
        z: vec![1.0; n].into(),
        mean_col: vec![None],
        shadow_col: vec![],
        cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0] },
    });
    let model = Model::new(spec).unwrap();
    let cfg = ChainConfig { iter: 60, warmup: 30, ..Default::default() };
    let one = &init(model.p)[..1];
    let (seq, _) = run_chains_vec(&model, cfg, one, 9, 1, 5, |_| true).unwrap();
    let (par, _) = run_chains_vec(&model, cfg, one, 9, 3, 5, |_| true).unwrap();
    assert_eq!(seq, par);
}

#[test]
fn polling_false_interrupts_all_chains() {
    let spec = simulate("poisson", 50, 10, [0.5, -0.3], [0.5, 0.3], 0.2, 0.0, 2);
    let model = Model::new(spec).unwrap();
    let cfg = ChainConfig { iter: 10_000_000, warmup: 10, thin: 1000, sweeps: 1, ..Default::default() };
    let t = std::time::Instant::now();
    let r = run_chains_vec(&model, cfg, &init(2), 1, 2, 5, |_| false);
    assert_eq!(r.unwrap_err(), Error::Interrupted);
    assert!(t.elapsed().as_secs_f64() < 2.0);
}

#[test]
fn a_finished_run_returns_without_waiting_for_the_next_poll() {
    let spec = simulate("poisson", 20, 5, [0.5, -0.3], [0.5, 0.3], 0.2, 0.0, 2);
    let model = Model::new(spec).unwrap();
    let cfg = ChainConfig { iter: 2000, warmup: 1000, ..Default::default() };
    let t = std::time::Instant::now();
    // a run of well under a second and a 60 s poll interval: the caller must be woken
    run_chains_vec(&model, cfg, &init(2), 1, 2, 60_000, |_| true).unwrap();
    assert!(t.elapsed().as_secs_f64() < 30.0);
}

#[test]
fn bad_specs_are_errors_not_panics() {
    let mut s = simulate("poisson", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 0.0, 3);
    s.y.to_mut()[0] = -1.0;
    let e = Model::new(s).err().unwrap();
    assert!(e.to_string().contains("non-negative") && e.kind() == ErrorKind::InvalidModel);
    let mut s = simulate("gaussian", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 1.0, 3);
    s.terms[0].cov_prior = CovPrior::InvWishart { df: 4.0, scale: vec![1.0, 2.0, 2.0, 1.0] };
    assert!(Model::new(s).err().unwrap().to_string().contains("positive definite"));
    let mut s = simulate("binomial", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 0.0, 3);
    s.trials.to_mut()[0] = 0.0;
    s.y.to_mut()[0] = 1.0;
    assert!(Model::new(s).is_err());
    let s = simulate("gaussian", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 1.0, 3);
    let model = Model::new(s).unwrap();
    let cfg = ChainConfig { iter: 10, warmup: 10, thin: 1, sweeps: 1, ..Default::default() };
    assert!(run_chains_vec(&model, cfg, &init(2), 1, 1, 5, |_| true).is_err());
}

#[test]
fn impossible_responses_links_and_priors_are_invalid_models() {
    let invalid = |s: ModelSpec, what: &str| {
        let e = Model::new(s).err().unwrap();
        assert!(e.to_string().contains(what) && e.kind() == ErrorKind::InvalidModel, "{e}");
    };
    let mut s = simulate("Gamma", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 2.0, 3);
    s.y.to_mut()[2] = 0.0;
    invalid(s, "Gamma response must be positive");
    let mut s = simulate("neg_binomial_2", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 2.0, 3);
    s.y.to_mut()[2] = 2.5;
    invalid(s, "non-negative whole numbers");
    let mut s = simulate("neg_binomial_2", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 2.0, 3);
    s.aux_rate = 0.0;
    invalid(s, "exponential prior of the reciprocal dispersion");
    let mut s = simulate("poisson", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 0.0, 3);
    s.link = "logit".into();
    invalid(s, "no link 'logit'");
    let mut s = simulate("poisson", 5, 4, [0.0, 0.0], [0.5, 0.3], 0.0, 0.0, 3);
    s.family = "quasipoisson".into();
    invalid(s, "'quasipoisson' is not supported");
}

/// Counts from a poisson model fitted as neg_binomial_2: phi's likelihood is flat towards
/// infinity, where the exponential prior holds it; the draws stay finite. Nearly constant
/// Gamma data (shape of the data about 1e8): the prior holds the shape near n/2, and the
/// draws stay finite too.
#[test]
fn an_extra_parameter_that_the_data_push_to_infinity_stays_finite() {
    let mut s = simulate("poisson", 40, 10, [0.5, -0.3], [0.4, 0.2], 0.0, 0.0, 5);
    s.family = "neg_binomial_2".into();
    s.link = "log".into();
    let (model, out) = run(s, 600, 2, 5);
    let phi = out.param(extra_col(&model));
    assert!(phi.iter().chain(out.values.iter()).all(|v| v.is_finite()));
    // the prior's exponential(1) tail beyond where the data rule phi out
    let (m, _) = mean_sd(&out, extra_col(&model));
    assert!(m > 3.0, "phi {m}");
    let mut s = simulate("Gamma", 40, 10, [0.5, -0.3], [0.4, 0.2], 0.0, 1e8, 6);
    s.terms[0].cov_prior = CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0, 1.0] };
    let n = s.y.len() as f64;
    let (model, out) = run(s, 600, 2, 6);
    assert!(out.values.iter().all(|v| v.is_finite()));
    let (m, _) = mean_sd(&out, extra_col(&model));
    assert!(m > 0.3 * n && m < 0.7 * n, "shape {m}, n {n}");
}

/// A start whose means leave the link's range: without jitter it is valid, so the chain
/// starts there; a start that is invalid either way is an invalid model whose message says
/// why.
#[test]
fn starts_outside_the_links_range() {
    let mut s = simulate("poisson", 20, 5, [2.0, 0.0], [0.1, 0.05], 0.0, 0.0, 7);
    s.link = "identity".into();
    // x is uniform on (-1, 1): eta = a0 + a1 x > 0 on every row needs a0 > |a1|
    let model = Model::new(s).unwrap();
    let ybar = model.y.iter().sum::<f64>() / model.n as f64;
    let cfg = ChainConfig { iter: 200, warmup: 100, ..Default::default() };
    let jittered = vec![ChainInit { fixef: vec![3.0, 0.0], jitter_sd: vec![0.5, 100.0], extra: 1.0 }; 2];
    let (out, _) = run_chains_vec(&model, cfg, &jittered, 1, 1, 5, |_| true).unwrap();
    assert!(out.values.iter().all(|v| v.is_finite()));
    // the intercept is the mean count (about e^2)
    let (m, sd) = mean_sd(&out, 0);
    assert!((m - ybar).abs() < 4.0 * sd, "{m} ({sd}) vs {ybar}");
    let outside = vec![ChainInit { fixef: vec![-1.0, 0.0], jitter_sd: vec![0.1, 0.1], extra: 1.0 }];
    let e = run_chains_vec(&model, cfg, &outside, 1, 1, 5, |_| true).unwrap_err();
    assert!(e.kind() == ErrorKind::InvalidModel && e.to_string().contains("outside the range of the poisson family's identity link"), "{e}");
}

/// Known parameters are recovered within 4 posterior sd (the truth is a fixed value, and
/// with 300 groups the posterior concentrates around it).
fn check_recovery(family: &str, seed: u64) {
    let sigma = match family {
        "neg_binomial_2" => 2.5,
        "Gamma" => 4.0,
        _ => 0.7,
    };
    let (theta, sd, rho) = ([0.4, -0.6], [0.6, 0.4], 0.3);
    let spec = simulate(family, 300, 15, theta, sd, rho, sigma, seed);
    let (model, out) = run(spec, 1500, 2, seed);
    let truth_sigma = [sd[0] * sd[0], rho * sd[0] * sd[1], sd[1] * sd[1]];
    let mut checks: Vec<(usize, f64, &str)> = vec![(0, theta[0], "theta0"), (1, theta[1], "theta1")];
    for (e, v) in truth_sigma.iter().enumerate() {
        checks.push((sigma_col(&model, e), *v, "Sigma"));
    }
    if family != "poisson" && family != "binomial" {
        checks.push((extra_col(&model), sigma, "extra parameter"));
    }
    for (c, truth, name) in checks {
        let (m, s) = mean_sd(&out, c);
        assert!((m - truth).abs() < 4.0 * s, "{family} {name}: posterior mean {m} (sd {s}), truth {truth}");
    }
}

#[test]
fn recovers_gaussian_parameters() {
    check_recovery("gaussian", 11);
}

#[test]
fn recovers_poisson_parameters() {
    check_recovery("poisson", 12);
}

#[test]
fn recovers_bernoulli_parameters() {
    check_recovery("binomial", 13);
}

#[test]
fn recovers_negative_binomial_parameters() {
    check_recovery("neg_binomial_2", 14);
}

#[test]
fn recovers_gamma_parameters() {
    check_recovery("Gamma", 15);
}
