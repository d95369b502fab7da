# save_ranef = FALSE: the kept draws omit the group effects, the other draws are unchanged,
# and every method that needs the group effects gives one clear error.

no_ranef_msg <- "save_ranef = FALSE, so it has no draws of the group effects"

nitro <- function(save_ranef, ...) {
  bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson,
        chains = 2, iter = 300, refresh = 0, seed = 3, save_ranef = save_ranef, ...)
}

test_that("the same seed gives identical non-b draws with and without saved group effects", {
  f1 <- nitro(TRUE)
  f0 <- nitro(FALSE)
  keep <- grep("^b\\[", parnames(f1), value = TRUE, invert = TRUE)
  expect_identical(parnames(f0), keep)
  expect_identical(f0$draws, f1$draws[, , keep, drop = FALSE])
  expect_false(f0$sampler$save_ranef)
  expect_true(f1$sampler$save_ranef)
  # gaussian (all-Gibbs) path with two terms, one of them correlated: sigma and Sigma kept
  set.seed(4)
  d <- data.frame(g = factor(rep(1:12, each = 6)), h = factor(rep(1:6, 12)), x = rnorm(72))
  d$y <- rnorm(72) + d$x + rnorm(12)[d$g]
  g1 <- bglmm(y ~ x + (1 + x | g) + (1 | h), data = d, chains = 2, iter = 300, refresh = 0, seed = 9)
  g0 <- update(g1, save_ranef = FALSE)
  keep <- grep("^b\\[", parnames(g1), value = TRUE, invert = TRUE)
  expect_identical(parnames(g0), c("(Intercept)", "x", "sigma", "Sigma[g:(Intercept),(Intercept)]",
                                   "Sigma[g:x,(Intercept)]", "Sigma[g:x,x]", "Sigma[h:(Intercept),(Intercept)]"))
  expect_identical(g0$draws, g1$draws[, , keep, drop = FALSE])
})

test_that("methods for the kept parameters work", {
  f0 <- nitro(FALSE)
  f1 <- nitro(TRUE)
  expect_output(print(f0), "Fixed effects")
  s <- summary(f0)
  expect_identical(rownames(s), parnames(f0))
  expect_equal(fixef(f0), fixef(f1))
  expect_equal(VarCorr(f0)$flea, VarCorr(f1)$flea)
  expect_equal(vcov(f0), vcov(f1))
  expect_identical(dim(as.matrix(f0)), c(300L, 5L))
  expect_s3_class(posterior::as_draws_df(f0), "draws_df")
  expect_s3_class(prior_summary(f0), "bglmm_prior_summary")
  expect_s3_class(plot(f0), "ggplot")
  expect_s3_class(plot(f0, "intervals", regex_pars = "Sigma"), "ggplot")
})

test_that("predictions without group effects work and match the full fit", {
  f0 <- nitro(FALSE)
  f1 <- nitro(TRUE)
  expect_identical(posterior_linpred(f0, re.form = NA), posterior_linpred(f1, re.form = NA))
  nd <- data.frame(conc = c(0, 310), brood = 2)
  expect_identical(predict(f0, nd, re.form = NA, type = "response"),
                   predict(f1, nd, re.form = NA, type = "response"))
  expect_identical(posterior_predict(f0, nd, re.form = ~0, seed = 1),
                   posterior_predict(f1, nd, re.form = ~0, seed = 1))
})

test_that("everything that needs the group effects gives the save_ranef error", {
  f0 <- nitro(FALSE)
  nd <- data.frame(conc = 0, brood = 2, flea = "1")
  calls <- list(
    ranef = function() ranef(f0),
    coef = function() coef(f0),
    coef_draws = function() coef(f0, summary = FALSE),
    fitted = function() fitted(f0),
    residuals = function() residuals(f0),
    predict = function() predict(f0),
    predict_newdata = function() predict(f0, nd),
    linpred = function() posterior_linpred(f0),
    epred = function() posterior_epred(f0),
    ppredict = function() posterior_predict(f0),
    pred_interval = function() predictive_interval(f0),
    re_form = function() posterior_epred(f0, re.form = ~(1 | flea)),
    log_lik = function() log_lik(f0),
    loo = function() loo(f0),
    waic = function() waic(f0),
    pp_check = function() pp_check(f0),
    bayes_R2 = function() bayes_R2(f0),
    plot_group = function() plot(f0, "intervals", group = "flea"),
    plot_ppc = function() plot(f0, "ppc"),
    pars_b = function() as.matrix(f0, pars = "b[(Intercept) flea:1]"),
    regex_b = function() as.matrix(f0, regex_pars = "^b\\[")
  )
  for (nm in names(calls)) {
    err <- tryCatch({
      calls[[nm]]()
      NULL
    }, error = function(e) conditionMessage(e))
    expect_true(!is.null(err) && grepl(no_ranef_msg, err, fixed = TRUE),
                label = sprintf("%s gives the save_ranef error (got: %s)", nm, format(err)))
  }
  expect_error(ranef(f0), "refit with save_ranef = TRUE, or use re.form = NA", fixed = TRUE)
})

test_that("a model without random terms is unaffected, and the argument is checked", {
  f <- bglmm(live ~ conc, data = nitrofen, family = poisson, chains = 1, iter = 200,
             refresh = 0, seed = 1, save_ranef = FALSE)
  expect_identical(parnames(f), c("(Intercept)", "conc"))
  expect_length(fitted(f), nrow(nitrofen))
  expect_error(nitro(NA), "'save_ranef' must be TRUE or FALSE")
  expect_error(nitro("no"), "'save_ranef' must be TRUE or FALSE")
})

test_that("the memory guard counts only the kept parameters", {
  old <- options(bglmm.max_draws_gb = 1e-9)
  on.exit(options(old))
  n_b <- nlevels(factor(nitrofen$flea))
  expect_error(nitro(TRUE), sprintf("draws of %d parameters", 5L + n_b), fixed = TRUE)
  expect_error(nitro(FALSE), "draws of 5 parameters", fixed = TRUE)
})
