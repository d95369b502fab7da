# One (model, sampler) fit of bench/compare.R (which sources this file for its definitions),
# alone in a fresh R process so that its peak memory can be read. Run from the top folder:
#   Rscript bench/fit_one.R MODEL SAMPLER ITER CHAINS OUTFILE
# Saves to OUTFILE (.rds) a one-row data frame: wall time of the fitting call, min bulk ESS
# over the fixed effects and covariance parameters, kept draws, number of parameters in
# them, data size, and resident memory (MB) before and at the end of the fit.
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

# Fixed-effect names as the samplers report them (after renaming, for MCMCpack).
fixed_names <- function(m) {
  colnames(stats::model.matrix(lme4::nobars(m$formula), m$data))
}

# MCMCpack's hierarchical models take one random term: fixed and random formulas and group.
mcmcpack_terms <- function(m) {
  bars <- lme4::findbars(m$formula)
  if (length(bars) != 1) return(NULL)
  random <- stats::as.formula(call("~", bars[[1]][[2]]))
  list(fixed = lme4::nobars(m$formula), random = random, group = deparse(bars[[1]][[3]]),
       cnms = colnames(stats::model.matrix(random, m$data)))
}

# MCMCpack's column names to rstanarm's: beta.x -> x, VCV.row.col -> Sigma[g:row,col]
# (lower triangle); b.*, sigma2 and Deviance keep their names.
mcmcpack_names <- function(cols, tm) {
  q <- length(tm$cnms)
  idx <- which(lower.tri(diag(q), diag = TRUE), arr.ind = TRUE)
  vcv <- paste0("VCV.", tm$cnms[idx[, 1]], ".", tm$cnms[idx[, 2]])
  sig <- paste0("Sigma[", tm$group, ":", tm$cnms[idx[, 1]], ",", tm$cnms[idx[, 2]], "]")
  out <- sub("^beta\\.", "", cols)
  hit <- match(cols, vcv)
  out[!is.na(hit)] <- sig[hit[!is.na(hit)]]
  out
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
      rstanarm::stan_glmer(m$formula, data = m$data, family = m$family, chains = s$chains,
                           iter = s$iter, warmup = s$warmup, cores = 1, refresh = 0, seed = 1)
    },
    draws = function(fit, m) as.array(fit)
  ),
  # Chains run one after another; the Poisson model has an extra observation-level normal
  # term (overdispersion, sigma2), which MCMChpoisson cannot fix near zero. Priors: the
  # package's defaults and an inverse-Wishart(q, q I) on the covariance.
  mcmcpack = list(
    pkg = "MCMCpack",
    fit = function(m, s) {
      if (s$iter < 100 || s$iter %% 10) stop("MCMCpack needs iter >= 100, a multiple of 10")
      tm <- mcmcpack_terms(m)
      fun <- switch(m$family$family, poisson = MCMCpack::MCMChpoisson,
                    binomial = MCMCpack::MCMChlogit)
      q <- length(tm$cnms)
      lapply(seq_len(s$chains), function(ch) {
        utils::capture.output(out <- fun(tm$fixed, random = tm$random, group = tm$group,
          data = m$data, burnin = s$warmup, mcmc = s$iter - s$warmup, thin = 1, verbose = 0,
          seed = ch, r = q, R = diag(q)))
        out$mcmc
      })
    },
    draws = function(fit, m) {
      a <- aperm(simplify2array(lapply(fit, function(x) unclass(as.matrix(x)))), c(1, 3, 2))
      dimnames(a) <- list(NULL, NULL, mcmcpack_names(colnames(fit[[1]]), mcmcpack_terms(m)))
      a
    },
    skip = function(m) {
      if (is.null(mcmcpack_terms(m))) return("n/a: one grouping factor only")
      if (!m$family$family %in% c("poisson", "binomial")) return("n/a: family")
      NULL
    }
  ),
  lme4 = list(
    pkg = "lme4",
    fit = function(m, s) lme4::glmer(m$formula, data = m$data, family = m$family),
    draws = function(fit, m) NULL
  )
)

# Min bulk ESS over the fixed effects and covariance parameters, chains kept separate.
min_ess <- function(a, m) {
  missing <- setdiff(fixed_names(m), dimnames(a)[[3]])
  if (length(missing)) stop("no draws named ", paste(missing, collapse = ", "))
  keep <- c(fixed_names(m), grep("^Sigma\\[", dimnames(a)[[3]], value = TRUE))
  min(apply(a[, , keep, drop = FALSE], 3, posterior::ess_bulk))
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
  if (is.null(bench_models[[model]])) stop("unknown model ", model)
  suppressPackageStartupMessages({
    library(sm$pkg, character.only = TRUE)
    library(posterior)
  })
  m <- bench_models[[model]]()
  row <- empty_row(model, sampler)
  row$n <- nrow(m$data)
  row$data_mb <- as.numeric(utils::object.size(m$data)) / 2^20
  note <- if (!is.null(sm$skip)) sm$skip(m)
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
    }
    row
  }, error = function(e) {
    row$note <- paste("error:", conditionMessage(e))
    row
  })
}

if (sys.nframe() == 0L) {  # run as a script, not sourced
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) != 5) stop("usage: Rscript bench/fit_one.R MODEL SAMPLER ITER CHAINS OUTFILE")
  row <- tryCatch(
    fit_one(args[1], args[2], as.integer(args[3]), as.integer(args[4])),
    error = function(e) empty_row(args[1], args[2], paste("error:", conditionMessage(e)))
  )
  saveRDS(row, args[5])
}
