library(testthat)
library(bglmm)

test_check("bglmm")
