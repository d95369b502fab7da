# The model's design on the data of a fit or on new data, for predictions and the
# log-likelihood: pp_data() and its parts, and the fit's weights and offset arguments kept
# to be evaluated on newdata (fit_args()).

# Design of the model on the fit's data or on newdata: X, offset, the kept random terms
# (Z and level index, new levels numbered after the fitted ones), y, trials and weights,
# with the offset and trials arguments of the call, checked for what the caller needs.
pp_data <- function(object, newdata, re.form, allow_new_levels, offset = NULL, trials = NULL,
                    need_trials = FALSE, need_y = FALSE) {
  kept <- re_terms_kept(object, re.form)
  if (length(kept)) require_ranef_draws(object)
  dat <- if (is.null(newdata)) {
    fit_design(object, kept)
  } else {
    # the response is read for the log-likelihood, and for the trials of cbind(successes, failures)
    want_y <- need_y || (need_trials && family_uses_trials(object$family) &&
                           is.matrix(stats::model.response(object$frame)))
    newdata_design(object, newdata, kept, allow_new_levels, want_y, have_offset = !is.null(offset))
  }
  dat <- with_offset_arg(dat, offset)
  dat <- with_trials_arg(dat, trials, object$family)
  check_pp_data(object, dat, need_trials, need_y)
  dat
}

# The design of the fit's own data, with the kept random terms rebuilt from the frame.
fit_design <- function(object, kept) {
  re_all <- if (length(kept)) random_terms(fit_bars(object), object$frame, object$X, environment(object$formula)) else list()
  re <- lapply(kept, function(t) list(t = t, Z = re_all[[t]]$z, idx = re_all[[t]]$group,
                                      new_levels = character(0)))
  list(X = object$X, offset = object$offset, re = re, y = object$y,
       trials = object$trials, weights = object$weights, names = rownames(object$frame))
}

# The `offset` argument of a prediction, which replaces the whole offset.
with_offset_arg <- function(dat, offset) {
  if (is.null(offset)) return(dat)
  n <- nrow(dat$X)
  if (!is.numeric(offset) || !length(offset) %in% c(1L, n) || any(!is.finite(offset))) {
    stop(sprintf("'offset' must be finite numbers, of length 1 or %d (the number of rows).", n), call. = FALSE)
  }
  dat$offset <- rep_len(as.numeric(offset), n)
  dat
}

# The `trials` argument of a prediction (families with trials).
with_trials_arg <- function(dat, trials, family) {
  if (is.null(trials)) return(dat)
  n <- nrow(dat$X)
  if (!family_uses_trials(family)) stop("'trials' is only used by the binomial family.", call. = FALSE)
  if (!is.numeric(trials) || !length(trials) %in% c(1L, n) || any(trials < 0) || any(trials != round(trials))) {
    stop(sprintf("'trials' must be whole numbers of length 1 or %d (the number of rows).", n), call. = FALSE)
  }
  dat$trials <- rep_len(as.numeric(trials), n)
  dat
}

# Errors (and the warning of missing precision weights) when the design lacks what the
# caller needs: the trials (need_trials), the response (need_y).
check_pp_data <- function(object, dat, need_trials, need_y) {
  fam <- object$family
  n <- nrow(dat$X)
  weights <- object$model_args$weights
  if (need_trials && family_uses_trials(fam) && length(dat$trials) != n) {
    if (!is.null(weights)) {
      stop(sprintf(paste0("The binomial model was fitted with weights = %s (the numbers of trials), ",
                          "which could not be evaluated on newdata: add its variables to newdata or ",
                          "give the number of trials with the 'trials' argument."), arg_label(weights)),
           call. = FALSE)
    }
    stop("The binomial model was fitted to cbind(successes, failures) and newdata does not have ",
         "both columns: give the number of trials with the 'trials' argument.", call. = FALSE)
  }
  if (need_y && length(dat$y) != n) {
    stop(sprintf("newdata must contain the response (%s)%s for the log-likelihood.",
                 paste(deparse(object$formula[[2L]]), collapse = " "),
                 if (is.null(weights)) "" else sprintf(" and the weights (%s)", arg_label(weights))),
         call. = FALSE)
  }
  if (need_trials && !need_y && family_precision_weights(fam) && !is.null(weights) && is.null(dat$weights)) {
    warning(sprintf(paste0("The model was fitted with weights = %s, which could not be evaluated on ",
                           "newdata: predicting with weight 1 (variance sigma^2)."), arg_label(weights)),
            call. = FALSE)
  }
  if (need_y && family_uses_trials(fam) && any(dat$y > dat$trials)) {
    stop("Binomial successes exceed the number of trials.", call. = FALSE)
  }
}

# The design of newdata (see pp_data()): its frame built as the fit's was, the fixed and the
# kept random designs, the offset, and the response (want_y) with its trials and weights.
newdata_design <- function(object, newdata, kept, allow_new_levels, want_y, have_offset = FALSE) {
  if (!is.data.frame(newdata)) stop("'newdata' must be a data frame.", call. = FALSE)
  if (nrow(newdata) == 0L) stop("'newdata' has no rows.", call. = FALSE)
  bars <- if (length(object$re)) fit_bars(object) else list()
  # the weights on newdata: binomial trials (the response needs them) or gaussian precisions
  weights <- object$model_args$weights
  w <- if (is.null(weights)) NULL else newdata_value(object, weights, newdata)
  with_y <- want_y && all(all.vars(object$formula[[2L]]) %in% names(newdata)) &&
    (is.null(weights) || !is.null(w))
  # grouping variables of terms left out by re.form need not be in newdata: a placeholder
  # lets the frame be built, and they are never used
  unneeded <- setdiff(bar_vars(bars, 3L), c(bar_vars(bars[kept], 3L), predictor_vars(object, bars),
                                            names(newdata)))
  for (v in unneeded) newdata[[v]] <- factor(rep(NA_character_, nrow(newdata)))
  mf <- newdata_frame(object, newdata, bars, with_y, unneeded)
  X <- newdata_fixed(object, mf)
  offset <- newdata_offset(object, mf, newdata, have_offset)
  re <- lapply(kept, function(t) newdata_term(object, t, bars[[t]], mf, allow_new_levels))
  resp <- newdata_response(object, mf, w, want_y, with_y)
  list(X = X, offset = offset, re = re, y = resp$y, trials = resp$trials,
       weights = if (family_precision_weights(object$family)) w, names = rownames(newdata))
}

# Variables of one side of the bars (2L: the coefficients, 3L: the grouping factors).
bar_vars <- function(bars, side) unique(unlist(lapply(bars, function(b) all.vars(b[[side]]))))

# Variables of the fixed effects and of the random coefficients.
predictor_vars <- function(object, bars) {
  unique(c(all.vars(stats::delete.response(object$fixed_terms)), bar_vars(bars, 2L)))
}

# The model frame of newdata (with the response if with_y), with the factor levels of the
# fit for the fixed effects and the random coefficients (grouping factors are matched
# separately: they may have new levels); an error for missing values in the variables used.
newdata_frame <- function(object, newdata, bars, with_y, unneeded) {
  tt_full <- attr(object$frame, "terms")
  tt <- if (with_y) tt_full else stats::delete.response(tt_full)
  xlev <- stats::.getXlevels(tt_full, object$frame)
  xlev <- xlev[setdiff(names(xlev), setdiff(bar_vars(bars, 3L), predictor_vars(object, bars)))]
  mf <- tryCatch(
    stats::model.frame(tt, newdata, na.action = stats::na.pass, xlev = xlev),
    error = function(e) stop("Could not evaluate the model's variables on newdata: ",
                             conditionMessage(e), call. = FALSE)
  )
  resp_col <- if (with_y) 1L else integer(0)
  pred_cols <- setdiff(seq_along(mf), c(resp_col, which(names(mf) %in% unneeded)))
  na_rows <- !stats::complete.cases(mf[pred_cols])
  if (any(na_rows)) {
    stop(sprintf("newdata has missing values in the model's variables (row%s %s).",
                 if (sum(na_rows) > 1) "s" else "", paste(utils::head(which(na_rows), 5), collapse = ", ")),
         call. = FALSE)
  }
  mf
}

# The fixed-effects design of newdata's frame, with the fit's columns.
newdata_fixed <- function(object, mf) {
  X <- stats::model.matrix(stats::delete.response(object$fixed_terms), mf,
                           contrasts.arg = attr(object$X, "contrasts"))
  if (!identical(colnames(X), colnames(object$X))) {
    stop("newdata gives fixed-effects columns (", paste(colnames(X), collapse = ", "),
         ") that differ from the fit's (", paste(colnames(object$X), collapse = ", "), ").", call. = FALSE)
  }
  X
}

# The offset on newdata: the formula's offset() terms and the fit's offset argument (unless
# the call gives an offset, which replaces both).
newdata_offset <- function(object, mf, newdata, have_offset) {
  off <- stats::model.offset(mf)
  if (is.null(off)) off <- rep(0, nrow(mf))
  arg <- object$model_args$offset
  if (!is.null(arg) && !have_offset) {
    o <- newdata_value(object, arg, newdata)
    if (is.null(o)) {
      stop(sprintf(paste0("The model was fitted with offset = %s, which could not be evaluated on ",
                          "newdata: add its variables to newdata or give the 'offset' argument."),
                   arg_label(arg)), call. = FALSE)
    }
    off <- off + o
  }
  as.numeric(off)
}

# Random term t (bar b) on newdata's frame: its design Z and the index of each row's level,
# new levels (allowed by allow_new_levels) numbered after the fitted ones.
newdata_term <- function(object, t, b, mf, allow_new_levels) {
  r <- object$re[[t]]
  Z <- bar_z(b, mf)
  if (!identical(colnames(Z), r$cnms)) {
    stop(sprintf("newdata gives group-effect columns (%s) for '%s' that differ from the fit's (%s).",
                 paste(colnames(Z), collapse = ", "), r$group_name, paste(r$cnms, collapse = ", ")),
         call. = FALSE)
  }
  labels <- as.character(bar_group_values(b, mf, environment(object$formula)))
  idx <- match(labels, r$levels)
  new <- is.na(idx)
  new_levels <- unique(labels[new])
  if (length(new_levels) && !allow_new_levels) {
    stop(sprintf(paste0("newdata has level%s %s of grouping factor '%s' that %s not in the fitted data. ",
                        "Use allow_new_levels = TRUE to draw %s group effects from N(0, Sigma), ",
                        "or re.form = NA to leave out the group effects."),
                 if (length(new_levels) > 1) "s" else "",
                 paste(utils::head(new_levels, 5), collapse = ", "), r$group_name,
                 if (length(new_levels) > 1) "are" else "is",
                 if (length(new_levels) > 1) "their" else "its"), call. = FALSE)
  }
  idx[new] <- length(r$levels) + match(labels[new], new_levels)
  list(t = t, Z = unname(Z), idx = idx, new_levels = new_levels)
}

# The response on newdata (if with_y) and the trials: from cbind(successes, failures), the
# weights w on newdata, or one per row for a 0/1 response; numeric(0) where there are none.
newdata_response <- function(object, mf, w, want_y, with_y) {
  fam <- object$family
  if (!is.null(w) && want_y) family_check_weights(fam, w)
  trials <- if (!family_uses_trials(fam) || is.matrix(stats::model.response(object$frame))) {
    numeric(0)
  } else if (!is.null(object$model_args$weights)) {
    w %||% numeric(0)
  } else {
    rep(1, nrow(mf))
  }
  if (!with_y) return(list(y = numeric(0), trials = trials))
  resp <- family_response(fam, stats::model.response(mf), w)
  list(y = resp$y, trials = if (family_uses_trials(fam)) resp$trials else trials)
}

# Which random terms re.form keeps.
re_terms_kept <- function(object, re.form) {
  nt <- length(object$re)
  if (is.null(re.form)) return(seq_len(nt))
  if (!inherits(re.form, "formula")) {
    if (length(re.form) == 1L && is.na(re.form)) return(integer(0))
    stop("'re.form' must be NULL, NA or a formula such as ~(1 | g).", call. = FALSE)
  }
  bars <- lme4::findbars(lme4::expandDoubleVerts(re.form))
  if (!length(bars)) return(integer(0))
  groups <- vapply(bars, bar_group_name, "")
  fit_groups <- vapply(object$re, function(r) r$group_name, "")
  bad <- setdiff(groups, fit_groups)
  if (length(bad)) {
    stop(sprintf("'re.form' has grouping factor(s) %s that are not in the model (%s).",
                 paste(bad, collapse = ", "), paste(unique(fit_groups), collapse = ", ")), call. = FALSE)
  }
  which(fit_groups %in% groups)
}

# Random-effects bars of the fit, one per entry of object$re.
fit_bars <- function(object) {
  bars <- lme4::findbars(object$formula)
  if (length(bars) != length(object$re)) stop("Internal error: random terms do not match the fit.", call. = FALSE)
  bars
}

# allow_new_levels, or lme4's allow.new.levels passed through `...`.
new_levels_arg <- function(allow_new_levels, ...) {
  dots <- list(...)
  if (!is.null(dots$allow.new.levels)) allow_new_levels <- dots$allow.new.levels
  check_flag(allow_new_levels, "allow_new_levels")
}

# The value on newdata of a weights or offset argument of the fit (see fit_args()): its
# expression evaluated in newdata, which must have every variable that the expression took
# from the data (functions such as log come from the formula's environment). NULL when it
# took none (a vector given in the call says nothing about other rows), when newdata lacks
# one, or when the value is not one number per row.
newdata_value <- function(object, arg, newdata) {
  if (!length(arg$vars) || !all(arg$vars %in% names(newdata))) return(NULL)
  v <- tryCatch(eval(arg$expr, newdata, environment(object$formula)), error = function(e) NULL)
  if (!is.numeric(v) || length(v) != nrow(newdata)) NULL else as.numeric(v)
}

# A fit argument's expression for messages, at most 40 characters.
arg_label <- function(arg) {
  s <- deparse1(arg$expr)
  if (nchar(s) > 40L) paste0(substr(s, 1L, 37L), "...") else s
}

# The weights and offset arguments of a fit, kept for predictions on newdata: each one's
# expression and the variables it took from the data (all its variables without a data
# frame), if the model frame has it (an argument that evaluated to NULL is not kept).
fit_args <- function(extras, frame, data) {
  out <- list()
  for (a in c("weights", "offset")) {
    if (is.null(extras[[a]]) || !paste0("(", a, ")") %in% names(frame)) next
    vars <- expr_vars(extras[[a]])
    if (is.data.frame(data)) vars <- intersect(vars, names(data))
    out[[a]] <- list(expr = extras[[a]], vars = vars)
  }
  out
}

# Variables of an expression as all.vars() gives them, but not the names after $ or @
# (d$n uses the variable d only).
expr_vars <- function(e) {
  if (is.name(e)) return(as.character(e))
  if (!is.call(e)) return(character(0))
  args <- as.list(e)[-1L]
  if (identical(e[[1L]], as.name("$")) || identical(e[[1L]], as.name("@"))) args <- args[1L]
  unique(unlist(lapply(args, expr_vars)))
}
