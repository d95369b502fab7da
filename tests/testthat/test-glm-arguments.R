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
               "'weights' are taken by the binomial family only.*offset\\(log\\(exposure\\)\\)")
  expect_error(quick_fit(x ~ 1 + (1 | g), d, weights = n), "the gaussian family does not take them")
  expect_error(quick_fit(prop ~ x, d, family = binomial, weights = n / 2),
               "binomial counts \\(the proportions times 'weights'\\) must be whole numbers")
  expect_error(quick_fit(s ~ x, d, family = binomial, weights = n),
               "With 'weights', a binomial response is the proportion of successes")
  expect_error(quick_fit(prop ~ x, d, family = binomial, weights = -n),
               "'weights' must be non-negative finite numbers")
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
