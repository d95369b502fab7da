# Fits whose draws were recorded before a restructuring of the sampler (reference-draws.R):
# one per family and structure, short runs that still pass the warmup adaptation points
# (curvatures at 0 and 25, expansion-move schedule at 5, 25 and the end of warmup).
# scripts/record-reference-draws.R rewrites the record; do that only when a change of
# the draws is intended and said so in NEWS.md.

reference_data <- function() {
  set.seed(101)
  crossed <- expand.grid(a = factor(1:12), b = factor(1:9), rep = 1:2)
  crossed$x <- rnorm(nrow(crossed))
  crossed$y <- rbinom(nrow(crossed), 1, plogis(0.3 + 0.6 * crossed$x + rnorm(12, 0, 0.8)[crossed$a] +
                                             rnorm(9, 0, 0.5)[crossed$b]))
  nested <- data.frame(a = factor(rep(1:8, each = 12)), b = factor(rep(1:32, each = 3)))
  nested$y <- rpois(96, exp(1 + rnorm(8, 0, 0.5)[nested$a] + rnorm(32, 0, 0.4)[nested$b]))
  slopes3 <- data.frame(g = factor(rep(1:15, each = 10)), x1 = rnorm(150), x2 = rnorm(150))
  slopes3$y <- rpois(150, exp(0.5 + 0.3 * slopes3$x1 - 0.2 * slopes3$x2 + rnorm(15, 0, 0.3)[slopes3$g]))
  grouplevel <- data.frame(g = factor(rep(1:20, each = 6)), w = rep(rnorm(20, 50, 10), each = 6),
                           n = rep(c(5, 8), 60))
  grouplevel$s <- rbinom(120, grouplevel$n, plogis(-2 + 0.04 * grouplevel$w + rnorm(20, 0, 0.5)[grouplevel$g]))
  gauss <- data.frame(g = factor(rep(1:10, each = 5)), x = rnorm(50), w = runif(50, 0.5, 2),
                      o = rnorm(50, 0, 0.1))
  gauss$y <- 1 + 0.5 * gauss$x + rnorm(10)[gauss$g] + rnorm(50) / sqrt(gauss$w)
  big <- data.frame(g = factor(sample.int(300, 6000, replace = TRUE)), x = rnorm(6000))
  big$y <- rbinom(6000, 1, plogis(0.2 + 0.5 * big$x + rnorm(300, 0, 0.5)[big$g]))
  list(crossed = crossed, nested = nested, slopes3 = slopes3, grouplevel = grouplevel,
       gauss = gauss, big = big)
}

# name -> function(d) returning a fit; d is reference_data().
reference_fits <- list(
  gaussian_intercept = function(d) bglmm(bright ~ 1 + (1 | operator), data = pulp),
  gaussian_slope = function(d) bglmm(Reaction ~ Days + (Days | Subject), data = lme4::sleepstudy),
  gaussian_weights_offset = function(d) {
    bglmm(y ~ x + (1 | g), data = d$gauss, weights = w, offset = o)
  },
  gaussian_inv_wishart = function(d) {
    bglmm(Reaction ~ Days + (Days | Subject), data = lme4::sleepstudy,
          prior = bglmm_prior(cov_df = 4))
  },
  poisson_intercept = function(d) {
    bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson)
  },
  poisson_nested = function(d) bglmm(y ~ 1 + (1 | a/b), data = d$nested, family = poisson),
  poisson_three_slopes = function(d) {
    bglmm(y ~ x1 + x2 + (1 + x1 + x2 | g), data = d$slopes3, family = poisson)
  },
  poisson_slope_inv_wishart = function(d) {
    bglmm(y ~ x1 + (x1 | g), data = d$slopes3, family = poisson,
          prior = bglmm_prior(cov_df = 4, cov_scale = 0.5))
  },
  binomial_cbind = function(d) {
    bglmm(cbind(incidence, size - incidence) ~ period + (1 | herd), data = lme4::cbpp,
          family = binomial)
  },
  binomial_group_level = function(d) {
    bglmm(cbind(s, n - s) ~ w + (1 | g), data = d$grouplevel, family = binomial)
  },
  bernoulli_crossed = function(d) {
    bglmm(y ~ x + (1 | a) + (1 | b), data = d$crossed, family = binomial)
  },
  bernoulli_uncorrelated = function(d) {
    bglmm(y ~ x + (x || a), data = d$crossed, family = binomial, save_ranef = FALSE, thin = 2,
          sweeps = 1)
  },
  bernoulli_parallel_groups = function(d) {
    bglmm(y ~ x + (1 | g), data = d$big, family = binomial, chains = 1, iter = 40, warmup = 20,
          cores = 2)
  }
)

# Runs one reference fit with the recorded settings (unless the fit sets its own).
run_reference_fit <- function(name, d = reference_data()) {
  f <- reference_fits[[name]]
  defaults <- list(chains = 2, iter = 160, warmup = 120, refresh = 0, seed = 20261206)
  body <- body(f)
  # the settings are added to the bglmm() call of the function's body
  call <- if (is.call(body) && identical(body[[1L]], as.name("{"))) body[[2L]] else body
  for (a in names(defaults)) if (is.null(call[[a]])) call[[a]] <- defaults[[a]]
  eval(call, list(d = d), environment(f))
}

# A fit's draws as exact text: a weighted checksum and the first and last 8 values, in
# hexadecimal floating point ("%a"), so equality means bit-identical draws.
draws_fingerprint <- function(fit) {
  x <- as.vector(fit$draws)
  n <- length(x)
  sum_w <- sum(x * ((seq_len(n) %% 97) + 1))
  c(dim = paste(dim(fit$draws), collapse = "x"),
    checksum = sprintf("%a", sum_w),
    head = paste(sprintf("%a", utils::head(x, 8)), collapse = " "),
    tail = paste(sprintf("%a", utils::tail(x, 8)), collapse = " "))
}
