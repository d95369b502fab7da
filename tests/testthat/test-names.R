# Parameter names (rstanarm style) and the shapes of the draws in every format.

nitro_names <- c("(Intercept)", "conc", "brood", "conc:brood",
                 paste0("b[(Intercept) flea:", 1:50, "]"),
                 "Sigma[flea:(Intercept),(Intercept)]")

test_that("nitrofen poisson GLMM has exactly rstanarm's parameter names, in order", {
  fit <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson, iter = 400)
  expect_identical(dimnames(fit$draws)$parameter, nitro_names)
  expect_identical(colnames(as.matrix(fit)), nitro_names)
  expect_false("sigma" %in% nitro_names)
})

test_that("pulp gaussian fit has sigma and the operator covariance", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 400)
  expect_identical(
    dimnames(fit$draws)$parameter,
    c("(Intercept)", paste0("b[(Intercept) operator:", c("a", "b", "c", "d"), "]"),
      "sigma", "Sigma[operator:(Intercept),(Intercept)]")
  )
  expect_true(all(as.matrix(fit)[, "sigma"] > 0))
})

test_that("tumor random slopes on poly() name Sigma entries by poly columns", {
  fit <- quick_fit(count ~ poly(x, 2) + (poly(x, 2) | mouse), tumor, family = poisson, iter = 200)
  cn <- c("(Intercept)", "poly(x, 2)1", "poly(x, 2)2")
  expect_identical(
    grep("^Sigma", dimnames(fit$draws)$parameter, value = TRUE),
    c(sprintf("Sigma[mouse:%s,%s]", cn[c(1, 2, 3)], cn[1]),
      sprintf("Sigma[mouse:%s,%s]", cn[c(2, 3)], cn[2]),
      sprintf("Sigma[mouse:%s,%s]", cn[3], cn[3]))
  )
  expect_length(grep("^b\\[", dimnames(fit$draws)$parameter), 3 * 21)
})

test_that("as.matrix, as.array and fit$draws have the right dimensions", {
  fit <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson,
                   chains = 3, iter = 500, warmup = 200, thin = 4, cores = 2)
  kept <- ceiling((500 - 200) / 4)
  npar <- length(nitro_names)
  expect_identical(dim(fit$draws), c(as.integer(kept), 3L, as.integer(npar)))
  expect_identical(names(dimnames(fit$draws)), c("iteration", "chain", "parameter"))
  a <- as.array(fit)
  expect_identical(dim(a), c(as.integer(kept), 3L, as.integer(npar)))
  m <- as.matrix(fit)
  expect_identical(dim(m), c(as.integer(3 * kept), as.integer(npar)))
  # chain 1's draws come first, then chain 2's, ...
  expect_identical(unname(m[seq_len(kept), "conc"]), unname(a[, 1, "conc"]))
  expect_identical(unname(m[kept + seq_len(kept), "conc"]), unname(a[, 2, "conc"]))
  expect_true(all(is.finite(m)))
  # pars / regex_pars select columns
  expect_identical(colnames(as.matrix(fit, pars = c("conc", "brood"))), c("conc", "brood"))
  expect_identical(colnames(as.matrix(fit, regex_pars = "^Sigma")), "Sigma[flea:(Intercept),(Intercept)]")
  expect_error(as.matrix(fit, pars = "nosuch"), "Unknown parameters: nosuch")
})

test_that("warmup = 0 and thin give the expected number of kept draws", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 10, warmup = 0, thin = 3)
  expect_identical(dim(fit$draws)[1:2], c(4L, 2L))
})

test_that("posterior::as_draws_array keeps the chains and summarise_draws works on it", {
  fit <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson,
                   chains = 2, iter = 400)
  da <- posterior::as_draws_array(fit)
  expect_s3_class(da, "draws_array")
  expect_identical(posterior::nchains(da), 2L)
  expect_identical(posterior::niterations(da), 200L)
  expect_identical(posterior::variables(da), nitro_names)
  # the values are the fit's draws
  expect_identical(unname(unclass(da)[, 2, "conc"]), unname(fit$draws[, 2, "conc"]))
  s <- posterior::summarise_draws(da)
  expect_identical(s$variable, nitro_names)
  expect_true(all(c("mean", "sd", "rhat", "ess_bulk", "ess_tail") %in% names(s)))
  expect_true(all(is.finite(as.numeric(s$mean))))
  dm <- posterior::as_draws_matrix(fit)
  expect_identical(posterior::ndraws(dm), 400L)
  ddf <- posterior::as_draws_df(fit)
  expect_identical(posterior::nchains(ddf), 2L)
  expect_identical(posterior::nchains(posterior::as_draws(fit)), 2L)
})

test_that("the draws are named in the order R/names.R builds, which every method looks up", {
  fit <- quick_fit(Reaction ~ Days + (Days || Subject), lme4::sleepstudy, iter = 200)
  pars <- dimnames(fit$draws)$parameter
  expect_identical(pars, c(colnames(fit$X), bglmm:::all_b_names(fit), "sigma",
                           bglmm:::all_sigma_names(fit)))
  expect_identical(bglmm:::parameter_names(fit, family(fit)), pars)
  expect_identical(bglmm:::parameter_names(fit, family(fit), save_ranef = FALSE),
                   grep("^b\\[", pars, value = TRUE, invert = TRUE))
  # per coefficient, the group effects of every level; the covariances as a matrix
  for (r in fit$re) {
    for (cn in r$cnms) expect_true(all(bglmm:::b_names(r, cn) %in% pars))
    expect_true(all(bglmm:::sigma_names_matrix(r) %in% pars))
  }
  expect_identical(bglmm:::scale_names(fit), grep("^sigma$|^Sigma\\[", pars, value = TRUE))
  expect_identical(bglmm:::group_b_names(fit, "Subject"), grep("^b\\[", pars, value = TRUE))
})
