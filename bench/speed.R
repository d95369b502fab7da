# Speed of bglmm's sampler alone: nanoseconds per observation per iteration, one chain on
# one core, on the large simulated models of bench/models.R. Run from the top folder:
# Rscript bench/speed.R (or make bench); results are kept in bench/RESULTS.md.
suppressPackageStartupMessages(library(bglmm))
if (!exists("bench_models")) source("bench/models.R")
rows <- lapply(c("poisson_100k", "bernoulli_50k_crossed"), function(nm) {
  m <- bench_models[[nm]]()
  fit <- bglmm(m$formula, data = m$data, family = m$family, chains = 1, cores = 1,
               iter = 1000, refresh = 0, seed = 1)
  s <- summary(fit, regex_pars = "^[^b]")
  data.frame(model = nm, n = nrow(m$data), seconds = round(fit$sampler$time, 2),
             ns_per_obs_iter = round(1e9 * fit$sampler$time / (nrow(m$data) * 1000), 1),
             min_ess_bulk = round(min(s$ess_bulk)), max_rhat = round(max(s$Rhat), 3))
})
print(do.call(rbind, rows), row.names = FALSE)
