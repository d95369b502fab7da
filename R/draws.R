# More formats and summaries of the posterior draws: data frame, coda, central intervals.

#' Draws as a data frame, coda mcmc.list, and posterior intervals
#'
#' \code{as.data.frame} returns the draws of [as.matrix()][as.matrix.bglmm] as a data frame
#' (draws x parameters, chain 1's draws first), as rstanarm does. \code{as.mcmc.list}
#' (a method for the generic of the coda package, which must be installed) returns one
#' \code{mcmc} object per chain. \code{posterior_interval} gives central posterior
#' intervals of the parameters.
#'
#' @param x,object A [bglmm()] fit.
#' @param row.names,optional Unused (for compatibility with the generic).
#' @param pars,regex_pars Parameters to keep (default all), as in
#'   [as.matrix()][as.matrix.bglmm].
#' @param prob Probability mass of the intervals.
#' @param type Only \code{"central"}.
#' @param ... Unused.
#' @return A data frame; a \code{coda::mcmc.list}; a matrix with one row per parameter and
#'   the interval bounds as columns.
#' @examples
#' fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 400,
#'              refresh = 0, seed = 1)
#' head(as.data.frame(fit))
#' posterior_interval(fit, prob = 0.8, regex_pars = "igma")
#' if (requireNamespace("coda", quietly = TRUE)) {
#'   mc <- coda::as.mcmc.list(fit)
#'   coda::gelman.diag(mc[, c("(Intercept)", "sigma")])
#' }
#' @name bglmm-draws
NULL

#' @rdname bglmm-draws
#' @export
as.data.frame.bglmm <- function(x, row.names = NULL, optional = FALSE, ..., pars = NULL,
                                regex_pars = NULL) {
  as.data.frame(as.matrix.bglmm(x, pars = pars, regex_pars = regex_pars),
                optional = TRUE)
}

#' @rdname bglmm-draws
#' @exportS3Method coda::as.mcmc.list
as.mcmc.list.bglmm <- function(x, pars = NULL, regex_pars = NULL, ...) {
  if (!requireNamespace("coda", quietly = TRUE)) stop("The coda package is not installed.", call. = FALSE)
  a <- as.array.bglmm(x, pars = pars, regex_pars = regex_pars)
  s <- x$sampler
  coda::mcmc.list(lapply(seq_len(dim(a)[2]), function(ch) {
    m <- a[, ch, , drop = TRUE]
    if (is.null(dim(m))) m <- matrix(m, ncol = 1L, dimnames = list(NULL, dimnames(a)[[3]]))
    coda::mcmc(m, start = s$warmup + s$thin, thin = s$thin)
  }))
}

#' @rdname bglmm-draws
#' @importFrom rstantools posterior_interval
#' @method posterior_interval bglmm
#' @export
posterior_interval.bglmm <- function(object, prob = 0.9, type = "central", pars = NULL,
                                     regex_pars = NULL, ...) {
  if (!identical(type, "central")) stop("Only type = \"central\" intervals are available.", call. = FALSE)
  rstantools::posterior_interval(as.matrix.bglmm(object, pars = pars, regex_pars = regex_pars),
                                 prob = prob)
}
