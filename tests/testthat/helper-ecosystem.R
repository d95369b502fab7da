# Fits shared by the tests of bglmm with other packages (emmeans, broom.mixed / generics,
# the easystats packages, simulate, kfold): made once per test run, on first use. The data
# are named in the calls (nitrofen, lme4::sleepstudy, pulp) so that the packages that
# recover the data from the call, or refit the model, find them.
eco_fits <- new.env()

eco_fit <- function(name) {
  if (is.null(eco_fits[[name]])) {
    eco_fits[[name]] <- switch(name,
      pois = bglmm(live ~ conc * factor(brood) + (1 | flea), data = nitrofen, family = poisson,
                   chains = 2, iter = 500, refresh = 0, seed = 1),
      gauss = bglmm(Reaction ~ Days + (Days | Subject), data = lme4::sleepstudy,
                    chains = 2, iter = 500, refresh = 0, seed = 1),
      pulp = bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 300,
                   refresh = 0, seed = 3)
    )
  }
  eco_fits[[name]]
}

# Posterior medians of the columns of a draws matrix.
col_medians <- function(m) apply(m, 2, stats::median)
