# Starting values: one GLM fit of the fixed part gives the chains' starting values and the
# candidates of the separation check (separation.R).

# Starting values (initial_values()) and the fixed effects that may be unbounded
# (unbounded_fixef()), from one GLM fit of the fixed part.
fit_start <- function(md, family, pr) {
  g <- fixed_glm(md, family)
  list(init = initial_values(md, family, pr, g), unbounded = unbounded_fixef(g, md, family))
}

# The GLM fit of the fixed part (no random effects), or NULL if it fails. It gives starting
# values and the separation check, for which a subset of rows suffices: a separation of all
# rows is one of every subset that has rows of each column. The subset is max_rows evenly
# spaced rows plus, for a column that is zero on all of them (a rare factor level), its first
# nonzero rows. On big data the GLM's garbage (about 2 KB per row) would otherwise be the
# peak of the whole call. attr(, "rows") are the rows used. The GLM's family gf is
# family_glm_family() (Poisson for neg_binomial_2) with the model's link (the separation
# check may ask for another); the model's link, if it can leave the parameter space, starts
# glm.fit inside it, at the mean response (mean_start()), so that glm.fit halves its steps
# to stay inside.
fixed_glm <- function(md, family, gf = family_glm_family(family), max_rows = 2000L) {
  rows <- glm_rows(md$X, max_rows)
  d <- family_glm_data(family, md$y[rows], md$trials[rows], md$weights[rows])
  X <- md$X[rows, , drop = FALSE]
  start <- if (gf$link == family$link && family_bounded_link(family)) {
    mean_start(X, md$offset[rows], gf, d$y, d$weights)
  }
  g <- tryCatch(suppressWarnings(stats::glm.fit(X, d$y, weights = d$weights, start = start,
                                                offset = md$offset[rows], family = gf)),
                error = function(e) NULL)
  if (!is.null(g)) attr(g, "rows") <- rows
  g
}

# Rows for the starting GLM (see fixed_glm): evenly spaced, plus up to `per_column` rows of
# each column that is zero on all of those.
glm_rows <- function(X, max_rows, per_column = 20L) {
  rows <- spaced_rows(nrow(X), max_rows)
  if (length(rows) == nrow(X) || ncol(X) == 0L) return(rows)
  missing <- which(colSums(X[rows, , drop = FALSE] != 0) == 0)
  extra <- lapply(missing, function(j) utils::head(which(X[, j] != 0), per_column))
  sort(unique(c(rows, unlist(extra))))
}

# Starting values: the GLM fit g of the fixed part, kept only if sensible; chains are
# jittered around it in Rust. Without the GLM, or with a link that can leave the parameter
# space when the GLM's start is outside it on some row, the chains start at the mean
# response (mean_start()) with a small jitter. aux is the family's extra parameter
# (family_aux_init()).
initial_values <- function(md, family, pr, g = fixed_glm(md, family)) {
  p <- ncol(md$X)
  fixef <- unname(pr$location)
  jitter <- 0.1 * unname(pr$scale)
  if (!is.null(g) && p > 0L) {
    cf <- g$coefficients
    se <- tryCatch(sqrt(diag(chol2inv(g$qr$qr[seq_len(p), seq_len(p), drop = FALSE]))) *
                     sqrt(family_glm_dispersion(family, g)),
                   error = function(e) rep(NA_real_, p))
    ok <- is.finite(cf) & abs(cf - fixef) < 4 * pr$scale
    if (all(is.finite(se))) se <- se[order(g$qr$pivot)]
    # a GLM of a subset of rows: its standard errors scaled to all rows
    se <- se * sqrt(length(attr(g, "rows") %||% md$y) / length(md$y))
    fixef[ok] <- cf[ok]
    jitter[ok & is.finite(se)] <- pmin(se, pr$scale)[ok & is.finite(se)] * 0.5
  }
  if (p > 0L && is.null(g)) {
    ms <- mean_start_values(md, family)
    if (!is.null(ms)) {
      fixef <- ms$fixef
      jitter <- ms$jitter
    }
  }
  if (p > 0L && family_bounded_link(family)) {
    s <- start_inside(md, family, fixef, jitter)
    fixef <- s$fixef
    jitter <- s$jitter
  }
  aux <- family_aux_init(family, md$y, if (p > 0L) g)
  if (!(is.finite(aux) && aux > 0)) aux <- 1
  list(fixef = as.numeric(fixef), jitter = as.numeric(jitter), aux = aux)
}

# Coefficients that put every row at the family's starting mean: the intercept at the link
# of the (weighted) mean of the GLM family's own starting means (its `initialize`, where
# glm.fit starts: y + 0.1 for counts, (n y + 0.5) / (n + 1) for proportions, inside the
# parameter space) less the mean offset, the other coefficients 0. NULL without an
# intercept, or when the family has no valid starting mean.
mean_start <- function(X, offset, family, y, weights) {
  icpt <- match("(Intercept)", colnames(X))
  if (is.na(icpt)) return(NULL)
  m <- tryCatch(glm_start_mean(family, y, weights), error = function(e) NA_real_)
  b0 <- suppressWarnings(family$linkfun(m)) - mean(offset)
  if (!is.finite(b0)) return(NULL)
  b <- numeric(ncol(X))
  b[icpt] <- b0
  b
}

# The weighted mean of the starting means of glm.fit (the family's `initialize`, evaluated
# as glm.fit evaluates it); an error where the family has none (a log-link gaussian with
# y <= 0). Responses near the largest double overflow weighted.mean()'s sum: then the
# weights are normalised first.
glm_start_mean <- function(family, y, weights) {
  nobs <- length(y)
  etastart <- start <- mustart <- NULL
  eval(family$initialize)
  m <- stats::weighted.mean(mustart, weights)
  if (is.infinite(m)) m <- sum(mustart * (weights / sum(weights)))
  m
}

# The starting values of the mean start (mean_start()) on all rows, list(fixef, jitter), with
# a jitter sd of 1% of the intercept per sd of each column; NULL without a mean start.
mean_start_values <- function(md, family) {
  d <- family_glm_data(family, md$y, md$trials, md$weights)
  b <- mean_start(md$X, md$offset, family_glm_family(family), d$y, d$weights)
  if (is.null(b)) return(NULL)
  col_sd <- column_sd(md$X)
  col_sd[!is.finite(col_sd) | col_sd == 0] <- 1
  list(fixef = b, jitter = 0.01 * (if (any(b != 0)) max(abs(b)) else 1) / unname(col_sd))
}

# For a link that can leave the parameter space, starting values list(fixef, jitter) inside
# it, with every start within 3 jitter sds in any direction inside too (the chains are
# jittered in Rust): a start outside is replaced by the mean start; a start too near the
# boundary for its jitter (the GLM's often is on it, where the constrained maximum lies) is
# moved a tenth of the way to the mean start, which is inside (for the links of counts,
# binomial and Gamma the parameter space is an interval of each row's linear predictor, so
# the move stays inside); the jitter is then halved until it fits.
start_inside <- function(md, family, fixef, jitter, max_halvings = 30L) {
  eta_of <- function(b) drop(md$X %*% b) + md$offset
  absX <- abs(md$X)
  fits <- function(b, j) {
    eta <- eta_of(b)
    reach <- 3 * drop(absX %*% j)
    family_inside(family, eta) && family_inside(family, eta - reach) && family_inside(family, eta + reach)
  }
  if (fits(fixef, jitter)) return(list(fixef = fixef, jitter = jitter))
  ms <- mean_start_values(md, family)
  if (!is.null(ms) && !family_inside(family, eta_of(ms$fixef))) ms <- NULL
  if (!family_inside(family, eta_of(fixef))) {
    if (is.null(ms)) return(list(fixef = fixef, jitter = jitter))
    fixef <- ms$fixef
    jitter <- ms$jitter
  } else if (!is.null(ms)) {
    fixef <- 0.9 * fixef + 0.1 * ms$fixef
  }
  for (i in seq_len(max_halvings)) {
    if (fits(fixef, jitter)) break
    jitter <- jitter / 2
  }
  list(fixef = fixef, jitter = jitter)
}
