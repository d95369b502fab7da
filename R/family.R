# Families: the one place that knows how the families differ. bglmm_family() resolves the
# `family` argument to a stats-style family object (kept as fit$family, so family(fit) is
# the object glm() would use, or for neg_binomial_2 the object of nb2(), as rstanarm's
# neg_binomial_2()); every other function asks the family_*() functions below, which read
# the family's entry in the table `families` at the end of this file.
#
# Adding a family (or a link) means adding its entry to the table, with the helpers the entry
# uses, here; the sampler must know the entry's `sampler` name and the link's name.

# family as in glm: a function, a family object or a name; families and links of the table.
# Family objects of other packages for the same model are accepted by their $family
# (rstanarm's neg_binomial_2(), brms's negbinomial(), glmmTMB's nbinom2()): a family of the
# table whose object lacks a function of stats' family objects (brms's) is rebuilt.
bglmm_family <- function(family) {
  if (is.character(family)) family <- family_from_name(family)
  if (is.function(family)) {
    # base R's gamma() is the gamma function, not the family
    if (identical(family, base::gamma)) {
      stop("'gamma' is base R's gamma function: the family is 'Gamma' (capital G), e.g. family = Gamma(link = \"log\").",
           call. = FALSE)
    }
    # MASS's negative.binomial(theta) needs its theta
    if ("theta" %in% names(formals(family))) stop(unsupported_family_message("negative.binomial"), call. = FALSE)
    family <- tryCatch(family(), error = function(e) {
      stop(sprintf("Calling the family function failed (%s): use %s.", conditionMessage(e),
                   supported_families()), call. = FALSE)
    })
  }
  if (!inherits(family, "family") || !is.character(family$family) || !is.character(family$link)) {
    stop(sprintf("'family' must be %s (a family function, object or name).", supported_families()),
         call. = FALSE)
  }
  name <- family_alias[[family$family]] %||% family$family
  entry <- families[[name]]
  if (is.null(entry)) stop(unsupported_family_message(family$family), call. = FALSE)
  check_link(name, family$link)
  if (identical(family$family, name) && is_glm_family(family)) family else entry$family_object(family$link)
}

# The family object of a name: a family of the table with its default link (the first of
# its links, stats' default), or an error (with a hint for families bglmm does not fit).
family_from_name <- function(name) {
  if (length(name) != 1L || is.na(name)) {
    stop(sprintf("'family' must be %s (a family function, object or name).", supported_families()),
         call. = FALSE)
  }
  entry <- families[[family_alias[[name]] %||% name]]
  if (!is.null(entry)) return(entry$family_object(entry$links[1L]))
  if (name %in% c(names(unsupported_families), "negative.binomial")) {
    stop(unsupported_family_message(name), call. = FALSE)
  }
  stop(sprintf("Unknown family '%s': use %s.%s", name, supported_families(), family_name_hint(name)),
       call. = FALSE)
}

# A hint for a family name that is not one: a name of the table in other capitals ("gamma"),
# or a link given as the family ("probit").
family_name_hint <- function(name) {
  known <- c(names(families), names(family_alias))
  near <- known[tolower(known) == tolower(name)]
  if (length(near)) return(sprintf(" (Family names are case-sensitive: '%s'.)", near[1L]))
  with_link <- names(families)[vapply(families, function(e) name %in% e$links, NA)]
  if (length(with_link)) {
    return(sprintf(" ('%s' is a link: e.g. family = %s(link = \"%s\").)", name, with_link[1L], name))
  }
  ""
}

# Names by which other packages call the families of the table.
family_alias <- list(negbinomial = "neg_binomial_2", nbinom2 = "neg_binomial_2")

# Families bglmm does not fit, with what to use instead.
unsupported_families <- list(
  quasipoisson = paste0("A quasi-likelihood has no density to sample from: for overdispersed counts ",
                        "use family = \"neg_binomial_2\" (or nb2()), which estimates the overdispersion."),
  quasibinomial = paste0("A quasi-likelihood has no density to sample from: for overdispersed binomial ",
                         "data add a random intercept per observation, (1 | obs), to a binomial model."),
  quasi = "A quasi-likelihood has no density to sample from.",
  inverse.gaussian = "For positive continuous responses use family = Gamma."
)

unsupported_family_message <- function(name) {
  hint <- unsupported_families[[name]]
  # MASS's negative.binomial(theta), and glmer.nb's family, name the family with theta
  if (is.null(hint) && grepl("^negative.binomial$|^Negative Binomial\\(", name)) {
    hint <- paste0("MASS's negative.binomial(theta) fixes theta: use family = \"neg_binomial_2\" ",
                   "(or nb2()), which estimates it (as reciprocal_dispersion).")
  }
  paste0(sprintf("The family '%s' is not supported: use %s.", name, supported_families()),
         if (!is.null(hint)) paste0(" ", hint))
}

# "gaussian, poisson, ... or Gamma"
supported_families <- function() or_list(names(families))

# An error unless `link` is one of the links of family `name`.
check_link <- function(name, link) {
  links <- families[[name]]$links
  if (!link %in% links) {
    stop(sprintf("The %s family supports only the %s, not '%s'.", name,
                 if (length(links) == 1L) sprintf("'%s' link", links)
                 else paste("links", or_list(sprintf("'%s'", links))),
                 link), call. = FALSE)
  }
}

# Whether a family object has the functions of stats' family objects that bglmm uses.
is_glm_family <- function(family) {
  all(vapply(family[c("linkfun", "linkinv", "mu.eta", "variance", "valideta", "validmu")],
             is.function, NA))
}

#' Negative binomial family (rstanarm's neg_binomial_2)
#'
#' The family object of the negative binomial distribution with mean \eqn{\mu} and variance
#' \eqn{\mu + \mu^2 / \phi}, for the \code{family} argument of [bglmm()]: the same model as
#' \code{family = "neg_binomial_2"} and as rstanarm's \code{neg_binomial_2()} (whose object
#' [bglmm()] also accepts). The reciprocal dispersion \eqn{\phi} is estimated, and named
#' \code{reciprocal_dispersion} in the draws, as in rstanarm; its prior is set by
#' \code{aux_rate} in [bglmm_prior()]. Large values mean little overdispersion (the Poisson
#' distribution is the limit \eqn{\phi \to \infty}).
#'
#' @param link The link: \code{"log"} (default), \code{"identity"} or \code{"sqrt"}, as a
#'   string or a name.
#' @return An object of class \code{"family"} with \code{family = "neg_binomial_2"} and the
#'   link's functions, as [stats::poisson()] gives them; \code{variance(mu, theta)} is
#'   \code{mu + mu^2 / theta}.
#' @examples
#' nb2()
#' nb2("sqrt")$linkinv(2)
#' \donttest{
#' fit <- bglmm(live ~ conc + (1 | flea), data = nitrofen, family = nb2(),
#'              chains = 2, iter = 400, refresh = 0, seed = 1)
#' as.matrix(fit, pars = "reciprocal_dispersion")[1:5, ]
#' }
#' @export
nb2 <- function(link = "log") {
  # as stats::poisson(): a name (nb2(sqrt)) or a string, or a variable holding the string
  name <- substitute(link)
  if (!is.character(name)) name <- deparse(name)
  if (!name %in% families$neg_binomial_2$links) name <- link
  if (!is.character(name) || length(name) != 1L) stop("'link' must be the name of a link.", call. = FALSE)
  link <- name
  check_link("neg_binomial_2", link)
  out <- do.call(stats::poisson, list(link = link))
  out$family <- "neg_binomial_2"
  out$variance <- function(mu, theta = Inf) mu + mu^2 / theta
  out$dev.resids <- function(y, mu, wt) stop("'dev.resids' is not defined for neg_binomial_2.", call. = FALSE)
  out$aic <- function(y, n, mu, wt, dev) stop("'aic' is not defined for neg_binomial_2.", call. = FALSE)
  out$simulate <- NULL
  out
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

# The family's name for the sampler's link (spec$link).
family_link <- function(fam) fam$link

# Whether the family's link can leave the parameter space (a negative mean of counts, a
# probability above 1, ...): the sampler rejects proposals outside it, and the chains must
# start inside it (family_inside()).
family_bounded_link <- function(fam) fam$link %in% family_entry(fam)$bounded_links

# Which linear predictors eta (any array) have no mean of the family: their mean mu is not
# one (a negative mean of counts, a mean of Gamma that is not positive, a probability
# outside [0, 1], an infinite gaussian mean), or the link is sqrt and eta < 0 (its mean
# eta^2 is that of -eta: the sampler keeps eta > 0). Only a link that can leave the
# parameter space gives them, on new data or with new groups' effects (the sampler keeps
# the fitted rows inside).
family_invalid_eta <- function(fam, eta, mu = fam$linkinv(eta)) {
  bad <- !family_entry(fam)$valid_mean(mu)
  if (fam$link == "sqrt") bad <- bad | (!is.na(eta) & eta < 0)
  bad
}

# Whether the linear predictors eta are inside the parameter space of the family and link
# (finite, valid for the link, and with valid means).
family_inside <- function(fam, eta) {
  g <- family_glm_family(fam)
  all(is.finite(eta)) && isTRUE(g$valideta(eta)) && isTRUE(g$validmu(g$linkinv(eta)))
}

# ---- response and weights -------------------------------------------------------------

# Prior weights: numbers of trials or precisions, by family; an error for a family without.
family_check_weights <- function(fam, w) {
  kind <- family_entry(fam)$weights
  if (is.null(kind)) stop(family_entry(fam)$no_weights, call. = FALSE)
  if (!is.numeric(w) || !all_finite(w) || any(w < 0)) {
    stop("'weights' must be non-negative finite numbers.", call. = FALSE)
  }
  # precisions are folded into the rows (weight_rows()), which keeps the model only with
  # the identity link
  if (kind == "precision" && fam$link != "identity") {
    stop(sprintf(paste0("Gaussian 'weights' (precisions) are supported with the identity link only, ",
                        "not the '%s' link."), fam$link), call. = FALSE)
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

# Default location of the intercept at the mean of the predictors (on the link's scale).
family_response_location <- function(fam, y) family_entry(fam)$response_location(y, fam$link)

# Prior of the extra parameter from bglmm_prior()'s `prior`: list(sigma = list(df, scale))
# for gaussian's sigma, list(aux = list(dist, rate)) for an exponential prior, list() if none.
family_aux_prior <- function(fam, prior, s_y) family_entry(fam)$aux_prior(prior, s_y)

# The family of the starting GLM (glm.fit) and of the separation check's IRLS steps: the
# family itself, or the poisson family with the same link for neg_binomial_2 (whose
# coefficients the Poisson GLM estimates consistently).
family_glm_family <- function(fam) family_entry(fam)$glm_family(fam)

# Response and weights of the starting GLM (glm.fit) on rows whose y, trials and weights
# are given: proportions weighted by their trials for families with trials.
family_glm_data <- function(fam, y, trials, weights) {
  if (family_uses_trials(fam)) return(list(y = y / trials, weights = trials))
  list(y = y, weights = weights %||% rep(1, length(y)))
}

# Dispersion of the GLM fit g (1 where the family fixes it), which scales its standard errors
# (for neg_binomial_2 the Poisson fit's Pearson dispersion, at least 1).
family_glm_dispersion <- function(fam, g) family_entry(fam)$glm_dispersion(g)

# Starting value of the extra parameter (1 without one; the sampler ignores it then), from
# the response and the GLM fit g of the fixed part (NULL without one): gaussian's residual
# sd, neg_binomial_2's moment estimate, Gamma's 1 / dispersion.
family_aux_init <- function(fam, y, g) family_entry(fam)$aux_init(y, g)

# The separation check: NULL for a family whose likelihood always has a maximum, else
# near_boundary(mu), the fitted means at the boundary a divergent direction drives them to,
# and the words of the warning (`what` is separated; a factor `level` with only ...).
family_separation <- function(fam) family_entry(fam)$separation

# The family of the GLM whose IRLS steps find the separated directions: the starting GLM's
# (family_glm_family()), or for the binomial probit, cloglog and cauchit links the logit
# (see the binomial entry).
family_separation_glm_family <- function(fam) {
  (family_separation(fam)$glm_family %||% family_glm_family)(fam)
}

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
#   valid_mean         function(mu): which means are means of the family (family_invalid_mean())
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
