# S3 methods for "bglmm" fits: printing, summaries, draws in standard formats.

#' Posterior draws of a bglmm fit
#'
#' \code{as.matrix} stacks the chains (chain 1's draws first) into draws x parameters;
#' \code{as.array} keeps them apart as iterations x chains x parameters, like rstan.
#' The posterior package's \code{as_draws_array()}, \code{as_draws_matrix()},
#' \code{as_draws_df()} and \code{as_draws()} also work on a fit.
#'
#' @param x A [bglmm()] fit.
#' @param pars Optional character vector of parameter names to keep.
#' @param regex_pars Optional regular expressions; parameters matching any are kept.
#' @param ... Unused.
#' @return A numeric matrix or array with parameter names as in rstanarm.
#' @examples
#' fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, iter = 400, refresh = 0, seed = 1)
#' dim(as.matrix(fit))
#' head(as.matrix(fit, pars = "sigma"))
#' posterior::summarise_draws(posterior::as_draws_array(fit))
#' @export
as.matrix.bglmm <- function(x, pars = NULL, regex_pars = NULL, ...) {
  a <- as.array.bglmm(x, pars = pars, regex_pars = regex_pars)
  d <- dim(a)
  m <- matrix(a, d[1] * d[2], d[3])
  colnames(m) <- dimnames(a)[[3]]
  m
}

#' @rdname as.matrix.bglmm
#' @export
as.array.bglmm <- function(x, pars = NULL, regex_pars = NULL, ...) {
  all <- dimnames(x$draws)$parameter
  if (!has_ranef_draws(x)) check_b_not_requested(x, all, pars, regex_pars)
  keep <- select_pars(all, pars, regex_pars)
  x$draws[, , keep, drop = FALSE]
}

# A save_ranef = FALSE fit asked for group effects by name, or by a pattern that matches
# only group effects: the save_ranef error rather than "unknown parameters".
check_b_not_requested <- function(x, all, pars, regex_pars) {
  b <- all_b_names(x)
  only_b <- vapply(as.character(regex_pars), function(re) any(grepl(re, b)) && !any(grepl(re, all)), NA)
  if (any(pars %in% b) || any(only_b)) require_ranef_draws(x)
}

select_pars <- function(all, pars = NULL, regex_pars = NULL) {
  if (is.null(pars) && is.null(regex_pars)) return(all)
  keep <- character(0)
  if (!is.null(pars)) {
    bad <- setdiff(pars, all)
    if (length(bad)) stop("Unknown parameters: ", paste(bad, collapse = ", "), call. = FALSE)
    keep <- pars
  }
  for (re in regex_pars) keep <- c(keep, grep(re, all, value = TRUE))
  keep <- unique(keep)
  if (!length(keep)) stop("No parameters match 'pars' or 'regex_pars'.", call. = FALSE)
  keep
}

#' @rdname as.matrix.bglmm
#' @importFrom posterior as_draws_array
#' @method as_draws_array bglmm
#' @export
as_draws_array.bglmm <- function(x, ...) {
  posterior::as_draws_array(as.array.bglmm(x, ...))
}

#' @rdname as.matrix.bglmm
#' @importFrom posterior as_draws
#' @method as_draws bglmm
#' @export
as_draws.bglmm <- function(x, ...) as_draws_array.bglmm(x, ...)

#' @rdname as.matrix.bglmm
#' @importFrom posterior as_draws_matrix
#' @method as_draws_matrix bglmm
#' @export
as_draws_matrix.bglmm <- function(x, ...) posterior::as_draws_matrix(as_draws_array.bglmm(x, ...))

#' @rdname as.matrix.bglmm
#' @importFrom posterior as_draws_df
#' @method as_draws_df bglmm
#' @export
as_draws_df.bglmm <- function(x, ...) posterior::as_draws_df(as_draws_array.bglmm(x, ...))

#' Summaries of a bglmm fit
#'
#' \code{summary} gives, for every parameter, the posterior mean, sd, 2.5/50/97.5\%
#' quantiles, Rhat and bulk and tail effective sample sizes (computed by the posterior
#' package), with the Metropolis acceptance rates. It warns when any Rhat exceeds 1.01 or
#' any bulk ESS is below 400. \code{print} shows a short table of the fixed effects and
#' covariance parameters.
#'
#' @param object,x A [bglmm()] fit, or its summary.
#' @param pars,regex_pars Parameters to summarise (default: all).
#' @param probs Quantiles to report.
#' @param digits Digits to print.
#' @param ... Unused.
#' @return \code{summary} returns a data frame of class \code{"summary.bglmm"}, one row per
#'   parameter; \code{print} returns its argument invisibly.
#' @examples
#' fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, iter = 1000, refresh = 0, seed = 1)
#' fit
#' summary(fit, regex_pars = "^Sigma|^sigma")
#' @export
summary.bglmm <- function(object, pars = NULL, regex_pars = NULL, probs = c(0.025, 0.5, 0.975), ...) {
  a <- as_draws_array.bglmm(object, pars = pars, regex_pars = regex_pars)
  qf <- function(x) stats::quantile(x, probs = probs, names = FALSE)
  s <- posterior::summarise_draws(a, mean = mean, sd = stats::sd, q = qf,
                                  rhat = posterior::rhat, ess_bulk = posterior::ess_bulk,
                                  ess_tail = posterior::ess_tail)
  vars <- s$variable
  s <- as.data.frame(lapply(s[setdiff(names(s), "variable")], as.numeric), check.names = FALSE)
  rownames(s) <- vars
  names(s)[3:(2 + length(probs))] <- paste0(100 * probs, "%")
  names(s)[names(s) == "rhat"] <- "Rhat"
  structure(s, class = c("summary.bglmm", "data.frame"), fit_info = fit_info(object))
}

fit_info <- function(object) {
  list(formula = object$formula, family = object$family$family, link = object$family$link,
       nobs = length(object$y), ngrps = ngrps_of(object), sampler = object$sampler,
       accept = object$accept, n_dropped = object$n_dropped)
}

ngrps_of <- function(object) {
  g <- vapply(object$re, function(r) length(r$levels), 1L)
  names(g) <- vapply(object$re, function(r) r$group_name, "")
  g[!duplicated(names(g))]
}

#' @rdname summary.bglmm
#' @export
print.summary.bglmm <- function(x, digits = 3, ...) {
  info <- attr(x, "fit_info")
  if (!is.null(info)) print_header(info)
  tab <- x
  class(tab) <- "data.frame"
  num <- setdiff(names(tab), c("Rhat", "ess_bulk", "ess_tail"))
  out <- as.data.frame(lapply(tab[num], function(v) formatC(signif(v, digits), digits = digits, format = "fg", flag = "#")),
                       check.names = FALSE)
  if (!is.null(tab$Rhat)) out$Rhat <- formatC(tab$Rhat, digits = 3, format = "f")
  for (e in intersect(c("ess_bulk", "ess_tail"), names(tab))) out[[e]] <- formatC(round(tab[[e]]), format = "d")
  rownames(out) <- rownames(tab)
  cat("\nPosterior summary:\n")
  print(out, quote = FALSE, right = TRUE)
  if (!is.null(info)) print_accept(info$accept)
  if (all(c("Rhat", "ess_bulk") %in% names(tab))) diagnostics_warning(tab)
  invisible(x)
}

print_header <- function(info) {
  s <- info$sampler
  cat(sprintf("bglmm fit: %s family, %s link\n", info$family, info$link))
  cat("formula:     ", paste(deparse(info$formula, width.cutoff = 500L), collapse = " "), "\n", sep = "")
  cat(sprintf("observations: %d%s\n", info$nobs,
              if (info$n_dropped > 0) sprintf(" (%d rows with missing values removed)", info$n_dropped) else ""))
  if (length(info$ngrps)) {
    cat("groups:      ", paste(sprintf("%s (%d)", names(info$ngrps), info$ngrps), collapse = ", "), "\n", sep = "")
  }
  cat(sprintf("draws:        %d chains x %d kept iterations (iter = %d, warmup = %d, thin = %d, sweeps = %d); %.1f s\n",
              s$chains, (s$iter - s$warmup + s$thin - 1) %/% s$thin, s$iter, s$warmup, s$thin,
              s$sweeps %||% 1L, s$time))
}

print_accept <- function(acc) {
  parts <- character(0)
  if (any(is.finite(acc$fixef))) parts <- c(parts, sprintf("fixed effects %.2f", mean(acc$fixef)))
  g <- acc$groups
  for (k in seq_len(ncol(g))) {
    if (any(is.finite(g[, k]))) parts <- c(parts, sprintf("%s groups %.2f", colnames(g)[k], mean(g[, k])))
  }
  if (length(parts)) {
    cat("\nMetropolis acceptance rates (mean over chains): ", paste(parts, collapse = ", "), "\n", sep = "")
  } else {
    cat("\nAll steps are Gibbs (no Metropolis acceptance rates).\n")
  }
}

diagnostics_warning <- function(tab) {
  bad_rhat <- rownames(tab)[is.finite(tab$Rhat) & tab$Rhat > 1.01]
  bad_ess <- rownames(tab)[is.finite(tab$ess_bulk) & tab$ess_bulk < 400]
  if (length(bad_rhat)) {
    warning(sprintf("Rhat > 1.01 for %d parameter(s) (e.g. %s): the chains have not mixed; run longer chains (iter).",
                    length(bad_rhat), paste(utils::head(bad_rhat, 3), collapse = ", ")), call. = FALSE)
  }
  if (length(bad_ess)) {
    warning(sprintf("Bulk ESS < 400 for %d parameter(s) (e.g. %s): posterior summaries may be unreliable; run longer chains (iter).",
                    length(bad_ess), paste(utils::head(bad_ess, 3), collapse = ", ")), call. = FALSE)
  }
}

#' @rdname summary.bglmm
#' @export
print.bglmm <- function(x, digits = 3, ...) {
  info <- fit_info(x)
  print_header(info)
  m <- as.matrix.bglmm(x)
  show <- function(cols, title) {
    if (!length(cols)) return(invisible())
    d <- m[, cols, drop = FALSE]
    tab <- cbind(Median = apply(d, 2, stats::median), MAD_SD = apply(d, 2, stats::mad))
    cat("\n", title, "\n", sep = "")
    print(signif(tab, digits))
  }
  show(colnames(x$X), "Fixed effects:")
  aux <- family_aux_name(x$family)
  show(scale_names(x), if (is.null(aux) || aux == "sigma") "Residual scale and group covariances:"
                       else sprintf("Family parameter (%s) and group covariances:", aux))
  cat("\nUse summary() for intervals, Rhat and ESS.\n")
  invisible(x)
}

#' Number of observations and groups
#'
#' @param object A [bglmm()] fit.
#' @param ... Unused.
#' @return \code{nobs}: the number of rows used; \code{ngrps}: the number of levels of each
#'   grouping factor.
#' @examples
#' fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, iter = 400, refresh = 0, seed = 1)
#' nobs(fit)
#' ngrps(fit)
#' @importFrom stats nobs
#' @export
nobs.bglmm <- function(object, ...) length(object$y)

#' @rdname nobs.bglmm
#' @importFrom lme4 ngrps
#' @method ngrps bglmm
#' @export
ngrps.bglmm <- function(object, ...) ngrps_of(object)
