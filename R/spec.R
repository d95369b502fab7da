# The sampler's settings and specification: the fit's arguments checked (fit_settings()),
# the model as the sampler reads it (sampler_spec()) and the run's settings
# (sampler_config()), with the checks and memory care of the set-up.

# The fit's sampler settings, checked in the order of bglmm()'s arguments: chains, iter,
# warmup, thin, refresh, future, cores (1 with futures; default all detected cores), seed
# (NULL draws one from R's generator), save_ranef; and that `data` is a data frame.
fit_settings <- function(chains, iter, warmup, thin, refresh, future, cores, seed, data, save_ranef) {
  chains <- check_count(chains, "chains", min = 1)
  iter <- check_count(iter, "iter", min = 2)
  warmup <- check_count(warmup, "warmup", min = 0)
  thin <- check_count(thin, "thin", min = 1)
  refresh <- check_count(refresh, "refresh", min = 0)
  if (warmup >= iter) stop("'warmup' must be smaller than 'iter'.", call. = FALSE)
  future <- check_flag(future, "future")
  if (future) check_future_installed()
  cores <- if (future) 1L
           else if (is.null(cores)) max(1L, parallel::detectCores(), na.rm = TRUE)
           else check_count(cores, "cores", min = 1)
  seed <- if (is.null(seed)) sample.int(.Machine$integer.max, 1L) else check_count(seed, "seed", min = 0)
  if (!is.null(data) && !is.data.frame(data)) stop("'data' must be a data frame.", call. = FALSE)
  save_ranef <- check_flag(save_ranef, "save_ranef")
  list(chains = chains, iter = iter, warmup = warmup, thin = thin, refresh = refresh,
       future = future, cores = cores, seed = seed, save_ranef = save_ranef)
}

# future = TRUE needs the packages future and future.apply.
check_future_installed <- function() {
  missing <- Filter(function(p) !requireNamespace(p, quietly = TRUE), c("future", "future.apply"))
  if (length(missing)) {
    stop(sprintf("future = TRUE needs the package%s %s: install %s, or use future = FALSE.",
                 if (length(missing) > 1) "s" else "", paste(missing, collapse = " and "),
                 if (length(missing) > 1) "them" else "it"), call. = FALSE)
  }
}

# Sweeps per iteration: as given, or by default_sweeps().
fit_sweeps <- function(sweeps, md) {
  if (is.null(sweeps)) default_sweeps(md) else check_count(sweeps, "sweeps", min = 1)
}

# Sweeps per iteration: the work of a sweep grows with rows x random coefficients; below
# about 30,000 row-coefficients a sweep is cheap enough to run up to three per iteration.
default_sweeps <- function(md) {
  work <- length(md$y) * (1 + sum(vapply(md$re, function(r) length(r$cnms), 1L)))
  as.integer(min(3, max(1, floor(3e4 / work))))
}

# Number of draws kept over all chains.
kept_draws <- function(settings) {
  ceiling((settings$iter - settings$warmup) / settings$thin) * settings$chains
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

# The model as the sampler reads it (the glue's ModelSpec): the family's and the link's
# names, the data (not copied), one entry per random-effects term and the priors: gaussian
# sigma's (sigma_df, sigma_scale; 1 for other families) and the rate of the exponential
# prior of the extra parameter of neg_binomial_2 and Gamma (aux_rate; 1 for other families).
sampler_spec <- function(md, family, pr) {
  spec <- list(
    family = family_spec_name(family), link = family_link(family), y = md$y,
    trials = as.numeric(md$trials), offset = md$offset, x = md$X, p = as.numeric(ncol(md$X)),
    terms = lapply(seq_along(md$re), function(t) term_spec(md$re[[t]], pr$terms[[t]])),
    fixef_mean = unname(pr$location), fixef_sd = unname(pr$scale),
    sigma_df = as.numeric(pr$sigma$df %||% 1), sigma_scale = as.numeric(pr$sigma$scale %||% 1),
    aux_rate = as.numeric(pr$aux$rate %||% 1)
  )
  # gaussian precision weights, with the identity link only (family_check_weights())
  if (!is.null(md$weights)) spec <- weight_rows(spec, sqrt(md$weights))
  spec
}

# One random-effects term r of the model data with its covariance prior cp, for the sampler.
term_spec <- function(r, cp) {
  list(n_groups = as.numeric(length(r$levels)), group = r$group, z = own_columns(r),
       mean_col = as.integer(r$mean_col), shadow_col = as.integer(r$shadow_col), cov_type = cp$type,
       cov_df = as.numeric(cp$df), cov_scale = as.numeric(cp$scale))
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

# The run's settings for the sampler: fit_settings() with the sweeps, the starting values
# (initial_values(); init_aux is the family's extra parameter: gaussian sigma,
# neg_binomial_2's reciprocal dispersion, Gamma's shape, 1 without one) and the parameter
# names in the order the draws are written.
sampler_config <- function(settings, init, par_names) {
  s <- settings
  list(
    iter = as.numeric(s$iter), warmup = as.numeric(s$warmup), thin = as.numeric(s$thin),
    sweeps = as.numeric(s$sweeps), save_ranef = s$save_ranef, first_chain = 0,
    chains = as.numeric(s$chains), cores = as.numeric(s$cores), seed = as.numeric(s$seed),
    refresh = as.numeric(s$refresh), init_fixef = init$fixef, init_jitter = init$jitter,
    init_aux = init$aux, par_names = par_names
  )
}

# The model data without the full random designs, which the sampler's specification no
# longer needs: their memory is freed before sampling.
without_random_designs <- function(md) {
  md$re <- lapply(md$re, function(r) r[names(r) != "z"])
  md
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
