# tidy(), glance() and augment() of the generics package (re-exported by broom and
# broom.mixed) for bglmm fits, with the columns and meanings of broom.mixed's methods for
# rstanarm and brms fits. Registered when generics is loaded.

#' Tidy summaries of a bglmm fit (broom.mixed)
#'
#' Methods for the generics \code{tidy}, \code{glance} and \code{augment} of the generics
#' package, which broom and broom.mixed re-export; they are registered when generics is
#' loaded. The columns are those of broom.mixed's methods for rstanarm and brms fits.
#'
#' \code{tidy} returns one row per parameter with the columns \code{effect}, \code{group}
#' (the grouping factor, or \code{"Residual"}), \code{level} (the group), \code{term},
#' \code{estimate} (the posterior median, as rstanarm's [fixef()][bglmm-extractors]),
#' \code{std.error} (the posterior MAD SD, as rstanarm's \code{se()}) and, with
#' \code{conf.int = TRUE}, \code{conf.low} and \code{conf.high} (central quantiles, or
#' the highest posterior density interval of [coda::HPDinterval()]). \code{group} and
#' \code{level} appear only when some requested effect has them. \code{effects} chooses
#' the rows:
#' \describe{
#'   \item{\code{"fixed"}}{the fixed effects;}
#'   \item{\code{"ran_pars"}}{the standard deviations and correlations of the group effects
#'     (terms \code{sd_(Intercept).g}, \code{cor_(Intercept).x.g}) and, for the gaussian
#'     family, the residual sd (\code{sd_Observation.Residual}), as broom.mixed names them;
#'     they are summaries of the draws of each sd and correlation, computed from each draw
#'     of \code{Sigma} and \code{sigma} (as brms's tidier does; rstanarm's reports sds of
#'     the posterior mean covariance, without a std.error);}
#'   \item{\code{"ran_vals"}}{the group effects \code{b}, deviations from the fixed
#'     effects, as [ranef()][bglmm-extractors];}
#'   \item{\code{"ran_coefs"}}{each group's coefficients, fixed effect plus group effect
#'     draw by draw, for every fixed effect (as [coef()][bglmm-extractors], but the
#'     median of the sums rather than the sum of the medians);}
#'   \item{\code{"auxiliary"}}{\code{sigma} of the gaussian family, as in rstanarm.}
#' }
#'
#' \code{glance} returns one row: \code{algorithm} (\code{"sampling"}: MCMC draws),
#' \code{pss} (the posterior sample size: the number of draws kept), \code{nobs}, one
#' column \code{ngrps.<factor>} per grouping factor with its number of levels,
#' \code{sigma} (see [sigma()][bglmm-extractors]) and, with \code{looic = TRUE},
#' \code{looic}, \code{elpd_loo} and \code{p_loo} of [loo()][bglmm-loo].
#'
#' \code{augment} adds to the data (by default the model frame of the fit) the columns
#' \code{.fitted} (posterior mean of the expected response,
#' [posterior_epred()][posterior_epred.bglmm]), \code{.se.fit} (its posterior sd) and, for
#' the data of the fit, \code{.resid} (response residuals, [residuals()][bglmm-extractors]).
#'
#' @param x A [bglmm()] fit.
#' @param effects For \code{tidy}: one or more of \code{"fixed"}, \code{"ran_pars"},
#'   \code{"ran_vals"}, \code{"ran_coefs"}, \code{"auxiliary"}.
#' @param conf.int Add intervals.
#' @param conf.level Probability mass of the intervals (default 0.9, as rstanarm's tidier).
#' @param conf.method \code{"quantile"} (central intervals) or \code{"HPDinterval"}
#'   (needs the coda package).
#' @param looic For \code{glance}: add the LOO information criterion (computes [loo()]).
#' @param data For \code{augment}: a data frame with the rows of the fit, to which the
#'   columns are added (default the model frame).
#' @param newdata For \code{augment}: new data to predict (passed to
#'   [posterior_epred()][posterior_epred.bglmm]).
#' @param re.form For \code{augment}: group effects to include, as in
#'   [posterior_epred()][posterior_epred.bglmm].
#' @param ... For \code{glance}: passed to [loo()]; for \code{augment}: passed to
#'   [posterior_epred()][posterior_epred.bglmm] (e.g. \code{allow_new_levels}); otherwise
#'   unused.
#' @return A tibble (a data frame when the tibble package is not installed).
#' @examples
#' if (requireNamespace("generics", quietly = TRUE)) {
#'   fit <- bglmm(Reaction ~ Days + (Days | Subject), data = lme4::sleepstudy,
#'                chains = 2, iter = 400, refresh = 0, seed = 1)
#'   generics::tidy(fit, conf.int = TRUE)
#'   generics::tidy(fit, effects = "ran_pars")
#'   head(generics::tidy(fit, effects = "ran_vals"))
#'   generics::glance(fit)
#'   head(generics::augment(fit))
#' }
#' @name bglmm-tidiers
NULL

#' @rdname bglmm-tidiers
#' @exportS3Method generics::tidy
tidy.bglmm <- function(x, effects = "fixed", conf.int = FALSE, conf.level = 0.9,
                       conf.method = c("quantile", "HPDinterval"), ...) {
  effects <- match.arg(effects, c("fixed", "ran_pars", "ran_vals", "ran_coefs", "auxiliary"),
                       several.ok = TRUE)
  conf.method <- match.arg(conf.method)
  if (!is.numeric(conf.level) || length(conf.level) != 1L || !(conf.level > 0 && conf.level < 1)) {
    stop("'conf.level' must be a single number between 0 and 1.", call. = FALSE)
  }
  if (isTRUE(conf.int) && conf.method == "HPDinterval") need_package("coda", "conf.method = \"HPDinterval\"")
  m <- as.matrix.bglmm(x)
  parts <- lapply(effects, function(e) {
    switch(e, fixed = tidy_part(m, colnames(x$X), "fixed"),
           auxiliary = tidy_part(m, family_aux_name(x$family), "auxiliary"),
           ran_pars = tidy_ran_pars(x, m),
           ran_vals = tidy_ran_vals(x, m),
           ran_coefs = tidy_ran_coefs(x, m))
  })
  info <- do.call(rbind, lapply(parts, `[[`, "info"))
  draws <- do.call(cbind, lapply(parts, `[[`, "draws"))
  out <- data.frame(info, estimate = apply(draws, 2, stats::median),
                    std.error = apply(draws, 2, stats::mad), stringsAsFactors = FALSE)
  if (isTRUE(conf.int)) {
    ci <- if (conf.method == "HPDinterval") {
      coda::HPDinterval(coda::as.mcmc(draws), prob = conf.level)
    } else {
      a <- (1 - conf.level) / 2
      t(apply(draws, 2, stats::quantile, probs = c(a, 1 - a), names = FALSE))
    }
    out$conf.low <- unname(ci[, 1])
    out$conf.high <- unname(ci[, 2])
  }
  for (col in c("group", "level")) if (all(is.na(out[[col]]))) out[[col]] <- NULL
  rownames(out) <- NULL
  as_tibble_if_installed(out)
}

# Rows of tidy(): the names (effect, group, level, term) and the draws (a column each).
tidy_part <- function(m, pars, effect, group = NA_character_, level = NA_character_,
                      term = pars, draws = m[, pars, drop = FALSE]) {
  n <- ncol(draws)
  list(info = data.frame(effect = rep(effect, n), group = rep_len(group, n),
                         level = rep_len(level, n), term = rep_len(term, n),
                         stringsAsFactors = FALSE),
       draws = unname(draws))
}

# Draws of the sds and correlations of every term's covariance, and of sigma, named as
# broom.mixed names them (lme4's order: the sds, then the correlations of the lower triangle).
tidy_ran_pars <- function(x, m) {
  parts <- lapply(x$re, function(r) {
    nm <- sigma_names_matrix(r)
    q <- nrow(nm)
    sds <- sqrt(m[, diag(nm), drop = FALSE])
    low <- which(lower.tri(nm), arr.ind = TRUE)
    cors <- vapply(seq_len(nrow(low)), function(k) {
      i <- low[k, 1]
      j <- low[k, 2]
      m[, nm[i, j]] / (sds[, i] * sds[, j])
    }, numeric(nrow(m)))
    cors <- matrix(cors, nrow(m))
    terms <- c(paste0("sd_", r$cnms, ".", r$group_name),
               paste0("cor_", r$cnms[low[, 2]], ".", r$cnms[low[, 1]], ".", r$group_name))
    tidy_part(m, NULL, "ran_pars", group = r$group_name, term = terms, draws = cbind(sds, cors))
  })
  if (identical(family_aux_name(x$family), "sigma")) {
    parts <- c(parts, list(tidy_part(m, "sigma", "ran_pars", group = "Residual",
                                     term = "sd_Observation.Residual")))
  }
  bind_parts(parts)
}

# Draws of the group effects b, one row per level and coefficient (level by level, as the
# parameters are ordered).
tidy_ran_vals <- function(x, m) {
  require_ranef_draws(x)
  bind_parts(lapply(x$re, function(r) {
    q <- length(r$cnms)
    pars <- paste0("b[", rep(r$cnms, times = length(r$levels)), " ", r$group_name, ":",
                   rep(r$levels, each = q), "]")
    tidy_part(m, pars, "ran_vals", group = r$group_name, level = rep(r$levels, each = q),
              term = rep(r$cnms, times = length(r$levels)))
  }))
}

# Draws of each group's coefficients: the fixed effect plus the group effects of the terms of
# that grouping factor, for every fixed effect and every coefficient that varies by group.
tidy_ran_coefs <- function(x, m) {
  require_ranef_draws(x)
  bind_parts(lapply(re_by_group(x), function(terms) {
    levs <- terms[[1]]$levels
    cns <- unique(c(colnames(x$X), unlist(lapply(terms, function(r) r$cnms))))
    draws <- lapply(cns, function(cn) {
      d <- if (cn %in% colnames(x$X)) matrix(m[, cn], nrow(m), length(levs)) else 0
      for (r in terms) if (cn %in% r$cnms) d <- d + m[, b_names(r, cn), drop = FALSE]
      unname(d)
    })
    # level by level, the coefficients within each level
    a <- array(unlist(draws), c(nrow(m), length(levs), length(cns)))
    a <- aperm(a, c(1L, 3L, 2L))
    tidy_part(m, NULL, "ran_coefs", group = terms[[1]]$group_name,
              level = rep(levs, each = length(cns)), term = rep(cns, times = length(levs)),
              draws = matrix(a, nrow(m)))
  }))
}

bind_parts <- function(parts) {
  list(info = do.call(rbind, lapply(parts, `[[`, "info")),
       draws = do.call(cbind, lapply(parts, `[[`, "draws")))
}

#' @rdname bglmm-tidiers
#' @exportS3Method generics::glance
glance.bglmm <- function(x, looic = FALSE, ...) {
  g <- ngrps_of(x)
  out <- data.frame(algorithm = "sampling", pss = nrow(as.matrix.bglmm(x, pars = colnames(x$X))),
                    nobs = nobs.bglmm(x), stringsAsFactors = FALSE)
  for (nm in names(g)) out[[paste0("ngrps.", nm)]] <- unname(g[[nm]])
  out$sigma <- sigma.bglmm(x)
  if (isTRUE(looic)) {
    est <- loo.bglmm(x, ...)$estimates
    out$looic <- est["looic", "Estimate"]
    out$elpd_loo <- est["elpd_loo", "Estimate"]
    out$p_loo <- est["p_loo", "Estimate"]
  }
  as_tibble_if_installed(out)
}

#' @rdname bglmm-tidiers
#' @exportS3Method generics::augment
augment.bglmm <- function(x, data = NULL, newdata = NULL, re.form = NULL, ...) {
  ep <- posterior_epred.bglmm(x, newdata = newdata, re.form = re.form, ...)
  if (is.null(newdata)) {
    base <- data %||% stats::model.frame(x)
    if (nrow(base) != nobs.bglmm(x)) {
      stop(sprintf("'data' must have the %d rows of the fit.", nobs.bglmm(x)), call. = FALSE)
    }
  } else {
    base <- newdata
  }
  out <- as.data.frame(base, stringsAsFactors = FALSE)
  out$.fitted <- colMeans(ep)
  out$.se.fit <- apply(ep, 2, stats::sd)
  # the response residuals of residuals(), with the fitted values of re.form
  if (is.null(newdata)) {
    r <- residuals.bglmm(x)
    out$.resid <- if (is.null(re.form)) unname(r) else unname(r + fitted.bglmm(x)) - out$.fitted
  }
  rownames(out) <- NULL
  as_tibble_if_installed(out)
}
