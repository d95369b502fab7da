# Plots of a fit: MCMC diagnostics, posterior intervals and predictive checks (bayesplot).

#' Plot a bglmm fit
#'
#' Trace, density and interval plots of chosen parameters, and posterior predictive
#' checks, drawn with the bayesplot package (and its theme) on the draws of
#' [as.array()][as.array.bglmm]. The plots use [bayesplot::theme_default()]; add another
#' ggplot2 theme to change it.
#'
#' Parameters are chosen by name (\code{pars}), by regular expression
#' (\code{regex_pars}), or for group effects by grouping factor (\code{group}); names are
#' those of [as.matrix()][as.matrix.bglmm], e.g. \code{"(Intercept)"}, \code{"conc"},
#' \code{"b[(Intercept) flea:3]"}, \code{"Sigma[flea:(Intercept),(Intercept)]"},
#' \code{"sigma"}. Without any of them the plot shows the fixed effects (or, in a model
#' without fixed effects, the variance parameters); \code{group} without \code{pars} shows
#' all the group effects of that grouping factor.
#'
#' \describe{
#'   \item{\code{"trace"}}{[bayesplot::mcmc_trace()]: one panel per parameter, chains
#'     overlaid.}
#'   \item{\code{"dens"}}{[bayesplot::mcmc_dens_overlay()]: the density of each chain.}
#'   \item{\code{"hist"}}{[bayesplot::mcmc_hist()]: histograms of all chains together.}
#'   \item{\code{"intervals"}}{[bayesplot::mcmc_intervals()]: posterior medians with
#'     \code{prob} (thick) and \code{prob_outer} (thin) central intervals, one row per
#'     parameter; suited to many group effects.}
#'   \item{\code{"areas"}}{[bayesplot::mcmc_areas()]: densities with the \code{prob}
#'     interval shaded.}
#'   \item{\code{"ppc"}}{A posterior predictive check, [pp_check()][pp_check.bglmm];
#'     \code{...} goes to it (e.g. \code{plotfun = "stat"}).}
#' }
#'
#' @param x A [bglmm()] fit.
#' @param type The kind of plot (see Details).
#' @param pars Optional character vector of parameter names.
#' @param regex_pars Optional regular expressions; parameters matching any are shown.
#' @param group Optional name of a grouping factor: restricts the parameters to that
#'   factor's group effects \code{b[...]} (and, without \code{pars} or \code{regex_pars},
#'   shows all of them).
#' @param prob,prob_outer Probability mass of the inner and outer intervals
#'   (\code{"intervals"}, \code{"areas"}).
#' @param ncol Number of columns of panels for \code{"trace"}, \code{"dens"} and
#'   \code{"hist"}; by default one column for up to three parameters, then two or three.
#' @param ... Further arguments of the bayesplot function (or of [pp_check()][pp_check.bglmm]
#'   for \code{type = "ppc"}).
#' @return A ggplot object.
#' @seealso [bayesplot::mcmc_trace()], [bayesplot::mcmc_intervals()], [pp_check.bglmm()].
#' @examples
#' fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 400,
#'              refresh = 0, seed = 1)
#' plot(fit)                                      # trace of the fixed effects
#' plot(fit, "dens", regex_pars = "igma")         # sigma and Sigma[...]
#' plot(fit, "intervals", group = "operator")     # group effects of operator
#' plot(fit, "intervals", regex_pars = "^b\\[")   # the same, by regular expression
#' plot(fit, "ppc")
#' @export
plot.bglmm <- function(x, type = c("trace", "dens", "hist", "intervals", "areas", "ppc"),
                       pars = NULL, regex_pars = NULL, group = NULL, prob = 0.5,
                       prob_outer = 0.9, ncol = NULL, ...) {
  type <- match.arg(type)
  if (type == "ppc") return(pp_check.bglmm(x, ...))
  keep <- plot_pars(x, pars, regex_pars, group)
  a <- x$draws[, , keep, drop = FALSE]
  n <- length(keep)
  if (type %in% c("trace", "dens", "hist")) {
    if (n > 30L) {
      warning(sprintf("%d parameters give %d small panels; choose fewer with 'pars' or 'regex_pars', or use type = \"intervals\".",
                      n, n), call. = FALSE)
    }
    if (is.null(ncol)) ncol <- if (n <= 3L) 1L else if (n <= 8L) 2L else 3L
    facet_args <- list(ncol = ncol, scales = "free")
    p <- switch(type,
      trace = bayesplot::mcmc_trace(a, facet_args = facet_args, ...),
      dens = bayesplot::mcmc_dens_overlay(a, facet_args = facet_args, ...),
      hist = suppressMessages(bayesplot::mcmc_hist(a, facet_args = facet_args, ...))
    )
    p <- p + bayesplot::theme_default() + ggplot2::theme(strip.text = ggplot2::element_text(size = 10),
                            axis.text = ggplot2::element_text(size = 8))
  } else {
    p <- switch(type,
      intervals = bayesplot::mcmc_intervals(a, prob = prob, prob_outer = prob_outer, ...),
      areas = bayesplot::mcmc_areas(a, prob = prob, prob_outer = prob_outer, ...)
    )
    # Keep one label per line readable when there are many rows (e.g. 50 group effects).
    size <- if (n <= 20L) 10 else if (n <= 40L) 8 else if (n <= 80L) 6 else 5
    p <- p + bayesplot::theme_default() + ggplot2::theme(axis.text.y = ggplot2::element_text(size = size, hjust = 1))
  }
  p
}

# Parameters shown by plot.bglmm: by name or pattern (errors on unknown names), restricted
# to one grouping factor's group effects if asked; default the fixed effects.
plot_pars <- function(x, pars, regex_pars, group) {
  all <- dimnames(x$draws)$parameter
  if (!is.null(group)) {
    groups <- unique(vapply(x$re, function(r) r$group_name, ""))
    if (!is.character(group) || length(group) != 1L || !group %in% groups) {
      stop(sprintf("'group' must be one of the grouping factors of the model: %s.",
                   if (length(groups)) paste(groups, collapse = ", ") else "(none)"), call. = FALSE)
    }
    require_ranef_draws(x)
    in_grp <- intersect(all, group_b_names(x, group))
    if (is.null(pars) && is.null(regex_pars)) return(in_grp)
    keep <- intersect(select_pars(all, pars, regex_pars), in_grp)
    if (!length(keep)) stop(sprintf("None of the chosen parameters is a group effect of '%s'.", group), call. = FALSE)
    return(keep)
  }
  if (is.null(pars) && is.null(regex_pars)) {
    fe <- colnames(x$X)
    if (length(fe)) return(fe)
    return(scale_names(x))
  }
  select_pars(all, pars, regex_pars)
}
