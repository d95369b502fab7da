# Formula and data: from an lme4-style formula to response, design matrices and grouping.
# Bars are parsed by lme4 (expandDoubleVerts, findbars, nobars, subbars); each random term
# is then built from its bar as lme4's mkReTrms does, but dense and without its extra structures.
# The response is checked and converted by the family (family_response()).

#' Build the model frame, response and design matrices
#'
#' @param extras The unevaluated `subset`, `weights` and `offset` arguments of the call (those
#'   given), evaluated by model.frame() in `data` and then the formula's environment, as glm().
#' @return A list with `y`, `trials`, `offset`, `X`, `re` (one entry per random-effects term),
#'   `frame`, `fixed_terms`, `n_dropped`, and `weights` (gaussian precision weights, or NULL).
#' @noRd
bglmm_model_data <- function(formula, data, family, na.action, contrasts, env, extras = list()) {
  if (!inherits(formula, "formula") || length(formula) != 3L) {
    stop("'formula' must be a two-sided formula such as y ~ x + (1 | g).", call. = FALSE)
  }
  formula <- lme4::expandDoubleVerts(formula)
  bars <- lme4::findbars(formula)
  fixed <- lme4::nobars(formula)
  # without fixed terms nobars() gives the response alone (a call such as cbind(s, f) has
  # length 3 too): the fixed part is then the intercept
  if (!inherits(fixed, "formula") || length(fixed) != 3L) {
    fixed <- stats::reformulate("1", response = formula[[2L]])
  }
  environment(fixed) <- environment(formula)
  frame <- model_frame(formula, data, na.action, env, extras)
  n_dropped <- length(attr(frame, "na.action"))
  if (nrow(frame) == 0L) {
    stop(if (is.null(extras$subset)) "No rows are left after removing rows with missing values."
         else "No rows are left after 'subset' and removing rows with missing values.", call. = FALSE)
  }
  # model.matrix matches variables of a model frame by name, so poly() etc. are not re-evaluated
  fixed_terms <- stats::terms(fixed)
  X <- tryCatch(stats::model.matrix(fixed_terms, frame, contrasts.arg = contrasts), error = function(e) {
    stop("Could not build the fixed-effects design: ", conditionMessage(e),
         if (grepl("contrasts", conditionMessage(e))) paste0(
           ". A factor with one level in the rows fitted (after 'subset' and missing values) ",
           "cannot be a predictor: remove it from the formula."),
         call. = FALSE)
  })
  # model.matrix names rows after the frame's: 100,000 strings (6 MB) that nothing uses.
  # Its result is shared, so dropping them makes an ALTREP wrapper, not a copy (rownames<-
  # would copy); the sampler's read-only access does not expand the wrapper.
  dimnames(X) <- list(NULL, colnames(X))
  check_design(X, "fixed-effects")
  check_rank(X)
  response <- family_response(family, frame_response(frame), stats::model.weights(frame))
  offset <- stats::model.offset(frame)
  if (is.null(offset)) offset <- rep(0, nrow(frame))
  if (!all_finite(offset)) stop("The offset must be finite.", call. = FALSE)
  re <- if (length(bars)) random_terms(bars, frame, X, environment(formula)) else list()
  list(
    y = response$y, trials = response$trials, offset = as.numeric(offset),
    X = X, re = re, frame = frame, fixed_terms = fixed_terms,
    formula = formula, n_dropped = n_dropped, weights = response$weights
  )
}

# The response of a model frame, as model.response() gives it but without its names (which
# make it a copy of the data's column).
frame_response <- function(frame) {
  y <- frame[[1L]]
  if (is.matrix(y) && ncol(y) == 1L) y <- drop(y)
  y
}

# model.frame over every variable of the formula, bars included, and the extras (subset,
# weights, offset; unevaluated, so that model.frame() looks them up in the data first).
model_frame <- function(formula, data, na.action, env, extras = list()) {
  mf_formula <- lme4::subbars(formula)
  environment(mf_formula) <- environment(formula)
  if (is.null(data)) data <- environment(formula)
  na.action <- skip_if_complete(na.action)
  # subset, or missing values of the weights or offset, may leave levels without rows
  drop_levels <- length(extras) > 0L || may_leave_unused_levels(mf_formula, data)
  mf_call <- as.call(c(list(quote(stats::model.frame), mf_formula, data = quote(data),
                            na.action = quote(na.action), drop.unused.levels = drop_levels),
                       extras))
  frame <- tryCatch(
    eval(mf_call),
    error = function(e) {
      stop("Could not evaluate the formula's variables: ", conditionMessage(e),
           if (grepl("not found", conditionMessage(e))) ". Check that every variable is a column of 'data'.",
           call. = FALSE)
    }
  )
  n_na <- length(attr(frame, "na.action"))
  if (n_na > 0L) {
    message(sprintf("Removed %d row%s with missing values (na.action).", n_na, if (n_na == 1L) "" else "s"))
  }
  frame
}

# Whether model.frame() must drop unused factor levels: unless every variable of the formula
# is a column of the data without missing values and no factor column has an unused level.
# Dropping them copies every factor (several times) even when nothing is dropped.
may_leave_unused_levels <- function(formula, data) {
  if (!is.data.frame(data)) return(TRUE)
  vars <- all.vars(formula)
  if (!all(vars %in% names(data))) return(TRUE)
  !all(vapply(data[vars], function(v) {
    !anyNA(v) && (!is.factor(v) || all(tabulate(v, nlevels(v)) > 0L))
  }, TRUE))
}

# na.omit and na.exclude copy every column even when no row has a missing value (and check
# the copy's row names for duplicates): skip them then. Other na.actions are kept as given.
skip_if_complete <- function(na.action) {
  f <- if (is.character(na.action)) get(na.action, mode = "function") else na.action
  if (!identical(f, stats::na.omit) && !identical(f, stats::na.exclude)) return(na.action)
  function(object, ...) if (anyNA(object, recursive = TRUE)) f(object, ...) else object
}

check_design <- function(M, what) {
  if (!is.numeric(M) || !all_finite(M)) {
    stop(sprintf("The %s design has non-finite values (Inf or NaN): remove or fix those rows.", what),
         call. = FALSE)
  }
}

check_rank <- function(X, max_rows = 20000L) {
  if (ncol(X) == 0L) return(invisible())
  # rows are a subset's at most: when max_rows evenly spaced rows have full rank, so do all
  if (nrow(X) > max_rows && qr(X[spaced_rows(nrow(X), max_rows), , drop = FALSE])$rank == ncol(X)) {
    return(invisible())
  }
  qx <- qr(X)
  if (qx$rank < ncol(X)) {
    aliased <- colnames(X)[qx$pivot[seq.int(qx$rank + 1L, ncol(X))]]
    stop("The fixed effects are rank deficient: ", paste(aliased, collapse = ", "),
         " cannot be estimated (aliased with other columns). Remove them from the formula.",
         call. = FALSE)
  }
}

# One entry per random-effects term: grouping codes, dense Z (n x q), column names, and the
# fixed-effect column that is each coefficient's mean (centred parameterisation).
random_terms <- function(bars, frame, X, env = parent.frame()) {
  centre_terms(lapply(bars, random_term, frame = frame, env = env), X)
}

# One random-effects term, built from its bar as lme4 does (model matrix of the left side,
# grouping factor of the right side), without lme4's sparse Zt and covariance structures.
random_term <- function(bar, frame, env) {
  f <- bar_group(bar, frame, env)
  group_name <- bar_group_name(bar)
  Z <- bar_z(bar, frame)
  cn <- colnames(Z)
  q <- length(cn)
  check_design(Z, "random-effects")
  if (nlevels(f) < 2L) {
    stop(sprintf("The grouping factor '%s' has only one level: a random effect needs at least two groups.",
                 group_name), call. = FALSE)
  }
  if (nlevels(f) <= q) {
    warning(sprintf(paste0("The grouping factor '%s' has %d levels for %d random coefficients: ",
                           "their covariance is informed mostly by its prior. Consider fewer random ",
                           "coefficients or (x || %s)."),
                    group_name, nlevels(f), q, group_name),
            call. = FALSE)
  }
  list(group_name = group_name, levels = levels(f), group = as.integer(f), z = unname(Z), cnms = cn)
}

# A coefficient is centred on the fixed effect of the same column (mean_col), in the first
# term that has it; in later terms that column is a "shadow" (shadow_col; see the sampler's
# translation step). 0 for neither.
centre_terms <- function(terms, X) {
  centred <- rep(FALSE, ncol(X))
  for (t in seq_along(terms)) {
    cn <- terms[[t]]$cnms
    mean_col <- shadow_col <- integer(length(cn))
    for (k in seq_along(cn)) {
      j <- match(cn[k], colnames(X))
      if (!is.na(j) && same_column(X, j, terms[[t]]$z, k)) {
        if (centred[j]) {
          shadow_col[k] <- j
        } else {
          mean_col[k] <- j
          centred[j] <- TRUE
        }
      }
    }
    terms[[t]]$mean_col <- mean_col
    terms[[t]]$shadow_col <- shadow_col
  }
  terms
}

# Whether column k of the random-effects design Z equals column j of the fixed-effects design
# X (to rounding), compared in place by Rust (extracting the columns would copy them).
same_column <- function(X, j, Z, k) {
  if (!is.double(X) || !is.double(Z)) {
    # the rule of the Rust comparison, for designs that are not double
    x <- as.numeric(X[, j])
    return(all(abs(x - as.numeric(Z[, k])) <= 1e-10 * pmax(1, abs(x))))
  }
  bglmm_same_column(X, j, Z, k, nrow(X))
}

# Name of a bar's grouping factor, as lme4 names it ("g", "b:a").
bar_group_name <- function(bar) paste(deparse(bar[[3L]]), collapse = " ")

# Design of a bar's left side (1, x, 0 + x, poly(x, 2), ...) on a model frame.
bar_z <- function(bar, frame) {
  Z <- stats::model.matrix(eval(substitute(~foo, list(foo = bar[[2L]]))), frame)
  # without row names, as X in bglmm_model_data()
  dimnames(Z) <- list(NULL, colnames(Z))
  attr(Z, "assign") <- attr(Z, "contrasts") <- NULL
  Z
}

# Values of a bar's grouping expression on a frame: its variables as factors, so that a:b
# is their interaction, as in lme4.
bar_group_values <- function(bar, frame, env) {
  vars <- all.vars(bar[[3L]])
  genv <- lapply(frame[intersect(vars, names(frame))], function(v) if (is.factor(v)) v else factor(v))
  tryCatch(eval(bar[[3L]], genv, env), error = function(e) {
    stop(sprintf("Could not evaluate the grouping factor '%s': %s", bar_group_name(bar),
                 conditionMessage(e)), call. = FALSE)
  })
}

# A bar's grouping factor on the fitted frame, without unused levels.
bar_group <- function(bar, frame, env) {
  f <- bar_group_values(bar, frame, env)
  # a factor of the frame usually has no unused or missing levels already: factor() would
  # rebuild it from 100,000s of strings
  if (is.factor(f) && !anyNA(f) && !anyNA(levels(f)) && all(tabulate(f, nlevels(f)) > 0L)) {
    return(f)
  }
  factor(f, exclude = NA)
}
