# Fits the three course models with the default settings and prints their summaries.
# Run with `make demo` (which installs the package first) or `Rscript scripts/demo.R`.
library(bglmm)
set.seed(20240601)

heading <- function(text) cat("\n", strrep("=", 72), "\n", text, "\n", strrep("=", 72), "\n", sep = "")

heading("nitrofen: live ~ conc * brood + (1 | flea), Poisson")
fit_nitrofen <- bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson())
print(summary(fit_nitrofen))

heading("pulp: bright ~ 1 + (1 | operator), gaussian")
fit_pulp <- bglmm(bright ~ 1 + (1 | operator), data = pulp)
print(summary(fit_pulp))

heading("tumor: count ~ poly(x, 4) + (poly(x, 4) | mouse), Poisson")
fit_tumor <- bglmm(count ~ poly(x, 4) + (poly(x, 4) | mouse), data = tumor, family = poisson())
print(summary(fit_tumor))
