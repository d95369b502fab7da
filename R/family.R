# Families: the one place that knows how the families differ. bglmm_family() resolves the
# `family` argument to a stats family object (kept as fit$family, so family(fit) is the
# object glm() would use); every other function asks the family_*() functions below, which
# read the family's entry in the table `families` at the end of this file.
#
# Adding a family (or a link) means adding its entry to the table, with the helpers the entry
# uses, here; the sampler must know the entry's `sampler` name.

# family as in glm: a function, a family object or a name; families and links of the table.
bglmm_family <- function(family) {
  if (is.character(family)) {
    fn <- tryCatch(get(family, mode = "function", envir = asNamespace("stats")), error = function(e) NULL)
    if (is.null(fn)) stop(sprintf("Unknown family '%s': use %s.", family, or_list(names(families))), call. = FALSE)
    family <- fn
  }
  if (is.function(family)) family <- family()
  if (!inherits(family, "family")) {
    stop(sprintf("'family' must be %s (a family function, object or name).", or_list(names(families))),
         call. = FALSE)
  }
  entry <- families[[family$family]]
  if (is.null(entry)) {
    stop(sprintf("The family '%s' is not supported: use %s.", family$family, or_list(names(families))),
         call. = FALSE)
  }
  if (!family$link %in% entry$links) {
    stop(sprintf("The %s family supports only the %s, not '%s'.", family$family,
                 if (length(entry$links) == 1L) sprintf("'%s' link", entry$links)
                 else paste("links", or_list(sprintf("'%s'", entry$links))),
                 family$link), call. = FALSE)
  }
  family
}

# The table entry of a family object (from bglmm_family(), or a stats family object of a
# family of the table).
family_entry <- function(fam) families[[fam$family]]

# "a, b or c"
or_list <- function(x) {
  if (length(x) < 2L) return(x)
  paste(paste(x[-length(x)], collapse = ", "), "or", x[length(x)])
}

# ---- what the family is --------------------------------------------------------------

# The family's name in the sampler's specification (spec$family).
family_spec_name <- function(fam) family_entry(fam)$sampler

# Name of the family's extra parameter in the draws ("sigma" for gaussian), NULL if none.
family_aux_name <- function(fam) family_entry(fam)$aux

# Draws of the extra parameter, in the order of as.matrix() (NULL without one), from a draws
# matrix (draws x parameters) or array (iterations x chains x parameters).
family_aux_draws <- function(fam, draws) {
  nm <- family_aux_name(fam)
  if (is.null(nm)) return(NULL)
  if (length(dim(draws)) == 3L) as.vector(draws[, , nm]) else draws[, nm]
}

# Whether the response has numbers of trials (and prior weights are those numbers).
family_uses_trials <- function(fam) identical(family_entry(fam)$weights, "trials")

# Whether prior weights are precisions (row i has variance sigma^2 / w_i).
family_precision_weights <- function(fam) identical(family_entry(fam)$weights, "precision")

# ---- response and weights -------------------------------------------------------------

# Prior weights: numbers of trials or precisions, by family; an error for a family without.
family_check_weights <- function(fam, w) {
  kind <- family_entry(fam)$weights
  if (is.null(kind)) stop(family_entry(fam)$no_weights, call. = FALSE)
  if (!is.numeric(w) || !all_finite(w) || any(w < 0)) {
    stop("'weights' must be non-negative finite numbers.", call. = FALSE)
  }
  if (kind == "precision" && any(w == 0)) {
    stop("Gaussian 'weights' (precisions) must be positive: leave out the rows of weight 0 (subset).",
         call. = FALSE)
  }
}

# Response checked against the family and converted for the sampler: list(y, trials,
# weights), trials numeric(0) and weights NULL where the family has none.
family_response <- function(fam, y, weights = NULL) {
  if (!is.null(weights)) family_check_weights(fam, weights)
  family_entry(fam)$response(y, weights)
}

# The observed response on the scale of posterior_epred(): proportions of successes for
# families with trials (NA for rows of zero trials), the response otherwise.
family_observed <- function(fam, y, trials) {
  if (family_uses_trials(fam)) ifelse(trials > 0, y / trials, NA) else y
}

# The expected responses mu (draws x observations) on the scale of the observed counts:
# times the trials for families with trials, mu otherwise.
family_expected_response <- function(fam, mu, trials) {
  if (family_uses_trials(fam)) mu * matrix(trials, nrow(mu), ncol(mu), byrow = TRUE) else mu
}

# ---- priors and starting values ---------------------------------------------------------

# Scale of the response by which the default priors are scaled (rstanarm's s_y).
family_response_scale <- function(fam, y) family_entry(fam)$response_scale(y)

# Default location of the intercept at the mean of the predictors.
family_response_location <- function(fam, y) family_entry(fam)$response_location(y)

# Prior of the extra parameter, list(df, scale), from bglmm_prior()'s `prior`; NULL if none.
family_aux_prior <- function(fam, prior, s_y) family_entry(fam)$aux_prior(prior, s_y)

# Response and weights of the starting GLM (glm.fit) on rows whose y, trials and weights
# are given: proportions weighted by their trials for families with trials.
family_glm_data <- function(fam, y, trials, weights) {
  if (family_uses_trials(fam)) return(list(y = y / trials, weights = trials))
  list(y = y, weights = weights %||% rep(1, length(y)))
}

# Dispersion of the GLM fit g (1 where the family fixes it), which scales its standard errors.
family_glm_dispersion <- function(fam, g) family_entry(fam)$glm_dispersion(g)

# Starting value of the extra parameter (1 without one; the sampler ignores it then), from
# the response and the GLM fit g of the fixed part (NULL without one).
family_aux_init <- function(fam, y, g) family_entry(fam)$aux_init(y, g)

# The separation check: NULL for a family whose likelihood always has a maximum, else
# near_boundary(mu), the fitted means at the boundary a divergent direction drives them to,
# and the words of the warning (`what` is separated; a factor `level` with only ...).
family_separation <- function(fam) family_entry(fam)$separation

# ---- the model's distribution, draw by draw ----------------------------------------------
# mu: expected responses, draws x observations; aux: the extra parameter, one per draw; y,
# trials, weights: one per observation (numeric(0) or NULL where the family has none).

# Log density of every observation under every draw (draws x observations).
family_log_density <- function(fam, y, mu, aux, trials, weights) {
  ll <- family_entry(fam)$log_density(y, mu, aux, trials, weights)
  matrix(ll, nrow(mu), ncol(mu), dimnames = dimnames(mu))
}

# A simulated response for every draw and observation (draws x observations).
family_simulate <- function(fam, mu, aux, trials, weights) {
  y <- family_entry(fam)$simulate(mu, aux, trials, weights)
  matrix(y, nrow(mu), ncol(mu), dimnames = dimnames(mu))
}

# Mean residual variance of the observations, one per draw (bayes_R2), on the scale of
# family_expected_response().
family_residual_variance <- function(fam, mu, aux, trials, weights) {
  family_entry(fam)$residual_variance(mu, aux, trials, weights)
}

# ---- helpers of the table ---------------------------------------------------------------

# A value per observation repeated for every draw of mu (draws varying fastest, as in mu).
by_draw <- function(v, mu) rep(v, each = nrow(mu))

# Residual sd of each draw and observation: sigma, divided by sqrt(w) for precision weights.
residual_sd <- function(sigma, weights, mu) {
  if (is.null(weights)) sigma else sigma / by_draw(sqrt(weights), mu)
}

# A numeric response vector of a family without trials. Integer counts are kept as they are
# (the sampler reads them as doubles): a double copy would stay in memory for the whole fit.
numeric_response <- function(y, weights, family) {
  if (!is.numeric(y) || is.matrix(y)) {
    stop(sprintf("The response must be a numeric vector for the %s family.", family), call. = FALSE)
  }
  if (!all_finite(y)) stop("The response has non-finite values (Inf or NaN).", call. = FALSE)
  list(y = if (is.integer(y)) unname(y) else as.numeric(y), trials = numeric(0),
       weights = if (!is.null(weights)) as.numeric(weights))
}

# Counts: non-negative whole numbers (integer counts are whole: only their sign needs
# checking, without a copy of the data).
count_response <- function(y, weights, family) {
  r <- numeric_response(y, weights, family)
  if (min(r$y) < 0 || (!is.integer(r$y) && any(r$y != round(r$y)))) {
    stop(sprintf("A %s response must be non-negative whole numbers (counts).", family), call. = FALSE)
  }
  r
}

# Binomial successes and trials: 0/1, logical or a two-level factor (one trial each),
# cbind(successes, failures), or proportions with the numbers of trials as weights, as in
# glm(): a proportion y with weights w is y * w successes out of w.
binomial_response <- function(y, weights) {
  if (is.matrix(y) && ncol(y) == 2L) {
    if (!is.numeric(y)) stop("cbind(successes, failures) must be numeric.", call. = FALSE)
    if (any(y < 0) || any(y != round(y))) {
      stop("Binomial successes and failures must be non-negative whole numbers.", call. = FALSE)
    }
    trials <- as.numeric(y[, 1] + y[, 2])
    y <- as.numeric(y[, 1])
    if (!is.null(weights)) {
      y <- whole_counts(y * weights, "successes times 'weights'")
      trials <- whole_counts(trials * weights, "trials times 'weights'")
    }
    return(list(y = y, trials = trials))
  }
  if (is.factor(y)) {
    if (nlevels(y) != 2L) stop("A factor response for binomial must have exactly two levels.", call. = FALSE)
    y <- as.numeric(y != levels(y)[1L])
  } else if (is.logical(y)) {
    y <- as.numeric(y)
  }
  if (!is.null(weights)) {
    if (!is.numeric(y) || is.matrix(y) || anyNA(y) || any(y < 0 | y > 1)) {
      stop("With 'weights', a binomial response is the proportion of successes (between 0 and 1), ",
           "as in glm(y / n ~ ..., weights = n).", call. = FALSE)
    }
    return(list(y = whole_counts(y * weights, "the proportions times 'weights'"),
                trials = as.numeric(weights)))
  }
  if (!is.numeric(y) || any(!y %in% c(0, 1))) {
    stop("A binomial response must be 0/1, logical, a two-level factor, ",
         "or cbind(successes, failures) (or proportions with 'weights' = the trials).", call. = FALSE)
  }
  list(y = as.numeric(y), trials = rep(1, length(y)))
}

# Binomial counts computed from proportions or weights, which must be whole numbers (to rounding).
whole_counts <- function(x, what) {
  r <- round(x)
  if (any(abs(x - r) > 1e-8 * pmax(1, abs(x)))) {
    stop(sprintf("The binomial counts (%s) must be whole numbers: check the response and 'weights'.", what),
         call. = FALSE)
  }
  as.numeric(r)
}

# ---- the table ------------------------------------------------------------------------
# One entry per family, named as stats names it:
#   links              accepted links (today the canonical one only)
#   sampler            name of the family in the sampler's specification
#   aux                name of the extra parameter in the draws, NULL if none
#   weights            what prior weights are: "precision", "trials" or NULL (none; then
#                      no_weights is the error)
#   response           function(y, weights): list(y, trials, weights), see family_response()
#   response_scale, response_location, aux_prior, aux_init, glm_dispersion, separation,
#   log_density, simulate, residual_variance: see the family_*() function of that name.
families <- list(
  gaussian = list(
    links = "identity",
    sampler = "gaussian",
    aux = "sigma",
    weights = "precision",
    response = function(y, weights) numeric_response(y, weights, "gaussian"),
    response_scale = function(y) stats::sd(y),
    response_location = function(y) mean(y),
    aux_prior = function(prior, s_y) list(df = prior$sigma_df, scale = prior$sigma_scale %||% s_y),
    aux_init = function(y, g) {
      sigma <- stats::sd(y)
      if (!is.null(g) && g$df.residual > 0) {
        s <- sqrt(sum(g$residuals^2) / g$df.residual)
        if (is.finite(s) && s > 0) sigma <- s
      }
      sigma
    },
    glm_dispersion = function(g) sum(g$residuals^2 * g$weights) / max(1, g$df.residual),
    separation = NULL,
    log_density = function(y, mu, aux, trials, weights) {
      stats::dnorm(by_draw(y, mu), mu, residual_sd(aux, weights, mu), log = TRUE)
    },
    simulate = function(mu, aux, trials, weights) {
      stats::rnorm(length(mu), mu, residual_sd(aux, weights, mu))
    },
    # with precision weights, the mean residual variance is sigma^2 mean(1 / w)
    residual_variance = function(mu, aux, trials, weights) {
      if (is.null(weights)) aux^2 else aux^2 * mean(1 / weights)
    }
  ),
  poisson = list(
    links = "log",
    sampler = "poisson",
    aux = NULL,
    weights = NULL,
    no_weights = paste0("'weights' are taken by the binomial family (numbers of trials) and the ",
                        "gaussian family (precisions), not by poisson. For exposures, use ",
                        "offset(log(exposure)) in the formula."),
    response = function(y, weights) count_response(y, weights, "poisson"),
    response_scale = function(y) 1,
    response_location = function(y) 0,
    aux_prior = function(prior, s_y) NULL,
    aux_init = function(y, g) 1,
    glm_dispersion = function(g) 1,
    separation = list(near_boundary = function(mu) mu < 1e-4,
                      what = "The zero counts are separated from the others",
                      level = "only zero counts"),
    log_density = function(y, mu, aux, trials, weights) stats::dpois(by_draw(y, mu), mu, log = TRUE),
    simulate = function(mu, aux, trials, weights) stats::rpois(length(mu), mu),
    residual_variance = function(mu, aux, trials, weights) rowMeans(mu)
  ),
  binomial = list(
    links = "logit",
    sampler = "binomial",
    aux = NULL,
    weights = "trials",
    response = binomial_response,
    response_scale = function(y) 1,
    response_location = function(y) 0,
    aux_prior = function(prior, s_y) NULL,
    aux_init = function(y, g) 1,
    glm_dispersion = function(g) 1,
    separation = list(near_boundary = function(mu) pmin(mu, 1 - mu) < 1e-4,
                      what = "The data separate the outcome",
                      level = "only successes or only failures"),
    log_density = function(y, mu, aux, trials, weights) {
      stats::dbinom(by_draw(y, mu), by_draw(trials, mu), mu, log = TRUE)
    },
    simulate = function(mu, aux, trials, weights) stats::rbinom(length(mu), by_draw(trials, mu), mu),
    # rstanarm's: on the scale of counts, the mean of n mu (1 - mu)
    residual_variance = function(mu, aux, trials, weights) {
      rowMeans(mu * matrix(trials, nrow(mu), ncol(mu), byrow = TRUE) * (1 - mu))
    }
  )
)
