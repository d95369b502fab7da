# summary(), print(), prior_summary(), nobs() and ngrps().

summary_cols <- c("mean", "sd", "2.5%", "50%", "97.5%", "Rhat", "ess_bulk", "ess_tail")

test_that("summary has one row per parameter and the documented columns", {
  fit <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson, iter = 600)
  s <- summary(fit)
  expect_s3_class(s, "data.frame")
  expect_identical(names(s), summary_cols)
  expect_identical(rownames(s), dimnames(fit$draws)$parameter)
  # values agree with the draws
  m <- as.matrix(fit)
  expect_equal(as.numeric(s[["mean"]]), unname(colMeans(m)))
  expect_equal(as.numeric(s[["sd"]]), unname(apply(m, 2, stats::sd)))
  expect_equal(as.numeric(s[[3]]), unname(apply(m, 2, stats::quantile, 0.025)))
  expect_equal(as.numeric(s[[5]]), unname(apply(m, 2, stats::quantile, 0.975)))
  expect_equal(as.numeric(s[["Rhat"]]), unname(apply(as.array(fit), 3, posterior::rhat)))
  expect_true(all(as.numeric(s[["ess_bulk"]]) > 0))
  # pars / regex_pars
  expect_identical(rownames(summary(fit, pars = c("conc", "brood"))), c("conc", "brood"))
  expect_identical(rownames(summary(fit, regex_pars = "^Sigma")), "Sigma[flea:(Intercept),(Intercept)]")
})

test_that("summary columns are plain numeric vectors usable by base R", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 400)
  s <- summary(fit)
  classes <- vapply(s, function(v) paste(class(v), collapse = "/"), "")
  expect_identical(unname(classes), rep("numeric", ncol(s)),
                   label = paste("column classes:", paste(unique(classes), collapse = ", ")))
  expect_equal(round(s, 2)[["mean"]], round(unname(colMeans(as.matrix(fit))), 2))
  expect_no_error(base::summary(s[["Rhat"]]))
})

test_that("printing a fit and its summary works", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, chains = 4, iter = 2000, seed = 2)
  expect_output(print(fit), "gaussian family, identity link")
  expect_output(print(fit), "Fixed effects:")
  expect_output(print(fit), "sigma")
  s <- summary(fit)
  # a long, well-mixed run of the all-Gibbs sampler: no diagnostics warning
  expect_no_warning(out <- capture.output(print(s)))
  out <- paste(out, collapse = "\n")
  expect_match(out, "Posterior summary")
  expect_match(out, "Sigma\\[operator:\\(Intercept\\),\\(Intercept\\)\\]")
  expect_match(out, "ess_bulk")
  expect_match(out, "observations: 20")
  expect_match(out, "operator \\(4\\)")
})

test_that("a deliberately short run triggers the Rhat / ESS warning", {
  fit <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson, iter = 20)
  s <- summary(fit)
  expect_true(any(as.numeric(s[["ess_bulk"]]) < 400))
  out <- capture.output(w <- capture_warnings(print(s)))
  expect_match(w, "Bulk ESS < 400 for \\d+ parameter", all = FALSE)
  expect_true(length(out) > 0)
  if (any(as.numeric(s[["Rhat"]]) > 1.01)) {
    expect_match(w, "Rhat > 1.01 for \\d+ parameter", all = FALSE)
  }
})

test_that("prior_summary prints and has one location and scale per fixed effect", {
  fit <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson, iter = 200)
  ps <- prior_summary(fit)
  fe <- c("(Intercept)", "conc", "brood", "conc:brood")
  expect_identical(names(ps$scale), fe)
  expect_identical(names(ps$location), fe)
  expect_true(all(ps$scale > 0))
  # documented autoscaling: slope scale 2.5 / sd(x_k) for a non-gaussian family
  X <- stats::model.matrix(~ conc * brood, nitrofen)
  expect_equal(unname(ps$scale[-1]), unname(2.5 / apply(X[, -1], 2, stats::sd)))
  # default Huang-Wand prior: half-t(2, A) on the sd, A = 1 (constant column, s_y = 1)
  expect_identical(ps$terms$flea$type, "half_t")
  expect_equal(ps$terms$flea$df, 2)
  expect_equal(unname(ps$terms$flea$scale), 1)
  expect_null(ps$sigma)
  expect_output(print(ps), "Fixed effects ~ normal")
  expect_output(print(ps), "Covariance of flea: Huang-Wand")
  # giving cov_df switches to a fixed inverse-Wishart with scale 1 (q = 1)
  iw <- prior_summary(quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson,
                                iter = 200, prior = bglmm_prior(cov_df = 3)))
  expect_identical(iw$terms$flea$type, "inv_wishart")
  expect_equal(iw$terms$flea$df, 3)
  expect_equal(unname(iw$terms$flea$scale), matrix(1))
  expect_output(print(iw), "Covariance of flea ~ inverse-Wishart")

  g <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 200)
  pg <- prior_summary(g)
  expect_identical(names(pg$scale), "(Intercept)")
  expect_output(print(pg), "sigma\\^2 ~ scaled-inv-chi-squared")
  # user-set priors are reported as given
  u <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson, iter = 200,
                 prior = bglmm_prior(fixef_scale = c(conc = 0.01), cov_df = 5, autoscale = FALSE))
  pu <- prior_summary(u)
  expect_equal(pu$scale[["conc"]], 0.01)
  expect_equal(pu$scale[["brood"]], 2.5)
  expect_equal(pu$terms$flea$df, 5)
})

test_that("nobs and ngrps", {
  fit <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson, iter = 200)
  expect_identical(nobs(fit), 150L)
  expect_identical(ngrps(fit), c(flea = 50L))
  tf <- quick_fit(count ~ x + (1 | mouse), tumor, family = poisson, iter = 200)
  expect_identical(nobs(tf), 420L)
  expect_identical(ngrps(tf), c(mouse = 21L))
  pf <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 200)
  expect_identical(nobs(pf), 20L)
  expect_identical(ngrps(pf), c(operator = 4L))
})

test_that("column_sd gives apply()'s named column standard deviations", {
  X <- cbind("(Intercept)" = 1, x = c(1, 2, 4, 8))
  expect_equal(bglmm:::column_sd(X), apply(X, 2, stats::sd), tolerance = 1e-14)
  expect_equal(bglmm:::column_sd(matrix(c(3, 1, 2), 3)), apply(matrix(c(3, 1, 2), 3), 2, stats::sd), tolerance = 1e-14)
  # a large mean against the sd, and one row (sd NA)
  big <- cbind(x = 1e9 + c(1, 2, 4, 8))
  expect_equal(bglmm:::column_sd(big), apply(big, 2, stats::sd), tolerance = 1e-12)
  expect_false(is.finite(bglmm:::column_sd(cbind(x = 2))))
})
