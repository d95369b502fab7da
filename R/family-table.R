# The table of families (`families`) that the family_*() functions of family.R read, and
# the helpers its entries use. Adding a family or a link: its entry at the end, with the
# helpers it needs above it; the sampler must know the entry's `sampler` name and the link.

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
  if (is.matrix(y) && ncol(y) == 2L) {
    stop(sprintf("cbind(successes, failures) is a binomial response: the %s family needs a numeric vector.",
                 family), call. = FALSE)
  }
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

# Positive numbers (Gamma).
positive_response <- function(y, weights, family) {
  r <- numeric_response(y, weights, family)
  if (min(r$y) <= 0) {
    stop(sprintf("A %s response must be positive numbers (y > 0); it has %d value%s <= 0.", family,
                 sum(r$y <= 0), if (sum(r$y <= 0) == 1L) "" else "s"), call. = FALSE)
  }
  r
}

# Pearson dispersion of a GLM fit g: the sum of squared Pearson residuals over the residual
# degrees of freedom (glm.fit's working residuals times the square root of the working weights).
pearson_dispersion <- function(g) sum(g$residuals^2 * g$weights) / max(1, g$df.residual)

# A starting value of an extra parameter kept in [0.1, 100] (Inf is 100); 1 if it is NA or NaN.
clamp_aux <- function(a) if (is.na(a)) 1 else min(max(a, 0.1), 100)

# neg_binomial_2's reciprocal dispersion phi by moments: E[(y - mu)^2 - mu] = mu^2 / phi, with
# mu the means of the (Poisson) GLM fit g, or the mean of y without it; 100 (the clamp's
# bound, little overdispersion) when the data are not overdispersed.
nb_phi_init <- function(y, g) {
  if (!is.null(g)) {
    y <- g$y
    mu <- g$fitted.values
  } else {
    mu <- rep(mean(y), length(y))
  }
  excess <- sum((y - mu)^2 - mu)
  clamp_aux(if (excess > 0) sum(mu^2) / excess else Inf)
}

# Gamma's shape: 1 / the Pearson dispersion of the Gamma GLM fit g (squared coefficient of
# variation), or of y without it.
gamma_shape_init <- function(y, g) {
  cv2 <- if (!is.null(g)) pearson_dispersion(g) else stats::var(y) / mean(y)^2
  clamp_aux(1 / cv2)
}

# A family object of stats with the given link (stats' functions take the link's name when
# it is given as a string by do.call()).
stats_family <- function(name) function(link) do.call(get(name, envir = asNamespace("stats")), list(link = link))

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
# One entry per family, named as stats names it (rstanarm's name for neg_binomial_2):
#   links              accepted links, the default (stats') first
#   bounded_links      links whose mean can leave the parameter space (family_bounded_link())
#   family_object      function(link): the family object of bglmm_family()
#   glm_family         function(fam): see family_glm_family()
#   sampler            name of the family in the sampler's specification
#   aux                name of the extra parameter in the draws, NULL if none
#   weights            what prior weights are: "precision", "trials" or NULL (none; then
#                      no_weights is the error)
#   response           function(y, weights): list(y, trials, weights), see family_response()
#   valid_mean         function(mu): which means are means of the family (family_invalid_eta())
#   response_scale, response_location, aux_prior, aux_init, glm_dispersion, separation,
#   log_density, simulate, residual_variance: see the family_*() function of that name.

# The error of prior weights for a family without them (of counts: with the hint for exposures).
no_weights_message <- function(family, counts = FALSE) {
  paste0("'weights' are taken by the binomial family (numbers of trials) and the gaussian ",
         "family with the identity link (precisions), not by ", family, ".",
         if (counts) " For exposures, use offset(log(exposure)) in the formula.")
}

# The separation check of counts: a factor level with only zero counts.
count_separation <- list(near_boundary = function(mu) mu < 1e-4,
                         what = "The zero counts are separated from the others",
                         level = "only zero counts")

# Gamma's log density: stats::dgamma's, which is -Inf where y / mu or the shape is extreme
# (a response near the smallest double, a tiny shape: its rate shape / mu underflows), and
# there the density's formula (which the sampler uses), which is finite.
gamma_log_density <- function(y, mu, aux, trials, weights) {
  y <- by_draw(y, mu)
  ll <- stats::dgamma(y, shape = aux, rate = aux / mu, log = TRUE)
  bad <- !is.finite(ll) & is.finite(mu) & mu > 0
  if (any(bad)) {
    a <- rep_len(aux, length(mu))[bad]
    m <- mu[bad]
    yb <- y[bad]
    ll[bad] <- a * (log(a) - log(m)) + (a - 1) * log(yb) - a * (yb / m) - lgamma(a)
  }
  ll
}

# The exponential prior of an extra parameter, with bglmm_prior()'s aux_rate.
exponential_aux_prior <- function(prior, s_y) {
  list(aux = list(dist = "exponential", rate = prior$aux_rate %||% 1))
}

families <- list(
  gaussian = list(
    links = c("identity", "log", "inverse"),
    bounded_links = "inverse",
    family_object = stats_family("gaussian"),
    glm_family = function(fam) fam,
    sampler = "gaussian",
    aux = "sigma",
    weights = "precision",
    response = function(y, weights) numeric_response(y, weights, "gaussian"),
    valid_mean = function(mu) is.finite(mu),
    response_scale = function(y) stats::sd(y),
    # rstanarm's: mean(y) with the identity link, 0 on the scale of another link
    response_location = function(y, link) if (link == "identity") mean(y) else 0,
    aux_prior = function(prior, s_y) {
      list(sigma = list(df = prior$sigma_df, scale = prior$sigma_scale %||% s_y))
    },
    # the GLM's residual sd; with another link than the identity, only from a GLM that converged
    aux_init = function(y, g) {
      sigma <- stats::sd(y)
      if (!is.null(g) && g$df.residual > 0 &&
          (g$family$link == "identity" || isTRUE(g$converged) && all(is.finite(g$coefficients)))) {
        s <- sqrt(sum(g$residuals^2) / g$df.residual)
        if (is.finite(s) && s > 0) sigma <- s
      }
      sigma
    },
    glm_dispersion = pearson_dispersion,
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
    links = c("log", "identity", "sqrt"),
    bounded_links = c("identity", "sqrt"),
    family_object = stats_family("poisson"),
    glm_family = function(fam) fam,
    sampler = "poisson",
    aux = NULL,
    weights = NULL,
    no_weights = no_weights_message("poisson", counts = TRUE),
    response = function(y, weights) count_response(y, weights, "poisson"),
    valid_mean = function(mu) !is.na(mu) & mu >= 0,
    response_scale = function(y) 1,
    response_location = function(y, link) 0,
    aux_prior = function(prior, s_y) list(),
    aux_init = function(y, g) 1,
    glm_dispersion = function(g) 1,
    separation = count_separation,
    log_density = function(y, mu, aux, trials, weights) stats::dpois(by_draw(y, mu), mu, log = TRUE),
    simulate = function(mu, aux, trials, weights) stats::rpois(length(mu), mu),
    residual_variance = function(mu, aux, trials, weights) rowMeans(mu)
  ),
  binomial = list(
    links = c("logit", "probit", "cloglog", "cauchit", "log"),
    bounded_links = "log",
    family_object = stats_family("binomial"),
    glm_family = function(fam) fam,
    sampler = "binomial",
    aux = NULL,
    weights = "trials",
    response = binomial_response,
    valid_mean = function(mu) !is.na(mu) & mu >= 0 & mu <= 1,
    response_scale = function(y) 1,
    response_location = function(y, link) 0,
    aux_prior = function(prior, s_y) list(),
    aux_init = function(y, g) 1,
    glm_dispersion = function(g) 1,
    # Separation is a property of the data, the same for every link whose probabilities
    # cover (0, 1). Along a divergent direction a logit IRLS step moves the boundary rows'
    # eta by about 1, a probit or cloglog step by about 1 / eta or 1 / exp(eta), and a cauchit
    # GLM stays far from the boundary (1 - p ~ 1 / (pi eta)): those links are checked with the
    # logit GLM. The log link's probabilities stop at 1 (at eta = 0): its own.
    separation = list(near_boundary = function(mu) pmin(mu, 1 - mu) < 1e-4,
                      what = "The data separate the outcome",
                      level = "only successes or only failures",
                      glm_family = function(fam) {
                        if (fam$link %in% c("probit", "cloglog", "cauchit")) stats::binomial() else fam
                      }),
    log_density = function(y, mu, aux, trials, weights) {
      stats::dbinom(by_draw(y, mu), by_draw(trials, mu), mu, log = TRUE)
    },
    simulate = function(mu, aux, trials, weights) stats::rbinom(length(mu), by_draw(trials, mu), mu),
    # rstanarm's: on the scale of counts, the mean of n mu (1 - mu)
    residual_variance = function(mu, aux, trials, weights) {
      rowMeans(mu * matrix(trials, nrow(mu), ncol(mu), byrow = TRUE) * (1 - mu))
    }
  ),
  # variance mu + mu^2 / phi; phi (reciprocal_dispersion) ~ exponential(aux_rate)
  neg_binomial_2 = list(
    links = c("log", "identity", "sqrt"),
    bounded_links = c("identity", "sqrt"),
    family_object = function(link) nb2(link),
    glm_family = function(fam) stats_family("poisson")(fam$link),
    sampler = "neg_binomial_2",
    aux = "reciprocal_dispersion",
    weights = NULL,
    no_weights = no_weights_message("neg_binomial_2", counts = TRUE),
    response = function(y, weights) count_response(y, weights, "neg_binomial_2"),
    valid_mean = function(mu) !is.na(mu) & mu >= 0,
    response_scale = function(y) 1,
    response_location = function(y, link) 0,
    aux_prior = exponential_aux_prior,
    aux_init = nb_phi_init,
    glm_dispersion = function(g) max(1, pearson_dispersion(g)),
    separation = count_separation,
    log_density = function(y, mu, aux, trials, weights) {
      stats::dnbinom(by_draw(y, mu), size = aux, mu = mu, log = TRUE)
    },
    simulate = function(mu, aux, trials, weights) stats::rnbinom(length(mu), size = aux, mu = mu),
    residual_variance = function(mu, aux, trials, weights) rowMeans(mu + mu^2 / aux)
  ),
  # mean mu, variance mu^2 / shape; shape ~ exponential(aux_rate)
  Gamma = list(
    links = c("inverse", "log", "identity"),
    bounded_links = c("inverse", "identity"),
    family_object = stats_family("Gamma"),
    glm_family = function(fam) fam,
    sampler = "Gamma",
    aux = "shape",
    weights = NULL,
    no_weights = no_weights_message("Gamma"),
    response = function(y, weights) positive_response(y, weights, "Gamma"),
    valid_mean = function(mu) !is.na(mu) & mu > 0,
    response_scale = function(y) 1,
    response_location = function(y, link) 0,
    aux_prior = exponential_aux_prior,
    aux_init = gamma_shape_init,
    glm_dispersion = pearson_dispersion,
    separation = NULL,
    log_density = gamma_log_density,
    simulate = function(mu, aux, trials, weights) stats::rgamma(length(mu), shape = aux, rate = aux / mu),
    residual_variance = function(mu, aux, trials, weights) rowMeans(mu^2 / aux)
  )
)
