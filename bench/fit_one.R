# One (model, sampler) fit of bench/compare.R (which sources this file for its definitions),
# alone in a fresh R process so that its peak memory can be read. Run from the top folder:
#   Rscript bench/fit_one.R MODEL SAMPLER ITER CHAINS OUTFILE
# Saves to OUTFILE (.rds) a one-row data frame: wall time of the fitting call, min bulk ESS
# over the fixed effects and covariance parameters, kept draws, number of parameters in
# them, data size, and resident memory (MB) before and at the end of the fit; the row's
# attribute "draws" holds the draws of those parameters (iterations x chains x parameters),
# which bench/agree.R compares across samplers.
source("bench/models.R")

# Resident memory from /proc/self/status, in MB ("VmRSS" now, "VmHWM" the peak so far).
proc_mb <- function(field) {
  line <- grep(paste0("^", field, ":"), readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", line)) / 1024
}

# Memory of the process with packages and data loaded. Writing 5 to clear_refs (Linux >= 4.0)
# resets the peak to the current resident size, so the peak read after the fit is the fit's;
# without it the baseline is the peak so far (which then includes building the data).
baseline_mb <- function() {
  invisible(gc())
  try(cat("5", file = "/proc/self/clear_refs"), silent = TRUE)
  proc_mb("VmHWM")
}

# A model of bench_models, checked: family as a family object, data a data frame without
# the rows that have missing values in the formula's variables (every sampler drops them).
load_model <- function(model) {
  if (is.null(bench_models[[model]])) stop("unknown model ", model)
  m <- bench_models[[model]]()
  if (!inherits(m$formula, "formula") || is.null(m$data) || is.null(m$family)) {
    stop("model ", model, " must return list(formula, family, data)")
  }
  if (identical(m$family, "neg_binomial_2")) m$family <- neg_binomial_2_family()
  if (is.character(m$family)) m$family <- get(m$family, mode = "function")
  if (is.function(m$family)) m$family <- m$family()
  if (!inherits(m$family, "family")) stop("model ", model, ": family is not a family")
  m$data <- as.data.frame(m$data)
  vars <- intersect(all.vars(m$formula), names(m$data))
  m$data <- m$data[stats::complete.cases(m$data[vars]), , drop = FALSE]
  m
}

# rstanarm's neg_binomial_2() family object without loading rstanarm (whose memory would
# count in every sampler's baseline); stan_glmer is given rstanarm's own.
neg_binomial_2_family <- function(link = "log") {
  structure(list(family = "neg_binomial_2", link = link), class = "family")
}

# The family's extra parameter in rstanarm's names, whose ESS counts with the others.
aux_name <- function(fam) {
  switch(fam$family, gaussian = "sigma", neg_binomial_2 = "reciprocal_dispersion", Gamma = "shape",
         NULL)
}

# Fixed-effect names as the samplers report them (after renaming, for MCMCpack).
fixed_names <- function(m) {
  colnames(stats::model.matrix(lme4::nobars(m$formula), m$data))
}

# The parameters whose min bulk ESS is reported, in rstanarm's names: the fixed effects,
# the lower triangle of each random term's covariance, and sigma in gaussian models.
ess_names <- function(m) {
  f <- lme4::expandDoubleVerts(m$formula)
  bars <- lme4::findbars(f)
  cnms <- lme4::mkReTrms(bars, stats::model.frame(lme4::subbars(f), m$data))$cnms
  sig <- unlist(lapply(seq_along(cnms), function(i) {
    cn <- cnms[[i]]
    idx <- which(lower.tri(diag(length(cn)), diag = TRUE), arr.ind = TRUE)
    paste0("Sigma[", names(cnms)[i], ":", cn[idx[, 1]], ",", cn[idx[, 2]], "]")
  }))
  c(fixed_names(m), sig, aux_name(m$family))
}

# Why MCMCpack cannot fit the model (a "n/a: ..." note), or NULL if it can.
mcmcpack_na <- function(m) {
  fam <- m$family
  canonical <- c(gaussian = "identity", poisson = "log", binomial = "logit")
  if (!identical(unname(canonical[fam$family]), fam$link)) {
    return(sprintf("n/a: MCMCpack has no hierarchical %s(%s) model", fam$family, fam$link))
  }
  if (length(lme4::findbars(lme4::expandDoubleVerts(m$formula))) != 1) {
    return("n/a: MCMCpack takes one random-effects term")
  }
  if (!is.null(attr(stats::terms(lme4::nobars(m$formula)), "offset"))) {
    return("n/a: MCMCpack takes no offset")
  }
  if (fam$family == "binomial") {
    y <- stats::model.response(stats::model.frame(lme4::nobars(m$formula), m$data))
    if (is.matrix(y)) return("n/a: MCMChlogit takes a 0/1 response, not cbind(successes, failures)")
    if (!is.factor(y) && !all(y %in% c(0, 1))) return("n/a: MCMChlogit takes a 0/1 response")
  }
  NULL
}

# MCMCpack's hierarchical models take one random term: fixed and random formulas, the
# group's column and its name in the formula, the random columns, and the data with the
# response as a number (a two-level factor's first level is 0) and the group as a column.
# A gaussian response is divided by its sd (scale): MCMChregress's chains drift off when
# the residual sd is more than a few units (seen on sleepstudy); draws are scaled back.
mcmcpack_terms <- function(m) {
  bar <- lme4::findbars(lme4::expandDoubleVerts(m$formula))[[1]]
  fixed <- lme4::nobars(m$formula)
  data <- m$data
  y <- stats::model.response(stats::model.frame(fixed, data))
  data$.y <- if (is.factor(y)) as.numeric(y != levels(y)[1]) else as.numeric(y)
  scale <- if (m$family$family == "gaussian") stats::sd(data$.y) else 1
  data$.y <- data$.y / scale
  fixed[[2]] <- as.name(".y")
  group <- deparse(bar[[3]])
  column <- if (group %in% names(data)) group else ".group"
  data[[column]] <- factor(eval(bar[[3]], data, environment(m$formula)))
  random <- stats::as.formula(call("~", bar[[2]]))
  list(fixed = fixed, random = random, group = group, column = column, data = data,
       scale = scale, cnms = colnames(stats::model.matrix(random, data)))
}

# MCMCpack's draws in rstanarm's names and the data's scale: beta.x -> x, VCV.row.col ->
# Sigma[g:row,col] (lower triangle), sigma2 -> sigma (square root) in gaussian models;
# b.*, the other sigma2 (overdispersion) and Deviance keep their names.
mcmcpack_draws <- function(x, tm, gaussian) {
  x <- unclass(as.matrix(x))
  cols <- colnames(x)
  sq <- grepl("^VCV\\.", cols) | (gaussian & cols == "sigma2")
  x[, sq] <- x[, sq] * tm$scale^2
  x[, !sq & cols != "Deviance"] <- x[, !sq & cols != "Deviance"] * tm$scale
  q <- length(tm$cnms)
  idx <- which(lower.tri(diag(q), diag = TRUE), arr.ind = TRUE)
  vcv <- paste0("VCV.", tm$cnms[idx[, 1]], ".", tm$cnms[idx[, 2]])
  sig <- paste0("Sigma[", tm$group, ":", tm$cnms[idx[, 1]], ",", tm$cnms[idx[, 2]], "]")
  out <- sub("^beta\\.", "", cols)
  hit <- match(cols, vcv)
  out[!is.na(hit)] <- sig[hit[!is.na(hit)]]
  if (gaussian) {
    out[cols == "sigma2"] <- "sigma"
    x[, cols == "sigma2"] <- sqrt(x[, cols == "sigma2"])
  }
  colnames(x) <- out
  x
}

# Each sampler: the package it needs, the fitting call (timed), and its kept draws as an
# iterations x chains x parameters array (NULL for lme4). s holds iter, warmup and chains.
samplers <- list(
  bglmm = list(
    pkg = "bglmm",
    fit = function(m, s) {
      bglmm::bglmm(m$formula, data = m$data, family = m$family, chains = s$chains,
                   iter = s$iter, warmup = s$warmup, cores = 1, refresh = 0, seed = 1)
    },
    draws = function(fit, m) fit$draws
  ),
  stan_glmer = list(
    pkg = "rstanarm",
    fit = function(m, s) {
      fam <- m$family
      if (fam$family == "neg_binomial_2") fam <- rstanarm::neg_binomial_2(link = fam$link)
      rstanarm::stan_glmer(m$formula, data = m$data, family = fam, chains = s$chains,
                           iter = s$iter, warmup = s$warmup, cores = 1, refresh = 0, seed = 1)
    },
    draws = function(fit, m) as.array(fit)
  ),
  # Chains run one after another. MCMChpoisson and MCMChlogit add an observation-level
  # normal term (overdispersion, sigma2), which cannot be fixed near zero. Priors: the
  # package's defaults and an inverse-Wishart(q, q I) on the covariance.
  mcmcpack = list(
    pkg = "MCMCpack",
    fit = function(m, s) {
      if (s$iter < 100 || s$iter %% 10) stop("MCMCpack needs iter >= 100, a multiple of 10")
      tm <- mcmcpack_terms(m)
      fun <- switch(m$family$family, gaussian = MCMCpack::MCMChregress,
                    poisson = MCMCpack::MCMChpoisson, binomial = MCMCpack::MCMChlogit)
      q <- length(tm$cnms)
      lapply(seq_len(s$chains), function(ch) {
        utils::capture.output(out <- fun(tm$fixed, random = tm$random, group = tm$column,
          data = tm$data, burnin = s$warmup, mcmc = s$iter - s$warmup, thin = 1,
          verbose = 0, seed = ch, r = q, R = diag(q)))
        out$mcmc
      })
    },
    draws = function(fit, m) {
      tm <- mcmcpack_terms(m)
      d <- lapply(fit, mcmcpack_draws, tm = tm, gaussian = m$family$family == "gaussian")
      aperm(simplify2array(d), c(1, 3, 2))
    },
    skip = mcmcpack_na
  ),
  lme4 = list(
    pkg = "lme4",
    fit = function(m, s) {
      if (m$family$family == "gaussian" && m$family$link == "identity") {
        lme4::lmer(m$formula, data = m$data)
      } else if (m$family$family == "neg_binomial_2") {
        lme4::glmer.nb(m$formula, data = m$data)
      } else {
        lme4::glmer(m$formula, data = m$data, family = m$family)
      }
    },
    draws = function(fit, m) NULL
  )
)

# Min bulk ESS over ess_names(m), chains kept separate.
min_ess <- function(a, m) {
  keep <- ess_names(m)
  missing <- setdiff(keep, dimnames(a)[[3]])
  if (length(missing)) stop("no draws named ", paste(missing, collapse = ", "))
  min(apply(a[, , keep, drop = FALSE], 3, posterior::ess_bulk))
}

# An error as a one-line note.
error_note <- function(e) {
  paste("error:", substr(gsub("\\s+", " ", conditionMessage(e)), 1, 200))
}

empty_row <- function(model, sampler, note = "") {
  data.frame(model = model, n = NA_real_, sampler = sampler, seconds = NA_real_,
             min_ess = NA_real_, kept = 0, n_par = 0, data_mb = NA_real_,
             base_mb = NA_real_, peak_mb = NA_real_, note = note)
}

# The row for one fit; an error in the fit or its summary leaves NAs and says why in note.
fit_one <- function(model, sampler, iter, chains) {
  sm <- samplers[[sampler]]
  if (is.null(sm)) stop("unknown sampler ", sampler)
  suppressPackageStartupMessages({
    library(sm$pkg, character.only = TRUE)
    library(posterior)
  })
  m <- load_model(model)
  row <- empty_row(model, sampler)
  row$n <- nrow(m$data)
  row$data_mb <- as.numeric(utils::object.size(m$data)) / 2^20
  note <- tryCatch(if (!is.null(sm$skip)) sm$skip(m),
                   error = error_note)
  if (!is.null(note)) {
    row$note <- note
    return(row)
  }
  s <- list(iter = iter, warmup = iter %/% 2, chains = chains)
  tryCatch({
    row$base_mb <- baseline_mb()
    row$seconds <- system.time(fit <- sm$fit(m, s))[["elapsed"]]
    row$peak_mb <- proc_mb("VmHWM")
    a <- sm$draws(fit, m)
    if (!is.null(a)) {
      row$kept <- dim(a)[1] * dim(a)[2]
      row$n_par <- dim(a)[3]
      row$min_ess <- min_ess(a, m)
      # the draws of those parameters, for bench/agree.R
      attr(row, "draws") <- a[, , ess_names(m), drop = FALSE]
    }
    row
  }, error = function(e) {
    row$note <- error_note(e)
    row
  })
}

if (sys.nframe() == 0L) {  # run as a script, not sourced
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) != 5) stop("usage: Rscript bench/fit_one.R MODEL SAMPLER ITER CHAINS OUTFILE")
  row <- tryCatch(
    fit_one(args[1], args[2], as.integer(args[3]), as.integer(args[4])),
    error = function(e) empty_row(args[1], args[2], error_note(e))
  )
  saveRDS(row, args[5])
}
