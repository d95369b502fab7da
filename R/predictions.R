# Predictions from a "bglmm" fit: the model evaluated on the fit's data or on new data,
# draw by draw (posterior_linpred / posterior_epred / posterior_predict, predict,
# predictive_interval), pointwise log-likelihood and loo / waic.

#' Posterior predictions of a bglmm fit
#'
#' For every posterior draw, the linear predictor (\code{posterior_linpred}), the expected
#' response (\code{posterior_epred}: the mean for gaussian and poisson, the success
#' probability for binomial, as in rstanarm) or a simulated response
#' (\code{posterior_predict}: for binomial the number of successes out of the trials), for
#' the data of the fit or for \code{newdata}. \code{predict} gives the posterior means of the
#' linear predictor (\code{type = "link"}) or of the expected response
#' (\code{type = "response"}); \code{predictive_interval} gives central intervals of
#' \code{posterior_predict}.
#'
#' \code{newdata} is evaluated as the data of the fit were: factors keep the levels of the
#' fit, \code{poly()} and other data-dependent terms use the coefficients computed on the
#' data of the fit, and \code{offset()} terms of the formula and the fit's \code{offset}
#' argument are computed from \code{newdata}. For a binomial model the trials come from
#' \code{cbind(successes, failures)} in \code{newdata} when both columns are there, or from
#' the fit's \code{weights} expression evaluated in \code{newdata}, otherwise from the
#' \code{trials} argument (a 0/1 response has one trial); \code{posterior_predict} and
#' [log_lik()][log_lik.bglmm] need them. A gaussian model fitted with (precision)
#' \code{weights} evaluates them in \code{newdata} too: \code{log_lik} needs them, and
#' \code{posterior_predict} uses weight 1 (with a warning) when they are not there.
#'
#' Group levels of \code{newdata} that are not in the data of the fit are an error unless
#' \code{allow_new_levels = TRUE}; then every new level gets, for every posterior draw, its
#' own draw of group effects from \eqn{N(0, \Sigma)} with that draw's \eqn{\Sigma}
#' (independently across new levels and draws), so predictions for a new group carry the
#' between-group spread.
#'
#' @param object A [bglmm()] fit.
#' @param newdata Optional data frame; default the data of the fit.
#' @param draws Number of posterior draws to use (a random subset); default all.
#' @param re.form Group effects to include: \code{NULL} (default) all, \code{NA} or
#'   \code{~0} none, or a formula with some of the model's random terms, e.g.
#'   \code{~(1 | flea)} (terms are selected by grouping factor).
#' @param offset Optional offset replacing the whole offset of the fit (its \code{offset()}
#'   terms and \code{offset} argument, computed on \code{newdata}) (length 1 or
#'   the number of rows).
#' @param allow_new_levels Allow group levels not in the data of the fit (see Details).
#'   \code{allow.new.levels} is accepted as a synonym.
#' @param seed Optional seed for the random numbers (new levels and simulated responses).
#' @param transform For \code{posterior_linpred}: \code{TRUE} applies the inverse link
#'   (same as \code{posterior_epred}).
#' @param fun Optional function applied to the simulated responses.
#' @param trials Binomial trials for \code{newdata} without the response columns.
#' @param type \code{"link"} or \code{"response"}.
#' @param se.fit For \code{predict}: also return posterior sds.
#' @param prob Probability mass of the intervals.
#' @param ... Unused (\code{allow.new.levels} is read from here).
#' @return \code{posterior_*}: a draws x observations matrix. \code{predict}: a vector (or a
#'   list with \code{fit} and \code{se.fit}). \code{predictive_interval}: a matrix with one
#'   row per observation and the two interval bounds as columns.
#' @examples
#' fit <- bglmm(live ~ conc + brood + (1 | flea), data = nitrofen, family = poisson,
#'              chains = 2, iter = 400, refresh = 0, seed = 1)
#' nd <- data.frame(conc = c(0, 160, 310), brood = 2, flea = c("1", "1", "new"))
#' predict(fit, nd[1:2, ], type = "response")
#' predict(fit, nd, re.form = NA, type = "response")
#' dim(posterior_epred(fit, newdata = nd, allow_new_levels = TRUE))
#' yrep <- posterior_predict(fit, newdata = nd, allow_new_levels = TRUE, seed = 1)
#' predictive_interval(fit, newdata = nd, allow_new_levels = TRUE, prob = 0.8)
#' @name bglmm-predictions
NULL

#' @rdname bglmm-predictions
#' @importFrom rstantools posterior_linpred
#' @method posterior_linpred bglmm
#' @export
posterior_linpred.bglmm <- function(object, transform = FALSE, newdata = NULL, draws = NULL,
                                    re.form = NULL, offset = NULL, allow_new_levels = FALSE,
                                    seed = NULL, ...) {
  allow_new_levels <- new_levels_arg(allow_new_levels, ...)
  if (!is.null(seed)) set.seed(seed)
  dat <- pp_data(object, newdata, re.form, allow_new_levels, offset)
  eta <- pp_eta(object, dat, draw_matrix(object, draws))
  if (isTRUE(transform)) object$family$linkinv(eta) else eta
}

#' @rdname bglmm-predictions
#' @importFrom rstantools posterior_epred
#' @method posterior_epred bglmm
#' @export
posterior_epred.bglmm <- function(object, newdata = NULL, draws = NULL, re.form = NULL,
                                  offset = NULL, allow_new_levels = FALSE, seed = NULL, ...) {
  allow_new_levels <- new_levels_arg(allow_new_levels, ...)
  posterior_linpred.bglmm(object, transform = TRUE, newdata = newdata, draws = draws,
                          re.form = re.form, offset = offset,
                          allow_new_levels = allow_new_levels, seed = seed)
}

#' @rdname bglmm-predictions
#' @importFrom rstantools posterior_predict
#' @method posterior_predict bglmm
#' @export
posterior_predict.bglmm <- function(object, newdata = NULL, draws = NULL, re.form = NULL,
                                    fun = NULL, seed = NULL, offset = NULL,
                                    allow_new_levels = FALSE, trials = NULL, ...) {
  allow_new_levels <- new_levels_arg(allow_new_levels, ...)
  if (!is.null(seed)) set.seed(seed)
  dat <- pp_data(object, newdata, re.form, allow_new_levels, offset, trials = trials,
                 need_trials = TRUE)
  m <- draw_matrix(object, draws)
  mu <- object$family$linkinv(pp_eta(object, dat, m))
  S <- nrow(mu)
  n <- ncol(mu)
  y <- switch(object$family$family,
    gaussian = stats::rnorm(S * n, mu, gaussian_sd(m, dat)),
    poisson = stats::rpois(S * n, mu),
    binomial = stats::rbinom(S * n, rep(dat$trials, each = S), mu)
  )
  y <- matrix(y, S, n, dimnames = dimnames(mu))
  if (!is.null(fun)) y <- match.fun(fun)(y)
  y
}

#' @rdname bglmm-predictions
#' @importFrom stats predict
#' @export
predict.bglmm <- function(object, newdata = NULL, type = c("link", "response"), re.form = NULL,
                          allow_new_levels = FALSE, offset = NULL, se.fit = FALSE, seed = NULL,
                          ...) {
  type <- match.arg(type)
  allow_new_levels <- new_levels_arg(allow_new_levels, ...)
  eta <- posterior_linpred.bglmm(object, transform = type == "response", newdata = newdata,
                                 re.form = re.form, offset = offset,
                                 allow_new_levels = allow_new_levels, seed = seed)
  fit <- colMeans(eta)
  if (!isTRUE(se.fit)) return(fit)
  list(fit = fit, se.fit = apply(eta, 2, stats::sd))
}

#' @rdname bglmm-predictions
#' @importFrom rstantools predictive_interval
#' @method predictive_interval bglmm
#' @export
predictive_interval.bglmm <- function(object, prob = 0.9, newdata = NULL, draws = NULL,
                                      re.form = NULL, fun = NULL, seed = NULL, offset = NULL,
                                      allow_new_levels = FALSE, trials = NULL, ...) {
  allow_new_levels <- new_levels_arg(allow_new_levels, ...)
  yrep <- posterior_predict.bglmm(object, newdata = newdata, draws = draws, re.form = re.form,
                                  fun = fun, seed = seed, offset = offset,
                                  allow_new_levels = allow_new_levels, trials = trials)
  rstantools::predictive_interval(yrep, prob = prob)
}

#' Pointwise log-likelihood, LOO and WAIC
#'
#' \code{log_lik} returns the log density of every observation under every posterior draw,
#' normalizing constants included (\code{dnorm} with \code{sigma}, \code{dpois},
#' \code{dbinom} with the trials), so values compare with rstanarm's. \code{loo} and
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
  mu <- object$family$linkinv(pp_eta(object, dat, m))
  S <- nrow(mu)
  y <- rep(dat$y, each = S)
  ll <- switch(object$family$family,
    gaussian = stats::dnorm(y, mu, gaussian_sd(m, dat), log = TRUE),
    poisson = stats::dpois(y, mu, log = TRUE),
    binomial = stats::dbinom(y, rep(dat$trials, each = S), mu, log = TRUE)
  )
  matrix(ll, S, ncol(mu), dimnames = dimnames(mu))
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

#' @importFrom rstantools posterior_linpred posterior_epred posterior_predict log_lik
#'   predictive_interval
#' @export
rstantools::posterior_linpred
#' @export
rstantools::posterior_epred
#' @export
rstantools::posterior_predict
#' @export
rstantools::log_lik
#' @export
rstantools::predictive_interval
#' @importFrom loo loo waic loo_compare
#' @export
loo::loo
#' @export
loo::waic
#' @export
loo::loo_compare

# ---- internals ------------------------------------------------------------------------

# allow_new_levels, or lme4's allow.new.levels passed through `...`.
new_levels_arg <- function(allow_new_levels, ...) {
  dots <- list(...)
  if (!is.null(dots$allow.new.levels)) allow_new_levels <- dots$allow.new.levels
  if (!is.logical(allow_new_levels) || length(allow_new_levels) != 1L || is.na(allow_new_levels)) {
    stop("'allow_new_levels' must be TRUE or FALSE.", call. = FALSE)
  }
  allow_new_levels
}

# Chain of each row of as.matrix(fit).
chain_ids <- function(object) {
  d <- dim(object$draws)
  rep(seq_len(d[2]), each = d[1])
}

# Posterior draws (rows) to use: all, or a random subset of `draws` of them.
draw_matrix <- function(object, draws) {
  m <- as.matrix.bglmm(object)
  if (is.null(draws)) return(m)
  draws <- check_count(draws, "draws", min = 1)
  if (draws > nrow(m)) stop(sprintf("'draws' must be at most %d (the number of posterior draws).", nrow(m)), call. = FALSE)
  m[sort(sample.int(nrow(m), draws)), , drop = FALSE]
}

# Random-effects bars of the fit, one per entry of object$re.
fit_bars <- function(object) {
  bars <- lme4::findbars(object$formula)
  if (length(bars) != length(object$re)) stop("Internal error: random terms do not match the fit.", call. = FALSE)
  bars
}

# Which random terms re.form keeps.
re_terms_kept <- function(object, re.form) {
  nt <- length(object$re)
  if (is.null(re.form)) return(seq_len(nt))
  if (!inherits(re.form, "formula")) {
    if (length(re.form) == 1L && is.na(re.form)) return(integer(0))
    stop("'re.form' must be NULL, NA or a formula such as ~(1 | g).", call. = FALSE)
  }
  bars <- lme4::findbars(lme4::expandDoubleVerts(re.form))
  if (!length(bars)) return(integer(0))
  groups <- vapply(bars, bar_group_name, "")
  fit_groups <- vapply(object$re, function(r) r$group_name, "")
  bad <- setdiff(groups, fit_groups)
  if (length(bad)) {
    stop(sprintf("'re.form' has grouping factor(s) %s that are not in the model (%s).",
                 paste(bad, collapse = ", "), paste(unique(fit_groups), collapse = ", ")), call. = FALSE)
  }
  which(fit_groups %in% groups)
}

# Design of the model on the fit's data or on newdata: X, offset, the kept random terms
# (Z and level index, new levels numbered after the fitted ones), y and trials.
pp_data <- function(object, newdata, re.form, allow_new_levels, offset = NULL, trials = NULL,
                    need_trials = FALSE, need_y = FALSE) {
  kept <- re_terms_kept(object, re.form)
  if (length(kept)) require_ranef_draws(object)
  fam <- object$family$family
  if (is.null(newdata)) {
    re_all <- if (length(kept)) random_terms(fit_bars(object), object$frame, object$X, environment(object$formula)) else list()
    re <- lapply(kept, function(t) list(t = t, Z = re_all[[t]]$z, idx = re_all[[t]]$group,
                                        new_levels = character(0)))
    dat <- list(X = object$X, offset = object$offset, re = re, y = object$y,
                trials = object$trials, weights = object$weights, names = rownames(object$frame))
  } else {
    # the response is read for the log-likelihood, and for the trials of cbind(successes, failures)
    want_y <- need_y || (need_trials && fam == "binomial" && is.matrix(stats::model.response(object$frame)))
    dat <- newdata_design(object, newdata, kept, allow_new_levels, want_y, have_offset = !is.null(offset))
  }
  n <- nrow(dat$X)
  if (!is.null(offset)) {
    if (!is.numeric(offset) || !length(offset) %in% c(1L, n) || any(!is.finite(offset))) {
      stop(sprintf("'offset' must be finite numbers, of length 1 or %d (the number of rows).", n), call. = FALSE)
    }
    dat$offset <- rep_len(as.numeric(offset), n)
  }
  if (!is.null(trials)) {
    if (fam != "binomial") stop("'trials' is only used by the binomial family.", call. = FALSE)
    if (!is.numeric(trials) || !length(trials) %in% c(1L, n) || any(trials < 0) || any(trials != round(trials))) {
      stop(sprintf("'trials' must be whole numbers of length 1 or %d (the number of rows).", n), call. = FALSE)
    }
    dat$trials <- rep_len(as.numeric(trials), n)
  }
  weights <- object$model_args$weights
  if (need_trials && fam == "binomial" && length(dat$trials) != n) {
    if (!is.null(weights)) {
      stop(sprintf(paste0("The binomial model was fitted with weights = %s (the numbers of trials), ",
                          "which could not be evaluated on newdata: add its variables to newdata or ",
                          "give the number of trials with the 'trials' argument."), arg_label(weights)),
           call. = FALSE)
    }
    stop("The binomial model was fitted to cbind(successes, failures) and newdata does not have ",
         "both columns: give the number of trials with the 'trials' argument.", call. = FALSE)
  }
  if (need_y && length(dat$y) != n) {
    stop(sprintf("newdata must contain the response (%s)%s for the log-likelihood.",
                 paste(deparse(object$formula[[2L]]), collapse = " "),
                 if (is.null(weights)) "" else sprintf(" and the weights (%s)", arg_label(weights))),
         call. = FALSE)
  }
  if (need_trials && !need_y && fam == "gaussian" && !is.null(weights) && is.null(dat$weights)) {
    warning(sprintf(paste0("The model was fitted with weights = %s, which could not be evaluated on ",
                           "newdata: predicting with weight 1 (variance sigma^2)."), arg_label(weights)),
            call. = FALSE)
  }
  if (need_y && fam == "binomial" && any(dat$y > dat$trials)) {
    stop("Binomial successes exceed the number of trials.", call. = FALSE)
  }
  dat
}

newdata_design <- function(object, newdata, kept, allow_new_levels, want_y, have_offset = FALSE) {
  if (!is.data.frame(newdata)) stop("'newdata' must be a data frame.", call. = FALSE)
  if (nrow(newdata) == 0L) stop("'newdata' has no rows.", call. = FALSE)
  bars <- if (length(object$re)) fit_bars(object) else list()
  tt_full <- attr(object$frame, "terms")
  resp_vars <- all.vars(object$formula[[2L]])
  # the weights on newdata: binomial trials (the response needs them) or gaussian precisions
  weights <- object$model_args$weights
  w <- if (is.null(weights)) NULL else newdata_value(object, weights, newdata)
  with_y <- want_y && all(resp_vars %in% names(newdata)) && (is.null(weights) || !is.null(w))
  tt <- if (with_y) tt_full else stats::delete.response(tt_full)
  # factor levels of the fit for the fixed effects and the random-term LHS; grouping factors
  # are matched separately (they may have new levels)
  xlev <- stats::.getXlevels(tt_full, object$frame)
  gvars <- unique(unlist(lapply(bars, function(b) all.vars(b[[3L]]))))
  lvars <- unique(c(all.vars(stats::delete.response(object$fixed_terms)),
                    unlist(lapply(bars, function(b) all.vars(b[[2L]])))))
  xlev <- xlev[setdiff(names(xlev), setdiff(gvars, lvars))]
  # grouping variables of terms left out by re.form need not be in newdata: a placeholder
  # lets the frame be built, and they are never used
  kept_gvars <- unique(unlist(lapply(bars[kept], function(b) all.vars(b[[3L]]))))
  unneeded <- setdiff(gvars, c(kept_gvars, lvars, names(newdata)))
  for (v in unneeded) newdata[[v]] <- factor(rep(NA_character_, nrow(newdata)))
  mf <- tryCatch(
    stats::model.frame(tt, newdata, na.action = stats::na.pass, xlev = xlev),
    error = function(e) stop("Could not evaluate the model's variables on newdata: ",
                             conditionMessage(e), call. = FALSE)
  )
  resp_col <- if (with_y) 1L else integer(0)
  pred_cols <- setdiff(seq_along(mf), c(resp_col, which(names(mf) %in% unneeded)))
  na_rows <- !stats::complete.cases(mf[pred_cols])
  if (any(na_rows)) {
    stop(sprintf("newdata has missing values in the model's variables (row%s %s).",
                 if (sum(na_rows) > 1) "s" else "", paste(utils::head(which(na_rows), 5), collapse = ", ")),
         call. = FALSE)
  }
  X <- stats::model.matrix(stats::delete.response(object$fixed_terms), mf,
                           contrasts.arg = attr(object$X, "contrasts"))
  if (!identical(colnames(X), colnames(object$X))) {
    stop("newdata gives fixed-effects columns (", paste(colnames(X), collapse = ", "),
         ") that differ from the fit's (", paste(colnames(object$X), collapse = ", "), ").", call. = FALSE)
  }
  off <- stats::model.offset(mf)
  if (is.null(off)) off <- rep(0, nrow(mf))
  if (!is.null(object$model_args$offset) && !have_offset) {
    o <- newdata_value(object, object$model_args$offset, newdata)
    if (is.null(o)) {
      stop(sprintf(paste0("The model was fitted with offset = %s, which could not be evaluated on ",
                          "newdata: add its variables to newdata or give the 'offset' argument."),
                   arg_label(object$model_args$offset)), call. = FALSE)
    }
    off <- off + o
  }
  re <- lapply(kept, function(t) {
    r <- object$re[[t]]
    b <- bars[[t]]
    Z <- bar_z(b, mf)
    if (!identical(colnames(Z), r$cnms)) {
      stop(sprintf("newdata gives group-effect columns (%s) for '%s' that differ from the fit's (%s).",
                   paste(colnames(Z), collapse = ", "), r$group_name, paste(r$cnms, collapse = ", ")),
           call. = FALSE)
    }
    labels <- as.character(bar_group_values(b, mf, environment(object$formula)))
    idx <- match(labels, r$levels)
    new <- is.na(idx)
    new_levels <- unique(labels[new])
    if (length(new_levels) && !allow_new_levels) {
      stop(sprintf(paste0("newdata has level%s %s of grouping factor '%s' that %s not in the fitted data. ",
                          "Use allow_new_levels = TRUE to draw %s group effects from N(0, Sigma), ",
                          "or re.form = NA to leave out the group effects."),
                   if (length(new_levels) > 1) "s" else "",
                   paste(utils::head(new_levels, 5), collapse = ", "), r$group_name,
                   if (length(new_levels) > 1) "are" else "is",
                   if (length(new_levels) > 1) "their" else "its"), call. = FALSE)
    }
    idx[new] <- length(r$levels) + match(labels[new], new_levels)
    list(t = t, Z = unname(Z), idx = idx, new_levels = new_levels)
  })
  y <- numeric(0)
  if (!is.null(w) && want_y) check_weights(w, object$family$family)
  trials <- if (object$family$family != "binomial" || is.matrix(stats::model.response(object$frame))) {
    numeric(0)
  } else if (!is.null(weights)) {
    w %||% numeric(0)
  } else {
    rep(1, nrow(mf))
  }
  if (with_y) {
    resp <- bglmm_response(stats::model.response(mf), object$family, w)
    y <- resp$y
    if (object$family$family == "binomial") trials <- resp$trials
  }
  list(X = X, offset = as.numeric(off), re = re, y = y, trials = trials,
       weights = if (object$family$family == "gaussian") w, names = rownames(newdata))
}

# The value on newdata of a weights or offset argument of the fit (see fit_args()): its
# expression evaluated in newdata, which must have every variable that the expression took
# from the data (functions such as log come from the formula's environment). NULL when it
# took none (a vector given in the call says nothing about other rows), when newdata lacks
# one, or when the value is not one number per row.
newdata_value <- function(object, arg, newdata) {
  if (!length(arg$vars) || !all(arg$vars %in% names(newdata))) return(NULL)
  v <- tryCatch(eval(arg$expr, newdata, environment(object$formula)), error = function(e) NULL)
  if (!is.numeric(v) || length(v) != nrow(newdata)) NULL else as.numeric(v)
}

# A fit argument's expression for messages, at most 40 characters.
arg_label <- function(arg) {
  s <- deparse1(arg$expr)
  if (nchar(s) > 40L) paste0(substr(s, 1L, 37L), "...") else s
}

# Residual sd of each draw (rows of m) and row of dat, draws varying fastest: sigma, divided
# by sqrt(w) for gaussian precision weights.
gaussian_sd <- function(m, dat) {
  sd <- m[, "sigma"]
  if (is.null(dat$weights)) sd else sd / rep(sqrt(dat$weights), each = length(sd))
}

# Linear predictor, draws x observations, for the draws in the rows of m.
pp_eta <- function(object, dat, m) {
  S <- nrow(m)
  beta <- m[, colnames(object$X), drop = FALSE]
  eta <- beta %*% t(dat$X)
  eta <- eta + rep(dat$offset, each = S)
  for (term in dat$re) {
    r <- object$re[[term$t]]
    nnew <- length(term$new_levels)
    bnew <- if (nnew) draw_new_b(m, r, nnew) else NULL
    for (k in seq_along(r$cnms)) {
      B <- m[, b_names(r, r$cnms[k]), drop = FALSE]
      if (nnew) B <- cbind(B, bnew[, , k])
      eta <- eta + B[, term$idx, drop = FALSE] * rep(term$Z[, k], each = S)
    }
  }
  dimnames(eta) <- list(NULL, dat$names)
  eta
}

# Group effects of nnew new levels: for every draw s, independent N(0, Sigma_s) vectors.
# Returns draws x nnew x q.
draw_new_b <- function(m, r, nnew) {
  S <- nrow(m)
  q <- length(r$cnms)
  nm <- sigma_names_matrix(r)
  if (q == 1L) return(array(stats::rnorm(S * nnew) * sqrt(m[, nm[1, 1]]), c(S, nnew, 1L)))
  out <- array(0, c(S, nnew, q))
  sig <- m[, as.vector(nm), drop = FALSE]
  for (s in seq_len(S)) {
    Sig <- matrix(sig[s, ], q, q)
    R <- tryCatch(chol(Sig), error = function(e) {
      ev <- eigen(Sig, symmetric = TRUE)
      t(ev$vectors %*% diag(sqrt(pmax(ev$values, 0)), q))
    })
    out[s, , ] <- matrix(stats::rnorm(nnew * q), nnew, q) %*% R
  }
  out
}
