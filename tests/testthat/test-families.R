# End-to-end fits of the families and links of issue 19: every method on each, newdata,
# update(family = ...), future = TRUE, and the extreme cases. Each test skips while the
# installed sampler does not know its family and link (sampler_knows(), helper-families.R).

# The cases: family, response (a column of families_data()) and the observed response's
# support for posterior_predict().
family_cases <- list(
  list(family = "neg_binomial_2", y = "nb", support = "counts"),
  list(family = Gamma(link = "log"), y = "pos", support = "positive"),
  list(family = Gamma(link = "inverse"), y = "pos", support = "positive"),
  list(family = Gamma(link = "identity"), y = "pos", support = "positive"),
  list(family = binomial(link = "probit"), y = "s", support = "trials"),
  list(family = binomial(link = "cloglog"), y = "s", support = "trials"),
  list(family = binomial(link = "cauchit"), y = "s", support = "trials"),
  list(family = binomial(link = "log"), y = "s", support = "trials"),
  list(family = poisson(link = "identity"), y = "cnt", support = "counts"),
  list(family = poisson(link = "sqrt"), y = "cnt", support = "counts"),
  list(family = gaussian(link = "log"), y = "yg", support = "real"),
  list(family = gaussian(link = "inverse"), y = "yg", support = "real")
)

# A fit of case cc to the data d with a random intercept per group.
fit_case <- function(cc, d, ...) {
  lhs <- if (cc$y == "s") "cbind(s, n - s)" else cc$y
  bglmm(stats::as.formula(paste(lhs, "~ x + (1 | g)")), data = d, family = cc$family,
        chains = 2, iter = 400, refresh = 0, seed = 7, ...)
}

# The log density of every observation by hand, from the draws of fit (a model y ~ x + (1 | g)).
log_lik_by_hand <- function(fit, cc, d) {
  m <- as.matrix(fit)
  S <- nrow(m)
  eta <- m[, "(Intercept)"] + outer(m[, "x"], d$x) + m[, sprintf("b[(Intercept) g:%s]", d$g)]
  mu <- as.vector(family(fit)$linkinv(eta))
  y <- rep(if (cc$y == "s") d$s else d[[cc$y]], each = S)
  aux_name <- c(neg_binomial_2 = "reciprocal_dispersion", Gamma = "shape", gaussian = "sigma")[family(fit)$family]
  aux <- if (!is.na(aux_name)) rep(m[, aux_name], times = nrow(d))
  ll <- switch(family(fit)$family,
    neg_binomial_2 = stats::dnbinom(y, size = aux, mu = mu, log = TRUE),
    Gamma = stats::dgamma(y, shape = aux, rate = aux / mu, log = TRUE),
    binomial = stats::dbinom(y, rep(d$n, each = S), mu, log = TRUE),
    poisson = stats::dpois(y, mu, log = TRUE),
    gaussian = stats::dnorm(y, mu, aux, log = TRUE)
  )
  matrix(ll, S, nrow(d))
}

for (cc in family_cases) {
  fam <- bglmm:::bglmm_family(cc$family)
  label <- paste(fam$family, fam$link)
  test_that(sprintf("%s: a fit, and every method on it", label), {
    skip_if_not(sampler_knows(cc$family), sprintf("the installed sampler does not fit %s", label))
    d <- families_data()
    fit <- fit_case(cc, d)
    S <- 400L
    n <- nrow(d)
    aux <- bglmm:::family_aux_name(fam)
    expect_identical(c(family(fit)$family, family(fit)$link), c(fam$family, fam$link))
    # the draws: finite, the extra parameter positive and where the sampler writes it
    pars <- parnames(fit)
    expect_true(all(is.finite(fit$draws)))
    if (!is.null(aux)) {
      expect_identical(pars[match("Sigma[g:(Intercept),(Intercept)]", pars) - 1L], aux)
      expect_true(all(as.matrix(fit, pars = aux) > 0))
    }
    # summary with Rhat and ESS for every parameter, the extra one included
    s <- suppressWarnings(summary(fit))
    expect_true(all(c("Rhat", "ess_bulk", "ess_tail") %in% names(s)))
    if (!is.null(aux)) expect_true(all(is.finite(unlist(s[aux, c("mean", "Rhat", "ess_bulk", "ess_tail")]))))
    expect_output(suppressWarnings(print(s)), sprintf("%s family, %s link", fam$family, fam$link))
    expect_output(print(fit), "Fixed effects")
    # predictions: linpred, epred = linkinv(linpred), predict, fitted, residuals
    lp <- posterior_linpred(fit)
    ep <- posterior_epred(fit)
    expect_identical(dim(lp), c(S, n))
    expect_equal(ep, fam$linkinv(lp))
    expect_equal(predict(fit), colMeans(lp), ignore_attr = TRUE)
    expect_equal(predict(fit, type = "response"), colMeans(ep), ignore_attr = TRUE)
    expect_equal(fitted(fit), colMeans(ep), ignore_attr = TRUE)
    obs <- if (cc$y == "s") d$s / d$n else d[[cc$y]]
    expect_equal(unname(residuals(fit)), obs - unname(fitted(fit)))
    # the linear predictor stays in the parameter space of a link that could leave it
    if (bglmm:::family_bounded_link(fam)) expect_true(bglmm:::family_inside(fam, lp))
    # posterior_predict: dimensions and support
    yrep <- posterior_predict(fit, seed = 1)
    expect_identical(dim(yrep), c(S, n))
    switch(cc$support,
      counts = expect_true(all(yrep >= 0 & yrep == round(yrep))),
      positive = expect_true(all(yrep > 0)),
      trials = expect_true(all(yrep >= 0 & yrep <= rep(d$n, each = S) & yrep == round(yrep))),
      real = expect_true(all(is.finite(yrep)))
    )
    # log_lik: the full density, by hand at the posterior draws; loo on it
    ll <- log_lik(fit)
    expect_equal(unname(ll), log_lik_by_hand(fit, cc, d))
    expect_true(all(is.finite(ll)))
    lo <- suppressWarnings(loo(fit))
    expect_s3_class(lo, "psis_loo")
    expect_true(is.finite(lo$estimates["elpd_loo", "Estimate"]))
    # bayes_R2, pp_check, VarCorr, sigma, draws formats
    r2 <- bayes_R2(fit)
    expect_length(r2, S)
    expect_true(all(r2 >= 0 & r2 <= 1))
    expect_s3_class(pp_check(fit, seed = 1), "ggplot")
    vc <- VarCorr(fit)
    expect_s3_class(vc, "VarCorr.merMod")
    expect_identical(attr(vc, "useSc"), fam$family == "gaussian")
    if (fam$family == "gaussian") expect_gt(sigma(fit), 0) else expect_identical(sigma(fit), 1)
    for (a in list(posterior::as_draws_array(fit), posterior::as_draws_df(fit),
                   posterior::as_draws_matrix(fit))) {
      expect_identical(posterior::variables(a), pars)
    }
    # newdata: without group effects, and with a new group
    nd <- data.frame(x = c(0, 0.5, 1), g = c("1", "2", "new"), n = 12, s = 1, nb = 1, cnt = 1, pos = 1, yg = 1)
    p_na <- predict(fit, newdata = nd, re.form = NA, type = "response")
    expect_equal(unname(p_na), unname(colMeans(fam$linkinv(
      as.matrix(fit)[, "(Intercept)"] + outer(as.matrix(fit)[, "x"], nd$x)))))
    # (a new group's effects can take a bounded link's linear predictor out of the parameter
    # space: those draws are NA, with a warning)
    pp <- suppressWarnings(posterior_predict(fit, newdata = nd, allow_new_levels = TRUE, seed = 1))
    expect_identical(dim(pp), c(S, 3L))
    expect_true(all(!is.na(pp[, 1:2])))
    expect_identical(dim(suppressWarnings(log_lik(fit, newdata = nd, allow_new_levels = TRUE))), c(S, 3L))
  })
}

test_that("neg_binomial_2: update() to and from poisson, and loo_compare() across the families", {
  skip_if_not(sampler_knows("neg_binomial_2"), "the installed sampler does not fit neg_binomial_2")
  d <- families_data()
  fit_nb <- bglmm(nb ~ x + (1 | g), data = d, family = "neg_binomial_2", chains = 2, iter = 400,
                  refresh = 0, seed = 3)
  fit_p <- update(fit_nb, family = poisson)
  expect_identical(family(fit_p)$family, "poisson")
  expect_false("reciprocal_dispersion" %in% parnames(fit_p))
  fit_nb2 <- update(fit_p, family = nb2())
  expect_identical(family(fit_nb2)$family, "neg_binomial_2")
  expect_identical(fit_nb2$draws, fit_nb$draws)    # the same model, data and seed
  cmp <- suppressWarnings(loo_compare(fit_p, fit_nb))
  expect_s3_class(cmp, "compare.loo")
  expect_identical(sort(rownames(cmp)), c("fit_nb", "fit_p"))
  # the log-likelihoods are full densities: with a large reciprocal dispersion the negative
  # binomial density of the draws approaches the Poisson one
  expect_equal(bglmm:::family_log_density(family(fit_nb), 3, matrix(2.5), 1e8, numeric(0), NULL),
               matrix(dpois(3, 2.5, log = TRUE)), tolerance = 1e-6)
})

test_that("Gamma with future = TRUE gives the draws of the threaded run", {
  skip_if_not(sampler_knows(Gamma(link = "log")), "the installed sampler does not fit Gamma")
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  d <- families_data()
  threaded <- bglmm(pos ~ x + (1 | g), data = d, family = Gamma(link = "log"), chains = 2,
                    iter = 300, refresh = 0, seed = 11)
  futures <- update(threaded, future = TRUE)
  expect_true(futures$sampler$future)
  expect_identical(futures$draws, threaded$draws)
})

test_that("neg_binomial_2 on counts without overdispersion: finite draws, phi large, no hang", {
  skip_if_not(sampler_knows("neg_binomial_2"), "the installed sampler does not fit neg_binomial_2")
  set.seed(4)
  d <- data.frame(g = factor(rep(1:10, each = 20)), x = rnorm(200))
  d$y <- rpois(200, exp(1 + 0.3 * d$x))
  time <- system.time(fit <- bglmm(y ~ x + (1 | g), data = d, family = "neg_binomial_2", chains = 2,
                                   iter = 500, refresh = 0, seed = 1))
  expect_lt(time[["elapsed"]], 60)
  expect_true(all(is.finite(fit$draws)))
  phi <- as.matrix(fit, pars = "reciprocal_dispersion")
  expect_true(all(phi > 0))
  # the data say "little overdispersion" and the exponential(1) prior keeps phi finite: with
  # the means known, the posterior median of phi is about 7 (90% interval 4.7 to 10.4)
  expect_gt(stats::median(phi), 3)
  expect_true(all(is.finite(log_lik(fit))))
  expect_true(all(is.finite(posterior_predict(fit, seed = 1))))
})

test_that("Gamma on nearly constant data: finite draws, a huge shape, no hang", {
  skip_if_not(sampler_knows(Gamma(link = "log")), "the installed sampler does not fit Gamma")
  set.seed(5)
  d <- data.frame(g = factor(rep(1:6, each = 10)), x = rnorm(60))
  d$y <- 5 * (1 + 1e-4 * rnorm(60))
  time <- system.time(fit <- bglmm(y ~ x + (1 | g), data = d, family = Gamma(link = "log"),
                                   chains = 2, iter = 500, refresh = 0, seed = 1))
  expect_lt(time[["elapsed"]], 60)
  expect_true(all(is.finite(fit$draws)))
  # far above the exponential(1) prior's mean, towards the data's 10^8 (how far depends on
  # how precisely the sampler pins down the means)
  expect_gt(stats::median(as.matrix(fit, pars = "shape")), 10)
  expect_equal(unname(fixef(fit)[["(Intercept)"]]), log(5), tolerance = 0.05)
  expect_true(all(is.finite(log_lik(fit))))
  expect_true(all(posterior_predict(fit, seed = 1) > 0))
})

test_that("expected responses beyond a link's range are NA with a warning, as simulated ones are", {
  skip_if_not(sampler_knows(poisson("sqrt")), "the installed sampler does not fit the poisson sqrt link")
  set.seed(3)
  d <- data.frame(x = runif(100), g = gl(10, 10))
  d$y <- rpois(100, 1 + 4 * d$x)
  nd <- data.frame(x = c(-5, 0.5), g = "1")
  for (link in c("identity", "sqrt")) {
    fit <- bglmm(y ~ x + (1 | g), data = d, family = poisson(link), chains = 2, iter = 300,
                 refresh = 0, seed = 1)
    # at x = -5 every draw's eta is below 0: a negative mean (identity), or for sqrt the
    # square of the eta of the other branch, which the model does not have
    expect_true(all(posterior_linpred(fit, newdata = nd)[, 1] < 0))
    msg <- sprintf("outside the parameter space of the poisson family with the %s link.*expected responses are NA", link)
    expect_warning(ep <- posterior_epred(fit, newdata = nd), msg)
    expect_true(all(is.na(ep[, 1])) && all(ep[, 2] > 0), label = link)
    expect_warning(p <- predict(fit, newdata = nd, type = "response"), msg)
    expect_true(is.na(p[1]) && p[2] > 0, label = link)
    expect_warning(pp <- posterior_predict(fit, newdata = nd, seed = 1), "simulated responses are NA")
    expect_true(all(is.na(pp[, 1])) && !anyNA(pp[, 2]), label = link)
    expect_silent(predict(fit, newdata = nd))   # the link's scale: eta
    expect_silent(posterior_epred(fit))         # the fitted rows are inside
  }
})

test_that("Gamma: a response near the smallest or the largest double gives finite draws and log densities", {
  skip_if_not(sampler_knows(Gamma(link = "log")), "the installed sampler does not fit Gamma")
  set.seed(7)
  d <- data.frame(x = rnorm(60), g = gl(6, 10))
  e <- rexp(60)
  for (scale in c(1e-310, 1e-300, 1e307)) {
    d$y <- e * scale
    fit <- bglmm(y ~ x + (1 | g), data = d, family = Gamma(link = "log"), chains = 2, iter = 300,
                 refresh = 0, seed = 1)
    expect_true(all(is.finite(fit$draws)), label = format(scale))
    ll <- log_lik(fit)
    expect_true(all(is.finite(ll)), label = format(scale))
  }
  # where stats::dgamma is finite, its values; where it underflows to -Inf, the formula's
  mu <- matrix(c(2, 4.9e23, 3, 1), 2)
  y <- c(6e-312, 0.5)
  ll <- bglmm:::gamma_log_density(y, mu, c(0.0013, 2), NULL, NULL)
  a <- c(0.0013, 2, 0.0013, 2)
  want <- a * log(a / mu) + (a - 1) * log(rep(y, each = 2)) - a * rep(y, each = 2) / mu - lgamma(a)
  expect_equal(as.vector(ll), as.vector(want))
  expect_identical(stats::dgamma(6e-312, shape = 2, rate = 2 / 4.9e23, log = TRUE), -Inf)
  expect_equal(ll[2], 2 * log(2 / 4.9e23) + log(6e-312) - 2 * 6e-312 / 4.9e23)
  expect_identical(ll[c(1, 3, 4)], stats::dgamma(rep(y, each = 2), shape = a, rate = a / mu, log = TRUE)[c(1, 3, 4)])
})
