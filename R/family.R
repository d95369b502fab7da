# Families: the one place that knows how the families differ. bglmm_family() resolves the
# `family` argument to a stats-style family object (kept as fit$family, so family(fit) is
# the object glm() would use, or for neg_binomial_2 the object of nb2(), as rstanarm's
# neg_binomial_2()); every other function asks the family_*() functions below, which read
# the family's entry in the table `families` (R/family-table.R).
#
# Adding a family (or a link) means adding its entry to the table in R/family-table.R, with
# the helpers the entry uses; the sampler must know the entry's `sampler` name and the link's name.

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
# a link given as the family ("probit"), or another name of the negative binomial ("nb").
family_name_hint <- function(name) {
  known <- c(names(families), names(family_alias))
  near <- known[tolower(known) == tolower(name)]
  if (length(near)) return(sprintf(" (Family names are case-sensitive: '%s'.)", near[1L]))
  with_link <- names(families)[vapply(families, function(e) name %in% e$links, NA)]
  if (length(with_link)) {
    return(sprintf(" ('%s' is a link: e.g. family = %s(link = \"%s\").)", name, with_link[1L], name))
  }
  if (grepl("^(nb|negbin|negative|nbinom)", tolower(gsub("[^[:alnum:]]", "", name)))) {
    return(" (For negative binomial counts: family = \"neg_binomial_2\".)")
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
