# Helpers of test-agreement.R: the simulated data sets with many groups, the bglmm and
# maximum likelihood (lme4, glmmTMB) fits of one case, and the statistics the test checks
# (here, so that the tolerances can be checked over many seeds with the same code).

# The cases: family as bglmm takes it, design, the truth. Every case is
# y ~ x + z + (1 | g) with x ~ N(0, 1), z ~ Bernoulli(1/2) and a random intercept of sd tau;
# `trials` rows of the binomial cases have that many trials (cbind(y, trials - y)).
agreement_cases <- list(
  nb = list(family = "neg_binomial_2", J = 200L, n = 10L,
            beta = c("(Intercept)" = 1, x = 0.5, z = -0.4), tau = 0.5, aux = 3),
  gamma = list(family = stats::Gamma(link = "log"), J = 200L, n = 10L,
               beta = c("(Intercept)" = 0.5, x = 0.3, z = -0.4), tau = 0.4, aux = 4),
  probit = list(family = stats::binomial(link = "probit"), J = 250L, n = 12L, trials = 1L,
                beta = c("(Intercept)" = -0.3, x = 0.6, z = 0.4), tau = 0.6),
  cloglog = list(family = stats::binomial(link = "cloglog"), J = 200L, n = 10L, trials = 4L,
                 beta = c("(Intercept)" = -1, x = 0.5, z = 0.4), tau = 0.5)
)

# Name of the random intercept's variance in the draws.
agreement_sigma <- "Sigma[g:(Intercept),(Intercept)]"

# The simulated data of a case (seed for the data).
agreement_data <- function(cs, seed) {
  set.seed(seed)
  J <- cs$J
  d <- data.frame(g = factor(rep(seq_len(J), each = cs$n)), x = stats::rnorm(J * cs$n),
                  z = stats::rbinom(J * cs$n, 1, 0.5))
  u <- stats::rnorm(J, 0, cs$tau)
  eta <- cs$beta[1] + cs$beta[2] * d$x + cs$beta[3] * d$z + u[d$g]
  fam <- bglmm:::bglmm_family(cs$family)
  mu <- fam$linkinv(eta)
  switch(fam$family,
    neg_binomial_2 = d$y <- stats::rnbinom(nrow(d), size = cs$aux, mu = mu),
    Gamma = d$y <- stats::rgamma(nrow(d), shape = cs$aux, rate = cs$aux / mu),
    binomial = {
      d$trials <- cs$trials
      d$y <- stats::rbinom(nrow(d), cs$trials, mu)
    }
  )
  d
}

# The bglmm fit of a case's data (`family` replaces the case's, for a deliberately wrong fit).
agreement_bglmm <- function(cs, d, seed, family = cs$family, ...) {
  f <- if (!is.null(d$trials)) cbind(y, trials - y) ~ x + z + (1 | g) else y ~ x + z + (1 | g)
  bglmm(f, data = d, family = family, chains = 2, iter = 1000, refresh = 0, seed = seed, ...)
}

# The reference fit of a case's data by maximum likelihood: lme4's glmer.nb for
# neg_binomial_2 and glmer for the binomial links; glmmTMB for Gamma, because glmer's Gamma
# fits are not the maximum likelihood ones for the variance (lme4 issue #643): on these data
# glmer puts the random-intercept sd at 0.28-0.32 (0.14-0.18 with nAGQ = 10) where the truth
# is 0.4 and glmmTMB and bglmm give 0.36-0.42, and shifts the intercept by ~0.6 posterior sd.
# Returns list(fixef, log_pars = c(log_aux, log_tau)): log_aux is the log of glmer.nb's theta
# or of the Gamma shape 1 / sigma^2 (sigma of a Gamma fit is its coefficient of variation).
agreement_reference <- function(cs, d) {
  fam <- bglmm:::bglmm_family(cs$family)
  f <- if (!is.null(d$trials)) cbind(y, trials - y) ~ x + z + (1 | g) else y ~ x + z + (1 | g)
  if (fam$family == "Gamma") {
    m <- glmmTMB::glmmTMB(f, data = d, family = cs$family)
    return(list(fixef = glmmTMB::fixef(m)$cond,
                log_pars = c(log_aux = -2 * log(stats::sigma(m)),
                             log_tau = log(attr(glmmTMB::VarCorr(m)$cond$g, "stddev")[[1]]))))
  }
  m <- if (fam$family == "neg_binomial_2") lme4::glmer.nb(f, data = d) else lme4::glmer(f, data = d, family = cs$family)
  out <- c(log_tau = log(attr(lme4::VarCorr(m)$g, "stddev")[[1]]))
  if (fam$family == "neg_binomial_2") out <- c(log_aux = log(lme4::getME(m, "glmer.nb.theta")), out)
  list(fixef = lme4::fixef(m), log_pars = out)
}

# The package of the reference fit of a case.
agreement_reference_package <- function(cs) {
  if (bglmm:::bglmm_family(cs$family)$family == "Gamma") "glmmTMB" else "lme4"
}

# The posterior draws of the log extra parameter (if any) and the log sd of the random
# intercept (columns log_aux, log_tau).
agreement_log_draws <- function(cs, fit) {
  aux <- bglmm:::family_aux_name(bglmm:::bglmm_family(cs$family))
  m <- as.matrix(fit)
  out <- cbind(log_tau = 0.5 * log(m[, agreement_sigma]))
  if (!is.null(aux)) out <- cbind(log_aux = log(m[, aux]), out)
  out
}

# (posterior mean - reference) / posterior sd of each column of `draws`, and whether it is
# within `tol` posterior sds plus 3 Monte Carlo standard errors of the mean.
agreement_d <- function(draws, ref, tol) {
  ref <- ref[colnames(draws)]
  m <- colMeans(draws)
  s <- apply(draws, 2, stats::sd)
  mcse <- apply(draws, 2, posterior::mcse_mean)
  list(d = (m - ref) / s, ok = abs(m - ref) <= tol * s + 3 * mcse, mcse_sd = mcse / s)
}

# Everything a case checks, for data seed `seed` (also the sampler's seed):
#   z      recovery_z() of the fixed effects, the extra parameter and the variance vs the truth
#   fixed  agreement_d() of the fixed effects with the reference fit's estimates (tolerance
#          tol_fixed sds)
#   log    agreement_d() of the log extra parameter and the log sd with the reference's
#          (tol_log sds)
agreement_case <- function(cs, seed, tol_fixed = 0.5, tol_log = 0.5, family = cs$family) {
  d <- agreement_data(cs, seed)
  t_fit <- system.time(fit <- agreement_bglmm(cs, d, seed, family = family))[["elapsed"]]
  fam <- bglmm:::bglmm_family(cs$family)
  aux <- bglmm:::family_aux_name(fam)
  truth <- c(cs$beta, stats::setNames(cs$tau^2, agreement_sigma))
  if (!is.null(aux)) truth[aux] <- cs$aux
  out <- list(z = recovery_z(fit, truth), seconds = c(bglmm = t_fit))
  # without the reference's package (glmmTMB is optional), the truth only
  if (!requireNamespace(agreement_reference_package(cs), quietly = TRUE)) return(out)
  # (glmer.nb warns that its optimiser did not quite converge on some of these data sets)
  t_ref <- system.time(ref <- suppressWarnings(agreement_reference(cs, d)))[["elapsed"]]
  c(out[1], list(fixed = agreement_d(as.matrix(fit, pars = names(cs$beta)), ref$fixef, tol_fixed),
                 log = agreement_d(agreement_log_draws(cs, fit), ref$log_pars, tol_log),
                 seconds = c(out$seconds, reference = t_ref)))
}
