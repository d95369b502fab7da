# Simulation-based calibration, quick version (the harness is in helper-sbc.R; the large
# run is `make validate`, validation/run.R).
#
# For each of 25 configurations (gaussian, poisson, binomial with trials, bernoulli x
# random intercept, correlated intercept and slope, two crossed factors, a group-level
# predictor, nested factors; poisson with three correlated random coefficients;
# neg_binomial_2 and Gamma with a random intercept) BGLMM_SBC_SIMS
# simulations (default 60) are drawn from the prior and fitted with the same prior (1
# chain, 1000 iterations, 400 warmup); the ranks of the true values among L = 19 evenly
# spaced draws must be uniform on 0..19. Each tested quantity (fixed effects, log variances
# and correlations of each Sigma, sigma or the family's extra parameter, group 1's
# coefficients, the log-likelihood) gets a chi-square test on 5 bins of 4 ranks (12
# expected per bin); the family-wise level is 0.001 over all 170 quantities (Bonferroni:
# each p-value must exceed 0.001 / 170 = 5.9e-6). neg_binomial_2 and Gamma also run a
# sparse design (one row in each of 6 groups) with 200 simulations (20 bins), where the
# data say little about the extra parameter: dropping the Jacobian of its log-scale step
# makes both fail (log reciprocal_dispersion p = 7e-54, log shape p = 9e-17; with 60
# simulations of the 72-row designs it went unflagged). The group-level and nested configurations run the
# translation steps of those structures; a 0.7 x precision in the group-level step and a
# sign error in the nested step's mean went unflagged here (the Geweke tests in cargo test
# catch them). Seeds are fixed, so the outcome is deterministic. (At a
# family-wise 0.01 these seeds give one false alarm with the correct sampler: x in
# bernoulli/crossed, p = 3.7e-5 from bin counts 4 9 9 11 27 over the first 60 simulations;
# the same configuration is uniform over 400 simulations, p = 0.27 on 10 bins. The excess
# is in the simulated data, not the sampler: in simulations 1-50 the residuals y - p_true
# correlate negatively with x (mean correlation -0.066, about 4 standard errors) and an
# independent glm(y ~ x + g1 + g2) estimate of x is below the truth by 0.42 standard
# errors on average, while the bglmm chains mix well there (ESS > 2000 of 6000 draws,
# Rhat 1.00) and their posterior means track the glm estimates.)
#
# Power, checked when this test was written by breaking the sampler in a scratch copy (60
# simulations per configuration, the thresholds above):
#  * inverse-Wishart degrees of freedom prior_df + 1.5 m instead of prior_df + m in
#    draw_sigma (steps.rs): 5 of the 12 configurations fail (log-variance ranks, p down to
#    1e-14, and fits failing with singular covariance draws);
#  * Metropolis ratio without the Hastings term log_q_back - log_q_fwd in mh_group: 7 of
#    the 9 non-gaussian configurations fail on the log-likelihood rank (p down to 6e-24).
# The numbers are in validation/README.md.
#
# Environment: BGLMM_SBC_SIMS (simulations per configuration), BGLMM_SBC_CORES (forked
# workers, default 2).

sbc_quick <- list(
  sims = as.integer(Sys.getenv("BGLMM_SBC_SIMS", "60")),
  cores = as.integer(Sys.getenv("BGLMM_SBC_CORES", "2")),
  L = 19L,
  alpha = 0.001
)
# the 20 family x structure configurations and the two families with an extra parameter
# (their random-intercept designs, and their sparse designs with 200 simulations: the
# check of the extra parameter's step, see validation/README.md); validation/run.R runs
# all of sbc_all_configs()
sbc_quick$configs <- local({
  all <- sbc_all_configs()
  all[c(which(vapply(all, function(cfg) cfg$family %in% sbc_families, NA)),
        match(c("neg_binomial_2/intercept", "Gamma/intercept", "neg_binomial_2/sparse",
                "Gamma/sparse"), names(all)))]
})
sbc_quick$sims_of <- function(cfg) if (cfg$structure == "sparse") 200L else sbc_quick$sims
sbc_quick$n_tests <- sum(vapply(sbc_quick$configs, function(cfg) length(sbc_quantity_names(cfg)), 0L))

test_that("the SBC simulator draws the covariance priors it claims to", {
  set.seed(11)
  n <- 4000
  # plain inverse-Wishart(df, S): mean S / (df - q - 1)
  S <- matrix(c(1, 0.3, 0.3, 0.5), 2)
  m <- Reduce(`+`, replicate(n, sbc_rinvwishart(7, S), simplify = FALSE)) / n
  expect_equal(m, S / 4, tolerance = 0.06)
  # Huang-Wand with nu = 2: sd_k ~ half-t(2, A_k) and the correlation uniform on (-1, 1)
  tp <- list(type = "half_t", df = 2, scale = c(a = 0.5, b = 2))
  draws <- replicate(n, sbc_draw_sigma(tp))
  sd1 <- sqrt(draws[1, 1, ])
  sd2 <- sqrt(draws[2, 2, ])
  r <- draws[2, 1, ] / (sd1 * sd2)
  p_half_t <- function(x, A) 2 * stats::pt(x / A, 2) - 1
  expect_gt(suppressWarnings(stats::ks.test(sd1, p_half_t, A = 0.5))$p.value, 0.001)
  expect_gt(suppressWarnings(stats::ks.test(sd2, p_half_t, A = 2))$p.value, 0.001)
  expect_gt(suppressWarnings(stats::ks.test(r, "punif", -1, 1))$p.value, 0.001)
})

test_that("the SBC harness reads back the prior the fit uses and computes its quantities", {
  cfg <- sbc_config("binomial", "slope")
  design <- sbc_design(cfg)
  rp <- sbc_resolved_prior(cfg, design)
  # x is centred, so the raw intercept keeps the stated N(0, 1); slopes N(0, 0.75^2)
  expect_equal(unname(rp$location), c(0, 0))
  expect_equal(unname(rp$scale), c(1, 0.75))
  expect_equal(rp$terms$g$type, "half_t")
  expect_equal(unname(rp$terms$g$scale), c(0.5, 0.5))
  set.seed(3)
  sim <- sbc_simulate(cfg, design, rp)
  tq <- sbc_quantities(cfg, design, sbc_truth_draws(cfg, design, sim), sim$y)
  expect_equal(colnames(tq), sbc_quantity_names(cfg))
  eta <- sim$alpha[1] + sim$alpha[2] * design$x +
    sim$b$g[as.integer(design$g), 1] + sim$b$g[as.integer(design$g), 2] * design$x
  expect_equal(tq[1, "loglik"], sum(stats::dbinom(sim$y, design$trials, stats::plogis(eta), log = TRUE)))
  expect_equal(tq[1, "cor[g:x,(Intercept)]"], stats::cov2cor(sim$Sigma$g)[2, 1])
  expect_equal(sbc_rank(c(1, 2, 3), 2.5), 2)
  expect_equal(sbc_chisq_p(rep(0:19, 5), 19L, 5L), 1)
})

for (cfg in sbc_quick$configs) {
  sims <- sbc_quick$sims_of(cfg)
  test_that(sprintf("SBC ranks are uniform: %s (%d simulations)", cfg$name, sims), {
    run <- sbc_run(cfg, sims, L = sbc_quick$L, cores = sbc_quick$cores)
    errors <- attr(run, "errors")
    expect(length(errors) == 0L,
           sprintf("%d of %d fits failed, e.g. %s", length(errors), sims, errors[1]))
    bins <- sbc_bins(sims, sbc_quick$L)
    p <- sbc_pvalues(run, bins)
    threshold <- sbc_quick$alpha / sbc_quick$n_tests
    bad <- names(p)[p < threshold]
    counts <- vapply(bad, function(k) {
      paste(tabulate(run[, k] %/% ((sbc_quick$L + 1L) %/% bins) + 1L, bins), collapse = " ")
    }, "")
    expect(length(bad) == 0L,
           sprintf("non-uniform ranks (p < %.2g): %s", threshold,
                   paste(sprintf("%s p = %.2g (bin counts %s)", bad, p[bad], counts), collapse = "; ")))
  })
}
