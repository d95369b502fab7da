# Large simulation-based calibration run for bglmm: `make validate` (SBC_SIMS, SBC_CORES).
#
#   Rscript validation/run.R            # from the package source directory
#
# Uses the harness of tests/testthat/helper-sbc.R (the quick version runs in `make test`).
# Writes validation/RESULTS.md and validation/ranks-<family>-<structure>.png; keeps the raw
# ranks in validation/cache/ (git-ignored, per commit) so an interrupted run resumes where it
# stopped.
# Environment: SBC_SIMS (simulations per configuration, default 500), SBC_CORES (forked
# workers, default 2), SBC_L (thinned draws per fit, default 19), SBC_CONFIGS (a regular
# expression selecting configurations, e.g. "poisson"; default all 30).

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", grep("^--file=", args, value = TRUE))
root <- normalizePath(file.path(dirname(if (length(script)) script else "validation/run.R"), ".."))
vdir <- file.path(root, "validation")
source(file.path(root, "tests", "testthat", "helper-sbc.R"))
suppressPackageStartupMessages(library(bglmm))

env_int <- function(name, default) {
  v <- suppressWarnings(as.integer(Sys.getenv(name, as.character(default))))
  if (is.na(v) || v < 1L) stop(sprintf("%s must be a positive whole number.", name), call. = FALSE)
  v
}
n_sims <- env_int("SBC_SIMS", 500L)
cores <- env_int("SBC_CORES", 2L)
L <- env_int("SBC_L", 19L)
configs <- sbc_all_configs()
sel <- Sys.getenv("SBC_CONFIGS", "")
if (nzchar(sel)) configs <- configs[grepl(sel, names(configs))]
if (!length(configs)) stop("SBC_CONFIGS selects no configuration.", call. = FALSE)
alpha <- 0.01
# Bonferroni over every tested quantity of every configuration run
n_tests <- sum(vapply(configs, function(cfg) length(sbc_quantity_names(cfg)), 0L))
bins <- sbc_bins(n_sims, L, min_expected = 10)
dir.create(file.path(vdir, "cache"), showWarnings = FALSE)
# the cache is per commit: ranks of another commit's sampler would be reported as this one's.
# The commit is the last one that changed what the ranks depend on (the sampler, the R code,
# the harness), so editing this script's text or the docs does not discard the cached ranks.
commit <- tryCatch(system2("git", c("-C", shQuote(root), "log", "-1", "--format=%h", "--", "src", "R",
                                    "DESCRIPTION", "tests/testthat/helper-sbc.R"), stdout = TRUE, stderr = FALSE),
                   error = function(e) "unknown", warning = function(w) "unknown")
if (!length(commit)) commit <- "unknown"

cat(sprintf("SBC: %d configurations x %d simulations, L = %d, %d workers\n",
            length(configs), n_sims, L, cores))
runs <- list()
for (cfg in configs) {
  cache <- file.path(vdir, "cache", sprintf("%s-%s-n%d-L%d-%s.rds", cfg$family, cfg$structure, n_sims, L, commit[1]))
  if (file.exists(cache)) {
    runs[[cfg$name]] <- readRDS(cache)
    cat(sprintf("  %-20s (cached)\n", cfg$name))
    next
  }
  run <- sbc_run(cfg, n_sims, L = L, cores = cores)
  saveRDS(run, cache)
  runs[[cfg$name]] <- run
  cat(sprintf("  %-20s %6.0f s, %d failed fits\n", cfg$name, attr(run, "seconds"), length(attr(run, "errors"))))
}

# ---- table ------------------------------------------------------------------------------

threshold <- alpha / n_tests
rows <- list()
for (nm in names(runs)) {
  run <- runs[[nm]]
  p <- sbc_pvalues(run, bins)
  ok <- stats::complete.cases(run)
  for (k in names(p)) {
    r <- run[ok, k]
    rows[[length(rows) + 1L]] <- data.frame(
      config = nm, quantity = k, n = sum(ok), mean_rank = mean(r) / L, p = p[[k]],
      stringsAsFactors = FALSE)
  }
}
tab <- do.call(rbind, rows)
tab$flag <- ifelse(tab$p < threshold, "**FAIL**", "")
fmt_p <- function(p) ifelse(p < 1e-3, formatC(p, format = "e", digits = 1), formatC(p, format = "f", digits = 3))

summary_rows <- lapply(names(runs), function(nm) {
  run <- runs[[nm]]
  t <- tab[tab$config == nm, ]
  ess <- run[, "ess_loglik"]
  data.frame(config = nm, sims = nrow(run), failed = length(attr(run, "errors")),
             seconds = round(attr(run, "seconds")), min_p = min(t$p),
             worst = t$quantity[which.min(t$p)], n_fail = sum(t$p < threshold),
             ess_median = round(stats::median(ess, na.rm = TRUE)),
             ess_low = sum(ess < 50, na.rm = TRUE), stringsAsFactors = FALSE)
})
summ <- do.call(rbind, summary_rows)

# ---- rank histograms --------------------------------------------------------------------

png_device <- function(file, width, height) {
  if (requireNamespace("ragg", quietly = TRUE)) {
    ragg::agg_png(file, width = width, height = height, units = "in", res = 100)
  } else {
    grDevices::png(file, width = width, height = height, units = "in", res = 100, type = "cairo")
  }
}

plot_ranks <- function(run, nm, file) {
  q <- setdiff(colnames(run), "ess_loglik")
  ok <- stats::complete.cases(run)
  width <- (L + 1L) %/% bins
  n <- sum(ok)
  # 99% band of a bin count under uniformity (binomial(n, 1 / bins)), per bin
  band <- stats::qbinom(c(0.005, 0.995), n, 1 / bins)
  nc <- min(4L, length(q))
  nr <- ceiling(length(q) / nc)
  png_device(file, width = 3 * nc, height = 2.4 * nr + 0.4)
  on.exit(grDevices::dev.off())
  graphics::par(mfrow = c(nr, nc), mar = c(3, 3, 2.2, 0.5), mgp = c(1.8, 0.5, 0), oma = c(0, 0, 2, 0))
  for (k in q) {
    counts <- tabulate(run[ok, k] %/% width + 1L, bins)
    p <- sbc_chisq_p(run[ok, k], L, bins)
    bad <- p < threshold
    ylim <- c(0, max(counts, band[2]) * 1.08)
    graphics::plot.new()
    graphics::plot.window(xlim = c(0, bins), ylim = ylim, xaxs = "i", yaxs = "i")
    graphics::rect(0, band[1], bins, band[2], col = "grey88", border = NA)
    graphics::rect(seq_len(bins) - 1, 0, seq_len(bins), counts, col = if (bad) "#d7301f" else "#6baed6",
                   border = "white")
    graphics::abline(h = n / bins, lty = 2)
    graphics::abline(h = band, lty = 3, col = "grey40")
    graphics::axis(1, at = seq(0, bins, length.out = 5), labels = round(seq(0, L + 1, length.out = 5)))
    graphics::axis(2)
    graphics::title(main = sprintf("%s\np = %s", k, fmt_p(p)), xlab = "rank", ylab = "count", cex.main = 0.85)
  }
  graphics::mtext(sprintf("%s: %d simulations, ranks 0..%d in %d bins; grey / dotted: 99%% band of a bin count",
                          nm, n, L, bins), outer = TRUE, cex = 0.9)
}

images <- character()
for (nm in names(runs)) {
  f <- sprintf("ranks-%s.png", sub("/", "-", nm))
  plot_ranks(runs[[nm]], nm, file.path(vdir, f))
  images[nm] <- f
}

# ---- RESULTS.md -------------------------------------------------------------------------

md <- c(
  "# Simulation-based calibration of bglmm",
  "",
  sprintf("Generated by `make validate` (validation/run.R) on %s, bglmm %s, git commit %s, R %s.",
          format(Sys.Date()), as.character(utils::packageVersion("bglmm")), commit[1], getRversion()),
  "",
  sprintf("**Simulations: %d per configuration** (%d configurations, %d simulations in all).",
          n_sims, length(runs), n_sims * length(runs)),
  "",
  "Each simulation draws all parameters from the prior the fit uses (read back from the fit's",
  "resolved prior with `autoscale = FALSE`), simulates the response on a fixed design, fits with",
  sprintf("1 chain of 1000 iterations (400 warmup) and ranks the true value of each quantity among %d", L),
  sprintf("evenly spaced posterior draws (rank 0..%d). Uniformity: chi-square test on %d bins of %d ranks;",
          L, bins, (L + 1L) %/% bins),
  sprintf("Bonferroni over all %d tested quantities at family-wise level %g (flag: p < %.2g).",
          n_tests, alpha, threshold),
  "`mean rank` is the mean rank divided by L (0.5 under uniformity; > 0.5 means the posterior",
  "sits below the truth). `ESS` is a crude effective sample size of the log-likelihood over the",
  "600 kept draws of each fit (median over simulations, and how many fits had ESS < 50).",
  "",
  "Designs: random intercept `y ~ x + (1 | g)`, 12 groups x 6 rows; correlated intercept and",
  "slope `y ~ x + (1 + x | g)`, 15 groups x 8 rows; crossed `y ~ x + (1 | g1) + (1 | g2)`, 10 x 8",
  "levels, one row per cell; group-level `y ~ x + (1 | g)` with x constant within each of 12",
  "groups x 6 rows; nested `y ~ x + (1 | a/b)`, 4 levels of a x 3 of b x 4 rows; three",
  "correlated coefficients (slope3) `y ~ x + x2 + (1 + x + x2 | g)`, 20 groups x 8 rows; sparse",
  "`y ~ x + (1 | g)` with one row in each of 6 groups (the data say little about the extra",
  "parameter, so its prior and the Jacobian of its log-scale step weigh in the posterior).",
  "x (and x2) have sd 1 and mean 0 (x has mean 1 in the group-level structure).",
  "Families and links: gaussian (identity), poisson (log), binomial (logit; `probit` and",
  "`cloglog` are binomial with those links), bernoulli (logit, 0/1), neg_binomial_2 (log) and",
  "Gamma (log); binomial trials are 1..8 per row. The five structures run with the four",
  "original families; the families of issue 19 run in the combinations of the table.",
  "Priors: intercept N(0, 1), slope N(0, 0.75^2); covariance: Huang-Wand with sd_scale 0.5 and",
  "sd_df 2 (sd_df 4 for poisson and neg_binomial_2, whose log link makes half-t(2) draws give",
  "counts up to 1e28) for the intercept, slope, group-level, slope3 and sparse structures,",
  "inverse-Wishart(4, 0.5) for the crossed and nested structures; gaussian",
  "sigma^2 ~ scaled-inv-chi^2(4, 1); the extra parameter of neg_binomial_2",
  "(`reciprocal_dispersion`) and Gamma (`shape`) ~ exponential(0.5), mean 2 (the package",
  "default is exponential(1)). Gamma responses that underflow to 0 (a tiny shape) are kept",
  "at the smallest positive double.",
  "",
  "validation/README.md describes the harness and shows that the quick version in `make test`",
  "fails for a wrong inverse-Wishart degrees of freedom, for a wrong Metropolis ratio and for",
  "a missing Jacobian in the extra parameter's step.",
  "",
  "## Summary",
  "",
  "| configuration | sims | failed fits | time (s) | min p | worst quantity | flagged | ESS median | ESS < 50 |",
  "|---|---:|---:|---:|---:|---|---:|---:|---:|",
  sprintf("| %s | %d | %d | %d | %s | %s | %d | %d | %d |", summ$config, summ$sims, summ$failed,
          as.integer(summ$seconds), fmt_p(summ$min_p), summ$worst, summ$n_fail, as.integer(summ$ess_median),
          summ$ess_low),
  "",
  if (any(tab$p < threshold)) {
    c(sprintf("**%d quantities fail the multiplicity-corrected test:** %s.", sum(tab$p < threshold),
              paste(sprintf("%s %s (p = %s)", tab$config[tab$p < threshold], tab$quantity[tab$p < threshold],
                            fmt_p(tab$p[tab$p < threshold])), collapse = "; ")), "")
  } else {
    c("No quantity fails the multiplicity-corrected test.", "")
  },
  if (sum(summ$failed)) {
    errs <- unlist(lapply(runs, function(r) attr(r, "errors")))
    c(sprintf("Failed fits (%d): %s", length(errs), paste(utils::head(errs, 5), collapse = "; ")), "")
  },
  "## All quantities",
  "",
  "| configuration | quantity | n | mean rank | p | |",
  "|---|---|---:|---:|---:|---|",
  sprintf("| %s | `%s` | %d | %.3f | %s | %s |", tab$config, tab$quantity, tab$n, tab$mean_rank,
          fmt_p(tab$p), tab$flag),
  "",
  "## Rank histograms",
  "",
  unlist(lapply(names(images), function(nm) c(sprintf("### %s", nm), "", sprintf("![%s](%s)", nm, images[[nm]]), "")))
)
writeLines(md, file.path(vdir, "RESULTS.md"))
cat(sprintf("Wrote %s (%d quantities flagged at p < %.2g).\n", file.path(vdir, "RESULTS.md"),
            sum(tab$p < threshold), threshold))
