# Reproducibility: set.seed(), seed =, and independence of the number of worker threads.

nitro_fit <- function(...) {
  bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson,
        chains = 2, iter = 300, refresh = 0, ...)
}

test_that("set.seed() before two identical calls gives identical draws", {
  set.seed(1)
  f1 <- nitro_fit()
  set.seed(1)
  f2 <- nitro_fit()
  expect_identical(f1$draws, f2$draws)
  # gaussian (all-Gibbs) path too
  set.seed(42)
  g1 <- bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 300, refresh = 0)
  set.seed(42)
  g2 <- bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 300, refresh = 0)
  expect_identical(g1$draws, g2$draws)
})

test_that("different set.seed() values give different draws", {
  set.seed(1)
  f1 <- nitro_fit()
  set.seed(2)
  f2 <- nitro_fit()
  expect_false(identical(f1$draws, f2$draws))
})

test_that("the seed argument reproduces a fit, and different seeds differ", {
  f1 <- nitro_fit(seed = 123)
  f2 <- nitro_fit(seed = 123)
  f3 <- nitro_fit(seed = 124)
  expect_identical(f1$draws, f2$draws)
  expect_false(identical(f1$draws, f3$draws))
  expect_identical(f1$sampler$seed, 123L)
  # seed = overrides R's generator state
  set.seed(99)
  f4 <- nitro_fit(seed = 123)
  expect_identical(f4$draws, f1$draws)
})

test_that("chains differ from one another", {
  f <- nitro_fit(seed = 5)
  expect_false(identical(f$draws[, 1, ], f$draws[, 2, ]))
})

test_that("cores = 1 and cores = 2 give identical draws for the same seed", {
  f1 <- nitro_fit(seed = 7, cores = 1)
  f2 <- nitro_fit(seed = 7, cores = 2)
  expect_identical(f1$draws, f2$draws)
  g1 <- bglmm(y ~ x + (1 + x | g), data = local({
    set.seed(3)
    d <- data.frame(g = factor(rep(1:20, each = 8)), x = stats::rnorm(160))
    d$y <- stats::rnorm(160) + d$x
    d
  }), chains = 3, iter = 300, refresh = 0, seed = 8, cores = 1)
  g2 <- bglmm(g1$formula, data = g1$frame, chains = 3, iter = 300, refresh = 0, seed = 8, cores = 2)
  expect_identical(g1$draws, g2$draws)
})

test_that("adding chains does not change the existing chains' draws", {
  f2 <- nitro_fit(seed = 11)
  f3 <- bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson,
              chains = 3, iter = 300, refresh = 0, seed = 11)
  expect_identical(f3$draws[, 1:2, ], f2$draws)
})

test_that("group updates on several threads give the same draws as on one", {
  # one chain on 2 cores: groups of a term with >= 5,000 rows are updated in parallel
  set.seed(3)
  n <- 6000
  d <- data.frame(g = factor(sample.int(300, n, replace = TRUE)), x = rnorm(n))
  d$y <- rbinom(n, 1, plogis(0.2 + 0.5 * d$x + rnorm(300, 0, 0.5)[d$g]))
  f1 <- bglmm(y ~ x + (1 | g), data = d, family = binomial, chains = 1, iter = 60, cores = 1, seed = 11, refresh = 0)
  f2 <- bglmm(y ~ x + (1 | g), data = d, family = binomial, chains = 1, iter = 60, cores = 2, seed = 11, refresh = 0)
  expect_identical(f1$draws, f2$draws)
})

test_that("cores defaults to all detected cores, and the draws do not depend on it", {
  f0 <- nitro_fit(seed = 7)
  expect_identical(f0$sampler$cores, max(1L, parallel::detectCores(), na.rm = TRUE))
  expect_identical(f0$draws, nitro_fit(seed = 7, cores = 1)$draws)
})
