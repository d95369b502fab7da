# Ctrl-C during sampling: the fit stops within about a second with a clear R error and the
# R session keeps working. Tested by sending SIGINT to a child R process.
test_that("SIGINT stops sampling quickly and leaves R usable", {
  skip_on_os("windows")
  skip_if_not_installed("processx")
  script <- tempfile(fileext = ".R")
  result <- tempfile()
  writeLines(c(
    "library(bglmm)",
    "set.seed(1)",
    "d <- data.frame(y = rpois(5000, 3), g = factor(rep(1:500, 10)))",
    "cat('STARTED\\n')",
    "r <- tryCatch(bglmm(y ~ 1 + (1 | g), data = d, family = poisson, iter = 1e7, thin = 1e4, chains = 2, refresh = 1000),",
    "              error = function(e) e)",
    sprintf("writeLines(c(conditionMessage(r), as.character(1 + 1), inherits(r, 'bglmm_interrupted')), '%s')", result)
  ), script)
  r_bin <- file.path(R.home("bin"), "R")
  p <- processx::process$new(r_bin, c("--no-save", "-q", "-f", script), stdout = "|", stderr = "|")
  on.exit(p$kill(), add = TRUE)
  out <- ""
  deadline <- Sys.time() + 60
  while (!grepl("iteration", out) && Sys.time() < deadline && p$is_alive()) {
    p$poll_io(500)
    out <- paste0(out, p$read_output())
  }
  expect_match(out, "Chain [12]: iteration")
  t0 <- Sys.time()
  p$interrupt()
  p$wait(10000)
  elapsed <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  expect_false(p$is_alive())
  expect_lt(elapsed, 3)
  msg <- readLines(result)
  expect_match(msg[1], "interrupted \\(Ctrl-C\\)")
  expect_identical(msg[2], "2")
  expect_identical(msg[3], "TRUE")
  expect_false(grepl("panicked", p$read_all_error()))
})
