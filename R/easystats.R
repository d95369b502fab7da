# The easystats packages on bglmm fits: methods of insight's generics (what a fit is, its
# formula, parameters, draws, priors, data, variance components), through which
# bayestestR, parameters and performance read models, and methods of those packages'
# generics for bglmm fits. All are registered when the package of the generic is loaded.
#
# bglmm names its parameters as rstanarm does, so where the easystats packages' method for
# rstanarm's fits reads a fit only through such accessors, bglmm's method is that method
# (stanreg_method(), see suggests.R); methods that read rstanarm's internals (the Stan
# summary, the prior specification, the algorithm) are written here for bglmm.

#' bglmm fits in the easystats packages (insight, bayestestR, parameters, performance)
#'
#' With these packages installed, bglmm fits work as rstanarm's do in
#' [bayestestR::describe_posterior()], [parameters::model_parameters()],
#' [performance::r2_bayes()], [performance::icc()], [insight::get_variance()] and the
#' other functions of those packages that read models through insight. The methods are
#' registered when the package of each generic is loaded.
#'
#' \itemize{
#'   \item insight: \code{model_info} (the family and link, \code{is_mixed},
#'     \code{is_bayesian = TRUE}), \code{find_formula} (conditional and random parts),
#'     \code{find_parameters}, \code{get_parameters} and \code{clean_parameters} (the
#'     draws of the fixed effects as \code{"fixed"}, of the group effects \code{b[...]} and
#'     covariances \code{Sigma[...]} as \code{"random"}, \code{sigma} as \code{"sigma"},
#'     as for rstanarm), \code{find_algorithm} (\code{"sampling"}, chains, iterations,
#'     warmup), \code{get_priors} (the normal priors of the fixed effects with the
#'     locations and scales the sampler used, see [prior_summary()][prior_summary.bglmm]),
#'     \code{get_data} (the data of the fit's call) and \code{get_variance} (Nakagawa's
#'     variance components from the point estimates [fixef()][bglmm-extractors] and
#'     [VarCorr()][bglmm-extractors], as for rstanarm; for Poisson models the
#'     distribution-specific variance refits the model without fixed effects, as insight
#'     does for every mixed model).
#'   \item bayestestR: \code{describe_posterior} (with ESS and Rhat computed by the
#'     posterior package: bulk ESS and rank-normalised Rhat), \code{diagnostic_posterior},
#'     \code{effective_sample}, \code{mcse}, \code{describe_prior}, \code{point_estimate},
#'     \code{hdi}, \code{eti}, \code{ci}, \code{p_direction}, \code{rope},
#'     \code{p_significance}, \code{equivalence_test} and \code{p_rope}. Bayes factors
#'     (\code{test = "bf"}, \code{ci_method = "si"}) need draws from the prior, which bglmm
#'     does not make: they are an error.
#'   \item parameters: \code{model_parameters}.
#'   \item performance: \code{r2_bayes} (through \code{r2_posterior}: the conditional and
#'     marginal [bayes_R2()][bayes_R2.bglmm], draw by draw), \code{r2} and \code{icc}
#'     (through \code{get_variance}).
#' }
#' [lme4::getME()] gives the fixed-effects design (\code{"X"}), the response (\code{"y"}),
#' the fixed effects (\code{"beta"}, \code{"fixef"}) and the names of the group-level
#' coefficients (\code{"cnms"}).
#'
#' @param x,model,posteriors,object A [bglmm()] fit.
#' @param verbose,component,diagnostic Arguments of the generics, as for rstanarm's fits.
#' @param name For \code{getME}: \code{"X"}, \code{"y"}, \code{"beta"}, \code{"fixef"} or
#'   \code{"cnms"}.
#' @param ... Arguments of the generics, as for rstanarm's fits (e.g. \code{effects},
#'   \code{ci}, \code{centrality}).
#' @return What the generics return for rstanarm's fits.
#' @examples
#' if (requireNamespace("bayestestR", quietly = TRUE) &&
#'     requireNamespace("performance", quietly = TRUE)) {
#'   fit <- bglmm(Reaction ~ Days + (Days | Subject), data = lme4::sleepstudy,
#'                chains = 2, iter = 400, refresh = 0, seed = 1)
#'   insight::model_info(fit)$is_bayesian
#'   bayestestR::describe_posterior(fit)
#'   performance::r2_bayes(fit)
#'   performance::icc(fit)
#' }
#' @name bglmm-easystats
NULL

# ---- insight -------------------------------------------------------------------------

#' @rdname bglmm-easystats
#' @exportS3Method insight::model_info
model_info.bglmm <- function(x, ...) {
  # insight's default reads the family and link from family(); a bglmm fit is a posterior
  out <- NextMethod()
  out$is_bayesian <- TRUE
  out
}

#' @rdname bglmm-easystats
#' @exportS3Method insight::find_formula
find_formula.bglmm <- function(x, verbose = TRUE, ...) {
  stanreg_method("find_formula", "insight")(x, verbose = verbose, ...)
}

#' @rdname bglmm-easystats
#' @exportS3Method insight::find_parameters
find_parameters.bglmm <- function(x, ...) stanreg_method("find_parameters", "insight")(x, ...)

#' @rdname bglmm-easystats
#' @exportS3Method insight::get_parameters
get_parameters.bglmm <- function(x, ...) stanreg_method("get_parameters", "insight")(x, ...)

#' @rdname bglmm-easystats
#' @exportS3Method insight::clean_parameters
clean_parameters.bglmm <- function(x, ...) stanreg_method("clean_parameters", "insight")(x, ...)

#' @rdname bglmm-easystats
#' @exportS3Method insight::get_data
get_data.bglmm <- function(x, ...) stanreg_method("get_data", "insight")(x, ...)

#' @rdname bglmm-easystats
#' @exportS3Method insight::get_variance
get_variance.bglmm <- function(x, component = "all", verbose = TRUE, ...) {
  stanreg_method("get_variance", "insight")(x, component = component, verbose = verbose, ...)
}

#' @rdname bglmm-easystats
#' @exportS3Method insight::find_algorithm
find_algorithm.bglmm <- function(x, ...) {
  s <- x$sampler
  list(algorithm = "sampling", chains = s$chains, iterations = s$iter, warmup = s$warmup)
}

#' @rdname bglmm-easystats
#' @exportS3Method insight::get_priors
get_priors.bglmm <- function(x, ...) {
  pr <- x$prior
  data.frame(Parameter = names(pr$location), Distribution = "normal",
             Location = unname(pr$location), Scale = unname(pr$scale),
             stringsAsFactors = FALSE)
}

#' @rdname bglmm-easystats
#' @importFrom lme4 getME
#' @method getME bglmm
#' @export
getME.bglmm <- function(object, name, ...) {
  switch(name,
    X = object$X,
    y = object$y,
    beta = , fixef = fixef.bglmm(object),
    cnms = stats::setNames(lapply(object$re, function(r) r$cnms),
                           vapply(object$re, function(r) r$group_name, "")),
    stop(sprintf("getME(, \"%s\") is not available for bglmm fits: use \"X\", \"y\", \"beta\", \"fixef\" or \"cnms\".",
                 name), call. = FALSE)
  )
}

# ---- bayestestR ----------------------------------------------------------------------

#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::describe_posterior
describe_posterior.bglmm <- function(posteriors, ...) {
  stanreg_method("describe_posterior", "bayestestR")(posteriors, ...)
}

#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::diagnostic_posterior
diagnostic_posterior.bglmm <- function(posteriors, diagnostic = c("ESS", "Rhat"), ...) {
  if (is.null(diagnostic)) {
    return(data.frame(Parameter = insight::find_parameters(posteriors, flatten = TRUE, ...)))
  }
  diagnostic <- match.arg(diagnostic, c("ESS", "Rhat", "MCSE", "all"), several.ok = TRUE)
  if ("all" %in% diagnostic) diagnostic <- c("ESS", "Rhat", "MCSE")
  draw_diagnostics(posteriors, ...)[intersect(c("Parameter", "Rhat", "ESS", "MCSE"), c("Parameter", diagnostic))]
}

#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::effective_sample
effective_sample.bglmm <- function(model, ...) draw_diagnostics(model, ...)[c("Parameter", "ESS")]

# Bulk ESS, Rhat and Monte Carlo SE of the mean of the parameters that insight selects
# (effects, component, parameters), by the posterior package.
draw_diagnostics <- function(fit, effects = "fixed", component = "location", parameters = NULL, ...) {
  pars <- insight::find_parameters(fit, effects = effects, component = component,
                                   parameters = parameters, flatten = TRUE)
  a <- posterior::as_draws_array(as.array.bglmm(fit, pars = pars))
  s <- posterior::summarise_draws(a, ESS = posterior::ess_bulk, Rhat = posterior::rhat,
                                  MCSE = posterior::mcse_mean)
  data.frame(Parameter = s$variable, ESS = as.numeric(s$ESS), Rhat = as.numeric(s$Rhat),
             MCSE = as.numeric(s$MCSE), stringsAsFactors = FALSE)
}

#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::unupdate
unupdate.bglmm <- function(model, verbose = TRUE, ...) {
  stop("Bayes factors (test = \"bf\", ci_method = \"si\") need draws from the prior, ",
       "which bglmm does not make.", call. = FALSE)
}

#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::mcse
mcse.bglmm <- function(model, ...) stanreg_method("mcse", "bayestestR")(model, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::describe_prior
describe_prior.bglmm <- function(model, ...) stanreg_method("describe_prior", "bayestestR")(model, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::point_estimate
point_estimate.bglmm <- function(x, ...) stanreg_method("point_estimate", "bayestestR")(x, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::hdi
hdi.bglmm <- function(x, ...) stanreg_method("hdi", "bayestestR")(x, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::eti
eti.bglmm <- function(x, ...) stanreg_method("eti", "bayestestR")(x, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::ci
ci.bglmm <- function(x, ...) stanreg_method("ci", "bayestestR")(x, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::p_direction
p_direction.bglmm <- function(x, ...) stanreg_method("p_direction", "bayestestR")(x, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::rope
rope.bglmm <- function(x, ...) stanreg_method("rope", "bayestestR")(x, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::p_significance
p_significance.bglmm <- function(x, ...) stanreg_method("p_significance", "bayestestR")(x, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::equivalence_test
equivalence_test.bglmm <- function(x, ...) stanreg_method("equivalence_test", "bayestestR")(x, ...)
#' @rdname bglmm-easystats
#' @exportS3Method bayestestR::p_rope
p_rope.bglmm <- function(x, ...) stanreg_method("p_rope", "bayestestR")(x, ...)

# ---- parameters and performance ------------------------------------------------------

#' @rdname bglmm-easystats
#' @exportS3Method parameters::model_parameters
model_parameters.bglmm <- function(model, ...) stanreg_method("model_parameters", "parameters")(model, ...)

#' @rdname bglmm-easystats
#' @exportS3Method performance::r2_posterior
r2_posterior.bglmm <- function(model, ...) stanreg_method("r2_posterior", "performance")(model, ...)

#' @rdname bglmm-easystats
#' @exportS3Method performance::r2
r2.bglmm <- function(model, ...) stanreg_method("r2", "performance")(model, ...)
