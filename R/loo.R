# Pointwise log-likelihood of a fit (log_lik), and the loo package's criteria on it: loo,
# waic, loo_compare.

#' Pointwise log-likelihood, LOO and WAIC
#'
#' \code{log_lik} returns the log density of every observation under every posterior draw,
#' normalizing constants included (\code{dnorm} with \code{sigma}, \code{dpois},
#' \code{dbinom} with the trials, \code{dnbinom(size = reciprocal_dispersion, mu = mu)},
#' \code{dgamma(shape = shape, rate = shape / mu)}), so values compare with rstanarm's and
#' across families (a Poisson and a negative binomial fit of the same counts). \code{loo} and
#' \code{waic} pass it to the loo package (\code{loo} with relative efficiencies computed
#' from the chains), and [loo::loo_compare()] compares fits, either from their \code{loo}
#' objects or from the fits themselves.
#'
#' @param object,x A [bglmm()] fit.
#' @param newdata Optional data frame with the response (and, for binomial
#'   \code{cbind(successes, failures)}, both columns); default the data of the fit.
#' @param offset,re.form,allow_new_levels,trials As in
#'   [posterior_predict()][posterior_predict.bglmm].
#' @param cores Cores used by the loo package.
#' @param save_psis Keep the Pareto-smoothed importance sampling object.
#' @param r_eff Relative efficiencies; default computed from the chains.
#' @param k_threshold For \code{loo}: refit the model without each observation whose Pareto
#'   k exceeds this threshold (e.g. 0.7) and use its exact LOO, as rstanarm does (see
#'   [kfold()][kfold.bglmm]); \code{NULL} (default) refits nothing.
#' @param criterion For \code{loo_compare} on fits: \code{"loo"} or \code{"waic"}.
#' @param ... For \code{loo_compare}: further fits; otherwise unused.
#' @return \code{log_lik}: a draws x observations matrix (chain 1's draws first, as in
#'   [as.matrix()][as.matrix.bglmm]). \code{loo}, \code{waic}: objects of the loo package.
#'   \code{loo_compare}: a \code{"compare.loo"} matrix.
#' @examples
#' fit1 <- bglmm(live ~ conc + (1 | flea), data = nitrofen, family = poisson,
#'               chains = 2, iter = 400, refresh = 0, seed = 1)
#' fit2 <- bglmm(live ~ conc + brood + (1 | flea), data = nitrofen, family = poisson,
#'               chains = 2, iter = 400, refresh = 0, seed = 1)
#' dim(log_lik(fit1))
#' loo1 <- loo(fit1)
#' loo2 <- loo(fit2)
#' loo_compare(loo1, loo2)
#' waic(fit1)
#' @name bglmm-loo
NULL

#' @rdname bglmm-loo
#' @importFrom rstantools log_lik
#' @method log_lik bglmm
#' @export
log_lik.bglmm <- function(object, newdata = NULL, offset = NULL, re.form = NULL,
                          allow_new_levels = FALSE, trials = NULL, ...) {
  allow_new_levels <- new_levels_arg(allow_new_levels, ...)
  dat <- pp_data(object, newdata, re.form, allow_new_levels, offset, trials = trials,
                 need_trials = TRUE, need_y = TRUE)
  m <- draw_matrix(object, NULL)
  fam <- object$family
  mu <- pp_mu(fam, pp_eta(object, dat, m), "log densities")
  family_log_density(fam, dat$y, mu, family_aux_draws(fam, m), dat$trials, dat$weights)
}

#' @rdname bglmm-loo
#' @importFrom loo loo
#' @method loo bglmm
#' @export
loo.bglmm <- function(x, ..., cores = getOption("mc.cores", 1), save_psis = FALSE, r_eff = NULL,
                      k_threshold = NULL) {
  ll <- log_lik.bglmm(x)
  if (is.null(r_eff)) {
    r_eff <- loo::relative_eff(exp(ll), chain_id = chain_ids(x), cores = cores)
  }
  # with k_threshold, the high Pareto k's that loo() warns about are refitted below
  out <- if (is.null(k_threshold)) loo::loo(ll, r_eff = r_eff, cores = cores, save_psis = save_psis)
         else suppressWarnings(loo::loo(ll, r_eff = r_eff, cores = cores, save_psis = save_psis))
  attr(out, "model_name") <- deparse(substitute(x))
  attr(out, "yhash") <- hash_y(x)
  if (!is.null(k_threshold)) out <- reloo_bglmm(x, out, k_threshold, cores = cores)
  out
}

#' @rdname bglmm-loo
#' @importFrom loo waic
#' @method waic bglmm
#' @export
waic.bglmm <- function(x, ...) {
  out <- loo::waic(log_lik.bglmm(x))
  attr(out, "model_name") <- deparse(substitute(x))
  attr(out, "yhash") <- hash_y(x)
  out
}

# Hash of the response as rstanarm computes it (when digest is installed), so that
# loo_compare() can check that fits of bglmm and rstanarm have the same data.
hash_y <- function(x) {
  if (!requireNamespace("digest", quietly = TRUE)) return(NULL)
  y <- stats::model.response(x$frame)
  attributes(y) <- NULL
  digest::sha1(x = y)
}

#' @rdname bglmm-loo
#' @importFrom loo loo_compare
#' @method loo_compare bglmm
#' @export
loo_compare.bglmm <- function(x, ..., criterion = c("loo", "waic")) {
  criterion <- match.arg(criterion)
  fits <- c(list(x), list(...))
  nms <- vapply(as.list(substitute(list(x, ...)))[-1L], function(e) deparse(e)[1L], "")
  if (!all(vapply(fits, inherits, NA, "bglmm"))) stop("All arguments must be bglmm fits.", call. = FALSE)
  crit <- lapply(fits, if (criterion == "loo") loo.bglmm else waic.bglmm)
  names(crit) <- make.unique(nms)
  loo::loo_compare(crit)
}

# Chain of each row of as.matrix(fit).
chain_ids <- function(object) {
  d <- dim(object$draws)
  rep(seq_len(d[2]), each = d[1])
}
