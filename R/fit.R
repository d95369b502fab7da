# The fit object: built by new_bglmm() from the stages of bglmm(), and what methods check
# on it.

# The "bglmm" object from the model data md, the resolved family and priors, the settings,
# the sampler's output and the weights and offset arguments kept for newdata (fit_args()).
new_bglmm <- function(call, formula, md, family, prior, settings, out, model_args) {
  acc_groups <- out$accept_groups
  colnames(acc_groups) <- vapply(md$re, function(r) r$group_name, "")
  s <- settings
  # out$draws, the sampler's array [iteration, chain, parameter], is kept as it is (already
  # named): changing it would copy it
  structure(
    list(
      call = call, formula = md$formula, formula_input = formula, family = family, draws = out$draws,
      prior = prior, frame = md$frame, fixed_terms = md$fixed_terms,
      X = md$X, y = md$y, trials = md$trials, offset = md$offset, weights = md$weights,
      model_args = model_args,
      re = lapply(md$re, function(r) r[c("group_name", "levels", "cnms", "mean_col")]),
      accept = list(fixef = out$accept_fixef, groups = acc_groups),
      sampler = list(chains = s$chains, iter = s$iter, warmup = s$warmup, thin = s$thin,
                     sweeps = s$sweeps, cores = s$cores, seed = s$seed, save_ranef = s$save_ranef,
                     future = s$future, time = out$time),
      n_dropped = md$n_dropped
    ),
    class = "bglmm"
  )
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
