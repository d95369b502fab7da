# Cross-validation by refitting: kfold() (the loo package's generic, as rstanarm's method)
# and the exact refits of loo(fit, k_threshold = ) for observations whose Pareto k is high.

#' K-fold cross-validation, and exact LOO for observations with high Pareto k
#'
#' \code{kfold} refits the model K times, each time without the observations of one fold,
#' and evaluates the log predictive density of the left-out observations under the refit
#' (the method of the loo package's generic, as rstanarm's). With
#' \code{folds = loo::kfold_split_grouped(K, group)} whole groups are left out together
#' (leave-groups-out cross-validation): their group effects are then those of new levels,
#' drawn from \eqn{N(0, \Sigma)} for every posterior draw (see
#' [posterior_predict()][posterior_predict.bglmm]), which is what predicting a new group
#' means. Where every group has its own parameters PSIS-LOO is often unreliable (high
#' Pareto k), and grouped K-fold answers the question of predicting new groups.
#'
#' Each refit uses the fit's formula, family, prior, contrasts, weights, offset and sampler
#' settings (\code{chains}, \code{iter}, \code{warmup}, \code{thin}, \code{sweeps}) on the
#' rows of the fit's data outside the fold; the data are those of the fit's call, evaluated
#' again (as \code{update()} does), and must be unchanged. Fold \eqn{k} uses the sampler
#' seed \code{seed + k} (by default the fit's seed plus k), so the result is reproducible.
#' The folds run one after another with a message for each, in parallel on \code{cores}
#' forked processes (not on Windows), or as futures of the future framework with
#' \code{future = TRUE} (under the plan set with [future::plan()]; needs the future.apply
#' package and bglmm on every worker). Refits run their chains in threads (one thread
#' each when the folds run in parallel); the draws do not depend on it.
#'
#' \code{loo(fit, k_threshold = 0.7)}, as rstanarm's, computes PSIS-LOO and then refits
#' the model once without each observation whose Pareto k exceeds the threshold, replacing
#' that observation's approximate \code{elpd_loo} with the exact one (its Pareto k becomes
#' \code{NA}).
#'
#' @param x A [bglmm()] fit.
#' @param K Number of folds (ignored when \code{folds} is given).
#' @param folds Optional vector of fold numbers \code{1..K}, one per observation of the fit,
#'   e.g. from [loo::kfold_split_random()], [loo::kfold_split_stratified()] or
#'   [loo::kfold_split_grouped()]. By default \code{loo::kfold_split_random(K, nobs(x))},
#'   which uses R's random number generator (call [set.seed()] first).
#' @param save_fits Keep the refits (in \code{$fits}, a K x 2 array of lists with the
#'   refit and the indices left out, as rstanarm).
#' @param cores Number of folds refitted at the same time (forked processes).
#' @param future Refit the folds as futures (see Details). The default is
#'   \code{getOption("bglmm.future", FALSE)}.
#' @param seed Base of the refits' sampler seeds (default the fit's seed).
#' @param ... Unused.
#' @return An object of classes \code{"kfold"} and \code{"loo"} as rstanarm returns:
#'   \code{estimates} (\code{elpd_kfold}, \code{p_kfold}, \code{kfoldic} with standard
#'   errors), \code{pointwise} (the same per observation), \code{elpd_kfold},
#'   \code{se_elpd_kfold}, \code{p_kfold}, \code{se_p_kfold}, attributes \code{K},
#'   \code{dims}, \code{model_name} and \code{yhash}; [loo::loo_compare()] compares such
#'   objects.
#' @seealso [loo()][bglmm-loo]
#' @examples
#' fit1 <- bglmm(live ~ conc + (1 | flea), data = nitrofen, family = poisson,
#'               chains = 2, iter = 300, refresh = 0, seed = 1)
#' fit2 <- bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson,
#'               chains = 2, iter = 300, refresh = 0, seed = 1)
#' # leave 5 groups of 10 fleas out in turn
#' set.seed(1)
#' folds <- loo::kfold_split_grouped(K = 5, x = nitrofen$flea)
#' kf1 <- kfold(fit1, folds = folds)
#' kf2 <- kfold(fit2, folds = folds)
#' loo_compare(kf1, kf2)
#' @importFrom loo kfold
#' @method kfold bglmm
#' @export
kfold.bglmm <- function(x, K = 10, ..., folds = NULL, save_fits = FALSE,
                        cores = getOption("mc.cores", 1L),
                        future = getOption("bglmm.future", FALSE), seed = NULL) {
  d <- fit_data(x, "kfold()")
  N <- nrow(d)
  if (is.null(folds)) {
    K <- check_count(K, "K", min = 2)
    if (K > N) stop(sprintf("'K' must be at most %d (the number of observations).", N), call. = FALSE)
    folds <- loo::kfold_split_random(K = K, N = N)
  } else {
    if (!is.numeric(folds) || length(folds) != N || anyNA(folds) || any(folds != round(folds))) {
      stop(sprintf("'folds' must be whole numbers, one per observation of the fit (%d).", N), call. = FALSE)
    }
    K <- length(unique(folds))
    if (!all(folds %in% seq_len(K)) || K < 2L) {
      stop("'folds' must number the folds 1, 2, ..., K (K >= 2), each with an observation.", call. = FALSE)
    }
  }
  folds <- as.integer(folds)
  omitted <- lapply(seq_len(K), function(k) which(folds == k))
  out <- refit_heldout(x, d, omitted, seed %||% x$sampler$seed, cores, future, save_fits)
  # elpd of each observation under the refit without it; p_kfold against the full fit
  elpds <- numeric(N)
  for (k in seq_len(K)) elpds[omitted[[k]]] <- apply(out$ll[[k]], 2, log_mean_exp)
  lpds <- unname(apply(log_lik.bglmm(x), 2, log_mean_exp))
  pointwise <- cbind(elpd_kfold = elpds, p_kfold = lpds - elpds, kfoldic = -2 * elpds)
  est <- colSums(pointwise)
  se <- sqrt(N * apply(pointwise, 2, stats::var))
  res <- list(estimates = cbind(Estimate = est, SE = se), pointwise = pointwise,
              elpd_kfold = est[["elpd_kfold"]], se_elpd_kfold = se[["elpd_kfold"]],
              p_kfold = est[["p_kfold"]], se_p_kfold = se[["p_kfold"]])
  if (save_fits) {
    res$fits <- array(list(), c(K, 2L), list(NULL, c("fit", "omitted")))
    for (k in seq_len(K)) res$fits[k, ] <- list(out$fits[[k]], omitted[[k]])
  }
  structure(res, class = c("kfold", "loo"), K = K, dims = dim(out$ll[[1L]]),
            model_name = deparse(substitute(x)), yhash = hash_y(x), formula = formula.bglmm(x))
}

# loo(x, k_threshold = ): the PSIS-LOO object loo_x with the observations whose Pareto k
# exceeds k_threshold replaced by exact LOO from refits without each of them (as rstanarm's
# reloo()).
reloo_bglmm <- function(x, loo_x, k_threshold, cores = 1L) {
  if (!is.numeric(k_threshold) || length(k_threshold) != 1L || is.na(k_threshold)) {
    stop("'k_threshold' must be a single number.", call. = FALSE)
  }
  bad <- loo::pareto_k_ids(loo_x, threshold = k_threshold)
  if (!length(bad)) {
    message("All Pareto k estimates are below the threshold ", k_threshold, ".")
    return(loo_x)
  }
  message(sprintf("%d observation%s with Pareto k > %s: the model is refitted %d time%s.",
                  length(bad), if (length(bad) > 1) "s" else "", k_threshold, length(bad),
                  if (length(bad) > 1) "s" else ""))
  d <- fit_data(x, "loo(k_threshold = )")
  out <- refit_heldout(x, d, as.list(bad), x$sampler$seed, cores, future = FALSE,
                       save_fits = FALSE, loo = TRUE)
  elpd <- vapply(out$ll, function(ll) log_mean_exp(ll[, 1L]), 0)
  hat_lpd <- unname(apply(log_lik.bglmm(x)[, bad, drop = FALSE], 2, log_mean_exp))
  sel <- c("elpd_loo", "p_loo", "looic")
  loo_x$pointwise[bad, sel] <- cbind(elpd, hat_lpd - elpd, -2 * elpd)
  N <- nrow(loo_x$pointwise)
  loo_x$estimates[sel, "Estimate"] <- colSums(loo_x$pointwise[, sel])
  loo_x$estimates[sel, "SE"] <- sqrt(N * apply(loo_x$pointwise[, sel], 2, stats::var))
  loo_x$diagnostics$pareto_k[bad] <- NA
  loo_x
}

# Refits x without each set of rows omitted[[k]] of its data d, with sampler seed
# seed + k, and returns the draws x rows log-likelihood of the left-out rows under each
# refit (ll), and the refits when save_fits. Sequential with a message per refit, on
# `cores` forked processes, or as futures. loo: the sets are single observations of
# loo(k_threshold = ) (for the messages).
refit_heldout <- function(x, d, omitted, seed, cores, future, save_fits, loo = FALSE) {
  K <- length(omitted)
  cores <- check_count(cores, "cores", min = 1)
  future <- check_flag(future, "future")
  check_refit_args(x, d)
  seeds <- (seed + seq_len(K)) %% .Machine$integer.max
  run <- function(k, threads) refit_fold(k, x, d, omitted, seeds, threads, save_fits)
  if (future) {
    need_package("future.apply", "kfold(future = TRUE)")
    message(sprintf("Fitting K = %d models as futures.", K))
    outs <- future.apply::future_lapply(seq_len(K), refit_fold, x = x, d = d, omitted = omitted,
                                        seeds = seeds, threads = 1L, save_fits = save_fits,
                                        future.seed = NULL, future.packages = "bglmm")
  } else if (cores > 1L && K > 1L && .Platform$OS.type != "windows") {
    message(sprintf("Fitting K = %d models distributed over %d cores.", K, cores))
    outs <- parallel::mclapply(seq_len(K), run, threads = 1L, mc.cores = cores,
                               mc.preschedule = FALSE)
    failed <- vapply(outs, inherits, NA, "try-error")
    if (any(failed)) stop("A refit failed: ", attr(outs[[which(failed)[1]]], "condition")$message, call. = FALSE)
  } else {
    outs <- lapply(seq_len(K), function(k) {
      message(sprintf("Fitting model %d out of %d%s", k, K,
                      if (loo) sprintf(" (leaving out observation %d)", omitted[[k]]) else ""))
      run(k, x$sampler$cores)
    })
  }
  list(ll = lapply(outs, `[[`, "ll"), fits = lapply(outs, `[[`, "fit"))
}

# Refit k of refit_heldout(): a function of the namespace, so a future's worker loads
# bglmm to run it. The new levels of left-out groups draw their effects with R's generator,
# seeded for the fold.
refit_fold <- function(k, x, d, omitted, seeds, threads, save_fits) {
  out <- omitted[[k]]
  fit_k <- refit_without(x, d, out, seeds[k], threads)
  set.seed(seeds[k])
  ll <- log_lik.bglmm(fit_k, newdata = d[out, , drop = FALSE], offset = x$offset[out],
                      trials = if (length(x$trials)) x$trials[out], allow_new_levels = TRUE)
  list(ll = ll, fit = if (save_fits) fit_k)
}

# The fit x refitted on the rows of its data d other than `out`, with the same formula,
# family, prior, contrasts and sampler settings.
refit_without <- function(x, d, out, seed, threads) {
  s <- x$sampler
  args <- list(formula = formula.bglmm(x), data = d[-out, , drop = FALSE], family = x$family,
               prior = x$prior$spec, chains = s$chains, iter = s$iter, warmup = s$warmup,
               thin = s$thin, sweeps = s$sweeps, cores = threads, seed = seed, refresh = 0,
               contrasts = attr(x$X, "contrasts"), future = FALSE)
  # weights and offset: their expression when it reads only columns of the data, else
  # their values on the rows kept
  for (a in names(x$model_args)) {
    arg <- x$model_args[[a]]
    args[[a]] <- if (length(arg$vars) && all(arg$vars %in% names(d))) arg$expr
                 else x$frame[[sprintf("(%s)", a)]][-out]
  }
  suppressMessages(suppressWarnings(do.call(bglmm, args)))
}

# What refits need of a fit: its prior specification, and gaussian precision weights as
# an expression of the data's columns (the left-out rows' log-likelihood needs their
# weights).
check_refit_args <- function(x, d) {
  if (is.null(x$prior$spec)) stop("This fit does not keep its prior specification: refit it with this version of bglmm.", call. = FALSE)
  w <- x$model_args$weights
  if (!is.null(x$weights) && !(length(w$vars) && all(w$vars %in% names(d)))) {
    stop("Cross-validation of a model with gaussian weights needs the weights as columns ",
         "of the data (e.g. weights = w).", call. = FALSE)
  }
}

# The rows of the data of the fit's call that the fit used (after subset and missing
# values), all columns, recovered by evaluating the call's data again in the environment
# of the formula. Stops when they cannot be found or no longer match the fit.
fit_data <- function(x, what) {
  expr <- x$call$data
  data <- if (is.null(expr)) NULL else tryCatch(eval(expr, environment(x$formula)), error = function(e) NULL)
  label <- if (is.null(expr)) "" else sprintf(" ('%s')", paste(deparse(expr), collapse = " "))
  if (!is.data.frame(data)) {
    stop(sprintf("%s refits the model on its data%s, which could not be found: fit the model with data = a data frame that is still there.",
                 what, label), call. = FALSE)
  }
  rows <- match(rownames(x$frame), rownames(data))
  same <- !anyNA(rows)
  if (same) {
    data <- data[rows, , drop = FALSE]
    for (v in intersect(names(x$frame), names(data))) {
      if (!identical(as.character(x$frame[[v]]), as.character(data[[v]]))) same <- FALSE
    }
  }
  if (!same) {
    stop(sprintf("%s refits the model on its data%s, which have changed since the fit: refit the model first.",
                 what, label), call. = FALSE)
  }
  data
}

log_mean_exp <- function(v) {
  m <- max(v)
  m + log(mean(exp(v - m)))
}
