# Support of the emmeans package: a bglmm fit gives emmeans its reference grid's design and
# the posterior draws of the fixed effects, which emmeans then summarises itself, as it does
# for rstanarm's fits. The methods are registered when emmeans is loaded (NAMESPACE's
# delayed S3method() registration), so bglmm does not need emmeans.

#' Estimated marginal means with emmeans
#'
#' With the emmeans package installed, [emmeans::emmeans()], [emmeans::emtrends()],
#' [emmeans::ref_grid()], contrasts (\code{pairwise ~ f}), \code{type = "response"} and
#' [emmeans::regrid()] work on bglmm fits as on rstanarm's: the estimates are
#' population-level (the group effects are left out, as \code{re.form = NA} in
#' [posterior_epred()][posterior_epred.bglmm]) and emmeans computes them from the posterior
#' draws of the fixed effects, so it reports posterior medians and highest posterior density
#' intervals, and [coda::as.mcmc()] of an \code{emmGrid} gives the draws of every estimate.
#' The methods are registered when emmeans is loaded; bglmm does not need it otherwise.
#'
#' \code{recover_data} recovers the data of the fit as emmeans does for other models, by
#' evaluating the \code{data} (and \code{subset}) of the fit's call again: if those data
#' have changed or cannot be found, pass them with \code{emmeans(fit, ..., data = )}.
#' Offsets (\code{offset()} terms and the \code{offset} argument) are handled by emmeans as
#' for [glm()] fits.
#'
#' @param object A [bglmm()] fit.
#' @param trms,xlev,grid Passed by emmeans: the terms of the fixed effects, the levels of
#'   their factors, the reference grid.
#' @param ... Passed on by emmeans (e.g. \code{data}).
#' @return \code{recover_data}: the data of the fit's variables, as emmeans needs them.
#'   \code{emm_basis}: the design of the grid, the posterior medians and covariance of the
#'   fixed effects and their draws (\code{post.beta}).
#' @examples
#' if (requireNamespace("emmeans", quietly = TRUE)) {
#'   d <- nitrofen
#'   d$brood <- factor(d$brood)
#'   fit <- bglmm(live ~ conc * brood + (1 | flea), data = d, family = poisson,
#'                chains = 2, iter = 400, refresh = 0, seed = 1)
#'   emmeans::emmeans(fit, pairwise ~ brood, type = "response")
#'   emmeans::emtrends(fit, ~ brood, var = "conc")
#' }
#' @name bglmm-emmeans
NULL

#' @rdname bglmm-emmeans
#' @exportS3Method emmeans::recover_data
recover_data.bglmm <- function(object, ...) {
  emmeans::recover_data(object$call, stats::delete.response(object$fixed_terms),
                        na.action = attr(object$frame, "na.action"), frame = object$frame, ...)
}

#' @rdname bglmm-emmeans
#' @exportS3Method emmeans::emm_basis
emm_basis.bglmm <- function(object, trms, xlev, grid, ...) {
  m <- stats::model.frame(trms, grid, na.action = stats::na.pass, xlev = xlev)
  X <- stats::model.matrix(trms, m, contrasts.arg = attr(object$X, "contrasts"))
  post <- as.matrix.bglmm(object, pars = colnames(object$X))
  attr(post, "n.chains") <- object$sampler$chains
  list(
    X = X, bhat = fixef.bglmm(object), V = stats::cov(post),
    # every linear function of the coefficients is estimable: bglmm() refuses a design
    # of deficient rank (this is estimability::all.estble)
    nbasis = matrix(NA_real_),
    dffun = function(k, dfargs) Inf, dfargs = list(),
    misc = emmeans::.std.link.labels(object$family, list()),
    post.beta = post
  )
}
