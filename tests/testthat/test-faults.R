# Faults: a panic inside Rust becomes a clear R error without panic text, and extreme data
# or starting values give finite draws (and a warning where the posterior is set by the
# prior: test-diagnostics.R).

test_that("a panic in the sampler is a clean R error and R keeps working", {
  skip_if_not_installed("processx")
  script <- tempfile(fileext = ".R")
  writeLines(c(
    "msg <- tryCatch(bglmm:::bglmm_sample(list(), list(debug_panic = TRUE)), error = function(e) conditionMessage(e))",
    "print(msg)",
    "cat('still alive', 1 + 1, '\\n')"
  ), script)
  r_bin <- file.path(R.home("bin"), "Rscript")
  out <- processx::run(r_bin, script, error_on_status = FALSE)
  expect_equal(out$status, 0L)
  expect_match(out$stdout, "internal error in bglmm's sampler")
  expect_match(out$stdout, "still alive 2")
  expect_false(grepl("panicked|deliberate panic|backtrace", paste(out$stdout, out$stderr)))
})

test_that("huge counts give finite draws near the truth", {
  set.seed(5)
  d <- data.frame(y = rpois(60, 1e6), x = rnorm(60), g = factor(rep(1:10, 6)))
  fit <- bglmm(y ~ x + (1 | g), d, family = poisson, chains = 2, iter = 600, refresh = 0, seed = 1)
  m <- as.matrix(fit)
  expect_true(all(is.finite(m)))
  # log(1e6) = 13.8155; the posterior sd of the intercept is about 1e-3 here
  expect_lt(abs(stats::median(m[, "(Intercept)"]) - log(1e6)), 0.01)
})

test_that("complete separation gives finite draws held by the prior, and a warning", {
  d <- data.frame(x = c(-3:-1, 1:3, -2, 2), g = factor(rep(1:4, 2)))
  d$y <- as.numeric(d$x > 0)
  expect_warning(
    fit <- bglmm(y ~ x + (1 | g), d, family = binomial, chains = 2, iter = 600, refresh = 0, seed = 1),
    "separate the outcome along x: the likelihood has no finite maximum"
  )
  m <- as.matrix(fit)
  expect_true(all(is.finite(m)))
  # the slope is positive but bounded by its normal prior (scale 2.5 / sd(x) = 1.1)
  expect_gt(stats::median(m[, "x"]), 0.5)
  expect_lt(max(m[, "x"]), 10)
})

test_that("extreme starting values still give finite draws that find the posterior", {
  set.seed(6)
  d <- data.frame(y = rpois(200, exp(1 + 0.5 * rnorm(200))), x = rnorm(200), g = factor(rep(1:20, 10)))
  # a prior location far from the data moves the starting values (the GLM start is
  # rejected when it is more than 4 prior sd from the prior location)
  fit <- bglmm(y ~ x + (1 | g), d, family = poisson, chains = 2, iter = 1000, refresh = 0, seed = 2,
               prior = bglmm_prior(intercept_location = 30, intercept_scale = 40))
  m <- as.matrix(fit)
  expect_true(all(is.finite(m)))
  expect_lt(abs(stats::median(m[, "(Intercept)"]) - log(mean(d$y))), 0.5)
})

test_that("a failed run is an R error with a class, raised by one function", {
  out <- bglmm:::bglmm_sample(list(), list(debug_panic = TRUE))
  expect_type(out$error, "character")
  expect_identical(out$error_class, "internal")
  expect_error(bglmm:::run_sampler(list(), list(debug_panic = TRUE), FALSE),
               "^Sampling failed: internal error in bglmm's sampler", class = "bglmm_sampler_error")
  err <- tryCatch(bglmm:::stop_sampler_error(out), error = identity)
  expect_s3_class(err, "bglmm_sampler_error")
  expect_null(conditionCall(err))
  # the kinds of the sampler's errors
  for (kind in c("invalid_model", "numerical", "internal")) {
    err <- tryCatch(bglmm:::stop_sampler_error(list(error = "why", error_class = kind)), error = identity)
    expect_s3_class(err, c(paste0("bglmm_", kind), "bglmm_sampler_error", "error", "condition"),
                    exact = TRUE)
    expect_identical(conditionMessage(err), "Sampling failed: why")
  }
  err <- tryCatch(bglmm:::stop_sampler_error(list(error = "Ctrl-C", error_class = "interrupted")),
                  error = identity)
  expect_s3_class(err, c("bglmm_interrupted", "bglmm_sampler_error"))
  expect_identical(conditionMessage(err), "Sampling was interrupted (Ctrl-C); no draws were kept.")
})

test_that("the sampler's own errors carry their kind: an invalid model is 'invalid_model'", {
  # a specification R would never send: a family the sampler does not know
  fit <- bglmm(live ~ conc + (1 | flea), data = nitrofen, family = poisson, chains = 1, iter = 4,
               warmup = 2, refresh = 0, seed = 1)
  spec <- list(family = "no_such_family", y = fit$y, trials = numeric(0), offset = numeric(0),
               x = fit$X, p = as.numeric(ncol(fit$X)), terms = list(),
               fixef_mean = c(0, 0), fixef_sd = c(1, 1), sigma_df = 1, sigma_scale = 1,
               link = "log", aux_rate = 1)
  config <- list(iter = 4, warmup = 2, thin = 1, sweeps = 1, save_ranef = TRUE, first_chain = 0,
                 chains = 1, cores = 1, seed = 1, refresh = 0, init_fixef = c(0, 0),
                 init_jitter = c(0, 0), init_aux = 1, par_names = colnames(fit$X))
  out <- bglmm:::bglmm_sample(spec, config)
  expect_identical(out$error_class, "invalid_model")
  expect_error(bglmm:::run_sampler(spec, config, FALSE), "no_such_family", class = "bglmm_invalid_model")
})
