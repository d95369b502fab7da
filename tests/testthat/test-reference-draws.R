# For a given seed the draws stay bit-identical to those recorded before the sampler and
# the R code were restructured (helper-reference-fits.R, reference-draws.R): every family
# and structure, warmup adaptation included.
source(test_path("reference-draws.R"), local = TRUE)

d <- reference_data()
for (nm in names(reference_fits)) {
  test_that(sprintf("reference fit '%s' gives the recorded draws", nm), {
    expect_identical(suppressWarnings(draws_fingerprint(run_reference_fit(nm, d))),
                     reference_draws[[nm]])
  })
}
