# An independent reference for two small sqrt-link models of the fifth batch of
# bench/unseen_models.R (nb_sqrt_insect, pois_sqrt_warp), where bench/agree.R flagged the
# intercept against stan_glmer: an adaptive random-walk Metropolis sampler written here in
# plain R, with bglmm's own priors (the fixed effects' normal scales from fit$prior, a
# half-t(2, 1) group sd, which is what the Huang-Wand prior gives one coefficient, and the
# exponential(1) reciprocal dispersion), against a long bglmm fit. Run from the top folder
# with bglmm installed:  Rscript bench/agree_rwm.R   (about 2 minutes)
#
# Columns: the two means and sds, and z = the mean difference over both Monte Carlo standard
# errors. The variance of 3 or 6 groups is heavy-tailed (with 3 groups its posterior variance
# is infinite), so its medians are compared.

library(bglmm)

# Adaptive random-walk Metropolis on an unconstrained vector: the proposal's covariance is
# the scaled covariance of the pilot's last draws, fixed after the pilot.
rwm <- function(lp, init, n = 4e5, pilot = 4e4) {
  d <- length(init)
  x <- init
  l <- lp(x)
  R <- diag(0.1, d)
  hist <- matrix(NA_real_, pilot, d)
  out <- matrix(NA_real_, n, d)
  for (i in seq_len(pilot + n)) {
    if (i %in% c(5000, 15000, pilot)) R <- chol(stats::cov(hist[(i - 4000):(i - 1), ]) * 2.38^2 / d + diag(1e-8, d))
    xp <- x + drop(stats::rnorm(d) %*% R)
    lpp <- lp(xp)
    if (log(stats::runif(1)) < lpp - l) {
      x <- xp
      l <- lpp
    }
    if (i <= pilot) hist[i, ] <- x else out[i - pilot, ] <- x
  }
  out
}

# log density of a half-t(df, scale) at s > 0
half_t <- function(s, df, scale) stats::dt(s / scale, df, log = TRUE) + log(2 / scale)

compare <- function(name, fit, ref) {
  b <- posterior::summarise_draws(posterior::as_draws_df(fit), "mean", "median", "sd", "mcse_mean")
  b <- b[match(colnames(ref), b$variable), ]
  r <- posterior::summarise_draws(posterior::as_draws_matrix(ref), "mean", "median", "sd", "mcse_mean")
  cat("\n", name, "\n", sep = "")
  print(data.frame(parameter = b$variable, bglmm_mean = b$mean, rwm_mean = r$mean, bglmm_median = b$median,
                   rwm_median = r$median, bglmm_sd = b$sd, rwm_sd = r$sd,
                   z_mean = (b$mean - r$mean) / sqrt(b$mcse_mean^2 + r$mcse_mean^2)), digits = 3)
}

# neg_binomial_2, sqrt link, a random intercept per spray (6): a, ln tau, z[6], ln phi
set.seed(1)
fit <- bglmm(count ~ 1 + (1 | spray), family = nb2(link = "sqrt"), data = InsectSprays, chains = 4,
             iter = 10000, refresh = 0)
y <- InsectSprays$count
g <- as.integer(InsectSprays$spray)
s_int <- unname(fit$prior$scale[1])
lp <- function(th) {
  tau <- exp(th[2])
  phi <- exp(th[9])
  eta <- th[1] + tau * th[3:8][g]
  if (any(eta <= 0)) return(-Inf)  # bglmm keeps the sqrt link's eta > 0
  sum(stats::dnbinom(y, size = phi, mu = eta^2, log = TRUE)) + stats::dnorm(th[1], 0, s_int, log = TRUE) +
    half_t(tau, 2, 1) + th[2] + sum(stats::dnorm(th[3:8], log = TRUE)) + stats::dexp(phi, 1, log = TRUE) + th[9]
}
d <- rwm(lp, c(2.8, 0, rep(0, 6), 2))
compare("nb_sqrt_insect", fit, cbind(`(Intercept)` = d[, 1], reciprocal_dispersion = exp(d[, 9]),
                                     `Sigma[spray:(Intercept),(Intercept)]` = exp(2 * d[, 2])))

# poisson, sqrt link, wool as a fixed effect, a random intercept per tension (3)
set.seed(2)
fit <- bglmm(breaks ~ wool + (1 | tension), family = poisson(link = "sqrt"), data = warpbreaks, chains = 4,
             iter = 10000, refresh = 0)
y <- warpbreaks$breaks
g <- as.integer(warpbreaks$tension)
x <- as.numeric(warpbreaks$wool == "B")
sc <- unname(fit$prior$scale)
lp <- function(th) {
  tau <- exp(th[3])
  eta <- th[1] + th[2] * x + tau * th[4:6][g]
  if (any(eta <= 0)) return(-Inf)
  sum(stats::dpois(y, eta^2, log = TRUE)) + stats::dnorm(th[1], 0, sc[1], log = TRUE) +
    stats::dnorm(th[2], 0, sc[2], log = TRUE) + half_t(tau, 2, 1) + th[3] + sum(stats::dnorm(th[4:6], log = TRUE))
}
d <- rwm(lp, c(5.5, -0.5, 0, 0, 0, 0), n = 6e5)
compare("pois_sqrt_warp", fit, cbind(`(Intercept)` = d[, 1], woolB = d[, 2],
                                     `Sigma[tension:(Intercept),(Intercept)]` = exp(2 * d[, 3])))
