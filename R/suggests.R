# Helpers for the methods of bglmm on generics of suggested packages (emmeans, generics /
# broom.mixed, insight and the easystats packages): checking that a package a method needs
# is installed, and reusing the suggested packages' own methods for rstanarm's fits.

# Stops, naming the package to install, when a suggested package that `what` needs is not
# installed.
need_package <- function(pkg, what) {
  if (!requireNamespace(pkg, quietly = TRUE)) {
    stop(sprintf("%s needs the package '%s': install it, e.g. install.packages(\"%s\").",
                 what, pkg, pkg), call. = FALSE)
  }
  invisible(TRUE)
}

# The method for rstanarm's fits ("stanreg") of a generic of package `pkg`. bglmm fits name
# their parameters as rstanarm does ("(Intercept)", "b[(Intercept) g:1]", "Sigma[g:...]",
# "sigma") and have the accessors that such a method reads a fit through (as.data.frame(),
# formula(), family(), the insight methods below), so a method of this kind, called on a
# bglmm fit, gives the same shapes and meanings as on an rstanarm fit of the same model.
# Only methods that read nothing else of an rstanarm fit are used this way; the others have
# methods of their own (see easystats.R).
stanreg_method <- function(generic, pkg) {
  utils::getS3method(generic, "stanreg", envir = asNamespace(pkg))
}

# A data frame as a tibble when the tibble package is installed (it is whenever broom.mixed
# or ggplot2 is), as broom's tidiers return.
as_tibble_if_installed <- function(df) {
  if (requireNamespace("tibble", quietly = TRUE)) tibble::as_tibble(df) else df
}
