# Priors: one specification function, resolved against the data at fit time.

#' Prior distributions for a bglmm model
#'
#' All priors are proper. Every hyperparameter can be set; the defaults are weakly
#' informative and scaled to the data in the way rstanarm scales its defaults.
#'
#' \describe{
#'   \item{Fixed effects (and group means theta)}{Independent normal priors. For a
#'     coefficient of column \eqn{x_k}, the default is \eqn{N(0, (2.5\, s_y / sd(x_k))^2)},
#'     where \eqn{s_y} is \code{sd(y)} for the gaussian family (whatever its link) and 1
#'     otherwise (\code{autoscale = FALSE} drops the \eqn{s_y / sd(x_k)} factor).}
#'   \item{Intercept}{The prior is set for the intercept at the mean of the predictors:
#'     \eqn{N(\mu_c, (2.5\, s_y)^2)} with \eqn{\mu_c} = \code{mean(y)} for the gaussian
#'     family with the identity link, 0 otherwise (as rstanarm). The
#'     sampler works with the raw intercept \eqn{\alpha = \alpha_c - \sum_k \bar x_k \beta_k},
#'     whose prior is taken as normal with the implied mean and variance
#'     \eqn{\sigma_c^2 + \sum_k \bar x_k^2 \sigma_k^2}.}
#'   \item{Covariance of each random-effects term (default)}{The hierarchical inverse-Wishart
#'     of Huang and Wand (2013): \eqn{\Sigma \mid a \sim} inverse-Wishart\eqn{(\nu + q - 1,
#'     2\nu\, diag(1/a_1, \dots, 1/a_q))}, \eqn{a_k \sim} inverse-gamma\eqn{(1/2, 1/A_k^2)}. Each
#'     standard deviation is then half-t with \code{sd_df} = \eqn{\nu} degrees of freedom and
#'     scale \eqn{A_k}, which keeps prior mass near zero (unlike a plain inverse-Wishart), and
#'     with \eqn{\nu = 2} every correlation is uniform on (-1, 1). The scale is
#'     \eqn{A_k} = \code{sd_scale} \eqn{\times s_y / sd(z_k)} (\eqn{sd} taken as 1 for a constant
#'     column), so that a between-group sd of one \eqn{s_y} per sd of the column is typical.}
#'   \item{Covariance, fixed inverse-Wishart}{Giving \code{cov_df} or \code{cov_scale} uses
#'     \eqn{\Sigma \sim} inverse-Wishart(\code{cov_df}, \code{cov_scale}) instead, with density
#'     proportional to \eqn{|\Sigma|^{-(\nu+q+1)/2} \exp(-tr(S \Sigma^{-1})/2)} and mean
#'     \eqn{S / (\nu - q - 1)}. A missing \code{cov_df} is \eqn{q + 2}; a missing
#'     \code{cov_scale} is diagonal with entries \eqn{(s_y / sd(z_k))^2}, so the prior mean is
#'     \eqn{S}. Note that an inverse-Wishart puts little mass on variances well below its scale.}
#'   \item{Residual scale (gaussian)}{\eqn{\sigma^2 \sim} scaled-inverse-\eqn{\chi^2}
#'     (\code{sigma_df}, \code{sigma_scale}\eqn{^2}), i.e. inverse-gamma
#'     (\code{sigma_df}/2, \code{sigma_df * sigma_scale^2}/2); defaults 1 and \code{sd(y)},
#'     whatever the link.}
#'   \item{Extra parameter of neg_binomial_2 and Gamma}{The reciprocal dispersion \eqn{\phi}
#'     of \code{neg_binomial_2} (\code{reciprocal_dispersion}, variance
#'     \eqn{\mu + \mu^2/\phi}) and the \code{shape} \eqn{a} of \code{Gamma} (variance
#'     \eqn{\mu^2/a}) have an exponential prior with rate \code{aux_rate} (default 1, mean 1),
#'     as rstanarm's default \code{prior_aux}.}
#' }
#'
#' @section Priors and links:
#' The default scales do not depend on the link, as in rstanarm: they suit coefficients on
#' the scale of the canonical link (log, logit) and of links like it (probit, cloglog, the
#' log link of Gamma), where a coefficient of 2.5 per sd of its column is already a large
#' effect. With a link whose coefficients are on the scale of the response, the identity or
#' sqrt links of counts and the identity or inverse links of Gamma, that scale may be far too
#' narrow (mean counts of 50 on the identity link) or far too wide (an inverse link with a
#' mean of 300 has an intercept near 0.003): set \code{intercept_location},
#' \code{intercept_scale} and \code{fixef_scale} on that scale, or \code{autoscale = FALSE}
#' and scales of your own. The same holds for the gaussian family with the log or inverse
#' link, whose default scales are multiplied by \code{sd(y)}, the scale of the response
#' rather than of the link. The covariance scales follow the same rule (\code{sd_scale},
#' \code{cov_scale}).
#'
#' @param fixef_location,fixef_scale Location and scale of the normal priors on the
#'   coefficients other than the intercept: one number for all, or a vector named by
#'   coefficient (unnamed coefficients keep the default).
#' @param intercept_location,intercept_scale Location and scale of the normal prior on the
#'   intercept at the mean of the predictors. \code{NULL} location means \code{mean(y)}
#'   (gaussian) or 0.
#' @param sd_df,sd_scale Degrees of freedom and scale multiplier of the default half-t priors
#'   on the group-level standard deviations (see Details). \code{sd_scale} is one positive
#'   number, or a list of positive numbers (one, or one per coefficient) named by grouping
#'   factor.
#' @param cov_df Degrees of freedom of a fixed inverse-Wishart prior for every random-effects
#'   term; must exceed \eqn{q - 1}. \code{NULL} with \code{cov_scale = NULL} means the default
#'   half-t prior.
#' @param cov_scale Scale of a fixed inverse-Wishart prior: \code{NULL}, one positive number
#'   (times the identity), a positive definite matrix (one term), or a list of those named by
#'   grouping factor.
#' @param sigma_df,sigma_scale Prior of the gaussian residual variance.
#' @param aux_rate Rate of the exponential prior of neg_binomial_2's
#'   \code{reciprocal_dispersion} and Gamma's \code{shape}.
#' @param autoscale Scale the default fixed-effect and covariance scales by the data.
#' @return An object of class \code{"bglmm_prior"} to pass as \code{prior} to [bglmm()].
#' @references Huang, A. and Wand, M. P. (2013). Simple marginally noninformative prior
#'   distributions for covariance matrices. \emph{Bayesian Analysis} 8, 439-452.
#' @seealso [prior_summary.bglmm()] shows the priors a fit used.
#' @examples
#' bglmm_prior(fixef_scale = 1, cov_df = 4)
#' bglmm_prior(fixef_location = c(conc = 0), fixef_scale = c(conc = 0.01))
#'
#' # an identity link for counts: the intercept (at the mean of the predictors) and the
#' # slope on the scale of the counts (nitrofen's live offspring: about 8 on average, from
#' # about 10 at conc = 0 to 2 at conc = 310)
#' pr <- bglmm_prior(intercept_location = 8, intercept_scale = 10, fixef_scale = c(conc = 0.1),
#'                   autoscale = FALSE)
#' \donttest{
#' fit <- bglmm(live ~ conc + (1 | flea), data = nitrofen, family = poisson(link = "identity"),
#'              prior = pr, chains = 2, iter = 1000, refresh = 0, seed = 1)
#' }
#' # a prior with more mass on little overdispersion (larger reciprocal_dispersion)
#' bglmm_prior(aux_rate = 0.1)
#' @export
bglmm_prior <- function(fixef_location = 0, fixef_scale = 2.5,
                        intercept_location = NULL, intercept_scale = 2.5,
                        sd_df = 2, sd_scale = 1,
                        cov_df = NULL, cov_scale = NULL,
                        sigma_df = 1, sigma_scale = NULL, aux_rate = 1,
                        autoscale = TRUE) {
  check_num(fixef_location, "fixef_location", finite = TRUE)
  check_num(fixef_scale, "fixef_scale", positive = TRUE)
  if (!is.null(intercept_location)) check_num(intercept_location, "intercept_location", finite = TRUE, scalar = TRUE)
  check_num(intercept_scale, "intercept_scale", positive = TRUE, scalar = TRUE)
  check_num(sd_df, "sd_df", positive = TRUE, scalar = TRUE)
  if (is.list(sd_scale)) {
    if (is.null(names(sd_scale)) || any(names(sd_scale) == "")) {
      stop("A list 'sd_scale' must be named by grouping factor.", call. = FALSE)
    }
    for (nm in names(sd_scale)) check_num(sd_scale[[nm]], sprintf("sd_scale$%s", nm), positive = TRUE)
  } else {
    check_num(sd_scale, "sd_scale", positive = TRUE, scalar = TRUE)
  }
  if (!is.null(cov_df)) check_num(cov_df, "cov_df", positive = TRUE, scalar = TRUE)
  check_num(sigma_df, "sigma_df", positive = TRUE, scalar = TRUE)
  if (!is.null(sigma_scale)) check_num(sigma_scale, "sigma_scale", positive = TRUE, scalar = TRUE)
  check_num(aux_rate, "aux_rate", positive = TRUE, scalar = TRUE)
  check_flag(autoscale, "autoscale")
  if (!is.null(cov_scale) && !is.list(cov_scale)) check_cov_scale(cov_scale, "cov_scale")
  if (is.list(cov_scale)) {
    if (is.null(names(cov_scale)) || any(names(cov_scale) == "")) {
      stop("A list 'cov_scale' must be named by grouping factor.", call. = FALSE)
    }
    for (nm in names(cov_scale)) check_cov_scale(cov_scale[[nm]], sprintf("cov_scale$%s", nm))
  }
  structure(
    list(fixef_location = fixef_location, fixef_scale = fixef_scale,
         intercept_location = intercept_location, intercept_scale = intercept_scale,
         sd_df = sd_df, sd_scale = sd_scale, cov_df = cov_df, cov_scale = cov_scale, sigma_df = sigma_df,
         sigma_scale = sigma_scale, aux_rate = aux_rate, autoscale = autoscale),
    class = "bglmm_prior"
  )
}

check_cov_scale <- function(s, name) {
  if (!is.numeric(s) || anyNA(s) || any(!is.finite(s))) {
    stop(sprintf("'%s' must be a positive number or a positive definite matrix.", name), call. = FALSE)
  }
  if (is.matrix(s)) {
    if (nrow(s) != ncol(s) || !isSymmetric(unname(s)) ||
        inherits(try(chol(s), silent = TRUE), "try-error")) {
      stop(sprintf("'%s' must be a symmetric positive definite matrix.", name), call. = FALSE)
    }
  } else if (length(s) != 1L || s <= 0) {
    stop(sprintf("'%s' must be a positive number or a positive definite matrix.", name), call. = FALSE)
  }
}

# Resolves the prior specification against the data: one location and scale per fixed
# effect, an inverse-Wishart df and scale per term, gaussian sigma's prior (`sigma`, NULL
# for other families) and the exponential prior of the extra parameter of neg_binomial_2
# and Gamma (`aux`, list(dist, rate); absent for other families).
resolve_prior <- function(prior, md, family) {
  if (!inherits(prior, "bglmm_prior")) {
    stop("'prior' must be made by bglmm_prior().", call. = FALSE)
  }
  s_y <- if (prior$autoscale) family_response_scale(family, md$y) else 1
  if (!is.finite(s_y) || s_y <= 0) s_y <- 1
  fixef <- fixef_prior(prior, md$X, s_y, family_response_location(family, md$y))
  terms <- lapply(md$re, term_prior, prior = prior, s_y = s_y)
  names(terms) <- vapply(md$re, function(t) t$group_name, "")
  aux <- family_aux_prior(family, prior, s_y)
  pr <- list(location = fixef$location, scale = fixef$scale, terms = terms, sigma = aux$sigma,
             autoscale = prior$autoscale, spec = prior)
  pr$aux <- aux$aux
  pr
}

# Location and scale of the normal prior of each fixed effect (named by column of X); the
# intercept's from its prior at the mean of the predictors, whose default location is
# y_location (evaluated only then).
fixef_prior <- function(prior, X, s_y, y_location) {
  cn <- colnames(X)
  p <- ncol(X)
  icpt <- match("(Intercept)", cn)
  slopes <- setdiff(seq_len(p), icpt)
  col_sd <- column_sd(X)
  col_sd[!is.finite(col_sd) | col_sd == 0] <- 1
  loc <- fill_named(prior$fixef_location, cn[slopes], "fixef_location")
  scl <- fill_named(prior$fixef_scale, cn[slopes], "fixef_scale")
  if (prior$autoscale) scl <- scl * s_y / col_sd[slopes]
  location <- scale <- numeric(p)
  names(location) <- names(scale) <- cn
  location[slopes] <- loc
  scale[slopes] <- scl
  if (!is.na(icpt)) {
    mu_c <- prior$intercept_location %||% y_location
    sd_c <- prior$intercept_scale * s_y
    xbar <- colMeans(X)[slopes]
    location[icpt] <- mu_c - sum(xbar * loc)
    scale[icpt] <- sqrt(sd_c^2 + sum(xbar^2 * scl^2))
  }
  list(location = location, scale = scale)
}

# The covariance prior of one random-effects term t: the default half-t (Huang-Wand) or an
# inverse-Wishart.
term_prior <- function(t, prior, s_y) {
  q <- ncol(t$z)
  z_sd <- column_sd(t$z)
  z_sd[!is.finite(z_sd) | z_sd == 0] <- 1
  unit <- if (prior$autoscale) s_y / z_sd else rep(1, q)
  if (is.null(prior$cov_df) && is.null(prior$cov_scale)) {
    mult <- if (is.list(prior$sd_scale)) prior$sd_scale[[t$group_name]] %||% 1 else prior$sd_scale
    if (length(mult) != 1L && length(mult) != q) {
      stop(sprintf("'sd_scale' for '%s' must have 1 or %d values.", t$group_name, q), call. = FALSE)
    }
    return(list(type = "half_t", df = prior$sd_df, scale = stats::setNames(mult * unit, t$cnms)))
  }
  df <- prior$cov_df %||% (q + 2)
  if (df <= q - 1) {
    stop(sprintf("'cov_df' must exceed q - 1 = %d for the term of '%s'.", q - 1, t$group_name), call. = FALSE)
  }
  S <- term_cov_scale(prior, t, unit)
  dimnames(S) <- list(t$cnms, t$cnms)
  list(type = "inv_wishart", df = df, scale = S)
}

term_cov_scale <- function(prior, t, unit) {
  q <- ncol(t$z)
  given <- prior$cov_scale
  if (is.list(given)) given <- given[[t$group_name]]
  if (is.null(given)) return(diag(unit^2, q))
  if (is.matrix(given)) {
    if (nrow(given) != q) {
      stop(sprintf("'cov_scale' for '%s' must be a %d x %d matrix.", t$group_name, q, q), call. = FALSE)
    }
    return(unname(given))
  }
  diag(given, q)
}

fill_named <- function(value, names, what) {
  if (length(value) == 1L && is.null(names(value))) return(rep(value, length(names)))
  if (is.null(names(value))) {
    if (length(value) != length(names)) {
      stop(sprintf("'%s' must be one number, one per coefficient (%d), or named by coefficient.",
                   what, length(names)), call. = FALSE)
    }
    return(value)
  }
  unknown <- setdiff(names(value), names)
  if (length(unknown)) {
    stop(sprintf("'%s' names coefficients the model does not have: %s.", what,
                 paste(unknown, collapse = ", ")), call. = FALSE)
  }
  default <- formals(bglmm_prior)[[what]]
  out <- stats::setNames(rep(default, length(names)), names)
  out[names(value)] <- value
  unname(out)
}

#' Summarise the priors used by a fit
#'
#' @param object A [bglmm()] fit.
#' @param digits Digits to print.
#' @param ... Unused.
#' @return Invisibly, the resolved priors (a list); printed as a readable summary.
#' @examples
#' fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, iter = 400, refresh = 0, seed = 1)
#' prior_summary(fit)
#' @importFrom rstantools prior_summary
#' @export
#' @method prior_summary bglmm
prior_summary.bglmm <- function(object, digits = 3, ...) {
  pr <- object$prior
  structure(pr, class = "bglmm_prior_summary", digits = digits, aux_name = family_aux_name(object$family))
}

#' @export
print.bglmm_prior_summary <- function(x, digits = attr(x, "digits") %||% 3, ...) {
  f <- function(v) format(signif(v, digits))
  cat("Priors for model", if (isTRUE(x$autoscale)) "(adjusted scales; see ?bglmm_prior)" else "", "\n\n")
  cat("Fixed effects ~ normal(location, scale)\n")
  tab <- data.frame(location = f(x$location), scale = f(x$scale), row.names = names(x$location))
  print(tab, quote = FALSE)
  for (nm in names(x$terms)) {
    t <- x$terms[[nm]]
    if (t$type == "half_t") {
      cat(sprintf("\nCovariance of %s: Huang-Wand hierarchical inverse-Wishart (df = %s)\n", nm, f(t$df)))
      cat("  standard deviations ~ half-t(df, scale); correlations",
          if (t$df == 2) "uniform on (-1, 1)" else "regularised by df", "\n")
      print(data.frame(scale = f(t$scale), row.names = names(t$scale)), quote = FALSE)
    } else {
      cat(sprintf("\nCovariance of %s ~ inverse-Wishart(df = %s, scale = S)\nS =\n", nm, f(t$df)))
      print(signif(t$scale, digits))
    }
  }
  if (!is.null(x$sigma)) {
    cat(sprintf("\nsigma^2 ~ scaled-inv-chi-squared(df = %s, scale = %s^2)\n", f(x$sigma$df), f(x$sigma$scale)))
  }
  if (!is.null(x$aux)) {
    cat(sprintf("\n%s ~ %s(rate = %s)\n", attr(x, "aux_name") %||% "aux", x$aux$dist, f(x$aux$rate)))
  }
  invisible(x)
}

# Standard deviation of each column of a matrix (apply() would first copy the whole matrix).
column_sd <- function(M) {
  # in Rust, which reads the matrix in place: sd() of each column would copy it
  if (!is.double(M) || nrow(M) == 0L || ncol(M) == 0L) {
    return(stats::setNames(vapply(seq_len(ncol(M)), function(j) stats::sd(M[, j]), 0), colnames(M)))
  }
  stats::setNames(bglmm_column_sd(M, nrow(M)), colnames(M))
}
