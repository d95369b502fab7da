# Calls into the Rust glue crate (src/rust/glue). Written by hand: one wrapper per #[extendr] fn.

#' @useDynLib bglmm, .registration = TRUE
NULL

bglmm_sample <- function(spec, config) .Call(wrap__bglmm_sample, spec, config)
