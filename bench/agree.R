# Do bglmm's posteriors agree with stan_glmer's? For each model, the draws kept by
# bench/fit_one.R (attribute "draws" of the rows cached in bench/cache/ by bench/compare.R:
# the fixed effects, the covariance parameters and the family's extra parameter) of the two
# samplers are compared parameter by parameter. Run from the top folder after compare.R:
#   BENCH_MODELS_FILE=bench/unseen_models.R BENCH_MODELS=a,b,... Rscript bench/agree.R
# (BENCH_ITER and BENCH_CHAINS as for compare.R, default 2 x 1000). Prints one row per model
# and parameter, and a summary line per model as markdown.
#
# Columns: the two means and sds; d_mean = |mean difference| / stan_glmer's sd; z_mean = the
# mean difference / its Monte Carlo standard error (both samplers' mcse_mean combined);
# sd_ratio = bglmm's sd / stan_glmer's; z_sd the same for the sds (mcse_sd). A |z| above 3.5
# is flagged: a difference beyond Monte Carlo error (with about a hundred parameters, a
# flag by chance has probability about 0.05).
#
# The two samplers' default priors are the same for the fixed effects (normal, autoscaled)
# and the extra parameter (exponential(1)), but not for the covariances. bglmm's default is
# Huang and Wand's, a half-t(2, s) prior on each sd (s = 1 / the sd of the term's column for
# non-gaussian families: 1 for an intercept). rstanarm's decov() gives a one-coefficient
# term's sd the prior of tau * d, tau ~ exponential(1), where d is 1 for poisson and
# binomial but the extra parameter for the others: stan_glmer's count.stan and
# continuous.stan pass `aux` as the "dispersion" of make_theta_L(), so the group sd of a
# neg_binomial_2 model is tau times the reciprocal dispersion, and of a Gamma model tau times
# the shape (a prior_PD = TRUE fit of a neg_binomial_2 model shows it: the sd's median is
# 0.37, not exponential(1)'s 0.69). Given the sd, that prior falls as 1/d beyond d = sd, so
# it pulls the extra parameter down, and with few groups it moves the sd. So for models
# whose terms are all random intercepts, stan_glmer's draws are also reweighted (importance
# sampling) by bglmm's prior over rstanarm's, which gives stan_glmer's posterior under
# bglmm's prior (columns *_rw; their Monte Carlo error is stan_glmer's times
# sqrt(draws / ESS of the weights)). The verdict uses the reweighted comparison where there
# is one.
source("bench/fit_one.R")  # bench_models, load_model(), ess_names()

env_int <- function(name, default) {
  v <- Sys.getenv(name)
  if (nzchar(v)) as.integer(v) else default
}

cached_draws <- function(model, sampler, chains, iter) {
  f <- sprintf("bench/cache/%s_%s_%dx%d.rds", model, sampler, chains, iter)
  if (!file.exists(f)) return(NULL)
  attr(readRDS(f), "draws")
}

# log of bglmm's prior density of a one-coefficient term's variance over rstanarm's, up to a
# constant: half-t(2, s) on the sd against rstanarm's exponential of mean d (d: 1, or the
# draw's extra parameter for neg_binomial_2 and Gamma; the Jacobians cancel).
log_prior_ratio <- function(v, s, d = 1) {
  sd <- sqrt(v)
  -1.5 * log1p(sd^2 / (2 * s^2)) + log(d) + sd / d
}

# bglmm's half-t scale of each term's sd, named by its variance's parameter, where every
# term is a random intercept (1, as bglmm's prior resolves it for non-gaussian families);
# NULL otherwise.
halft_scales <- function(m) {
  f <- lme4::expandDoubleVerts(m$formula)
  rt <- lme4::mkReTrms(lme4::findbars(f), stats::model.frame(lme4::subbars(f), m$data))
  cn <- unlist(rt$cnms)
  if (any(cn != "(Intercept)") || m$family$family == "gaussian") return(NULL)
  stats::setNames(rep(1, length(cn)), sprintf("Sigma[%s:%s,%s]", names(rt$cnms), cn, cn))
}

compare_model <- function(model, chains, iter) {
  b <- cached_draws(model, "bglmm", chains, iter)
  s <- cached_draws(model, "stan_glmer", chains, iter)
  if (is.null(b) || is.null(s)) return(NULL)
  m <- load_model(model)
  pars <- intersect(dimnames(b)[[3]], dimnames(s)[[3]])
  summ <- function(a) {
    t(vapply(pars, function(p) {
      x <- a[, , p]
      c(mean = mean(x), sd = stats::sd(x), mcse_mean = posterior::mcse_mean(x),
        mcse_sd = posterior::mcse_sd(x))
    }, numeric(4)))
  }
  sb <- summ(b)
  ss <- summ(s)
  out <- data.frame(model = model, parameter = pars, bglmm_mean = sb[, "mean"],
                    stan_mean = ss[, "mean"], bglmm_sd = sb[, "sd"], stan_sd = ss[, "sd"],
                    d_mean = abs(sb[, "mean"] - ss[, "mean"]) / ss[, "sd"],
                    z_mean = (sb[, "mean"] - ss[, "mean"]) / sqrt(sb[, "mcse_mean"]^2 + ss[, "mcse_mean"]^2),
                    sd_ratio = sb[, "sd"] / ss[, "sd"],
                    z_sd = (sb[, "sd"] - ss[, "sd"]) / sqrt(sb[, "mcse_sd"]^2 + ss[, "mcse_sd"]^2),
                    row.names = NULL)
  sc <- halft_scales(m)
  out$z_mean_rw <- out$z_sd_rw <- out$stan_mean_rw <- out$stan_sd_rw <- NA_real_
  if (!is.null(sc) && all(names(sc) %in% dimnames(s)[[3]])) {
    aux <- aux_name(m$family)
    d <- if (!is.null(aux) && aux %in% dimnames(s)[[3]]) as.vector(s[, , aux]) else 1
    lw <- 0
    for (nm in names(sc)) lw <- lw + log_prior_ratio(as.vector(s[, , nm]), sc[[nm]], d)
    w <- exp(lw - max(lw))
    w <- w / sum(w)
    inflate <- sqrt(length(w) * sum(w^2))  # sqrt(draws / ESS of the weights)
    for (i in seq_along(pars)) {
      x <- as.vector(s[, , pars[i]])
      mu <- sum(w * x)
      sdw <- sqrt(sum(w * (x - mu)^2))
      out$stan_mean_rw[i] <- mu
      out$stan_sd_rw[i] <- sdw
      out$z_mean_rw[i] <- (sb[i, "mean"] - mu) / sqrt(sb[i, "mcse_mean"]^2 + (ss[i, "mcse_mean"] * inflate)^2)
      out$z_sd_rw[i] <- (sb[i, "sd"] - sdw) / sqrt(sb[i, "mcse_sd"]^2 + (ss[i, "mcse_sd"] * inflate)^2)
    }
    attr(out, "weights_ess") <- 1 / sum(w^2)
  }
  out
}

# The flag of a row: the reweighted z's where there are, else the raw ones.
flagged <- function(r, limit = 3.5) {
  zm <- ifelse(is.na(r$z_mean_rw), r$z_mean, r$z_mean_rw)
  zs <- ifelse(is.na(r$z_sd_rw), r$z_sd, r$z_sd_rw)
  abs(zm) > limit | abs(zs) > limit
}

if (sys.nframe() == 0L) {
  models <- trimws(strsplit(Sys.getenv("BENCH_MODELS"), ",")[[1]])
  if (!length(models)) stop("set BENCH_MODELS")
  chains <- env_int("BENCH_CHAINS", 2L)
  iter <- env_int("BENCH_ITER", 1000L)
  f <- function(x, d = 3) formatC(x, digits = d, format = "g")
  res <- list()
  for (model in models) {
    r <- compare_model(model, chains, iter)
    if (is.null(r)) {
      message(model, ": no cached draws of both samplers")
      next
    }
    res[[model]] <- r
    cat(sprintf("\n%s%s\n", model, if (!is.null(attr(r, "weights_ess")))
      sprintf(" (ESS of the reweighting: %.0f)", attr(r, "weights_ess")) else ""))
    p <- r[, -1]
    p[] <- lapply(p, function(v) if (is.numeric(v)) f(v) else v)
    p$flag <- ifelse(flagged(r), "*", "")
    print(p, row.names = FALSE, right = FALSE)
  }
  cat("\n| model | parameters | max d_mean | sd_ratio range | max abs z_mean | max abs z_sd | reweighted: max abs z_mean, z_sd | flagged |\n|---|---|---|---|---|---|---|---|\n")
  for (model in names(res)) {
    r <- res[[model]]
    rw <- if (all(is.na(r$z_mean_rw))) "" else sprintf("%.1f, %.1f", max(abs(r$z_mean_rw)), max(abs(r$z_sd_rw)))
    cat(sprintf("| %s | %d | %.2f | %.2f-%.2f | %.1f | %.1f | %s | %s |\n", model, nrow(r), max(r$d_mean),
                min(r$sd_ratio), max(r$sd_ratio), max(abs(r$z_mean)), max(abs(r$z_sd)), rw,
                if (any(flagged(r))) paste(r$parameter[flagged(r)], collapse = ", ") else "none"))
  }
  saveRDS(res, "bench/cache/agree.rds")
}
