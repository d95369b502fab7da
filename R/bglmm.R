# Fit entry: checks arguments, builds the model, runs the Rust sampler, names the draws.

#' Bayesian generalized linear mixed models by Metropolis-within-Gibbs
#'
#' Fits \eqn{y_{ij} \sim f(y \mid g^{-1}(w_{ij}'\alpha + x_{ij}'\beta_j))} with group
#' coefficients \eqn{\beta_j \sim N(\theta, \Sigma)}, normal priors on \eqn{\alpha} and
#' \eqn{\theta}, an inverse-Wishart prior on \eqn{\Sigma}, and for the gaussian family a
#' scaled-inverse-\eqn{\chi^2} prior on \eqn{\sigma^2} (see [bglmm_prior()]).
#'
#' The sampler (written in Rust) updates \eqn{\theta} and \eqn{\Sigma} by Gibbs steps, each
#' group's coefficient vector by a multivariate normal Metropolis step whose proposal
#' covariance follows the curvature of that group's log posterior, and the fixed effects
#' that do not vary by group by a block Metropolis step; in the gaussian family every step is
#' Gibbs. Proposals adapt during warmup only. A random coefficient whose column is also a
#' fixed effect is centred on it (\eqn{\beta_j \sim N(\theta, \Sigma)}, Hoff 2009); the
#' reported group effects \code{b[...]} are the deviations \eqn{\beta_j - \theta}, as in
#' rstanarm.
#'
#' @section Fits without group effects:
#' With many groups the draws of the group effects \code{b[...]} can dominate the memory of
#' a fit. \code{save_ranef = FALSE} does not keep them (the sampler still draws them; the
#' other draws are exactly those of \code{save_ranef = TRUE} with the same seed). Methods
#' for the kept parameters work as usual: \code{print}, \code{summary}, \code{fixef},
#' \code{VarCorr}, \code{vcov}, \code{sigma}, \code{as.matrix} and the \code{as_draws_*}
#' formats, \code{prior_summary}, \code{plot} of those parameters, and predictions without
#' the group effects (\code{re.form = NA}). Everything that needs the group effects is an
#' error: \code{ranef}, \code{coef}, \code{fitted}, \code{residuals}, predictions with
#' group effects (\code{predict}, \code{posterior_linpred}, \code{posterior_epred},
#' \code{posterior_predict} with the default \code{re.form}), \code{log_lik}, \code{loo},
#' \code{waic}, \code{pp_check} and \code{bayes_R2}.
#'
#' @section Chains on other processes or machines:
#' With \code{future = TRUE} each chain is one future of the future framework, run by
#' [future.apply::future_lapply()] under the plan set with [future::plan()]: sequentially,
#' in background R sessions (\code{multisession}) or on other machines (\code{cluster}).
#' The packages future and future.apply must be installed, and bglmm on every worker.
#' The seed is drawn in the calling session as usual and chain \eqn{k} uses the same random
#' stream as in a threaded run, so the draws are identical to those of \code{future = FALSE}
#' with the same seed, whatever the plan and the number of workers. Each future runs one
#' chain in one thread and prints no progress (\code{refresh} is ignored). The data travel
#' to the workers with the futures: for large data sets raise
#' \code{options(future.globals.maxSize)}.
#'
#' @section Separation and other unbounded likelihoods:
#' After sampling, \code{bglmm()} warns when the likelihood of the fixed effects has no
#' finite maximum along some coefficient, so that its posterior is set by the prior alone:
#' complete or quasi-complete separation in binomial data, or a factor level with only
#' zero counts (Poisson) or only successes or failures (binomial). The test continues the
#' GLM fit of the fixed part (as [glm()] would give; on big data, on 2,000 evenly spaced
#' rows plus the first rows of any design column that is zero on all of them, which are
#' separated whenever all rows are) by a few reweighted least-squares
#' steps, which move a coefficient only along a direction without a maximum, and the
#' warning names the coefficients whose posterior sd is still at least 0.2 of the prior
#' sd. Groups of a random-effects term with only zeros are not concerned: the hierarchical
#' prior of their group effects handles them.
#'
#' @param formula An lme4-style formula: fixed effects as in [glm()] (factors, interactions,
#'   \code{poly()}, \code{I()}, \code{offset()}) and random terms \code{(1 | g)},
#'   \code{(1 + x | g)}, \code{(x || g)}, crossed \code{(1 | a) + (1 | b)}, nested
#'   \code{(1 | a/b)}. Without a random term the model is a Bayesian GLM.
#' @param data A data frame.
#' @param family \code{gaussian}, \code{poisson} or \code{binomial}, as a family function,
#'   family object or name, with its canonical link. Binomial responses may be 0/1, logical,
#'   a two-level factor (first level = failure) or \code{cbind(successes, failures)}.
#' @param prior A [bglmm_prior()] specification.
#' @param chains Number of Markov chains.
#' @param iter Iterations per chain, warmup included.
#' @param warmup Warmup iterations per chain (adaptation; not kept).
#' @param thin Keep every \code{thin}-th draw after warmup.
#' @param sweeps Full sweeps of the sampler per iteration. \code{NULL} (default) picks 1 for
#'   large models and up to 3 for small ones, where a sweep costs little and mixing of the
#'   covariances gains from more; the kept draws form a Markov chain either way.
#' @param cores Threads. Chains run in parallel on up to \code{cores} threads; when
#'   \code{cores} exceeds \code{chains}, each chain also updates its groups on
#'   \code{cores \%/\% chains} threads (Poisson and binomial models, random-effects terms
#'   with 5,000 rows or more).
#'   The default is all detected cores. The draws do not depend on it. With
#'   \code{future = TRUE} each chain runs on one thread of its worker.
#' @param seed Seed for the sampler. \code{NULL} draws one from R's generator, so
#'   \code{set.seed()} makes a fit reproducible.
#' @param refresh Print each chain's progress every \code{refresh} iterations; 0 is silent.
#'   The default prints in interactive sessions only. Progress is not printed with
#'   \code{future = TRUE}.
#' @param subset,weights,offset As in [glm()] and [lme4::glmer()], evaluated in \code{data}
#'   first: an optional expression selecting the rows to fit; prior weights; an offset added
#'   to the linear predictor (with any \code{offset()} terms of the formula). Binomial
#'   weights are the numbers of trials of a response given as proportions
#'   (\code{y / n ~ ..., weights = n}, the same model as \code{cbind(y, n - y) ~ ...});
#'   gaussian weights are precisions, as in [lme4::lmer()]: row \eqn{i} has variance
#'   \eqn{\sigma^2 / w_i}. The poisson family takes no weights (use an offset for
#'   exposures). Predictions, \code{log_lik()} and \code{posterior_predict()} on
#'   \code{newdata} evaluate the \code{weights} and \code{offset} expressions in
#'   \code{newdata}.
#' @param na.action How to handle missing values, as in [glm()] (default \code{na.omit}, with
#'   a message saying how many rows were dropped).
#' @param contrasts Optional contrasts for factors, as in [model.matrix()].
#' @param save_ranef Keep the draws of the group effects \code{b[...]} (default). With
#'   \code{FALSE}, as rstanarm's and brms's \code{save_pars} for big data, the fit keeps only
#'   the fixed effects, \code{sigma} and the covariances \code{Sigma}; see the section
#'   "Fits without group effects".
#' @param future Run the chains through the future framework (one future per chain) instead
#'   of threads of this R session, as brms's argument of the same name: see the section
#'   "Chains on other processes or machines". The default is
#'   \code{getOption("bglmm.future", FALSE)}.
#' @return An object of class \code{"bglmm"}: see [print.bglmm()], [summary.bglmm()],
#'   [as.matrix.bglmm()] and [prior_summary.bglmm()].
#' @references Hoff, P. D. (2009). \emph{A First Course in Bayesian Statistical Methods},
#'   chapters 8 and 11. Springer.
#' @examples
#' fit <- bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson,
#'              chains = 2, iter = 1000, refresh = 0, seed = 1)
#' fit
#' summary(fit)
#'
#' # binomial proportions with the numbers of trials as weights, on a subset of the rows
#' fit2 <- bglmm(incidence / size ~ period + (1 | herd), data = lme4::cbpp, family = binomial,
#'               weights = size, subset = period != "4", chains = 2, iter = 1000,
#'               refresh = 0, seed = 1)
#' fixef(fit2)
#' @export
bglmm <- function(formula, data = NULL, family = gaussian(), prior = bglmm_prior(),
                  chains = 4L, iter = 2000L, warmup = floor(iter / 2), thin = 1L,
                  sweeps = NULL, cores = NULL, seed = NULL,
                  refresh = if (interactive()) max(iter %/% 10, 1) else 0,
                  subset = NULL, weights = NULL, na.action = stats::na.omit, offset = NULL,
                  contrasts = NULL, save_ranef = TRUE, future = getOption("bglmm.future", FALSE)) {
  call <- match.call()
  family <- bglmm_family(family)
  chains <- check_count(chains, "chains", min = 1)
  iter <- check_count(iter, "iter", min = 2)
  warmup <- check_count(warmup, "warmup", min = 0)
  thin <- check_count(thin, "thin", min = 1)
  refresh <- check_count(refresh, "refresh", min = 0)
  if (warmup >= iter) stop("'warmup' must be smaller than 'iter'.", call. = FALSE)
  future <- check_flag(future, "future")
  if (future) check_future_installed()
  cores <- if (future) 1L else if (is.null(cores)) max(1L, parallel::detectCores(), na.rm = TRUE) else check_count(cores, "cores", min = 1)
  seed <- if (is.null(seed)) sample.int(.Machine$integer.max, 1L) else check_count(seed, "seed", min = 0)
  if (!is.null(data) && !is.data.frame(data)) stop("'data' must be a data frame.", call. = FALSE)
  save_ranef <- check_flag(save_ranef, "save_ranef")

  # evaluated by model.frame() in the data, as glm() and glmer() do; substitute() (not
  # match.call(), which gives ..1 for arguments passed on through a wrapper's dots); an
  # explicit NULL is dropped by the assignment
  extras <- list()
  if (!missing(subset)) extras$subset <- substitute(subset)
  if (!missing(weights)) extras$weights <- substitute(weights)
  if (!missing(offset)) extras$offset <- substitute(offset)
  md <- bglmm_model_data(formula, data, family, na.action, contrasts, parent.frame(), extras)
  collect_setup_garbage(md)
  pr <- resolve_prior(prior, md, family)
  sweeps <- if (is.null(sweeps)) default_sweeps(md) else check_count(sweeps, "sweeps", min = 1)
  n_kept <- ceiling((iter - warmup) / thin)
  par_names <- parameter_names(md, family, save_ranef)
  check_size(n_kept * chains, length(par_names))
  glm0 <- fixed_glm(md, family)
  init <- initial_values(md, family, pr, glm0)
  unbounded <- unbounded_fixef(glm0, md, family)
  rm(glm0)

  spec <- list(
    family = family_spec_name(family), y = md$y, trials = as.numeric(md$trials), offset = md$offset,
    x = md$X, p = as.numeric(ncol(md$X)),
    terms = lapply(seq_along(md$re), function(t) {
      r <- md$re[[t]]
      cp <- pr$terms[[t]]
      list(n_groups = as.numeric(length(r$levels)), group = r$group, z = own_columns(r),
           mean_col = as.integer(r$mean_col), shadow_col = as.integer(r$shadow_col), cov_type = cp$type, cov_df = as.numeric(cp$df),
           cov_scale = as.numeric(cp$scale))
    }),
    fixef_mean = unname(pr$location), fixef_sd = unname(pr$scale),
    sigma_df = as.numeric(pr$sigma$df %||% 1), sigma_scale = as.numeric(pr$sigma$scale %||% 1)
  )
  if (!is.null(md$weights)) spec <- weight_rows(spec, sqrt(md$weights))
  config <- list(
    iter = as.numeric(iter), warmup = as.numeric(warmup), thin = as.numeric(thin),
    sweeps = as.numeric(sweeps), save_ranef = save_ranef, first_chain = 0,
    chains = as.numeric(chains), cores = as.numeric(cores), seed = as.numeric(seed),
    refresh = as.numeric(refresh), init_fixef = init$fixef, init_jitter = init$jitter,
    init_sigma = init$sigma, par_names = par_names
  )
  # the full random designs are not needed any more: their memory is freed before sampling
  md$re <- lapply(md$re, function(r) r[names(r) != "z"])
  collect_setup_garbage(md)
  out <- run_sampler(spec, config, future)

  # the sampler's array [iteration, chain, parameter], already named: changing it here
  # would copy it
  draws <- out$draws
  acc_groups <- out$accept_groups
  colnames(acc_groups) <- vapply(md$re, function(r) r$group_name, "")
  check_unbounded_fixef(unbounded, family, pr, draws)
  structure(
    list(
      call = call, formula = md$formula, formula_input = formula, family = family, draws = draws,
      prior = pr, frame = md$frame, fixed_terms = md$fixed_terms,
      X = md$X, y = md$y, trials = md$trials, offset = md$offset, weights = md$weights,
      model_args = fit_args(extras, md$frame, data),
      re = lapply(md$re, function(r) r[c("group_name", "levels", "cnms", "mean_col")]),
      accept = list(fixef = out$accept_fixef, groups = acc_groups),
      sampler = list(chains = chains, iter = iter, warmup = warmup, thin = thin, sweeps = sweeps,
                     cores = cores, seed = seed, save_ranef = save_ranef, future = future,
                     time = out$time),
      n_dropped = md$n_dropped
    ),
    class = "bglmm"
  )
}

check_future_installed <- function() {
  missing <- Filter(function(p) !requireNamespace(p, quietly = TRUE), c("future", "future.apply"))
  if (length(missing)) {
    stop(sprintf("future = TRUE needs the package%s %s: install %s, or use future = FALSE.",
                 if (length(missing) > 1) "s" else "", paste(missing, collapse = " and "),
                 if (length(missing) > 1) "them" else "it"), call. = FALSE)
  }
}

# The columns of a term's random design that repeat no fixed-effects column; the sampler
# reads the others from the fixed design (see TermSpec::z), so no copy of them is held.
own_columns <- function(r) {
  own <- r$mean_col == 0L & r$shadow_col == 0L
  if (all(own)) r$z else r$z[, own, drop = FALSE]
}

# Gaussian precision weights w: y ~ N(eta, sigma^2 / w) is sqrt(w) y ~ N(sqrt(w) eta,
# sigma^2), so the sampler is given every row multiplied by sqrt(w) (response, offset and
# both designs) and stays all Gibbs.
weight_rows <- function(spec, sw) {
  spec$y <- spec$y * sw
  spec$offset <- spec$offset * sw
  spec$x <- spec$x * sw
  spec$terms <- lapply(spec$terms, function(t) {
    t$z <- t$z * sw
    t
  })
  spec
}

# Sweeps per iteration: the work of a sweep grows with rows x random coefficients; below
# about 30,000 row-coefficients a sweep is cheap enough to run up to three per iteration.
default_sweeps <- function(md) {
  work <- length(md$y) * (1 + sum(vapply(md$re, function(r) length(r$cnms), 1L)))
  as.integer(min(3, max(1, floor(3e4 / work))))
}

# Refuse up front a request whose draws would not fit in memory.
check_size <- function(n_draws, n_par) {
  gb <- 8 * as.numeric(n_draws) * n_par / 2^30
  if (gb > getOption("bglmm.max_draws_gb", 8)) {
    stop(sprintf(paste0("Keeping %.0f draws of %d parameters needs %.1f GB. Reduce iter or chains, ",
                        "increase thin, or raise options(bglmm.max_draws_gb)."), n_draws, n_par, gb),
         call. = FALSE)
  }
}

# Whether a fit kept the draws of its group effects (fits made before save_ranef did).
has_ranef_draws <- function(object) !identical(object$sampler$save_ranef, FALSE)

# The one error of every method that needs the group effects of a save_ranef = FALSE fit.
require_ranef_draws <- function(object) {
  if (length(object$re) && !has_ranef_draws(object)) {
    stop("This fit was made with save_ranef = FALSE, so it has no draws of the group effects: ",
         "refit with save_ranef = TRUE, or use re.form = NA for predictions without them.",
         call. = FALSE)
  }
  invisible(object)
}

# On big data, a minor collection (a few ms) after building the design and before sampling
# frees the set-up's temporaries (R collects at times of its own choosing otherwise), and
# the C library then gives the freed memory back to the system instead of keeping it for
# reuse: the GLM's and the sampler's buffers do not add to what the set-up left resident.
collect_setup_garbage <- function(md, min_rows = 10000L) {
  if (length(md$y) >= min_rows) {
    gc(full = FALSE)
    bglmm_release_memory()
  }
  invisible()
}

# The GLM fit of the fixed part (no random effects), or NULL if it fails. It gives starting
# values and the separation check, for which a subset of rows suffices: a separation of all
# rows is one of every subset that has rows of each column. The subset is max_rows evenly
# spaced rows plus, for a column that is zero on all of them (a rare factor level), its first
# nonzero rows. On big data the GLM's garbage (about 2 KB per row) would otherwise be the
# peak of the whole call. attr(, "rows") are the rows used.
fixed_glm <- function(md, family, max_rows = 2000L) {
  n <- length(md$y)
  rows <- glm_rows(md$X, max_rows)
  d <- family_glm_data(family, md$y[rows], md$trials[rows], md$weights[rows])
  g <- tryCatch(suppressWarnings(stats::glm.fit(md$X[rows, , drop = FALSE], d$y, weights = d$weights,
                                                offset = md$offset[rows], family = family)),
                error = function(e) NULL)
  if (!is.null(g)) attr(g, "rows") <- rows
  g
}

# Rows for the starting GLM (see fixed_glm): evenly spaced, plus up to `per_column` rows of
# each column that is zero on all of those.
glm_rows <- function(X, max_rows, per_column = 20L) {
  rows <- spaced_rows(nrow(X), max_rows)
  if (length(rows) == nrow(X) || ncol(X) == 0L) return(rows)
  missing <- which(colSums(X[rows, , drop = FALSE] != 0) == 0)
  extra <- lapply(missing, function(j) utils::head(which(X[, j] != 0), per_column))
  sort(unique(c(rows, unlist(extra))))
}

# Starting values: the GLM fit g of the fixed part, kept only if sensible; chains are
# jittered around it in Rust.
initial_values <- function(md, family, pr, g = fixed_glm(md, family)) {
  p <- ncol(md$X)
  fixef <- unname(pr$location)
  jitter <- 0.1 * unname(pr$scale)
  if (!is.null(g) && p > 0L) {
    cf <- g$coefficients
    se <- tryCatch(sqrt(diag(chol2inv(g$qr$qr[seq_len(p), seq_len(p), drop = FALSE]))) *
                     sqrt(family_glm_dispersion(family, g)),
                   error = function(e) rep(NA_real_, p))
    ok <- is.finite(cf) & abs(cf - fixef) < 4 * pr$scale
    if (all(is.finite(se))) se <- se[order(g$qr$pivot)]
    # a GLM of a subset of rows: its standard errors scaled to all rows
    se <- se * sqrt(length(attr(g, "rows") %||% md$y) / length(md$y))
    fixef[ok] <- cf[ok]
    jitter[ok & is.finite(se)] <- pmin(se, pr$scale)[ok & is.finite(se)] * 0.5
  }
  sigma <- family_aux_init(family, md$y, if (p > 0L) g)
  if (!(is.finite(sigma) && sigma > 0)) sigma <- 1
  list(fixef = as.numeric(fixef), jitter = as.numeric(jitter), sigma = sigma)
}
