# The glm()/glmer() arguments subset, weights and offset.

arg_data <- function() {
  set.seed(21)
  n <- 120
  d <- data.frame(g = factor(rep(letters[1:12], each = 10)), x = stats::rnorm(n),
                  n = sample(2:9, n, replace = TRUE), expo = stats::runif(n, 0.5, 3))
  eta <- -0.3 + 0.6 * d$x + stats::rnorm(12, 0, 0.7)[d$g]
  d$s <- stats::rbinom(n, d$n, stats::plogis(eta))
  d$prop <- d$s / d$n
  d$cnt <- stats::rpois(n, d$expo * exp(0.2 + 0.4 * d$x))
  d
}

test_that("binomial proportions with weights = trials are the cbind(successes, failures) model", {
  d <- arg_data()
  fw <- quick_fit(prop ~ x + (1 | g), d, family = binomial, weights = n, seed = 3)
  fc <- quick_fit(cbind(s, n - s) ~ x + (1 | g), d, family = binomial, seed = 3)
  expect_identical(fw$draws, fc$draws)
  expect_identical(fw$y, fc$y)
  expect_identical(fw$trials, fc$trials)
  expect_equal(log_lik(fw), log_lik(fc))
  expect_equal(residuals(fw), residuals(fc))
  # newdata: the weights expression gives the trials there too
  nd <- d[c(1, 15, 40), ]
  expect_equal(log_lik(fw, newdata = nd), log_lik(fc, newdata = nd))
  expect_identical(posterior_predict(fw, newdata = nd[c("x", "g", "n")], seed = 5),
                   posterior_predict(fc, newdata = nd[c("x", "g")], trials = nd$n, seed = 5))
  expect_error(posterior_predict(fw, newdata = nd[c("x", "g")]),
               "fitted with weights = n .*'trials' argument")
  expect_error(log_lik(fw, newdata = nd[c("x", "g", "prop")]), "fitted with weights = n")
  # weights given as a variable of the calling function, as glm() finds them
  fit_in <- function(dd, w) quick_fit(prop ~ x + (1 | g), dd, family = binomial, weights = w, seed = 3)
  expect_identical(fit_in(d, d$n)$draws, fw$draws)
})

test_that("integer weights multiply cbind(successes, failures) and 0/1 responses", {
  d <- arg_data()
  d$w <- rep(1:3, length.out = nrow(d))
  fw <- quick_fit(cbind(s, n - s) ~ x + (1 | g), d, family = binomial, weights = w, seed = 4)
  fm <- quick_fit(cbind(s * w, (n - s) * w) ~ x + (1 | g), d, family = binomial, seed = 4)
  expect_identical(fw$draws, fm$draws)
  d$yes <- d$s > d$n / 2
  fl <- quick_fit(yes ~ x + (1 | g), d, family = binomial, weights = w, seed = 4)
  fb <- quick_fit(cbind(yes * w, (1 - yes) * w) ~ x + (1 | g), d, family = binomial, seed = 4)
  expect_identical(fl$draws, fb$draws)
})

test_that("rows of zero weight have no residual and a zero log-likelihood", {
  d <- arg_data()
  d$w <- d$n
  d$w[1:3] <- 0
  fit <- quick_fit(prop ~ x + (1 | g), d, family = binomial, weights = w, seed = 2)
  r <- residuals(fit)
  expect_true(all(is.na(r[1:3])))
  expect_false(anyNA(r[-(1:3)]))
  ll <- log_lik(fit)
  expect_true(all(ll[, 1:3] == 0))
  expect_true(all(is.finite(ll)))
})

test_that("bad weights are clear errors", {
  d <- arg_data()
  expect_error(quick_fit(cnt ~ x + (1 | g), d, family = poisson, weights = n),
               "'weights' are taken by the binomial family .* not by poisson.*offset\\(log\\(exposure\\)\\)")
  expect_error(quick_fit(x ~ 1 + (1 | g), d, weights = n - 2), "Gaussian 'weights' \\(precisions\\) must be positive")
  expect_error(quick_fit(prop ~ x, d, family = binomial, weights = n / 2),
               "binomial counts \\(the proportions times 'weights'\\) must be whole numbers")
  expect_error(quick_fit(s ~ x, d, family = binomial, weights = n),
               "With 'weights', a binomial response is the proportion of successes")
  expect_error(quick_fit(prop ~ x, d, family = binomial, weights = -n),
               "'weights' must be non-negative finite numbers")
  expect_error(quick_fit(x ~ 1 + (1 | g), d, weights = ifelse(n > 3, n, Inf)), "'weights' must be non-negative finite")
})

test_that("subset fits the selected rows, without their unused levels", {
  d <- arg_data()
  keep <- !d$g %in% c("b", "c") & d$x > -1.5
  fs <- quick_fit(cbind(s, n - s) ~ x + (1 | g), d, family = binomial, subset = !g %in% c("b", "c") & x > -1.5,
                  seed = 6)
  dd <- d[keep, ]
  dd$g <- droplevels(dd$g)
  fd <- quick_fit(cbind(s, n - s) ~ x + (1 | g), dd, family = binomial, seed = 6)
  expect_identical(fs$draws, fd$draws)
  expect_identical(ngrps(fs), c(g = 10L))
  expect_identical(nobs(fs), sum(keep))
  expect_identical(rownames(model.frame(fs)), rownames(dd))
  fu <- bglmm(cbind(s, n - s) ~ x + (1 | g), d, family = binomial, subset = x > 0, chains = 1,
              iter = 50, refresh = 0, seed = 1)
  expect_identical(nobs(fu), sum(d$x > 0))
  expect_identical(nobs(update(fu, subset = NULL)), nrow(d))
  expect_error(quick_fit(cbind(s, n - s) ~ g, d, family = binomial, subset = g == "a"),
               "A factor with one level in the rows fitted .* cannot be a predictor")
})

test_that("the offset argument adds to the linear predictor as offset() does", {
  d <- arg_data()
  fa <- quick_fit(cnt ~ x + (1 | g), d, family = poisson, offset = log(expo), seed = 8)
  ff <- quick_fit(cnt ~ x + offset(log(expo)) + (1 | g), d, family = poisson, seed = 8)
  expect_identical(fa$draws, ff$draws)
  expect_equal(fa$offset, log(d$expo))
  # both together add up
  fb <- quick_fit(cnt ~ x + offset(log(expo) / 2) + (1 | g), d, family = poisson,
                  offset = log(expo) / 2, seed = 8)
  expect_equal(fb$offset, log(d$expo))
  # newdata: the offset expression is evaluated there, or given
  nd <- d[c(2, 30), ]
  expect_equal(posterior_linpred(fa, newdata = nd), posterior_linpred(ff, newdata = nd))
  expect_error(posterior_linpred(fa, newdata = nd[c("x", "g")]),
               "fitted with offset = log\\(expo\\), which could not be evaluated on newdata")
  expect_equal(posterior_linpred(fa, newdata = nd[c("x", "g")], offset = log(nd$expo)),
               posterior_linpred(ff, newdata = nd))
})

test_that("gaussian weights are precisions: the posterior agrees with lmer(weights =)", {
  set.seed(5)
  m <- 30
  k <- 20
  n <- m * k
  d <- data.frame(g = factor(rep(1:m, each = k)), x = stats::rnorm(n), w = sample(c(1, 4, 16), n, TRUE))
  d$y <- 2 + 0.5 * d$x + stats::rnorm(m, 0, 0.7)[d$g] + stats::rnorm(n, 0, 1.5 / sqrt(d$w))
  fit <- quick_fit(y ~ x + (1 | g), d, weights = w, iter = 2000, seed = 1)
  ref <- lme4::lmer(y ~ x + (1 | g), data = d, weights = w)
  # fixed effects: within 4 posterior sd (+ MC error) of lmer's; their sd near lmer's se
  z <- recovery_z(fit, lme4::fixef(ref))
  expect_true(all(abs(z) < 4), label = paste(round(z, 2), collapse = ", "))
  s <- post_stats(fit, c("(Intercept)", "x", "sigma"))
  expect_equal(s[c("(Intercept)", "x"), "sd"], unname(sqrt(diag(as.matrix(stats::vcov(ref))))), tolerance = 0.2)
  # sigma is the sd of a row of weight 1 (lmer's 1.52; without the weights it would be 1.03)
  expect_lt(abs(s["sigma", "mean"] - stats::sigma(ref)) / sqrt(s["sigma", "sd"]^2 + s["sigma", "mcse"]^2), 4)
  # unit weights are the unweighted model, draw for draw
  expect_identical(quick_fit(y ~ x + (1 | g), d, weights = rep(1, n), seed = 2)$draws,
                   quick_fit(y ~ x + (1 | g), d, seed = 2)$draws)
})

# Gaussian rows of weight 1 and 9 in 8 groups.
small_weighted_data <- function() {
  set.seed(6)
  d <- data.frame(g = factor(rep(1:8, each = 6)), x = stats::rnorm(48), w = rep(c(1, 9), 24))
  d$y <- 1 + d$x + stats::rnorm(8)[d$g] + stats::rnorm(48, 0, 1 / sqrt(d$w))
  d
}

test_that("gaussian weights enter log_lik and posterior_predict, on newdata too", {
  d <- small_weighted_data()
  fit <- quick_fit(y ~ x + (1 | g), d, weights = w, iter = 200, seed = 3)
  mu <- posterior_linpred(fit)
  sdm <- outer(as.matrix(fit)[, "sigma"], sqrt(d$w), "/")
  ll <- stats::dnorm(matrix(d$y, nrow(mu), ncol(mu), byrow = TRUE), mu, sdm, log = TRUE)
  expect_equal(log_lik(fit), ll, ignore_attr = TRUE)
  expect_equal(log_lik(fit, newdata = d[1:4, ]), ll[, 1:4], ignore_attr = TRUE)
  expect_error(log_lik(fit, newdata = d[1:4, c("x", "g", "y")]), "must contain the response \\(y\\) and the weights \\(w\\)")
  # draws of rows of weight 9 spread a third as much as those of weight 1
  yrep <- posterior_predict(fit, seed = 4)
  ratio <- mean(apply(yrep[, d$w == 9] - mu[, d$w == 9], 2, stats::sd)) /
    mean(apply(yrep[, d$w == 1] - mu[, d$w == 1], 2, stats::sd))
  expect_equal(ratio, 1 / 3, tolerance = 0.1)
  expect_warning(posterior_predict(fit, newdata = d[1:4, c("x", "g")], seed = 4), "predicting with weight 1")
})

test_that("weights and offset on newdata come from its columns only", {
  d <- arg_data()
  fw <- quick_fit(prop ~ x + (1 | g), d, family = binomial, weights = n, offset = log(expo) / 4, seed = 3)
  expect_identical(names(fw$model_args), c("weights", "offset"))
  expect_identical(fw$model_args$weights$vars, "n")
  nd <- d[c(5, 1), ]
  ref <- posterior_linpred(fw, newdata = nd, offset = log(nd$expo) / 4)
  expect_equal(posterior_linpred(fw, newdata = nd), ref)
  # an object named like a data column in the formula's environment is not used on newdata
  local({
    expo <- rep(100, 2)
    n <- rep(1000, 2)
    environment(fw$formula) <- environment()
    expect_error(posterior_linpred(fw, newdata = nd[c("x", "g")]), "offset = log\\(expo\\)/4, which could not")
    expect_error(posterior_predict(fw, newdata = nd[c("x", "g", "expo")]), "weights = n \\(the numbers of trials\\)")
  })
  # a vector given in the call says nothing about other rows
  fv <- quick_fit(prop ~ x + (1 | g), d, family = binomial, weights = d$n, seed = 3)
  expect_identical(fv$model_args$weights$vars, character(0))
  expect_error(posterior_predict(fv, newdata = d[nrow(d):1, ]), "could not be evaluated on newdata")
  expect_identical(dim(posterior_predict(fv, newdata = d, trials = d$n, draws = 5)), c(5L, nrow(d)))
  # weights or offset that evaluate to NULL (a wrapper's default) are no weights or offset
  wrap <- function(dd, w = NULL, o = NULL) quick_fit(prop ~ x + (1 | g), dd, family = binomial, weights = w, offset = o, seed = 3)
  fn <- wrap(d, w = d$n)
  expect_null(fn$model_args$offset)
  expect_identical(dim(posterior_linpred(fn, newdata = d[1:2, ])), c(500L, 2L))
})

test_that("missing weights or offsets leave no empty factor levels", {
  d <- arg_data()
  d$f <- factor(ifelse(d$g == "c", "C", rep(c("A", "B"), length.out = nrow(d))))
  d$o <- log(d$expo)
  d$o[d$g == "c"] <- NA
  expect_message(fit <- quick_fit(cnt ~ f + (1 | g), d, family = poisson, offset = o, seed = 1),
                 "Removed 10 rows")
  expect_identical(colnames(fit$X), c("(Intercept)", "fB"))
  expect_identical(ngrps(fit), c(g = 11L))
  expect_error(quick_fit(cnt ~ x, d, family = poisson, subset = g == "zz"), "No rows are left after 'subset'")
})

test_that("bayes_R2 of a gaussian weighted fit uses the mean residual variance sigma^2 mean(1 / w)", {
  d <- small_weighted_data()
  fit <- quick_fit(y ~ x + (1 | g), d, weights = w, iter = 200, seed = 3)
  mu <- posterior_epred(fit)
  v <- apply(mu, 1, stats::var)
  s2 <- as.matrix(fit)[, "sigma"]^2 * mean(1 / d$w)
  expect_equal(bayes_R2(fit), v / (v + s2))
  expect_identical(names(model.frame(fit, fixed.only = TRUE)), c("y", "x", "(weights)"))
})
