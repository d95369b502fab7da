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
# peak of the whole call. attr(, "rows") are the rows used.
fixed_glm <- function(md, family, max_rows = 2000L) {
  rows <- glm_rows(md$X, max_rows)
  d <- family_glm_data(family, md$y[rows], md$trials[rows], md$weights[rows])
  g <- tryCatch(suppressWarnings(stats::glm.fit(md$X[rows, , drop = FALSE], d$y, weights = d$weights,
                                                offset = md$offset[rows], family = family)),
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
# jittered around it in Rust. aux is the family's extra parameter (family_aux_init()).
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
  aux <- family_aux_init(family, md$y, if (p > 0L) g)
  if (!(is.finite(aux) && aux > 0)) aux <- 1
  list(fixef = as.numeric(fixef), jitter = as.numeric(jitter), aux = aux)
}
