# Warning after fitting when the likelihood has no finite maximum along a fixed effect
# (separation, a factor level with only zero counts), so its posterior is set by the prior.

fit_warnings <- function(expr) {
  msgs <- character(0)
  fit <- withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(fit = fit, warnings = msgs)
}

sep_data <- function() {
  d <- data.frame(x = c(-3:-1, 1:3, -2, 2), g = factor(rep(1:4, 2)))
  d$y <- as.numeric(d$x > 0)
  d
}

test_that("complete separation warns and names the coefficient", {
  res <- fit_warnings(quick_fit(y ~ x + (1 | g), sep_data(), family = binomial, iter = 600))
  expect_length(res$warnings, 1L)
  expect_match(res$warnings, "The data separate the outcome along x: the likelihood has no finite maximum",
               fixed = TRUE)
  expect_match(res$warnings, "posterior sd is 0\\.[0-9]+ of the prior sd")
  expect_match(res$warnings, 'bglmm_prior(fixef_scale = c("x" = ...))', fixed = TRUE)
  expect_true(all(is.finite(as.matrix(res$fit))))
})

test_that("quasi-complete separation warns", {
  d <- data.frame(x = c(-3:3, -2:2, 0, 0), g = factor(rep(1:4, length.out = 14)))
  d$y <- as.numeric(d$x > 0)
  d$y[d$x == 0] <- c(1, 0, 1, 0)
  expect_warning(quick_fit(y ~ x + (1 | g), d, family = binomial, iter = 600),
                 "separate the outcome along x:")
  # a factor level with only successes, with cbind(successes, failures)
  set.seed(8)
  d <- data.frame(f = factor(rep(c("a", "b", "c"), each = 8)), g = factor(rep(1:6, 4)), n = 5)
  d$s <- rbinom(24, 5, 0.4)
  d$s[d$f == "b"] <- 5
  expect_warning(quick_fit(cbind(s, n - s) ~ f + (1 | g), d, family = binomial, iter = 600),
                 "separate the outcome along fb:")
})

test_that("a Poisson factor level with only zero counts warns", {
  set.seed(1)
  d <- data.frame(f = factor(rep(c("a", "b", "c"), each = 20)), g = factor(rep(1:10, 6)))
  d$y <- rpois(60, 3)
  d$y[d$f == "c"] <- 0
  expect_warning(quick_fit(y ~ f + (1 | g), d, family = poisson, iter = 600),
                 "The zero counts are separated from the others along fc:")
  # only zeros in the baseline level: the intercept and the other levels diverge together
  d$y[d$f == "c"] <- rpois(20, 3)
  d$y[d$f == "a"] <- 0
  expect_warning(quick_fit(y ~ f + (1 | g), d, family = poisson, iter = 600),
                 "separated from the others along (Intercept), fb", fixed = TRUE)
})

test_that("the course fits and ordinary GLMMs do not warn", {
  expect_no_warning(quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson, iter = 300))
  expect_no_warning(quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 300))
  expect_no_warning(quick_fit(count ~ poly(x, 4) + (poly(x, 4) | mouse), tumor, family = poisson,
                              iter = 200))
  set.seed(2)
  d <- data.frame(x = rnorm(300), g = factor(rep(1:30, 10)))
  d$y <- rbinom(300, 1, plogis(0.5 + d$x + rnorm(30)[d$g]))
  expect_no_warning(quick_fit(y ~ x + (1 | g), d, family = binomial, iter = 400))
  # groups with only zero counts (or only failures) within a random-effects term are normal
  set.seed(3)
  d <- data.frame(x = rnorm(200), g = factor(rep(1:20, 10)))
  d$y <- rpois(200, exp(-1 + 0.3 * d$x + rnorm(20, 0, 1.5)[d$g]))
  d$y[d$g %in% c("1", "2")] <- 0
  expect_no_warning(quick_fit(y ~ x + (1 | g), d, family = poisson, iter = 400))
  d$z <- as.numeric(d$y > 0)
  expect_no_warning(quick_fit(z ~ x + (1 | g), d, family = binomial, iter = 400))
})

test_that("the divergence test finds exactly the unbounded directions of the GLM", {
  md_of <- function(f, d, fam) {
    X <- stats::model.matrix(f, d)
    list(X = X, y = stats::model.response(stats::model.frame(f, d)), trials = rep(1, nrow(d)),
         offset = rep(0, nrow(d)))
  }
  unb <- function(f, d, fam) {
    md <- md_of(f, d, fam)
    bglmm:::unbounded_fixef(bglmm:::fixed_glm(md, fam), md, fam)
  }
  expect_identical(unb(y ~ x, sep_data(), binomial()), "x")
  d <- sep_data()
  d$y[d$x == 2][1] <- 0
  expect_identical(unb(y ~ x, d, binomial()), character(0))
  expect_identical(unb(live ~ conc * brood, nitrofen, poisson()), character(0))
  expect_identical(unb(count ~ poly(x, 4), tumor, poisson()), character(0))
  # separation away from 0: the intercept moves with the slope
  d <- data.frame(x = 1:10)
  d$y <- as.numeric(d$x > 6)
  expect_setequal(unb(y ~ x, d, binomial()), c("(Intercept)", "x"))
  # every binomial link: a level with only successes is found (the probit, cloglog and
  # cauchit GLMs' steps along it are far smaller than 1, so the check takes logit's), and
  # overlapping data give nothing
  set.seed(5)
  d <- data.frame(f = gl(3, 40))
  d$y <- rbinom(120, 1, c(0.3, 0.5, 1)[d$f])
  d$z <- rbinom(120, 1, c(0.3, 0.5, 0.8)[d$f])
  for (link in c("logit", "probit", "cloglog", "cauchit")) {
    expect_identical(unb(y ~ f, d, binomial(link)), "f3", label = link)
    expect_identical(unb(z ~ f, d, binomial(link)), character(0), label = link)
  }
})

test_that("a factor level with only successes is warned about with every binomial link", {
  set.seed(5)
  d <- data.frame(f = gl(3, 40), g = gl(12, 10))
  d$y <- rbinom(120, 1, c(0.3, 0.5, 1)[d$f])
  for (link in c("cloglog", "cauchit")) {
    expect_warning(quick_fit(y ~ f + (1 | g), d, family = binomial(link), iter = 300),
                   "The data separate the outcome along f3", label = link)
  }
})

test_that("on big data the starting GLM uses evenly spaced rows and still finds separation", {
  set.seed(11)
  n <- 3000
  d <- data.frame(x = rnorm(n), f = factor(sample(c("a", "b", "c"), n, replace = TRUE)))
  d$y <- rpois(n, exp(0.5 + 0.4 * d$x))
  d$y[d$f == "c"] <- 0
  fam <- poisson()
  X <- stats::model.matrix(~ x + f, d)
  md <- list(X = X, y = d$y, trials = rep(1, n), offset = rep(0, n))
  g <- bglmm:::fixed_glm(md, fam, max_rows = 500L)
  expect_length(attr(g, "rows"), 500L)
  expect_equal(range(attr(g, "rows")), c(1, n))
  expect_identical(bglmm:::unbounded_fixef(g, md, fam), "fc")
  # starting values: the subset's fit, standard errors scaled to all rows
  full <- stats::glm.fit(X, d$y, family = fam)
  init <- bglmm:::initial_values(md, fam, list(location = c(0, 0, 0, 0), scale = c(10, 10, 10, 10)), g)
  se_full <- sqrt(diag(chol2inv(full$qr$qr)))[order(full$qr$pivot)][1:3]
  # within 4 standard errors of a 500-row fit
  expect_true(all(abs(init$fixef[1:3] - full$coefficients[1:3]) < 4 * se_full * sqrt(n / 500)))
  expect_true(all(abs(2 * init$jitter[1:3] / se_full - 1) < 0.3))
})

test_that("the starting GLM's rows include a rare factor level, whose separation is found", {
  set.seed(12)
  n <- 5000
  d <- data.frame(x = rnorm(n), f = factor(rep("a", n), levels = c("a", "r")))
  # 12 rows of level r, none of them among 500 evenly spaced rows, all with zero counts
  rare <- setdiff(seq(3, n, by = 7), bglmm:::spaced_rows(n, 500L))[1:12]
  d$f[rare] <- "r"
  d$y <- rpois(n, exp(0.5 + 0.4 * d$x))
  d$y[rare] <- 0
  fam <- poisson()
  X <- stats::model.matrix(~ x + f, d)
  md <- list(X = X, y = d$y, trials = rep(1, n), offset = rep(0, n))
  expect_false(any(rare %in% bglmm:::spaced_rows(n, 500L)))
  rows <- bglmm:::glm_rows(X, 500L)
  expect_true(all(rare %in% rows))
  g <- bglmm:::fixed_glm(md, fam, max_rows = 500L)
  expect_identical(bglmm:::unbounded_fixef(g, md, fam), "fr")
})
