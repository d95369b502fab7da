# lme4/rstanarm-style extractors for "bglmm" fits: fixef, ranef, coef, VarCorr, sigma,
# vcov, confint, formula, terms, model.frame, family, fitted, residuals (update works
# through stats::update).

#' Point estimates and extractors as in lme4 and rstanarm
#'
#' The extractors that lme4 and rstanarm users reach for, with rstanarm's meaning:
#' \itemize{
#'   \item \code{fixef}: posterior medians of the fixed effects (named vector).
#'   \item \code{ranef}: posterior medians of the group effects \code{b}, the deviations of
#'     each group's coefficients from the fixed effects; a list with one data frame per
#'     grouping factor (rows = levels, columns = coefficients), of class \code{"ranef.mer"}
#'     as in lme4. Two terms with the same grouping factor, as from \code{(x || g)}, share
#'     one data frame.
#'   \item \code{coef}: group-level coefficients, \code{fixef + ranef} for every level (a
#'     coefficient without a fixed counterpart is its \code{ranef} alone), of class
#'     \code{"coef.mer"}. With \code{summary = FALSE} it returns, per grouping factor, an
#'     array draws x levels x coefficients of the per-draw sums (fixed effect draw plus group
#'     effect draw).
#'   \item \code{VarCorr}: an lme4 \code{"VarCorr.merMod"} object built from the posterior
#'     means of the covariance matrices \code{Sigma} (and of \code{sigma} for the gaussian
#'     family), as rstanarm does; \code{print} and \code{as.data.frame} work as in lme4.
#'   \item \code{sigma}: posterior median of the residual sd (gaussian); 1 for the other
#'     families, as in rstanarm (the extra parameter of neg_binomial_2 and Gamma is in the
#'     draws as \code{reciprocal_dispersion} or \code{shape}).
#'   \item \code{vcov}: posterior covariance (or correlation) matrix of the fixed effects.
#'   \item \code{confint}: central posterior (credible) intervals, as
#'     [posterior_interval()][posterior_interval.bglmm] gives them, in the layout of
#'     [stats::confint()]: by default for the fixed effects, the covariances \code{Sigma}
#'     and \code{sigma}; \code{parm} takes any parameter names.
#'   \item \code{formula}: the formula as given to [bglmm()]; \code{family}: the family
#'     object.
#'   \item \code{model.frame}: the model frame of the rows fitted (after \code{subset} and
#'     missing values), with the variables of the random terms and the columns
#'     \code{(weights)} and \code{(offset)} of those arguments; \code{terms}: as in lme4,
#'     the terms of the fixed part (\code{fixed.only = TRUE}, the default), of the random
#'     part (\code{random.only = TRUE}) or of the whole model (both \code{FALSE}).
#'   \item \code{fitted}: posterior mean of [posterior_epred()][posterior_epred.bglmm] for
#'     the data of the fit (the mean, or for binomial the success probability, as in
#'     rstanarm).
#'   \item \code{residuals}: response residuals, observed minus fitted (for binomial the
#'     observed proportion of successes minus the fitted probability; \code{NA} for rows of
#'     zero trials).
#'   \item \code{update}: [stats::update()] refits with changed arguments, e.g.
#'     \code{update(fit, iter = 500)}, \code{update(fit, . ~ . - brood)} or
#'     \code{update(fit, family = "neg_binomial_2")}.
#' }
#' \code{fixef}, \code{ranef} and \code{VarCorr} are the nlme generics (which lme4 and
#' rstanarm also export), so loading those packages beside bglmm masks nothing.
#'
#' @param object,x A [bglmm()] fit.
#' @param summary For \code{coef}: \code{TRUE} (default) for point estimates as in lme4 and
#'   rstanarm, \code{FALSE} for per-draw arrays.
#' @param correlation For \code{vcov}: return the correlation matrix instead.
#' @param parm For \code{confint}: names or numbers (in the order of
#'   [as.matrix()][as.matrix.bglmm]) of parameters (default: all but the group effects
#'   \code{b[...]}).
#' @param level For \code{confint}: probability mass of the intervals.
#' @param formula For \code{model.frame}: a [bglmm()] fit.
#' @param fixed.only,random.only For \code{terms} and \code{model.frame}, as in lme4: the
#'   fixed or the random part only.
#' @param sigma Unused (for compatibility with the generic).
#' @param ... Unused.
#' @return See Details.
#' @name bglmm-extractors
#' @examples
#' fit <- bglmm(live ~ conc + brood + (1 | flea), data = nitrofen, family = poisson,
#'              chains = 2, iter = 400, refresh = 0, seed = 1)
#' fixef(fit)
#' head(ranef(fit)$flea)
#' head(coef(fit)$flea)
#' VarCorr(fit)
#' sigma(fit)
#' vcov(fit)
#' confint(fit, level = 0.9)
#' formula(fit)
#' terms(fit)
#' head(model.frame(fit))
#' family(fit)
#' head(fitted(fit))
#' head(residuals(fit))
#' fit2 <- update(fit, . ~ . - brood)
#' formula(fit2)
NULL

#' @rdname bglmm-extractors
#' @importFrom nlme fixef
#' @method fixef bglmm
#' @export
fixef.bglmm <- function(object, ...) {
  m <- as.matrix.bglmm(object, pars = colnames(object$X))
  stats::setNames(apply(m, 2, stats::median), colnames(object$X))
}

#' @rdname bglmm-extractors
#' @importFrom nlme ranef
#' @method ranef bglmm
#' @export
ranef.bglmm <- function(object, ...) {
  if (!length(object$re)) stop("The model has no group-level (random) effects.", call. = FALSE)
  require_ranef_draws(object)
  m <- as.matrix.bglmm(object, pars = all_b_names(object))
  med <- apply(m, 2, stats::median)
  out <- lapply(re_by_group(object), function(terms) {
    levs <- terms[[1]]$levels
    cols <- list()
    for (r in terms) {
      for (cn in r$cnms) cols[[cn]] <- unname(med[b_names(r, cn)])
    }
    df <- as.data.frame(cols, check.names = FALSE)
    rownames(df) <- levs
    df
  })
  structure(out, class = "ranef.mer")
}

#' @rdname bglmm-extractors
#' @importFrom stats coef
#' @export
coef.bglmm <- function(object, summary = TRUE, ...) {
  if (!length(object$re)) return(fixef.bglmm(object))
  require_ranef_draws(object)
  if (isTRUE(summary)) {
    fe <- fixef.bglmm(object)
    re <- ranef.bglmm(object)
    out <- lapply(re, function(df) {
      for (cn in intersect(colnames(df), names(fe))) df[[cn]] <- df[[cn]] + fe[[cn]]
      rest <- setdiff(names(fe), colnames(df))
      if (length(rest)) {
        fx <- as.data.frame(as.list(fe[rest]), check.names = FALSE)[rep(1L, nrow(df)), , drop = FALSE]
        rownames(fx) <- rownames(df)
        df <- cbind(df, fx)
        df <- df[, c(intersect(names(fe), colnames(df)), setdiff(colnames(df), names(fe))), drop = FALSE]
      }
      df
    })
    return(structure(out, class = "coef.mer"))
  }
  m <- as.matrix.bglmm(object)
  lapply(re_by_group(object), function(terms) {
    levs <- terms[[1]]$levels
    cns <- unlist(lapply(terms, function(r) r$cnms))
    a <- array(NA_real_, c(nrow(m), length(levs), length(cns)),
               dimnames = list(draw = NULL, level = levs, coefficient = cns))
    for (r in terms) {
      for (cn in r$cnms) {
        fx <- if (cn %in% colnames(object$X)) m[, cn] else 0
        a[, , cn] <- m[, b_names(r, cn), drop = FALSE] + fx
      }
    }
    a
  })
}

#' @rdname bglmm-extractors
#' @importFrom nlme VarCorr
#' @method VarCorr bglmm
#' @export
VarCorr.bglmm <- function(x, sigma = 1, ...) {
  m <- as.matrix.bglmm(x)
  sc <- residual_sd_draws(x)
  use_sc <- !is.null(sc)
  ans <- lapply(x$re, function(r) {
    S <- colMeans(m[, sigma_names_matrix(r), drop = FALSE])
    S <- matrix(S, length(r$cnms), length(r$cnms), dimnames = list(r$cnms, r$cnms))
    structure(S, stddev = sqrt(diag(S)), correlation = stats::cov2cor(S))
  })
  names(ans) <- vapply(x$re, function(r) r$group_name, "")
  structure(ans, sc = if (use_sc) mean(sc) else 1, useSc = use_sc,
            class = "VarCorr.merMod")
}

#' @rdname bglmm-extractors
#' @importFrom stats sigma
#' @export
sigma.bglmm <- function(object, ...) {
  sc <- residual_sd_draws(object)
  if (is.null(sc)) 1 else stats::median(sc)
}

#' @rdname bglmm-extractors
#' @importFrom stats vcov
#' @export
vcov.bglmm <- function(object, correlation = FALSE, ...) {
  v <- stats::cov(as.matrix.bglmm(object, pars = colnames(object$X)))
  if (correlation) stats::cov2cor(v) else v
}

#' @rdname bglmm-extractors
#' @importFrom stats confint
#' @export
confint.bglmm <- function(object, parm = NULL, level = 0.95, ...) {
  if (!is.numeric(level) || length(level) != 1L || !(level > 0 && level < 1)) {
    stop("'level' must be a single number between 0 and 1.", call. = FALSE)
  }
  pars <- dimnames(object$draws)[[3L]]
  if (is.null(parm)) parm <- pars[!pars %in% all_b_names(object)]
  # numbers index the parameters, as confint() indexes coefficients
  if (is.numeric(parm)) {
    if (any(!parm %in% seq_along(pars))) {
      stop(sprintf("'parm' numbers must be between 1 and %d (the number of parameters).", length(pars)),
           call. = FALSE)
    }
    parm <- pars[parm]
  }
  ci <- posterior_interval.bglmm(object, prob = level, pars = parm)
  a <- (1 - level) / 2
  colnames(ci) <- paste(format(100 * c(a, 1 - a), trim = TRUE, scientific = FALSE, digits = 3), "%")
  ci
}

#' @rdname bglmm-extractors
#' @importFrom stats formula
#' @export
formula.bglmm <- function(x, ...) x$formula_input %||% x$formula

#' @rdname bglmm-extractors
#' @importFrom stats terms
#' @export
terms.bglmm <- function(x, fixed.only = TRUE, random.only = FALSE, ...) {
  if (fixed.only && random.only) stop("'fixed.only' and 'random.only' cannot both be TRUE.", call. = FALSE)
  if (fixed.only) return(x$fixed_terms)
  if (!random.only) return(attr(x$frame, "terms"))
  bars <- lme4::findbars(x$formula)
  if (!length(bars)) stop("The model has no random-effects terms.", call. = FALSE)
  # the variables of the bars, as lme4's terms(random.only = TRUE)
  f <- stats::reformulate(vapply(bars, function(b) paste(deparse(lme4::subbars(b)), collapse = " "), ""))
  environment(f) <- environment(x$formula)
  stats::terms(f)
}

#' @rdname bglmm-extractors
#' @importFrom stats model.frame
#' @export
model.frame.bglmm <- function(formula, fixed.only = FALSE, ...) {
  frame <- formula$frame
  if (!fixed.only) return(frame)
  vars <- rownames(attr(formula$fixed_terms, "factors")) %||% deparse(formula$formula[[2L]])
  frame[intersect(c(vars, "(weights)", "(offset)"), names(frame))]
}

#' @rdname bglmm-extractors
#' @importFrom stats family
#' @export
family.bglmm <- function(object, ...) object$family

#' @rdname bglmm-extractors
#' @importFrom stats fitted
#' @export
fitted.bglmm <- function(object, ...) {
  f <- colMeans(posterior_epred.bglmm(object))
  names(f) <- rownames(object$frame)
  f
}

#' @rdname bglmm-extractors
#' @importFrom stats residuals
#' @export
residuals.bglmm <- function(object, ...) {
  # observed on the scale of fitted(): for binomial, proportions (NA for rows of zero trials)
  r <- family_observed(object$family, object$y, object$trials) - fitted.bglmm(object)
  names(r) <- rownames(object$frame)
  r
}

# Draws of the residual sd sigma (in the order of as.matrix()), NULL for a family without it.
residual_sd_draws <- function(object) {
  if (identical(family_aux_name(object$family), "sigma")) family_aux_draws(object$family, object$draws)
}

# Random-effects terms grouped by grouping factor (terms from `||` share one factor).
re_by_group <- function(object) {
  g <- vapply(object$re, function(r) r$group_name, "")
  lapply(split(object$re, factor(g, levels = unique(g))), unname)
}
