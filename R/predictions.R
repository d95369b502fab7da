# Predictions from a "bglmm" fit: the model evaluated on the fit's data or on new data
# (newdata.R), draw by draw: posterior_linpred / posterior_epred / posterior_predict,
# predict, predictive_interval.

#' Posterior predictions of a bglmm fit
#'
#' For every posterior draw, the linear predictor (\code{posterior_linpred}), the expected
#' response (\code{posterior_epred}: the inverse link of the linear predictor, i.e. the
#' mean for gaussian, poisson, neg_binomial_2 and Gamma and the success probability for
#' binomial, as in rstanarm) or a simulated response (\code{posterior_predict}: for binomial
#' the number of successes out of the trials; for neg_binomial_2
#' \code{rnbinom(size = reciprocal_dispersion, mu = mu)}, for Gamma
#' \code{rgamma(shape = shape, rate = shape / mu)}), for the data of the fit or for
#' \code{newdata}. \code{predict} gives the posterior means of the
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
#' A link that can leave the parameter space (identity or sqrt for counts, log for
#' binomial, identity or inverse for Gamma, inverse for gaussian) is kept inside it by the
#' sampler on the data of the fit, but not on \code{newdata} or for new groups: where a
#' draw's linear predictor falls outside it (a negative mean of counts, a probability
#' above 1, a linear predictor below 0 with the sqrt link), its expected and simulated
#' responses (and \code{predict(type = "response")}) are \code{NA}, with a warning;
#' \code{posterior_linpred} gives the linear predictor itself.
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
  if (isTRUE(transform)) pp_mu(object$family, eta, "expected responses") else eta
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
  fam <- object$family
  mu <- pp_mu(fam, pp_eta(object, dat, m), "simulated responses")
  # NA means simulate NA (without the warnings of the r* functions)
  y <- if (anyNA(mu)) suppressWarnings(family_simulate(fam, mu, family_aux_draws(fam, m), dat$trials, dat$weights))
       else family_simulate(fam, mu, family_aux_draws(fam, m), dat$trials, dat$weights)
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

# ---- internals ------------------------------------------------------------------------

# Posterior draws (rows) to use: all, or a random subset of `draws` of them.
draw_matrix <- function(object, draws) {
  m <- as.matrix.bglmm(object)
  if (is.null(draws)) return(m)
  draws <- check_count(draws, "draws", min = 1)
  if (draws > nrow(m)) stop(sprintf("'draws' must be at most %d (the number of posterior draws).", nrow(m)), call. = FALSE)
  m[sort(sample.int(nrow(m), draws)), , drop = FALSE]
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

# The means of the linear predictors eta (draws x observations), NA with a warning where
# eta left the parameter space of a link that can (newdata beyond the fitted data, new
# groups' effects); `what` are the results that are then NA.
pp_mu <- function(fam, eta, what) {
  mu <- fam$linkinv(eta)
  bad <- family_invalid_eta(fam, eta, mu)
  if (any(bad)) {
    warning(sprintf(paste0("For %d of the %d draws x observations the linear predictor is outside the ",
                           "parameter space of the %s family with the %s link (newdata beyond the fitted ",
                           "data, or new groups' effects): their %s are NA."),
                    sum(bad), length(bad), fam$family, fam$link, what), call. = FALSE)
    mu[bad] <- NA
  }
  mu
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
