# Calls into the Rust glue crate (src/rust/glue). Written by hand: one wrapper per #[extendr] fn.

#' @useDynLib bglmm, .registration = TRUE
NULL

bglmm_sample <- function(spec, config) .Call(wrap__bglmm_sample, spec, config)

bglmm_release_memory <- function() .Call(wrap__bglmm_release_memory)

bglmm_column_sd <- function(m, nrow) .Call(wrap__bglmm_column_sd, m, nrow)

bglmm_same_column <- function(x, j, z, k, nrow) .Call(wrap__bglmm_same_column, x, j, z, k, nrow)
