# simulate(): replicated data sets from the posterior predictive distribution, in the layout
# of stats::simulate() (lme4's and glm's), for simulation-based residual checks.

#' Simulate responses from the posterior predictive distribution
#'
#' The method of [stats::simulate()] for bglmm fits, as lme4's and rstanarm's: \code{nsim}
#' replicated data sets, each simulated by [posterior_predict()][posterior_predict.bglmm]
#' from one posterior draw (draws chosen at random, without replacement while
#' \code{nsim} does not exceed the number of draws), for the data of the fit or
#' \code{newdata}. For binomial models a replicate is the number of successes out of the
#' trials of each row, as \code{posterior_predict} gives it.
#'
#' The replicates are what simulation-based residual checks need (the approach of the
#' DHARMa package): the scaled residual of an observation is the share of its replicates
#' below the observed value (with ties broken at random), uniform on (0, 1) when the model
#' is right. With DHARMa installed:
#' \preformatted{
#' sims <- simulate(fit, nsim = 250, seed = 1)
#' res <- DHARMa::createDHARMa(simulatedResponse = as.matrix(sims),
#'                             observedResponse = fit$y,
#'                             fittedPredictedResponse = fitted(fit),
#'                             integerResponse = TRUE)
#' plot(res)
#' }
#'
#' @param object A [bglmm()] fit.
#' @param nsim Number of replicated data sets.
#' @param seed As in [stats::simulate()]: \code{NULL}, or a seed for [set.seed()]; with a
#'   seed, R's random number generator is restored afterwards.
#' @param newdata,re.form,allow_new_levels,... As in
#'   [posterior_predict()][posterior_predict.bglmm] (e.g. \code{offset}, \code{trials}).
#' @return A data frame with one row per observation (row names of the data) and one column
#'   per replicate, \code{sim_1}, \code{sim_2}, ..., with attribute \code{"seed"} as
#'   [stats::simulate()] sets it, and attribute \code{"draws"}: the posterior draw (row of
#'   [as.matrix()][as.matrix.bglmm]) each replicate comes from.
#' @examples
#' fit <- bglmm(live ~ conc + brood + (1 | flea), data = nitrofen, family = poisson,
#'              chains = 2, iter = 400, refresh = 0, seed = 1)
#' sims <- simulate(fit, nsim = 100, seed = 1)
#' dim(sims)
#' # simulation-based (randomized quantile) residuals: uniform if the model fits
#' y <- nitrofen$live
#' u <- (rowSums(sims < y) + runif(length(y)) * (rowSums(sims == y) + 1)) / (ncol(sims) + 1)
#' hist(u)
#' @importFrom stats simulate
#' @export
simulate.bglmm <- function(object, nsim = 1, seed = NULL, newdata = NULL, re.form = NULL,
                           allow_new_levels = FALSE, ...) {
  nsim <- check_count(nsim, "nsim", min = 1)
  # R's random number generator as stats:::simulate.lm handles it
  if (!exists(".Random.seed", envir = .GlobalEnv, inherits = FALSE)) stats::runif(1)
  if (is.null(seed)) {
    rng_state <- get(".Random.seed", envir = .GlobalEnv)
  } else {
    old <- get(".Random.seed", envir = .GlobalEnv)
    on.exit(assign(".Random.seed", old, envir = .GlobalEnv))
    set.seed(seed)
    rng_state <- structure(seed, kind = as.list(RNGkind()))
  }
  n_draws <- length(object$draws[, , 1L])
  draws <- if (nsim <= n_draws) sample.int(n_draws, nsim) else sample.int(n_draws, nsim, replace = TRUE)
  # one posterior_predict() per distinct use of a draw, each with all the draws it needs
  uses <- stats::ave(draws, draws, FUN = seq_along)
  sims <- vector("list", nsim)
  for (u in sort(unique(uses))) {
    k <- which(uses == u)
    yrep <- posterior_predict.bglmm(subset_draws_of(object, draws[k]), newdata = newdata,
                                    re.form = re.form, allow_new_levels = allow_new_levels, ...)
    for (j in seq_along(k)) sims[[k[j]]] <- unname(yrep[j, ])
  }
  out <- as.data.frame(sims, col.names = paste0("sim_", seq_len(nsim)))
  rownames(out) <- if (is.null(newdata)) rownames(object$frame) else rownames(newdata)
  attr(out, "seed") <- rng_state
  attr(out, "draws") <- draws
  out
}

# The fit with only the given draws (rows of as.matrix()), in that order, as one chain.
subset_draws_of <- function(object, rows) {
  m <- as.matrix.bglmm(object)[rows, , drop = FALSE]
  object$draws <- array(m, c(nrow(m), 1L, ncol(m)),
                        dimnames = list(iteration = NULL, chain = NULL, parameter = colnames(m)))
  object
}
