# The separation check: fixed effects whose posterior is set by the prior because the
# likelihood has no finite maximum along them. Candidates are found on the starting GLM
# before sampling (unbounded_fixef()) and warned about after it (check_unbounded_fixef());
# the boundary rule and the words of the warning are the family's (family_separation()).

# Warns about fixed effects along which the likelihood increases without bound (complete or
# quasi-complete separation in binomial data, whatever the link; zero counts separated from
# the others in Poisson or negative binomial data, e.g. a factor level with only zeros), when
# their posterior shows it: a
# posterior sd of at least `min_ratio` (0.2) times the prior sd means the data did not shrink the
# prior. cand are the candidates found before sampling (unbounded_fixef()); draws the kept
# draws. Returns the names of the coefficients warned about.
check_unbounded_fixef <- function(cand, family, pr, draws, min_ratio = 0.2) {
  if (!length(cand)) return(invisible(character(0)))
  ratio <- apply(draws[, , cand, drop = FALSE], 3, stats::sd) / pr$scale[cand]
  bad <- cand[is.finite(ratio) & ratio >= min_ratio]
  if (length(bad)) warning(unbounded_message(bad, ratio[bad], family), call. = FALSE)
  invisible(bad)
}

unbounded_message <- function(coefs, ratio, family) {
  sep <- family_separation(family)
  one <- length(coefs) == 1L
  sds <- if (one) sprintf("posterior sd is %.2f of the prior sd", ratio) else
    paste0("posterior sd / prior sd: ", paste(sprintf("%s %.2f", coefs, ratio), collapse = ", "))
  paste0(sep$what, " along ", paste(coefs, collapse = ", "), ": the likelihood has no finite maximum in ",
         if (one) "that direction, so its posterior is" else "these directions, so their posteriors are",
         " set by the prior (", sds, "). Check the predictors (e.g. a factor level with ", sep$level,
         "), or set an informative prior with ", prior_hint(coefs), ".")
}

# bglmm_prior() call that sets the scale of the named coefficients.
prior_hint <- function(coefs) {
  slopes <- setdiff(coefs, "(Intercept)")
  args <- c(if (length(slopes)) sprintf("fixef_scale = c(%s)", paste0("\"", slopes, "\" = ...", collapse = ", ")),
            if ("(Intercept)" %in% coefs) "intercept_scale = ...")
  sprintf("bglmm_prior(%s)", paste(args, collapse = ", "))
}

# Fixed effects along which the fixed-effects likelihood has no finite maximum. glm.fit
# stops along such a direction at a large finite value because the deviance no longer
# changes; a few more IRLS steps from there show it: at a finite maximum they move nothing,
# while along a divergent direction each step moves the linear predictor of the boundary
# observations by about 1 (the working response is eta +- 1 where mu is at 0 or 1). A
# coefficient is implicated if it moves the linear predictor by more than 1 in `steps`
# steps, or loses all its information (its observations' weights vanish). g is the
# starting GLM (family_glm_family(): Poisson for neg_binomial_2); for the binomial links
# whose steps along such a direction are much smaller than 1, the check fits its own GLM
# with the logit link (family_separation_glm_family()) and takes the steps of that.
unbounded_fixef <- function(g, md, family, steps = 5L) {
  sep <- family_separation(family)
  if (is.null(sep)) return(character(0))
  sf <- family_separation_glm_family(family)
  if (!identical(sf$link, family_glm_family(family)$link)) g <- fixed_glm(md, family, sf)
  if (is.null(g) || ncol(md$X) == 0L) return(character(0))
  # the fitted values of the observations along a divergent direction go to the boundary
  # (probability 0 or 1, mean 0): without any near it, skip the IRLS steps (big data)
  mu <- g$fitted.values
  near <- sep$near_boundary(mu)
  if (isTRUE(g$converged) && !any(near, na.rm = TRUE)) return(character(0))
  b0 <- g$coefficients
  ok <- is.finite(b0)
  if (!any(ok)) return(character(0))
  rows <- attr(g, "rows") %||% seq_len(nrow(md$X))
  X <- md$X[rows, ok, drop = FALSE]
  b1 <- irls_steps(X, g$y, g$prior.weights, md$offset[rows], g$family, b0[ok], steps)
  moved <- abs(b1 - b0[ok]) * apply(abs(X), 2, max)
  colnames(X)[is.na(moved) | moved > 1]
}

# `steps` iteratively reweighted least-squares steps of a GLM from coefficients b; NA for a
# coefficient left without information.
irls_steps <- function(X, y, w, offset, family, b, steps) {
  for (i in seq_len(steps)) {
    eta <- drop(X %*% b) + offset
    mu <- family$linkinv(eta)
    d <- family$mu.eta(eta)
    wt <- w * d^2 / family$variance(mu)
    use <- is.finite(wt) & wt > 0
    if (!any(use)) return(b * NA)
    z <- eta[use] - offset[use] + (y[use] - mu[use]) / d[use]
    b <- stats::lm.wfit(X[use, , drop = FALSE], z, wt[use])$coefficients
    if (anyNA(b)) return(b)
  }
  b
}
