# insight, bayestestR, parameters and performance on a gaussian and a Poisson fit: their
# results against the same computations done by hand from the draws.

test_that("insight describes the fits: model_info, formulas, parameters, priors, algorithm", {
  skip_if_not_installed("insight")
  g <- eco_fit("gauss")
  p <- eco_fit("pois")
  mi <- insight::model_info(g)
  expect_true(mi$is_bayesian && mi$is_mixed && mi$is_linear)
  expect_equal(c(mi$family, mi$link_function), c("gaussian", "identity"))
  mi <- insight::model_info(p)
  expect_true(mi$is_bayesian && mi$is_mixed && mi$is_poisson && mi$is_count)
  expect_equal(c(mi$family, mi$link_function), c("poisson", "log"))
  f <- insight::find_formula(g)
  expect_equal(f$conditional, Reaction ~ Days, ignore_attr = TRUE)
  expect_equal(f$random, ~ Days | Subject, ignore_attr = TRUE)
  fp <- insight::find_parameters(g)
  expect_equal(fp$conditional, c("(Intercept)", "Days"))
  expect_equal(length(fp$random), 2 * 18 + 3)
  expect_equal(insight::get_parameters(p), as.data.frame(p)[colnames(p$X)])
  pr <- insight::get_priors(g)
  expect_equal(pr$Location, unname(g$prior$location))
  expect_equal(pr$Scale, unname(g$prior$scale))
  expect_equal(insight::find_algorithm(g)[c("algorithm", "chains", "iterations", "warmup")],
               list(algorithm = "sampling", chains = 2L, iterations = 500L, warmup = 250L))
  expect_equal(nrow(insight::get_data(p)), 150)
  expect_equal(insight::find_random(p, flatten = TRUE), "flea")
})

test_that("describe_posterior() and model_parameters() summarise the draws", {
  skip_if_not_installed("bayestestR")
  skip_if_not_installed("parameters")
  for (fit in list(eco_fit("gauss"), eco_fit("pois"))) {
    m <- as.matrix(fit)[, colnames(fit$X)]
    dp <- bayestestR::describe_posterior(fit)
    expect_equal(dp$Parameter, colnames(m))
    expect_equal(dp$Median, unname(col_medians(m)))
    q <- unname(apply(m, 2, quantile, c(0.025, 0.975), names = FALSE))
    expect_equal(dp$CI_low, q[1, ])
    expect_equal(dp$CI_high, q[2, ])
    expect_equal(dp$pd, unname(apply(m, 2, function(v) max(mean(v > 0), mean(v < 0)))))
    a <- as.array(fit)
    expect_equal(dp$Rhat, unname(apply(a[, , colnames(m), drop = FALSE], 3, posterior::rhat)))
    expect_equal(dp$ESS, unname(apply(a[, , colnames(m), drop = FALSE], 3, posterior::ess_bulk)))
    mp <- parameters::model_parameters(fit)
    expect_equal(mp$Median, unname(col_medians(m)))
    expect_equal(mp$Prior_Scale, unname(fit$prior$scale))
  }
  all <- bayestestR::describe_posterior(eco_fit("gauss"), effects = "all", test = NULL)
  expect_equal(nrow(all), 2 + 2 * 18 + 3)
  expect_error(bayestestR::describe_posterior(eco_fit("gauss"), test = "bf"), "prior")
})

test_that("r2_bayes() is bayes_R2(), conditional and marginal", {
  skip_if_not_installed("performance")
  for (fit in list(eco_fit("gauss"), eco_fit("pois"))) {
    r2 <- performance::r2_bayes(fit)
    expect_equal(unname(r2$R2_Bayes), median(bayes_R2(fit)))
    expect_equal(unname(r2$R2_Bayes_marginal), median(bayes_R2(fit, re.form = NA)))
  }
})

test_that("get_variance() and icc() are Nakagawa's components of fixef() and VarCorr()", {
  skip_if_not_installed("performance")
  g <- eco_fit("gauss")
  vc <- VarCorr(g)
  X <- g$X
  v_fixed <- var(drop(X %*% fixef(g)))
  v_random <- sum(diag(crossprod(X %*% vc$Subject, X))) / nrow(X)
  v_resid <- attr(vc, "sc")^2
  gv <- insight::get_variance(g)
  expect_equal(gv$var.fixed, v_fixed)
  expect_equal(gv$var.random, v_random)
  expect_equal(gv$var.residual, v_resid)
  expect_equal(unname(gv$var.intercept), vc$Subject[1, 1])
  expect_equal(unname(gv$var.slope), vc$Subject[2, 2])
  icc <- performance::icc(g)
  expect_equal(icc$ICC_adjusted, v_random / (v_random + v_resid))
  expect_equal(icc$ICC_unadjusted, v_random / (v_fixed + v_random + v_resid))

  # Poisson: the distribution-specific variance log(1 + 1 / mu), mu from the model
  # refitted without fixed effects (as insight does for every mixed model)
  p <- eco_fit("pois")
  gv <- suppressWarnings(insight::get_variance(p))
  null <- update(p, live ~ (1 | flea))
  expect_equal(gv$var.distribution, log1p(1 / exp(unname(fixef(null)))))
  expect_equal(gv$var.random, VarCorr(p)$flea[1, 1])
  expect_equal(gv$var.fixed, var(drop(p$X %*% fixef(p))))
  icc <- suppressWarnings(performance::icc(p))
  expect_equal(icc$ICC_adjusted, gv$var.random / (gv$var.random + gv$var.distribution))
})
