# Model checks: Bayesian R^2 and graphical posterior predictive checks.

#' Bayesian R-squared and posterior predictive checks
#'
#' \code{bayes_R2} returns, for every posterior draw, \eqn{var(\mu) / (var(\mu) +
#' \sigma^2_{res})} (Gelman, Goodrich, Gabry and Vehtari, 2019), where \eqn{\mu} are the
#' expected responses of the observations ([posterior_epred()][posterior_epred.bglmm]) and
#' the residual variance is \eqn{\sigma^2} for gaussian (any link), the mean of \eqn{\mu}
#' for poisson, the mean of \eqn{\mu + \mu^2/\phi} for neg_binomial_2, the mean of
#' \eqn{\mu^2/a} for Gamma (shape \eqn{a}), and for binomial (any link) the mean of
#' \eqn{n\mu(1-\mu)} with \eqn{\mu} scaled to counts \eqn{n\mu} (as rstanarm does).
#'
#' \code{pp_check} compares the observed response with responses simulated by
#' [posterior_predict()][posterior_predict.bglmm] using a \code{ppc_} function of the
#' bayesplot package (by default \code{ppc_dens_overlay} with 50 simulated data sets); for
#' binomial models with more than one trial both are proportions of successes, as in
#' rstanarm.
#'
#' @param object A [bglmm()] fit.
#' @param re.form Group effects to include, as in
#'   [posterior_epred()][posterior_epred.bglmm].
#' @param plotfun Name of a bayesplot \code{ppc_} function, with or without the prefix.
#' @param nreps Number of simulated data sets to plot; default 50 for overlay plots, 8 for
#'   plots of separate data sets, all draws for plots of statistics and intervals.
#' @param seed Optional seed for the simulations.
#' @param ... For \code{pp_check}: further arguments of \code{plotfun}, e.g. \code{stat} or
#'   \code{group} (a variable name of the data of the fit or a vector).
#' @return \code{bayes_R2}: a vector with one value per draw. \code{pp_check}: a ggplot.
#' @references Gelman, A., Goodrich, B., Gabry, J. and Vehtari, A. (2019). R-squared for
#'   Bayesian regression models. \emph{The American Statistician} 73, 307-309.
#' @examples
#' fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 400,
#'              refresh = 0, seed = 1)
#' median(bayes_R2(fit))
#' pp_check(fit)
#' pp_check(fit, plotfun = "stat", stat = "sd")
#' @name bglmm-checks
NULL

#' @rdname bglmm-checks
#' @importFrom rstantools bayes_R2
#' @method bayes_R2 bglmm
#' @export
bayes_R2.bglmm <- function(object, re.form = NULL, ...) {
  mu <- posterior_epred.bglmm(object, re.form = re.form)
  fam <- object$family
  sigma2 <- family_residual_variance(fam, mu, family_aux_draws(fam, object$draws), object$trials,
                                     object$weights)
  mu <- family_expected_response(fam, mu, object$trials)
  v <- apply(mu, 1, stats::var)
  v / (v + sigma2)
}

#' @rdname bglmm-checks
#' @importFrom bayesplot pp_check
#' @method pp_check bglmm
#' @export
pp_check.bglmm <- function(object, plotfun = "dens_overlay", nreps = NULL, seed = NULL, ...) {
  name <- sub("^ppc_", "", plotfun)
  fun <- tryCatch(get(paste0("ppc_", name), envir = asNamespace("bayesplot"), mode = "function"),
                  error = function(e) stop(sprintf("'%s' is not a ppc_ function of bayesplot.", plotfun),
                                           call. = FALSE))
  if (is.null(nreps)) {
    nreps <- if (grepl("overlay", name)) 50L
             else if (name %in% c("hist", "dens", "freqpoly", "boxplot", "error_hist", "error_scatter")) 8L
             else NULL
  }
  S <- length(object$draws[, , 1L])
  draws <- if (is.null(nreps)) NULL else min(as.integer(nreps), S)
  if (!is.null(seed)) set.seed(seed)
  yrep <- posterior_predict.bglmm(object, draws = draws)
  y <- object$y
  args <- list(...)
  if (is.character(args$group) && length(args$group) == 1L) {
    if (!args$group %in% names(object$frame)) {
      stop(sprintf("'group' = \"%s\" is not a variable of the fit's data.", args$group), call. = FALSE)
    }
    args$group <- object$frame[[args$group]]
  }
  if (family_uses_trials(object$family) && any(object$trials != 1)) {
    # proportions; rows of zero trials (zero weights) are left out
    keep <- object$trials > 0
    y <- y[keep] / object$trials[keep]
    yrep <- yrep[, keep, drop = FALSE] / matrix(object$trials[keep], nrow(yrep), sum(keep), byrow = TRUE)
    if (length(args$group) == length(keep)) args$group <- args$group[keep]
  }
  dimnames(yrep) <- NULL
  do.call(fun, c(list(y = y, yrep = yrep), args))
}
