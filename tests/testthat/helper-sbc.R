# Simulation-based calibration (SBC; Talts et al. 2018) for bglmm.
#
# Shared by tests/testthat/test-sbc.R (a quick run inside R CMD check) and
# validation/run.R (`make validate`, the large run). Plain R, no packages beyond stats.
#
# One simulation of a configuration (family x structure):
#   1. draw every parameter from the prior the fit will use (read back from the fit's
#      resolved prior `fit$prior`, with autoscale = FALSE so it does not depend on y);
#   2. simulate y from the model on a fixed design;
#   3. fit with that prior and keep L evenly spaced ("thinned", roughly independent) draws;
#   4. for each tested quantity f, the rank = #{draws l : f(draw_l) < f(truth)} in 0..L.
# For a correct sampler (and an exact simulator) every rank is uniform on 0..L.
# Tested quantities: the fixed effects (= theta for the random coefficients), for each
# term the log variances and correlations of Sigma, sigma (gaussian), the coefficients
# b[...] of group 1 of each term, and the log-likelihood log p(y | eta) of the simulated
# data (a function of all of alpha, b and sigma at once).

# ---- configurations ---------------------------------------------------------------------

sbc_families <- c("gaussian", "poisson", "binomial", "bernoulli")
sbc_structures <- c("intercept", "slope", "crossed", "grouplevel", "nested")
# Families with an extra parameter and non-canonical links (binomial with trials), and three
# correlated random coefficients: run in these combinations only.
sbc_more_families <- c("neg_binomial_2", "Gamma", "probit", "cloglog")
sbc_more_structures <- c("slope3", "sparse")
sbc_more <- list(c("neg_binomial_2", "intercept"), c("neg_binomial_2", "slope"),
                 c("Gamma", "intercept"), c("Gamma", "slope"), c("probit", "intercept"),
                 c("probit", "crossed"), c("cloglog", "intercept"), c("poisson", "slope3"),
                 c("neg_binomial_2", "sparse"), c("Gamma", "sparse"))

# The configuration of one family x structure: design sizes, formula, prior.
# grouplevel: x is constant within the groups (a group-level predictor); nested: (1 | a/b),
# 3 levels of b in each of 4 levels of a; slope3: (1 + x + x2 | g); sparse: (1 | g) with
# one row in each of 6 groups, where the data say little about the extra parameter, so that
# its prior and the Jacobian of its log-scale step weigh in the posterior (the quick run's
# check of that step).
# Covariance priors: the default Huang-Wand prior for the intercept, intercept-and-slope
# and group-level structures; a plain inverse-Wishart (cov_df, cov_scale) for the crossed
# and nested structures, so that both covariance priors are calibrated.
sbc_config <- function(family, structure) {
  family <- match.arg(family, c(sbc_families, sbc_more_families))
  structure <- match.arg(structure, c(sbc_structures, sbc_more_structures))
  lhs <- if (sbc_has_trials(family)) "cbind(y, trials - y)" else "y"
  rhs <- switch(structure,
    intercept = "x + (1 | g)",
    slope = "x + (1 + x | g)",
    crossed = "x + (1 | g1) + (1 | g2)",
    grouplevel = "x + (1 | g)",
    nested = "x + (1 | a/b)",
    slope3 = "x + x2 + (1 + x + x2 | g)",
    sparse = "x + (1 | g)"
  )
  # Half-t(2) standard deviations (the package default sd_df = 2, uniform correlations) have
  # such a heavy tail that under the log link of the poisson family about 1 prior draw in
  # 30 gives counts of 1e6 to 1e28, on which short chains do not mix; the log-link count
  # families use half-t(4) standard deviations instead.
  log_counts <- family %in% c("poisson", "neg_binomial_2")
  prior_args <- list(fixef_location = 0, fixef_scale = 0.75,
                     intercept_location = 0, intercept_scale = 1,
                     sd_df = if (log_counts) 4 else 2, sd_scale = 0.5,
                     sigma_df = 4, sigma_scale = 1, autoscale = FALSE)
  if (structure %in% c("crossed", "nested")) prior_args <- c(prior_args, list(cov_df = 4, cov_scale = 0.5))
  # the extra parameter: exponential(0.5), mean 2 (neg_binomial_2's reciprocal dispersion,
  # Gamma's shape)
  if (family %in% c("neg_binomial_2", "Gamma")) prior_args$aux_rate <- 0.5
  list(
    name = paste(family, structure, sep = "/"),
    family = family, structure = structure,
    formula = stats::as.formula(paste(lhs, "~", rhs)),
    prior = do.call(bglmm::bglmm_prior, prior_args),
    # intercept and grouplevel: 12 groups x 6 rows; slope: 15 x 8; crossed: 10 x 8 levels,
    # each cell once; nested: 4 levels of a x 3 of b x 4 rows; slope3: 20 x 8; sparse: 6 x 1
    n_groups = switch(structure, intercept = , grouplevel = 12L, slope = 15L, crossed = c(10L, 8L),
                      nested = c(4L, 3L), slope3 = 20L, sparse = 6L),
    n_per = switch(structure, intercept = , grouplevel = 6L, slope = , slope3 = 8L, crossed = ,
                   sparse = 1L, nested = 4L),
    # a distinct stream of seeds per configuration
    seed = 1000L * match(family, c(sbc_families, sbc_more_families)) +
      100L * match(structure, c(sbc_structures, sbc_more_structures))
  )
}

# Families whose response is successes out of trials (1..8 per row).
sbc_has_trials <- function(family) family %in% c("binomial", "probit", "cloglog")

# The family's extra parameter as bglmm names it, or NULL.
sbc_aux_name <- function(family) {
  switch(family, gaussian = "sigma", neg_binomial_2 = "reciprocal_dispersion", Gamma = "shape", NULL)
}

sbc_all_configs <- function() {
  out <- list()
  for (s in sbc_structures) for (f in sbc_families) out[[paste(f, s, sep = "/")]] <- sbc_config(f, s)
  for (fs in sbc_more) out[[paste(fs, collapse = "/")]] <- sbc_config(fs[1], fs[2])
  out
}

# The fixed design of a configuration (the same in every simulation): x scaled to sd 1 and
# centred at 0 (at 1 for the group-level structure), grouping factors, binomial trials 1..8.
sbc_design <- function(cfg) {
  old <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv()) else NULL
  on.exit(if (!is.null(old)) assign(".Random.seed", old, globalenv()))
  set.seed(cfg$seed)
  if (cfg$structure == "crossed") {
    d <- expand.grid(g1 = seq_len(cfg$n_groups[1]), g2 = seq_len(cfg$n_groups[2]))
    d$g1 <- factor(d$g1)
    d$g2 <- factor(d$g2)
  } else if (cfg$structure == "nested") {
    d <- expand.grid(row = seq_len(cfg$n_per), b = seq_len(cfg$n_groups[2]), a = seq_len(cfg$n_groups[1]))
    d$a <- factor(d$a)
    d$b <- factor(d$b)
    # the inner grouping factor as bglmm builds it (b:a, unused combinations dropped)
    d[["b:a"]] <- factor(d$b:d$a)
  } else {
    d <- data.frame(g = factor(rep(seq_len(cfg$n_groups), each = cfg$n_per)))
  }
  x <- stats::rnorm(nrow(d))
  if (cfg$structure == "grouplevel") x <- x[as.integer(d$g)]
  d$x <- (x - mean(x)) / stats::sd(x)
  if (cfg$structure == "slope3") {
    x2 <- stats::rnorm(nrow(d))
    d$x2 <- (x2 - mean(x2)) / stats::sd(x2)
  }
  # a group-level predictor away from 0 (as an age or a baseline score), which the sampler's
  # group-level step must move together with the intercept
  if (cfg$structure == "grouplevel") d$x <- d$x + 1
  d$trials <- if (sbc_has_trials(cfg$family)) sample.int(8L, nrow(d), replace = TRUE) else 1L
  d$y <- 0L
  d
}

sbc_bglmm_family <- function(cfg) {
  switch(cfg$family, gaussian = stats::gaussian(), poisson = stats::poisson(),
         neg_binomial_2 = "neg_binomial_2", Gamma = stats::Gamma(link = "log"),
         probit = stats::binomial(link = "probit"), cloglog = stats::binomial(link = "cloglog"),
         stats::binomial())
}

# Fixed-effects columns of a configuration.
sbc_fixed_names <- function(cfg) c("(Intercept)", "x", if (cfg$structure == "slope3") "x2")

# Random-effects terms of a structure: grouping variable and coefficient columns.
sbc_terms <- function(cfg) {
  switch(cfg$structure,
    intercept = list(g = "(Intercept)"),
    slope = list(g = c("(Intercept)", "x")),
    crossed = list(g1 = "(Intercept)", g2 = "(Intercept)"),
    grouplevel = list(g = "(Intercept)"),
    nested = list(`b:a` = "(Intercept)", a = "(Intercept)"),
    slope3 = list(g = c("(Intercept)", "x", "x2")),
    sparse = list(g = "(Intercept)")
  )
}

# The prior bglmm resolves for this configuration and design (a 2-iteration fit: only
# fit$prior is used), so the simulation uses exactly the prior of the fit.
sbc_resolved_prior <- function(cfg, design) {
  d <- design
  d$y <- switch(cfg$family, gaussian = stats::rnorm(nrow(d)), Gamma = stats::rexp(nrow(d)),
                pmin(d$trials, rep_len(0:1, nrow(d))))
  fit <- bglmm::bglmm(cfg$formula, data = d, family = sbc_bglmm_family(cfg), prior = cfg$prior,
                      chains = 1, iter = 2, warmup = 1, seed = 1, refresh = 0)
  fit$prior
}

# ---- simulation from the prior ----------------------------------------------------------

# Inverse-Wishart(df, S) draw with density |Sigma|^-(df+q+1)/2 exp(-tr(S Sigma^-1)/2):
# Sigma^-1 ~ Wishart(df, S^-1).
sbc_rinvwishart <- function(df, S) {
  S <- as.matrix(S)
  W <- stats::rWishart(1, df, solve(S))[, , 1]
  W <- as.matrix(W)
  out <- solve(W)
  (out + t(out)) / 2
}

# One draw of Sigma from a resolved term prior (bglmm's fit$prior$terms[[k]]).
sbc_draw_sigma <- function(tp) {
  if (tp$type == "half_t") {
    # Huang-Wand: a_k ~ inv-gamma(1/2, 1/A_k^2); Sigma | a ~ IW(nu + q - 1, 2 nu diag(1/a))
    A <- unname(tp$scale)
    q <- length(A)
    nu <- tp$df
    a <- 1 / stats::rgamma(q, shape = 0.5, rate = 1 / A^2)
    sbc_rinvwishart(nu + q - 1, diag(2 * nu / a, q))
  } else {
    sbc_rinvwishart(tp$df, tp$scale)
  }
}

# Draws every parameter from the prior `rp` (a resolved prior) and y given them.
# Returns list(alpha, Sigma = list by term, b = list by term of J x q matrices, sigma, y).
sbc_simulate <- function(cfg, design, rp) {
  terms <- sbc_terms(cfg)
  alpha <- stats::rnorm(length(rp$location), rp$location, rp$scale)
  names(alpha) <- names(rp$location)
  Sigma <- b <- list()
  for (gn in names(terms)) {
    S <- sbc_draw_sigma(rp$terms[[gn]])
    dimnames(S) <- list(terms[[gn]], terms[[gn]])
    J <- nlevels(design[[gn]])
    q <- nrow(S)
    b[[gn]] <- matrix(stats::rnorm(J * q), J, q) %*% chol(S)
    colnames(b[[gn]]) <- terms[[gn]]
    Sigma[[gn]] <- S
  }
  sigma <- if (cfg$family == "gaussian") {
    sqrt(rp$sigma$df * rp$sigma$scale^2 / stats::rchisq(1, rp$sigma$df))
  } else NA_real_
  # the extra parameter of neg_binomial_2 and Gamma: exponential(rate) prior
  aux <- if (!is.null(rp$aux)) stats::rexp(1, rp$aux$rate) else NA_real_
  eta <- drop(sbc_eta(cfg, design, matrix(alpha, 1), lapply(b, function(m) {
    # one "draw": 1 x J matrices per coefficient
    lapply(stats::setNames(seq_len(ncol(m)), colnames(m)), function(k) matrix(m[, k], 1))
  })))
  n <- length(eta)
  y <- switch(cfg$family,
    gaussian = stats::rnorm(n, eta, sigma),
    poisson = stats::rpois(n, exp(eta)),
    neg_binomial_2 = stats::rnbinom(n, size = aux, mu = exp(eta)),
    # a tiny shape gives draws below the smallest double, which rgamma returns as 0 (not a
    # Gamma response): they are kept at the smallest positive double instead
    Gamma = pmax(stats::rgamma(n, shape = aux, rate = aux / exp(eta)), .Machine$double.xmin),
    bernoulli = stats::rbinom(n, 1L, stats::plogis(eta)),
    stats::rbinom(n, design$trials, sbc_probability(cfg, eta))
  )
  list(alpha = alpha, Sigma = Sigma, b = b, sigma = sigma, aux = aux, y = y)
}

# The success probability of the binomial families at eta.
sbc_probability <- function(cfg, eta) {
  switch(cfg$family, probit = stats::pnorm(eta), cloglog = -expm1(-exp(eta)), stats::plogis(eta))
}

# Linear predictors for D draws: alpha is D x p (columns sbc_fixed_names(cfg)); b is a list
# by term of lists by coefficient of D x J matrices. Returns D x n.
sbc_eta <- function(cfg, design, alpha, b) {
  D <- nrow(alpha)
  X <- cbind(1, as.matrix(design[setdiff(sbc_fixed_names(cfg), "(Intercept)")]))
  eta <- alpha %*% t(X)
  for (gn in names(b)) {
    gi <- as.integer(design[[gn]])
    for (cf in names(b[[gn]])) {
      z <- if (cf == "(Intercept)") rep(1, nrow(design)) else design[[cf]]
      eta <- eta + b[[gn]][[cf]][, gi, drop = FALSE] * rep(z, each = D)
    }
  }
  eta
}

# Log-likelihood log p(y | eta, sigma or aux) for each row of eta (D x n); sigma and aux
# of length D (the family's extra parameter).
sbc_loglik <- function(cfg, design, y, eta, sigma = NULL, aux = NULL) {
  Y <- matrix(y, nrow(eta), ncol(eta), byrow = TRUE)
  ll <- switch(cfg$family,
    gaussian = stats::dnorm(Y, eta, sigma, log = TRUE),
    poisson = stats::dpois(Y, exp(eta), log = TRUE),
    neg_binomial_2 = stats::dnbinom(Y, size = aux, mu = exp(eta), log = TRUE),
    # the Gamma density written out on the log scale: dgamma(Y, aux, aux / exp(eta), log =
    # TRUE) is -Inf where Y * rate underflows to 0 (a response kept at the smallest double
    # with a tiny shape and a large mean, as in 1 of 500 simulations of Gamma/slope), though
    # the density is finite there
    Gamma = aux * (log(aux) - eta) + (aux - 1) * log(Y) - aux * Y * exp(-eta) - lgamma(aux),
    bernoulli = stats::dbinom(Y, 1L, stats::plogis(eta), log = TRUE),
    stats::dbinom(Y, matrix(design$trials, nrow(eta), ncol(eta), byrow = TRUE),
                  sbc_probability(cfg, eta), log = TRUE)
  )
  rowSums(ll)
}

# ---- tested quantities ------------------------------------------------------------------

# Names of the tested quantities of a configuration (in a fixed order).
sbc_quantity_names <- function(cfg) {
  terms <- sbc_terms(cfg)
  out <- sbc_fixed_names(cfg)
  for (gn in names(terms)) {
    cn <- terms[[gn]]
    out <- c(out, sprintf("log Sigma[%s:%s,%s]", gn, cn, cn))
    pairs <- sbc_pairs(cn)
    out <- c(out, sprintf("cor[%s:%s,%s]", gn, pairs[, 1], pairs[, 2]))
    out <- c(out, sprintf("b[%s %s:1]", cn, gn))
  }
  if (cfg$family == "gaussian") out <- c(out, "sigma")
  aux <- sbc_aux_name(cfg$family)
  if (!is.null(aux) && aux != "sigma") out <- c(out, sprintf("log %s", aux))
  c(out, "loglik")
}

# Pairs (row, column) of the strict lower triangle of a term's coefficients, column by
# column: (x, (Intercept)) for two; three pairs for three.
sbc_pairs <- function(cn) {
  idx <- which(lower.tri(diag(length(cn))), arr.ind = TRUE)
  idx <- idx[order(idx[, 2], idx[, 1]), , drop = FALSE]
  cbind(cn[idx[, 1]], cn[idx[, 2]])
}

# The tested quantities for D draws, from a matrix of draws named as bglmm names them
# (D x parameters). `y` is the simulated response (for the log-likelihood).
sbc_quantities <- function(cfg, design, draws, y) {
  terms <- sbc_terms(cfg)
  D <- nrow(draws)
  fixed <- sbc_fixed_names(cfg)
  out <- lapply(stats::setNames(fixed, fixed), function(k) draws[, k])
  b <- list()
  for (gn in names(terms)) {
    cn <- terms[[gn]]
    S <- function(r, c) draws[, sprintf("Sigma[%s:%s,%s]", gn, r, c)]
    for (k in cn) out[[sprintf("log Sigma[%s:%s,%s]", gn, k, k)]] <- log(S(k, k))
    pairs <- sbc_pairs(cn)
    for (i in seq_len(nrow(pairs))) {
      r <- pairs[i, 1]
      c <- pairs[i, 2]
      out[[sprintf("cor[%s:%s,%s]", gn, r, c)]] <- S(r, c) / sqrt(S(r, r) * S(c, c))
    }
    levs <- levels(design[[gn]])
    # "group 1" is the first level (named "1:1" for b:a)
    for (k in cn) out[[sprintf("b[%s %s:1]", k, gn)]] <- draws[, sprintf("b[%s %s:%s]", k, gn, levs[1])]
    b[[gn]] <- lapply(stats::setNames(cn, cn), function(k) {
      draws[, sprintf("b[%s %s:%s]", k, gn, levs), drop = FALSE]
    })
  }
  sigma <- if (cfg$family == "gaussian") draws[, "sigma"] else NULL
  if (!is.null(sigma)) out$sigma <- sigma
  aux_name <- sbc_aux_name(cfg$family)
  aux <- if (!is.null(aux_name) && aux_name != "sigma") draws[, aux_name] else NULL
  if (!is.null(aux)) out[[sprintf("log %s", aux_name)]] <- log(aux)
  eta <- sbc_eta(cfg, design, draws[, fixed, drop = FALSE], b)
  out$loglik <- sbc_loglik(cfg, design, y, eta, sigma, aux)
  out <- do.call(cbind, out)
  out[, sbc_quantity_names(cfg), drop = FALSE]
}

# The true parameters of a simulation as a one-row matrix of draws named like bglmm's.
sbc_truth_draws <- function(cfg, design, sim) {
  v <- sim$alpha
  for (gn in names(sim$b)) {
    m <- sim$b[[gn]]
    S <- sim$Sigma[[gn]]
    levs <- levels(design[[gn]])
    for (k in colnames(m)) v[sprintf("b[%s %s:%s]", k, gn, levs)] <- m[, k]
    for (r in colnames(m)) for (c in colnames(m)) v[sprintf("Sigma[%s:%s,%s]", gn, r, c)] <- S[r, c]
  }
  if (cfg$family == "gaussian") v["sigma"] <- sim$sigma
  aux <- sbc_aux_name(cfg$family)
  if (!is.null(aux) && aux != "sigma") v[aux] <- sim$aux
  matrix(v, 1, dimnames = list(NULL, names(v)))
}

# ---- one simulation, many simulations ---------------------------------------------------

# Rank of `truth` among `draws` (ties, rare, broken at random): an integer in 0..length(draws).
sbc_rank <- function(draws, truth) {
  below <- sum(draws < truth)
  ties <- sum(draws == truth)
  if (ties > 0) below <- below + sample.int(ties + 1L, 1L) - 1L
  below
}

# Runs simulation `i` of a configuration: returns the ranks (0..L) of the tested quantities
# and the fit's bulk ESS of the log-likelihood over all kept draws (a mixing diagnostic).
# The fit keeps iter - warmup draws per chain; L evenly spaced ones are used.
sbc_one <- function(cfg, design, rp, i, L = 19L, chains = 1L, iter = 1000L, warmup = 400L) {
  set.seed(cfg$seed * 10000L + i)
  sim <- sbc_simulate(cfg, design, rp)
  d <- design
  d$y <- sim$y
  fit <- bglmm::bglmm(cfg$formula, data = d, family = sbc_bglmm_family(cfg), prior = cfg$prior,
                      chains = chains, iter = iter, warmup = warmup, cores = 1L,
                      seed = cfg$seed * 10000L + i, refresh = 0)
  a <- fit$draws
  all <- matrix(a, prod(dim(a)[1:2]), dim(a)[3], dimnames = list(NULL, dimnames(a)[[3]]))
  # chain-major order, evenly spaced within the stacked chains
  keep <- unique(round(seq(1, nrow(all), length.out = L)))
  stopifnot(length(keep) == L)
  post <- sbc_quantities(cfg, design, all[keep, , drop = FALSE], sim$y)
  truth <- sbc_quantities(cfg, design, sbc_truth_draws(cfg, design, sim), sim$y)
  ranks <- vapply(colnames(post), function(k) sbc_rank(post[, k], truth[1, k]), 0)
  ll_all <- sbc_quantities(cfg, design, all, sim$y)[, "loglik"]
  c(ranks, ess_loglik = sbc_ess(ll_all))
}

# Crude effective sample size of one chain-stacked vector (initial positive sequence of
# autocorrelations; only a diagnostic).
sbc_ess <- function(x) {
  n <- length(x)
  if (stats::var(x) == 0) return(NA_real_)
  ac <- stats::acf(x, lag.max = min(n - 1L, 200L), plot = FALSE)$acf[-1]
  k <- which(ac <= 0.05)
  m <- if (length(k)) k[1] - 1L else length(ac)
  n / (1 + 2 * sum(ac[seq_len(m)]))
}

# Runs `n_sims` simulations of a configuration (in parallel over `cores` with forked
# workers where available). Returns a matrix: one row per simulation, the ranks of the
# tested quantities and the log-likelihood ESS; attribute "L" and "seconds".
sbc_run <- function(cfg, n_sims, L = 19L, cores = 1L, ...) {
  design <- sbc_design(cfg)
  rp <- sbc_resolved_prior(cfg, design)
  start <- proc.time()[["elapsed"]]
  nq <- length(sbc_quantity_names(cfg)) + 1L
  # A failed fit gives a row of NA and its message: a correct sampler should not fail.
  one <- function(i) tryCatch(sbc_one(cfg, design, rp, i, L = L, ...),
                              error = function(e) structure(rep(NA_real_, nq),
                                                            error = sprintf("simulation %d: %s", i, conditionMessage(e))))
  old_seed <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv()) else NULL
  on.exit(if (!is.null(old_seed)) assign(".Random.seed", old_seed, globalenv()))
  res <- if (cores > 1L && .Platform$OS.type == "unix") {
    parallel::mclapply(seq_len(n_sims), one, mc.cores = cores, mc.preschedule = TRUE)
  } else {
    lapply(seq_len(n_sims), one)
  }
  crashed <- vapply(res, inherits, NA, "try-error")
  res[crashed] <- lapply(res[crashed], function(e) structure(rep(NA_real_, nq), error = as.character(e)))
  errors <- unlist(lapply(res, attr, "error"))
  out <- do.call(rbind, res)
  colnames(out) <- c(sbc_quantity_names(cfg), "ess_loglik")
  structure(out, L = L, seconds = proc.time()[["elapsed"]] - start, config = cfg$name,
            errors = as.character(errors))
}

# ---- uniformity -------------------------------------------------------------------------

# Chi-square test of uniformity of ranks in 0..L over `bins` equal bins ((L + 1) must be a
# multiple of `bins`). Returns the p-value.
sbc_chisq_p <- function(ranks, L, bins) {
  stopifnot((L + 1L) %% bins == 0L)
  counts <- tabulate(ranks %/% ((L + 1L) %/% bins) + 1L, nbins = bins)
  e <- length(ranks) / bins
  stats::pchisq(sum((counts - e)^2 / e), df = bins - 1L, lower.tail = FALSE)
}

# Per-quantity uniformity p-values of a run (a matrix from sbc_run()).
sbc_pvalues <- function(run, bins) {
  L <- attr(run, "L")
  q <- setdiff(colnames(run), "ess_loglik")
  ok <- stats::complete.cases(run[, q, drop = FALSE])
  vapply(q, function(k) sbc_chisq_p(run[ok, k], L, bins), 0)
}

# Bins for n simulations of ranks 0..L: the largest divisor of L + 1 that keeps at least
# `min_expected` expected counts per bin (and at most 20 bins).
sbc_bins <- function(n, L, min_expected = 10) {
  div <- which((L + 1L) %% seq_len(L + 1L) == 0L)
  ok <- div[div <= 20 & n / div >= min_expected]
  if (length(ok)) max(ok) else min(div[div > 1])
}
