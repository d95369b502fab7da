# Generics of other packages that bglmm has methods for, exported again so that they work
# without attaching those packages (man/reexports.Rd).

#' @importFrom rstantools bayes_R2
#' @export
rstantools::bayes_R2

#' @importFrom bayesplot pp_check
#' @export
bayesplot::pp_check

#' @importFrom rstantools posterior_interval
#' @export
rstantools::posterior_interval

#' @importFrom nlme fixef ranef VarCorr
#' @export
nlme::fixef
#' @export
nlme::ranef
#' @export
nlme::VarCorr

#' @importFrom lme4 ngrps
#' @export
lme4::ngrps

#' @importFrom rstantools prior_summary
#' @export
rstantools::prior_summary

#' @importFrom posterior as_draws_array as_draws_df as_draws_matrix as_draws
#' @export
posterior::as_draws_array
#' @export
posterior::as_draws_df
#' @export
posterior::as_draws_matrix
#' @export
posterior::as_draws

#' @importFrom rstantools posterior_linpred posterior_epred posterior_predict log_lik
#'   predictive_interval
#' @export
rstantools::posterior_linpred
#' @export
rstantools::posterior_epred
#' @export
rstantools::posterior_predict
#' @export
rstantools::log_lik
#' @export
rstantools::predictive_interval

#' @importFrom loo loo waic loo_compare
#' @export
loo::loo
#' @export
loo::waic
#' @export
loo::loo_compare
#' @importFrom loo kfold
#' @export
loo::kfold
