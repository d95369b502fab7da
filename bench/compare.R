# Side-by-side benchmark (issue 6): the models of bench/models.R fitted with bglmm,
# rstanarm::stan_glmer and MCMCpack, with lme4::glmer's time for reference. Each fit runs in
# a fresh Rscript (bench/fit_one.R) on one core, so its peak memory can be read. Run from
# the top folder: Rscript bench/compare.R (or make bench). The full default run writes its
# table into bench/RESULTS.md; a quick run (any of the variables below set to another
# value) only prints, unless BENCH_WRITE=1.
#   BENCH_MODELS    comma-separated subset of the models (default: all)
#   BENCH_SAMPLERS  subset of bglmm,stan_glmer,mcmcpack,lme4 (default: all)
#   BENCH_ITER      iterations per chain, half of them warmup (default 1000)
#   BENCH_CHAINS    chains (default 2)
#   BENCH_ITER_BIG, BENCH_CHAINS_BIG  the same for models of more than 20,000 rows (default
#                   200 and 1: stan_glmer needs hours for 2 x 1000 there)
#   BENCH_TIMEOUT   seconds after which a fit is stopped (default 1200); its ESS/s is then
#                   reported as a bound: below kept draws / timeout
#   BENCH_REUSE=1   reuse the rows of earlier runs with the same settings (bench/cache/)
#   BENCH_MODELS_FILE  comma-separated R files sourced after bench/models.R, each adding
#                   entries to bench_models (see there); their models join the default list
#                   and the run only prints unless BENCH_WRITE=1
source("bench/fit_one.R")  # bench_models, load_model(), empty_row(), error_note()

defaults <- list(models = names(bench_models),
                 samplers = c("bglmm", "stan_glmer", "mcmcpack", "lme4"),
                 iter = 1000L, chains = 2L, iter_big = 200L, chains_big = 1L, timeout = 1200)

# Models with more rows than this use iter_big and chains_big.
big_n <- 20000

env_list <- function(name, default) {
  v <- Sys.getenv(name)
  if (nzchar(v)) trimws(strsplit(v, ",")[[1]]) else default
}

env_int <- function(name, default) {
  v <- Sys.getenv(name)
  if (nzchar(v)) as.integer(v) else default
}

settings <- list(models = env_list("BENCH_MODELS", defaults$models),
                 samplers = env_list("BENCH_SAMPLERS", defaults$samplers),
                 iter = env_int("BENCH_ITER", defaults$iter),
                 chains = env_int("BENCH_CHAINS", defaults$chains),
                 iter_big = env_int("BENCH_ITER_BIG", defaults$iter_big),
                 chains_big = env_int("BENCH_CHAINS_BIG", defaults$chains_big),
                 timeout = env_int("BENCH_TIMEOUT", defaults$timeout))

# Rows, iterations and chains for a model: the same for every sampler.
model_settings <- function(model, s) {
  n <- nrow(load_model(model)$data)
  big <- n > big_n
  list(n = n, iter = if (big) s$iter_big else s$iter,
       chains = if (big) s$chains_big else s$chains)
}

# One fit in a child process, stopped after s$timeout seconds; its output goes to
# bench/compare_MODEL_SAMPLER.log and its row to bench/cache/ (reused with BENCH_REUSE=1).
run_child <- function(model, sampler, s, ms) {
  dir.create("bench/cache", showWarnings = FALSE)
  cached <- sprintf("bench/cache/%s_%s_%dx%d.rds", model, sampler, ms$chains, ms$iter)
  if (Sys.getenv("BENCH_REUSE") == "1" && file.exists(cached)) return(readRDS(cached))
  out <- tempfile(fileext = ".rds")
  log <- sprintf("bench/compare_%s_%s.log", model, sampler)
  status <- system2("timeout", c(s$timeout, file.path(R.home("bin"), "Rscript"),
                                 "bench/fit_one.R", model, sampler, ms$iter, ms$chains, out),
                    stdout = log, stderr = log)
  row <- if (file.exists(out)) readRDS(out) else if (identical(status, 124L)) {
    timed_out_row(model, sampler, ms, s$timeout)
  } else {
    empty_row(model, sampler, sprintf("child failed (status %s), see %s", status, log))
  }
  row$iter <- ms$iter
  row$chains <- ms$chains
  saveRDS(row, cached)
  row
}

# A fit stopped at the timeout: its ESS cannot exceed about its kept draws, so its ESS/s is
# below kept / timeout (and other samplers' ratios to it are lower bounds).
timed_out_row <- function(model, sampler, ms, timeout) {
  row <- empty_row(model, sampler, sprintf("stopped after %d s; ESS/s is a bound", timeout))
  row$n <- ms$n
  row$seconds <- timeout
  row$kept <- ms$chains * (ms$iter - ms$iter %/% 2)
  row
}

# Derived columns: ESS/s, its ratio to stan_glmer's on the same model, ns per observation
# per iteration, and peak memory above the baseline relative to data + kept draws.
add_columns <- function(res, s) {
  res$bound <- startsWith(res$note, "stopped after")
  res$ess_per_s <- ifelse(res$bound, res$kept / res$seconds, res$min_ess / res$seconds)
  stan <- res[res$sampler == "stan_glmer", c("model", "ess_per_s", "bound")]
  at <- match(res$model, stan$model)
  res$vs_stan <- res$ess_per_s / stan$ess_per_s[at]
  res$vs_stan_bound <- !is.na(res$vs_stan) & stan$bound[at] & !res$bound
  draws <- res$kept > 0 & !res$bound
  res$ns_obs_iter <- ifelse(draws, 1e9 * res$seconds / (res$n * res$iter * res$chains), NA)
  res$data_draws_mb <- res$data_mb + 8 * res$kept * res$n_par / 2^20
  res$mem_ratio <- (res$peak_mb - res$base_mb) / res$data_draws_mb
  res
}

# A number rounded to d decimals, "NA" if missing.
r <- function(x, d) ifelse(is.na(x), "NA", formatC(x, format = "f", digits = d))

# The table as printed and written: rounded, "n/a" where a sampler does not apply.
format_table <- function(res) {
  out <- data.frame(model = res$model, n = res$n, sampler = res$sampler,
                    draws = paste0(res$chains, "x", res$iter - res$iter %/% 2),
                    seconds = paste0(ifelse(res$bound, ">", ""), r(res$seconds, 1)),
                    min_ess = r(res$min_ess, 0),
                    ess_per_s = paste0(ifelse(res$bound, "<", ""), r(res$ess_per_s, 2)),
                    vs_stan = paste0(ifelse(res$vs_stan_bound, ">", ""), r(res$vs_stan, 1)),
                    ns_obs_iter = r(res$ns_obs_iter, 0), peak_mb = r(res$peak_mb, 0),
                    base_mb = r(res$base_mb, 0), data_draws_mb = r(res$data_draws_mb, 2),
                    mem_ratio = r(res$mem_ratio, 1), note = res$note)
  na <- startsWith(res$note, "n/a")
  out[na, 5:13] <- "n/a"
  out
}

markdown_table <- function(tab) {
  esc <- function(x) gsub("|", "\\|", gsub("\n", " ", trimws(x)), fixed = TRUE)
  c(paste0("| ", paste(names(tab), collapse = " | "), " |"),
    paste0("|", strrep("---|", ncol(tab))),
    apply(tab, 1, function(row) paste0("| ", paste(esc(row), collapse = " | "), " |")))
}

# The issue's three targets for bglmm, each with its values per model.
targets <- function(res) {
  b <- res[res$sampler == "bglmm", ]
  yes <- function(ok) if (length(ok) && all(!is.na(ok) & ok)) "yes" else "no"
  p <- b[b$model == "poisson_100k", ]
  ratios <- paste(b$model, paste0(ifelse(b$vs_stan_bound, ">", ""), r(b$vs_stan, 1)), collapse = ", ")
  big <- !is.na(b$n) & b$n > big_n
  c(sprintf("- ESS/s >= 20 x stan_glmer on every model: %s (%s)", yes(b$vs_stan >= 20), ratios),
    if (nrow(p)) sprintf("- <= 20 ns/obs/iter on poisson_100k (bglmm, whole fitting call with its set-up): %s (%.0f)",
                         yes(p$ns_obs_iter <= 20), p$ns_obs_iter)
    else "- <= 20 ns/obs/iter on poisson_100k (bglmm): not run",
    if (any(big)) sprintf("- peak memory <= 3 x (data + kept draws) on the models of more than %s rows (bglmm): %s (%s)",
                          format(big_n, big.mark = ","), yes(b$mem_ratio[big] <= 3),
                          paste(b$model[big], r(b$mem_ratio[big], 1), collapse = ", "))
    else sprintf("- peak memory <= 3 x (data + kept draws) (bglmm): no model of more than %s rows run",
                 format(big_n, big.mark = ",")))
}

machine <- function() {
  cpu <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1]
  ver <- function(p) tryCatch(as.character(utils::packageVersion(p)), error = function(e) "missing")
  commit <- tryCatch(system2("git", c("describe", "--always", "--dirty"), stdout = TRUE,
                             stderr = FALSE), error = function(e) "?", warning = function(w) "?")
  c(sprintf("%d cores (nproc), %s, %s", parallel::detectCores(), sub(".*:\\s*", "", cpu),
            R.version.string),
    sprintf("bglmm %s (commit %s), rstanarm %s, MCMCpack %s, lme4 %s, posterior %s",
            ver("bglmm"), commit[1], ver("rstanarm"), ver("MCMCpack"), ver("lme4"),
            ver("posterior")))
}

loadavg <- function() paste(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3], collapse = " ")

section <- function(tab, res, s, load) {
  c("<!-- compare:start -->", "## Side by side (bench/compare.R)", "",
    sprintf("Measured %s on: %s.", format(Sys.Date()), paste(machine(), collapse = "; ")),
    sprintf("Load average (1, 5, 15 min) at start %s, at end %s.", load[1], load[2]), "",
    sprintf(paste("Settings: the same for every sampler on a model: %d chains of %d iterations",
                  "(half warmup) on models of up to %s rows, %d x %d on larger ones (`draws`:",
                  "chains x kept draws per chain); one core; default priors; each fit in a",
                  "fresh Rscript, stopped after %d s (then `seconds` is a lower bound, its",
                  "ESS/s the upper bound kept draws / seconds, and the others' `vs_stan` a",
                  "lower bound)."),
            s$chains, s$iter, format(big_n, big.mark = ","), s$chains_big, s$iter_big, s$timeout),
    paste("MCMCpack: MCMChregress, MCMChpoisson or MCMChlogit, chains one after another",
          "(burnin and mcmc = half of iter each), inverse-Wishart(q, q I) prior; its Poisson",
          "and logit models have an extra observation-level overdispersion variance. They",
          "take one random-effects term, a 0/1 binomial response and no offset; other models",
          "are n/a. MCMChregress is given y / sd(y) (on data with a residual sd of more than",
          "a few units its chains drift off) and its draws are scaled back. lme4::glmer (lmer",
          "for gaussian): time only."),
    paste("seconds: the whole fitting call; min_ess: min bulk ESS over the fixed effects,",
          "covariance parameters and gaussian sigma; vs_stan: ESS/s over stan_glmer's; ns_obs_iter:",
          "seconds / (n x iter x chains); peak_mb: peak resident memory of the fit's process,",
          "base_mb: with packages and data loaded; data_draws_mb: the data frame plus 8",
          "bytes x kept draws x parameters kept; mem_ratio: (peak - base) / data_draws_mb."),
    "", markdown_table(tab), "", targets(res), "<!-- compare:end -->")
}

# Replace the marked section of bench/RESULTS.md, or append it.
write_results <- function(lines, path = "bench/RESULTS.md") {
  old <- readLines(path)
  a <- grep("<!-- compare:start -->", old, fixed = TRUE)
  b <- grep("<!-- compare:end -->", old, fixed = TRUE)
  new <- if (length(a) && length(b)) {
    c(old[seq_len(a[1] - 1)], lines, old[-seq_len(b[1])])
  } else {
    c(old, "", lines)
  }
  writeLines(new, path)
}

main <- function(s) {
  bad <- c(setdiff(s$models, names(bench_models)), setdiff(s$samplers, names(samplers)))
  if (length(bad)) stop("unknown model or sampler: ", paste(bad, collapse = ", "))
  load <- loadavg()
  res <- NULL
  for (model in s$models) {
    ms <- tryCatch(model_settings(model, s), error = function(e) e)
    for (sampler in s$samplers) {
      row <- if (!inherits(ms, "error")) run_child(model, sampler, s, ms) else {
        note <- sub("^error:", "error: building the model:", error_note(ms))
        cbind(empty_row(model, sampler, note),
              iter = NA_integer_, chains = NA_integer_)
      }
      message(sprintf("%s / %s: %s s %s", model, sampler, format(row$seconds), row$note))
      res <- rbind(res, row)
    }
  }
  res <- add_columns(res, s)
  tab <- format_table(res)
  old <- options(width = 250)
  print(tab, row.names = FALSE, right = FALSE)
  options(old)
  writeLines(c("", targets(res)))
  quick <- !identical(s, defaults) || nzchar(Sys.getenv("BENCH_MODELS_FILE"))
  if (!quick || Sys.getenv("BENCH_WRITE") == "1") {
    write_results(section(tab, res, s, c(load, loadavg())))
    message("Written to bench/RESULTS.md")
  } else {
    message("Quick run: bench/RESULTS.md not written (BENCH_WRITE=1 writes it).")
  }
  invisible(res)
}

if (sys.nframe() == 0L) main(settings)  # run as a script, not sourced
