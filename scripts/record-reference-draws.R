# Records the draws of the reference fits (tests/testthat/helper-reference-fits.R) in
# tests/testthat/reference-draws.R. Run from the package directory with bglmm installed:
#   Rscript scripts/record-reference-draws.R
# Only when a change of the draws is intended (and said so in NEWS.md): the record is what
# test-reference-draws.R compares every build with.
library(bglmm)
source("tests/testthat/helper-reference-fits.R")
d <- reference_data()
rec <- lapply(stats::setNames(nm = names(reference_fits)), function(nm) {
  suppressWarnings(draws_fingerprint(run_reference_fit(nm, d)))
})
out <- "tests/testthat/reference-draws.R"
writeLines(c(
  "# Fingerprints of the reference fits' draws (helper-reference-fits.R), recorded by",
  sprintf("# scripts/record-reference-draws.R at %s.",
          system("git rev-parse --short HEAD", intern = TRUE)),
  paste("reference_draws <-", paste(deparse(rec, width.cutoff = 500L), collapse = "\n"))
), out)
cat("wrote", out, "\n")
