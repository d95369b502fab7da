# Shared helpers for the bglmm test suite.

# Small fits by default: 2 chains, silent. Every call passes an explicit seed.
quick_fit <- function(formula, data, ..., chains = 2, iter = 500, seed = 1) {
  bglmm(formula, data = data, ..., chains = chains, iter = iter, refresh = 0, seed = seed)
}

parnames <- function(fit) dimnames(fit$draws)$parameter

# Draws from N(mu, S) without MASS (which the package does not suggest).
rmvnorm_chol <- function(n, mu, S) {
  z <- matrix(stats::rnorm(n * length(mu)), n)
  sweep(z %*% chol(S), 2, mu, "+")
}

# Posterior mean, sd, Monte Carlo SE of the mean and bulk ESS of the named parameters,
# computed with the posterior package directly (independently of summary.bglmm()).
post_stats <- function(fit, pars) {
  a <- posterior::subset_draws(posterior::as_draws_array(fit), variable = pars)
  s <- posterior::summarise_draws(a, mean = mean, sd = stats::sd,
                                  mcse = posterior::mcse_mean, ess = posterior::ess_bulk)
  out <- data.frame(mean = as.numeric(s$mean), sd = as.numeric(s$sd),
                    mcse = as.numeric(s$mcse), ess = as.numeric(s$ess),
                    row.names = s$variable)
  out[pars, , drop = FALSE]
}

# Standardised error of posterior means against known values: (mean - truth) divided by
# the posterior sd and the Monte Carlo error of the mean combined.
recovery_z <- function(fit, truth) {
  s <- post_stats(fit, names(truth))
  stats::setNames((s$mean - truth) / sqrt(s$sd^2 + s$mcse^2), names(truth))
}
