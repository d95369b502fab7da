# future = TRUE: one future per chain, with the same draws as the threaded run.

skip_if_not_installed("future")
skip_if_not_installed("future.apply")

nitro_future <- function(future, chains = 3, ...) {
  bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson,
        chains = chains, iter = 300, refresh = 0, future = future, ...)
}

test_that("future = TRUE under plan(sequential) gives the draws of the threaded run", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  threaded <- nitro_future(FALSE, seed = 21)
  futures <- nitro_future(TRUE, seed = 21)
  expect_identical(futures$draws, threaded$draws)
  expect_identical(futures$accept, threaded$accept)
  expect_true(futures$sampler$future)
  expect_false(threaded$sampler$future)
  # the seed drawn from R's generator is the same too, and the draws with it
  set.seed(5)
  a <- nitro_future(FALSE, chains = 2)
  set.seed(5)
  b <- nitro_future(TRUE, chains = 2)
  expect_identical(b$draws, a$draws)
  # gaussian, save_ranef = FALSE, through the option
  op <- options(bglmm.future = TRUE)
  on.exit(options(op), add = TRUE)
  g1 <- bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 200, refresh = 0,
              seed = 3, save_ranef = FALSE)
  expect_true(g1$sampler$future)
  g0 <- update(g1, future = FALSE)
  expect_identical(g1$draws, g0$draws)
})

test_that("future = TRUE under plan(multisession) gives the draws of the threaded run", {
  skip_on_cran()
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  ok <- tryCatch({
    future::plan(future::multisession, workers = 2)
    pids <- future.apply::future_sapply(1:2, function(i) Sys.getpid(), future.seed = NULL,
                                        future.chunk.size = 1L)
    all(pids != Sys.getpid())
  }, error = function(e) FALSE)
  if (!isTRUE(ok)) skip("could not start multisession workers")
  threaded <- nitro_future(FALSE, seed = 22)
  futures <- nitro_future(TRUE, seed = 22)
  expect_identical(futures$draws, threaded$draws)
  expect_identical(futures$accept, threaded$accept)
})

test_that("a failing chain in a future is the same R error as in threads", {
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  # an empty model specification: the sampler returns an error for every chain
  config <- list(chains = 2, cores = 1, first_chain = 0, refresh = 0)
  threaded <- tryCatch(bglmm:::run_sampler(list(), config, FALSE), error = conditionMessage)
  futures <- tryCatch(bglmm:::run_sampler(list(), config, TRUE), error = conditionMessage)
  expect_match(threaded, "^Sampling failed: ")
  expect_identical(futures, threaded)
  expect_error(bglmm:::run_sampler(list(), config, TRUE), class = "bglmm_sampler_error")
})

test_that("the future argument is checked", {
  expect_error(nitro_future(NA, seed = 1), "'future' must be TRUE or FALSE")
  expect_error(nitro_future("yes", seed = 1), "'future' must be TRUE or FALSE")
})
