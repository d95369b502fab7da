# lme4/rstanarm-style extractors checked against computations from the raw draws.

nitro_fit <- function() {
  quick_fit(live ~ conc + brood + (1 | flea), nitrofen, family = poisson, iter = 400)
}

test_that("fixef, ranef, coef and VarCorr are the rstanarm point summaries of the draws", {
  fit <- nitro_fit()
  m <- as.matrix(fit)
  fe <- fixef(fit)
  expect_equal(fe, apply(m[, c("(Intercept)", "conc", "brood")], 2, median))
  re <- ranef(fit)
  expect_named(re, "flea")
  expect_identical(dim(re$flea), c(50L, 1L))
  expect_identical(rownames(re$flea), levels(nitrofen$flea))
  expect_identical(colnames(re$flea), "(Intercept)")
  expect_equal(re$flea[["(Intercept)"]],
               unname(apply(m[, paste0("b[(Intercept) flea:", 1:50, "]")], 2, median)))
  cf <- coef(fit)
  expect_identical(colnames(cf$flea), c("(Intercept)", "conc", "brood"))
  expect_equal(cf$flea[["(Intercept)"]], fe[["(Intercept)"]] + re$flea[["(Intercept)"]])
  expect_equal(cf$flea$conc, rep(fe[["conc"]], 50))
  vc <- VarCorr(fit)
  expect_s3_class(vc, "VarCorr.merMod")
  expect_equal(unname(vc$flea[1, 1]), mean(m[, "Sigma[flea:(Intercept),(Intercept)]"]))
  expect_output(print(vc), "flea")
  expect_identical(sigma(fit), 1)
  expect_equal(vcov(fit), cov(m[, names(fe)]))
  expect_equal(diag(vcov(fit, correlation = TRUE)), c(`(Intercept)` = 1, conc = 1, brood = 1))
  expect_identical(nobs(fit), 150L)
  expect_identical(family(fit)$family, "poisson")
  expect_equal(formula(fit), live ~ conc + brood + (1 | flea), ignore_attr = TRUE)
})

test_that("confint gives posterior quantiles; terms and model.frame follow lme4", {
  fit <- nitro_fit()
  m <- as.matrix(fit)
  ci <- confint(fit, level = 0.8)
  expect_identical(rownames(ci), c("(Intercept)", "conc", "brood", "Sigma[flea:(Intercept),(Intercept)]"))
  expect_identical(colnames(ci), c("10 %", "90 %"))
  expect_equal(ci["conc", ], quantile(m[, "conc"], c(0.1, 0.9)), ignore_attr = TRUE)
  expect_identical(rownames(confint(fit, parm = "b[(Intercept) flea:3]")), "b[(Intercept) flea:3]")
  expect_error(confint(fit, level = 95), "'level' must be a single number between 0 and 1")
  expect_identical(attr(terms(fit), "term.labels"), c("conc", "brood"))
  expect_identical(attr(terms(fit, fixed.only = FALSE, random.only = TRUE), "term.labels"), "flea")
  expect_identical(attr(terms(fit, fixed.only = FALSE), "term.labels"), c("conc", "brood", "flea"))
  mf <- model.frame(fit)
  expect_identical(nrow(mf), 150L)
  expect_identical(names(mf), c("live", "conc", "brood", "flea"))
  expect_identical(names(model.frame(fit, fixed.only = TRUE)), c("live", "conc", "brood"))
})

test_that("coef(summary = FALSE) is fixef + ranef for every draw (random slopes)", {
  fit <- quick_fit(count ~ x + (x | mouse), tumor, family = poisson, iter = 300)
  m <- as.matrix(fit)
  cd <- coef(fit, summary = FALSE)$mouse
  expect_identical(dim(cd), c(nrow(m), 21L, 2L))
  lev <- levels(tumor$mouse)[5]
  expect_equal(unname(cd[, lev, "x"]), unname(m[, "x"] + m[, paste0("b[x mouse:", lev, "]")]))
  expect_equal(unname(cd[, lev, "(Intercept)"]),
               unname(m[, "(Intercept)"] + m[, paste0("b[(Intercept) mouse:", lev, "]")]))
  # VarCorr: posterior mean covariance, as rstanarm
  S <- VarCorr(fit)$mouse
  expect_equal(unname(S[2, 1]), mean(m[, "Sigma[mouse:x,(Intercept)]"]))
  expect_equal(S[1, 2], S[2, 1])
  expect_equal(attr(S, "correlation")[1, 2], S[1, 2] / sqrt(S[1, 1] * S[2, 2]))
})

test_that("(x || g) gives one ranef data frame per grouping factor and two VarCorr blocks", {
  fit <- quick_fit(count ~ x + (x || mouse), tumor, family = poisson, iter = 300)
  re <- ranef(fit)
  expect_named(re, "mouse")
  expect_identical(colnames(re$mouse), c("(Intercept)", "x"))
  expect_length(VarCorr(fit), 2L)
  cf <- coef(fit)$mouse
  expect_equal(cf$x, fixef(fit)[["x"]] + re$mouse$x)
})

test_that("gaussian sigma, fitted and residuals agree with independent computations", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 400)
  m <- as.matrix(fit)
  expect_equal(sigma(fit), median(m[, "sigma"]))
  expect_equal(attr(VarCorr(fit), "sc"), mean(m[, "sigma"]))
  eta <- m[, "(Intercept)"] + m[, paste0("b[(Intercept) operator:", pulp$operator, "]")]
  expect_equal(unname(fitted(fit)), unname(colMeans(eta)))
  expect_equal(unname(fitted(fit)), unname(colMeans(posterior_epred(fit))))
  expect_equal(unname(residuals(fit)), pulp$bright - unname(colMeans(eta)))
})

test_that("binomial fitted values are probabilities and residuals are on the proportion scale", {
  d <- binom_data()
  fit <- quick_fit(cbind(s, f) ~ x + (1 | g), d, family = binomial, iter = 300)
  m <- as.matrix(fit)
  eta <- m[, "(Intercept)"] + outer(m[, "x"], d$x) + m[, paste0("b[(Intercept) g:", d$g, "]")]
  expect_equal(unname(fitted(fit)), unname(colMeans(plogis(eta))))
  expect_equal(unname(residuals(fit)), d$s / (d$s + d$f) - unname(colMeans(plogis(eta))))
})

test_that("update refits with changed arguments and formula", {
  # called directly (not through quick_fit) so that the stored call can be re-evaluated
  fit <- bglmm(live ~ conc + brood + (1 | flea), data = nitrofen, family = poisson,
               chains = 2, iter = 300, refresh = 0, seed = 1)
  f2 <- update(fit, iter = 200)
  expect_identical(dim(f2$draws)[1], 100L)
  f3 <- update(fit, . ~ . - brood)
  expect_false("brood" %in% colnames(as.matrix(f3)))
  expect_equal(formula(f3), live ~ conc + (1 | flea), ignore_attr = TRUE)
})

test_that("draws in data frame, coda and posterior formats; posterior_interval", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 400)
  m <- as.matrix(fit)
  df <- as.data.frame(fit)
  expect_s3_class(df, "data.frame")
  expect_identical(names(df), colnames(m))
  expect_equal(as.matrix(df), m, ignore_attr = TRUE)
  s <- posterior::summarise_draws(posterior::as_draws_df(fit))
  expect_identical(s$variable, colnames(m))
  pi <- posterior_interval(fit, prob = 0.8, pars = "sigma")
  expect_equal(unname(pi[1, ]), unname(quantile(m[, "sigma"], c(0.1, 0.9))))
  skip_if_not_installed("coda")
  mc <- coda::as.mcmc.list(fit)
  expect_s3_class(mc, "mcmc.list")
  expect_length(mc, 2L)
  expect_equal(unname(as.matrix(mc[[2]])[, "sigma"]), unname(fit$draws[, 2, "sigma"]))
})

test_that("bayes_R2 follows Gelman et al. (2019) with the family's residual variance", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 400)
  m <- as.matrix(fit)
  mu <- m[, "(Intercept)"] + m[, paste0("b[(Intercept) operator:", pulp$operator, "]")]
  v <- apply(mu, 1, var)
  expect_equal(bayes_R2(fit), v / (v + m[, "sigma"]^2))
  fp <- nitro_fit()
  r2 <- bayes_R2(fp)
  mu <- posterior_epred(fp)
  expect_equal(r2, apply(mu, 1, var) / (apply(mu, 1, var) + rowMeans(mu)))
  expect_true(all(r2 > 0 & r2 < 1))
})

test_that("pp_check returns a bayesplot ggplot", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 400)
  expect_s3_class(pp_check(fit, seed = 1), "ggplot")
  expect_s3_class(pp_check(fit, plotfun = "stat", stat = "mean"), "ggplot")
  expect_s3_class(pp_check(fit, plotfun = "ppc_stat_grouped", group = "operator", stat = "sd"), "ggplot")
})

test_that("loading lme4 and rstanarm after bglmm masks nothing and fixef etc. still dispatch", {
  skip_if_not_installed("rstanarm")
  skip_if_not_installed("lme4")
  script <- tempfile(fileext = ".R")
  writeLines(c(
    "suppressPackageStartupMessages(library(bglmm))",
    "msgs <- character(0)",
    "withCallingHandlers({library(lme4); library(rstanarm)}, message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart('muffleMessage') })",
    "cat('MASKED:', any(grepl('masked', msgs) & grepl('bglmm', msgs)), '\\n')",
    "fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 200, refresh = 0, seed = 1)",
    "cat('FIXEF:', is.numeric(fixef(fit)), '\\n')",
    "cat('RANEF:', identical(names(ranef(fit)), 'operator'), '\\n')",
    "cat('VARCORR:', inherits(VarCorr(fit), 'VarCorr.merMod'), '\\n')",
    "cat('PPRED:', identical(dim(posterior_predict(fit)), c(200L, 20L)), '\\n')",
    "cat('LOO:', inherits(loo(fit), 'loo'), '\\n')",
    "cat('SIGMA:', sigma(fit) > 0, '\\n')"
  ), script)
  env <- c(R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep))
  out <- system2(file.path(R.home("bin"), "Rscript"), script, stdout = TRUE, stderr = TRUE,
                 env = paste0(names(env), "=", env))
  out <- paste(out, collapse = "\n")
  expect_match(out, "MASKED: FALSE")
  for (k in c("FIXEF", "RANEF", "VARCORR", "PPRED", "LOO", "SIGMA")) {
    expect_match(out, paste0(k, ": TRUE"), label = out)
  }
})
