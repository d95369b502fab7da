#' bglmm: fast Bayesian generalized linear mixed models
#'
#' Fits Bayesian GLMMs from lme4-style formulas with a Metropolis-within-Gibbs sampler
#' written in Rust. Start with [bglmm()]; priors are set with [bglmm_prior()]; the course
#' data sets are [pulp], [nitrofen] and [tumor].
#'
#' @docType package
#' @name bglmm-package
#' @aliases bglmm-package
#' @keywords internal
#' @importFrom stats gaussian poisson binomial
NULL
