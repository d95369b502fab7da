# The benchmark models (shared by bench/*.R). Each returns formula, data, family: two course
# data sets shipped with bglmm and two large simulated ones. To add a model, add an entry
# here or in a file named by BENCH_MODELS_FILE (see the end of this file): a function of no
# arguments returning list(formula = <lme4-style formula>, family = <family object, function
# or name>, data = <data frame>). Refer to package data as pkg::name (e.g. lme4::cbpp).
bench_models <- list(
  nitrofen = function() {
    list(formula = live ~ conc * brood + (1 | flea), family = poisson(),
         data = bglmm::nitrofen)
  },
  tumor = function() {
    list(formula = count ~ poly(x, 4) + (poly(x, 4) | mouse), family = poisson(),
         data = bglmm::tumor)
  },
  poisson_100k = function() {
    set.seed(20261124)
    m <- 1000; n <- 100000
    g <- sample.int(m, n, replace = TRUE)
    x <- stats::rnorm(n)
    L <- chol(matrix(c(0.25, 0.05, 0.05, 0.09), 2))
    b <- matrix(stats::rnorm(2 * m), m) %*% L
    eta <- 0.5 + b[g, 1] + (0.3 + b[g, 2]) * x
    list(formula = y ~ x + (1 + x | g), family = poisson(),
         data = data.frame(y = stats::rpois(n, exp(eta)), x = x, g = factor(g)))
  },
  nb_counts = function() {
    # overdispersed counts: 100 groups of 20, reciprocal dispersion 3
    set.seed(20261206)
    m <- 100; k <- 20; g <- rep(seq_len(m), each = k)
    x <- stats::rnorm(m * k); trt <- rep(rbinom(m, 1, 0.5), each = k)
    mu <- exp(1 + 0.4 * x - 0.5 * trt + stats::rnorm(m, 0, 0.6)[g])
    list(formula = y ~ x + trt + (1 | g), family = "neg_binomial_2",
         data = data.frame(y = stats::rnbinom(m * k, size = 3, mu = mu), x = x, trt = trt,
                           g = factor(g)))
  },
  gamma_times = function() {
    # positive continuous outcomes (log link): 100 groups of 20, shape 4
    set.seed(20261207)
    m <- 100; k <- 20; g <- rep(seq_len(m), each = k)
    x <- stats::rnorm(m * k)
    b <- cbind(stats::rnorm(m, 0, 0.4), stats::rnorm(m, 0, 0.2))
    mu <- exp(2 + b[g, 1] + (0.3 + b[g, 2]) * x)
    list(formula = y ~ x + (1 + x | g), family = Gamma(link = "log"),
         data = data.frame(y = stats::rgamma(m * k, shape = 4, rate = 4 / mu), x = x,
                           g = factor(g)))
  },
  bernoulli_50k_crossed = function() {
    set.seed(20261125)
    n <- 50000; m1 <- 500; m2 <- 100
    g1 <- sample.int(m1, n, replace = TRUE); g2 <- sample.int(m2, n, replace = TRUE)
    x <- stats::rnorm(n)
    eta <- -0.3 + 0.6 * x + stats::rnorm(m1, 0, 0.7)[g1] + stats::rnorm(m2, 0, 0.4)[g2]
    list(formula = y ~ x + (1 | g1) + (1 | g2), family = binomial(),
         data = data.frame(y = stats::rbinom(n, 1, stats::plogis(eta)), x = x,
                           g1 = factor(g1), g2 = factor(g2)))
  }
)

# Extra models: each file in BENCH_MODELS_FILE (comma-separated paths) is sourced here and
# adds entries, e.g. bench_models$sleep <- function() list(formula = ..., ...).
local({
  files <- trimws(strsplit(Sys.getenv("BENCH_MODELS_FILE"), ",")[[1]])
  for (f in files[nzchar(files)]) sys.source(f, envir = globalenv())
})
