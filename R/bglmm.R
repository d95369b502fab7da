# Fit entry: bglmm() as a chain of stages, each a function in the file of its concern, as
# lme4 chains lFormula -> mkLmerDevfun -> optimizeLmer -> mkMerMod:
#   bglmm_family (family.R) -> fit_settings (spec.R) -> bglmm_model_data (formula.R) ->
#   resolve_prior (priors.R) -> parameter_names (names.R) -> fit_start (start.R) ->
#   sampler_spec, sampler_config (spec.R) -> run_sampler (run.R) ->
#   check_unbounded_fixef (separation.R) -> new_bglmm (fit.R)

#' Bayesian generalized linear mixed models by Metropolis-within-Gibbs
#'
#' Fits \eqn{y_{ij} \sim f(y \mid g^{-1}(w_{ij}'\alpha + x_{ij}'\beta_j))} with group
#' coefficients \eqn{\beta_j \sim N(\theta, \Sigma)}, normal priors on \eqn{\alpha} and
#' \eqn{\theta}, an inverse-Wishart prior on \eqn{\Sigma}, for the gaussian family a
#' scaled-inverse-\eqn{\chi^2} prior on \eqn{\sigma^2}, and for the negative binomial and
#' Gamma families an exponential prior on their extra parameter (see [bglmm_prior()]).
#'
#' The sampler (written in Rust) updates \eqn{\theta} and \eqn{\Sigma} by Gibbs steps, each
#' group's coefficient vector by a multivariate normal Metropolis step whose proposal
#' covariance follows the curvature of that group's log posterior, the fixed effects
#' that do not vary by group by a block Metropolis step, and the extra parameter of the
#' negative binomial and Gamma families by a step of its own; in the gaussian family with
#' the identity link every step is Gibbs. Proposals adapt during warmup only. A random coefficient whose column is also a
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
#' @section Families and links:
#' \tabular{lll}{
#'   \strong{family} \tab \strong{links (default first)} \tab \strong{extra parameter} \cr
#'   \code{gaussian} \tab identity, log, inverse \tab \code{sigma} (residual sd) \cr
#'   \code{poisson} \tab log, identity, sqrt \tab none \cr
#'   \code{binomial} \tab logit, probit, cloglog, cauchit, log \tab none \cr
#'   \code{"neg_binomial_2"}, [nb2()] \tab log, identity, sqrt \tab
#'     \code{reciprocal_dispersion} \eqn{\phi}: variance \eqn{\mu + \mu^2/\phi} \cr
#'   \code{Gamma} \tab inverse, log, identity \tab \code{shape} \eqn{a}: variance \eqn{\mu^2/a} \cr
#' }
#' The names are rstanarm's, and so are the posterior predictive draws
#' (\code{rnbinom(size = phi, mu = mu)}, \code{rgamma(shape = a, rate = a / mu)}) and the
#' log-likelihood (the full densities, so that [loo_compare()][bglmm-loo] can compare a
#' Poisson and a negative binomial fit of the same counts). Links that can leave the
#' parameter space (identity or sqrt for counts, log for binomial, identity or inverse for
#' Gamma) restrict the linear predictor to it: the sampler rejects proposals outside it, and
#' the chains start inside it. The default priors of the coefficients do not depend on the
#' link: with a link whose coefficients are on the scale of the response, set them on that
#' scale (see "Priors and links" in [bglmm_prior()]). Quasi families have no likelihood and
#' are not supported (for overdispersed counts use \code{"neg_binomial_2"}).
#'
#' @section Separation and other unbounded likelihoods:
#' After sampling, \code{bglmm()} warns when the likelihood of the fixed effects has no
#' finite maximum along some coefficient, so that its posterior is set by the prior alone:
#' complete or quasi-complete separation in binomial data, or a factor level with only
#' zero counts (Poisson, negative binomial) or only successes or failures (binomial). The test continues the
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
#' @param family \code{gaussian}, \code{poisson}, \code{binomial}, \code{Gamma} (as in
#'   [glm()]: a family function, family object or name, with a link of the table in
#'   "Families and links") or the negative binomial \code{"neg_binomial_2"} (the name,
#'   [nb2()], or rstanarm's \code{neg_binomial_2()}; brms's \code{negbinomial()} and
#'   glmmTMB's \code{nbinom2()} are taken as the same family). Binomial responses may be
#'   0/1, logical, a two-level factor (first level = failure) or
#'   \code{cbind(successes, failures)}; negative binomial responses are counts, Gamma
#'   responses positive numbers.
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
#'   \eqn{\sigma^2 / w_i} (with the identity link only). The poisson, negative binomial and
#'   Gamma families take no weights (use an offset for exposures). Predictions, \code{log_lik()} and \code{posterior_predict()} on
#'   \code{newdata} evaluate the \code{weights} and \code{offset} expressions in
#'   \code{newdata}.
#' @param na.action How to handle missing values, as in [glm()] (default \code{na.omit}, with
#'   a message saying how many rows were dropped).
#' @param contrasts Optional contrasts for factors, as in [model.matrix()].
#' @param save_ranef Keep the draws of the group effects \code{b[...]} (default). With
#'   \code{FALSE}, as rstanarm's and brms's \code{save_pars} for big data, the fit keeps only
#'   the fixed effects, the extra parameter (\code{sigma}, \code{reciprocal_dispersion} or
#'   \code{shape}) and the covariances \code{Sigma}; see the section
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
#' \donttest{
#' # overdispersed counts: is the overdispersion real?
#' fit_nb <- bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = "neg_binomial_2",
#'                 chains = 2, iter = 1000, refresh = 0, seed = 1)
#' loo_compare(loo(fit), loo(fit_nb))
#'
#' # positive continuous responses, and a probit link
#' fit3 <- bglmm(Reaction ~ Days + (Days | Subject), data = lme4::sleepstudy,
#'               family = Gamma(link = "log"), chains = 2, iter = 1000, refresh = 0, seed = 1)
#' fit4 <- update(fit2, family = binomial(link = "probit"))
#' }
#' @export
bglmm <- function(formula, data = NULL, family = gaussian(), prior = bglmm_prior(),
                  chains = 4L, iter = 2000L, warmup = floor(iter / 2), thin = 1L,
                  sweeps = NULL, cores = NULL, seed = NULL,
                  refresh = if (interactive()) max(iter %/% 10, 1) else 0,
                  subset = NULL, weights = NULL, na.action = stats::na.omit, offset = NULL,
                  contrasts = NULL, save_ranef = TRUE, future = getOption("bglmm.future", FALSE)) {
  call <- match.call()
  family <- bglmm_family(family)
  settings <- fit_settings(chains = chains, iter = iter, warmup = warmup, thin = thin,
                           refresh = refresh, future = future, cores = cores, seed = seed,
                           data = data, save_ranef = save_ranef)
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
  settings$sweeps <- fit_sweeps(sweeps, md)
  par_names <- parameter_names(md, family, settings$save_ranef)
  check_size(kept_draws(settings), length(par_names))
  start <- fit_start(md, family, pr)
  spec <- sampler_spec(md, family, pr)
  config <- sampler_config(settings, start$init, par_names)
  md <- without_random_designs(md)
  collect_setup_garbage(md)
  out <- run_sampler(spec, config, settings$future)
  check_unbounded_fixef(start$unbounded, family, pr, out$draws)
  new_bglmm(call, formula, md, family, pr, settings, out, fit_args(extras, md$frame, data))
}
