# The models of bench/RESULTS.md's "models the project had not seen": added after the
# benchmark's own four, to check the sampler on designs it was not tuned on. Run with
#   BENCH_MODELS_FILE=bench/unseen_models.R BENCH_MODELS=sleep,cbpp,... Rscript bench/compare.R
# (each entry: a function of no arguments returning list(formula, family, data)).

bench_models$sleep <- function() {
  list(formula = Reaction ~ Days + (Days | Subject), family = gaussian(), data = lme4::sleepstudy)
}

bench_models$cbpp <- function() {
  list(formula = cbind(incidence, size - incidence) ~ period + (1 | herd), family = binomial(),
       data = lme4::cbpp)
}

bench_models$bern_factor <- function() {
  set.seed(3)
  n <- 600; g <- sample.int(30, n, TRUE); f <- factor(sample(c("lo", "mid", "hi"), n, TRUE))
  eta <- -0.2 + c(lo = 0, mid = 0.5, hi = 1)[as.character(f)] + rnorm(30, 0, 0.8)[g]
  list(formula = y ~ f + (1 | g), family = binomial(),
       data = data.frame(y = rbinom(n, 1, plogis(eta)), f = f, g = factor(g)))
}

bench_models$pois_offset <- function() {
  set.seed(4)
  n <- 500; g <- sample.int(25, n, TRUE); expo <- runif(n, 0.5, 5); x <- rnorm(n)
  eta <- log(expo) + 0.3 + 0.4 * x + rnorm(25, 0, 0.5)[g]
  list(formula = y ~ x + offset(log(expo)) + (1 | g), family = poisson(),
       data = data.frame(y = rpois(n, exp(eta)), x = x, expo = expo, g = factor(g)))
}

bench_models$dbl_bar <- function() {
  list(formula = Reaction ~ Days + (Days || Subject), family = gaussian(), data = lme4::sleepstudy)
}

bench_models$nested <- function() {
  list(formula = strength ~ 1 + (1 | batch/cask), family = gaussian(), data = lme4::Pastes)
}

bench_models$by_name <- function() {
  data("grouseticks", package = "lme4", envir = environment())
  list(formula = TICKS ~ YEAR + (1 | BROOD), family = "poisson", data = grouseticks)
}

bench_models$bern_fresp <- function() {
  set.seed(5)
  n <- 400; g <- sample.int(20, n, TRUE); x <- rnorm(n)
  y <- rbinom(n, 1, plogis(0.3 * x + rnorm(20)[g]))
  d <- data.frame(ans = factor(ifelse(y == 1, "yes", "no")), x = x, g = g)
  d$x[3] <- NA
  list(formula = ans ~ x + (1 | g), family = binomial, data = d)
}

bench_models$grp_inter <- function() {
  list(formula = strength ~ 1 + (1 | batch:cask), family = gaussian(), data = lme4::Pastes)
}

bench_models$grouse_full <- function() {
  d <- lme4::grouseticks
  d$HEIGHT <- as.numeric(scale(d$HEIGHT))
  list(formula = TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), family = poisson(), data = d)
}

bench_models$cbpp_obs <- function() {
  d <- lme4::cbpp; d$obs <- factor(seq_len(nrow(d)))
  list(formula = cbind(incidence, size - incidence) ~ period + (1 | herd) + (1 | obs), family = binomial(), data = d)
}

bench_models$sleep_big <- function() {
  set.seed(7); m <- 200; k <- 10
  d <- data.frame(Subject = factor(rep(1:m, each = k)), Days = rep(0:(k - 1), m))
  b <- MASS::mvrnorm(m, c(0, 0), matrix(c(600, 10, 10, 35), 2))
  d$Reaction <- 250 + b[d$Subject, 1] + (10 + b[d$Subject, 2]) * d$Days + rnorm(m * k, 0, 25)
  list(formula = Reaction ~ Days + (Days | Subject), family = gaussian(), data = d)
}

bench_models$verbagg <- function() {
  data("VerbAgg", package = "lme4", envir = environment())
  list(formula = r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), family = binomial(), data = VerbAgg)
}

bench_models$age_slope <- function() {
  set.seed(3); m <- 40; k <- 15; g <- rep(1:m, each = k); age <- rnorm(m * k, 50, 10)
  y <- rpois(m * k, exp(-1 + 0.02 * age + rnorm(m, 0, 0.4)[g]))
  list(formula = y ~ age + (age | g), family = poisson(), data = data.frame(y, age, g = factor(g)))
}

# A second batch of models the project had not seen (2026-11-25, fourth part): lme4's and
# MASS's and nlme's classic data sets, run as the first batch.
bench_models$dyestuff <- function() {
  list(formula = Yield ~ 1 + (1 | Batch), family = gaussian(), data = lme4::Dyestuff)
}

# the between-batch variance is estimated as zero by lmer
bench_models$dyestuff2 <- function() {
  list(formula = Yield ~ 1 + (1 | Batch), family = gaussian(), data = lme4::Dyestuff2)
}

bench_models$penicillin <- function() {
  list(formula = diameter ~ 1 + (1 | plate) + (1 | sample), family = gaussian(), data = lme4::Penicillin)
}

bench_models$cake <- function() {
  list(formula = angle ~ recipe * temperature + (1 | recipe:replicate), family = gaussian(), data = lme4::cake)
}

bench_models$arabid <- function() {
  list(formula = total.fruits ~ nutrient * amd + rack + status + (1 | popu) + (1 | gen),
       family = poisson(), data = lme4::Arabidopsis)
}

# a 4 x 4 covariance from 15 herds
bench_models$cbpp_slope <- function() {
  list(formula = cbind(incidence, size - incidence) ~ period + (period | herd), family = binomial(),
       data = lme4::cbpp)
}

bench_models$epil <- function() {
  d <- MASS::epil; d$obs <- factor(seq_len(nrow(d)))
  list(formula = y ~ lbase * trt + lage + V4 + (1 | subject) + (1 | obs), family = poisson(), data = d)
}

bench_models$epil1 <- function() {
  list(formula = y ~ lbase * trt + lage + V4 + (1 | subject), family = poisson(), data = MASS::epil)
}

bench_models$bacteria <- function() {
  list(formula = y ~ trt + I(week > 2) + (1 | ID), family = binomial(), data = MASS::bacteria)
}

# age not centred, a slope variance near zero
bench_models$orthodont <- function() {
  list(formula = distance ~ age * Sex + (age | Subject), family = gaussian(),
       data = as.data.frame(nlme::Orthodont))
}

bench_models$oxboys <- function() {
  list(formula = height ~ age + (age | Subject), family = gaussian(), data = as.data.frame(nlme::Oxboys))
}

# Third batch (2026-11-25): random slopes in Poisson and binomial models, and q = 3.
bench_models$epil_slope <- function() {
  list(formula = y ~ lbase * trt + lage + V4 + (V4 | subject), family = poisson(), data = MASS::epil)
}

bench_models$bacteria_slope <- function() {
  list(formula = y ~ trt + week + (week | ID), family = binomial(), data = MASS::bacteria)
}

# bernoulli, three correlated random coefficients in 40 groups of 50
bench_models$bern_q3 <- function() {
  set.seed(7)
  m <- 40; n <- 2000; g <- rep(seq_len(m), each = n / m); x1 <- rnorm(n); x2 <- rnorm(n)
  L <- t(chol(matrix(c(0.6, 0.1, -0.1, 0.1, 0.3, 0.05, -0.1, 0.05, 0.2), 3)))
  b <- t(L %*% matrix(rnorm(3 * m), 3))
  eta <- -0.3 + 0.5 * x1 - 0.4 * x2 + b[g, 1] + b[g, 2] * x1 + b[g, 3] * x2
  list(formula = y ~ x1 + x2 + (x1 + x2 | g), family = binomial(),
       data = data.frame(y = rbinom(n, 1, plogis(eta)), x1 = x1, x2 = x2, g = factor(g)))
}

bench_models$sleep_q3 <- function() {
  list(formula = Reaction ~ Days + I(Days^2) + (Days + I(Days^2) | Subject), family = gaussian(),
       data = lme4::sleepstudy)
}

# Fourth batch (2026-11-25): many fixed effects (each fixed-effects step moves 15-20
# coefficients over all rows).
bench_models$gauss_p20 <- function() {
  set.seed(6)
  n <- 2000; g <- sample.int(40, n, TRUE); X <- matrix(rnorm(n * 20), n)
  colnames(X) <- paste0("x", 1:20)
  d <- data.frame(X, g = factor(g))
  d$y <- drop(X %*% rnorm(20, 0, 0.3)) + rnorm(40)[g] + rnorm(n)
  list(formula = stats::reformulate(c(colnames(X), "(1 | g)"), "y"), family = gaussian(), data = d)
}

bench_models$pois_p15 <- function() {
  set.seed(7)
  n <- 4000; g <- sample.int(80, n, TRUE); X <- matrix(rnorm(n * 15), n)
  colnames(X) <- paste0("x", 1:15)
  d <- data.frame(X, g = factor(g))
  d$y <- rpois(n, exp(drop(0.5 + X %*% rnorm(15, 0, 0.2)) + rnorm(80, 0, 0.5)[g]))
  list(formula = stats::reformulate(c(colnames(X), "(x1 | g)"), "y"), family = poisson(), data = d)
}

# Fifth batch (issue 19): the new families and links on data sets the project had not used
# with them, as a new user would write the models (predictors as they come in the data).
# Run with BENCH_SAMPLERS=bglmm,stan_glmer; bench/agree.R compares the two posteriors.

# negative binomial, log link: ticks on red grouse chicks (HEIGHT in metres, not centred)
bench_models$nb_grouse <- function() {
  list(formula = TICKS ~ YEAR + HEIGHT + (1 | BROOD), family = "neg_binomial_2",
       data = lme4::grouseticks)
}

# negative binomial, log link: seizure counts (baseline count and age as they are)
bench_models$nb_epil <- function() {
  list(formula = y ~ trt + base + age + (1 | subject), family = "neg_binomial_2", data = MASS::epil)
}

# negative binomial with an exposure offset: car insurance claims, ordered factors (polynomial
# contrasts), 4 car groups as the random term
bench_models$nb_insurance <- function() {
  list(formula = Claims ~ District + Age + offset(log(Holders)) + (1 | Group),
       family = "neg_binomial_2", data = MASS::Insurance)
}

# negative binomial, sqrt link: insects after 6 sprays
bench_models$nb_sqrt_insect <- function() {
  list(formula = count ~ 1 + (1 | spray), family = neg_binomial_2_family("sqrt"),
       data = datasets::InsectSprays)
}

# Gamma, log link: chick weights over time, a random slope per chick
bench_models$gamma_chick <- function() {
  list(formula = weight ~ Time + (Time | Chick), family = Gamma(link = "log"),
       data = as.data.frame(datasets::ChickWeight))
}

# Gamma, log link: ozone (37 rows with NA ozone are dropped), 5 months
bench_models$gamma_airq <- function() {
  list(formula = Ozone ~ Temp + Wind + (1 | Month), family = Gamma(link = "log"),
       data = datasets::airquality)
}

# Gamma, inverse link: CO2 uptake as Michaelis-Menten, 1 / uptake linear in 1 / conc
bench_models$gamma_inv_co2 <- function() {
  list(formula = uptake ~ I(1 / conc) + (1 | Plant), family = Gamma(),
       data = as.data.frame(datasets::CO2))
}

# Gamma, identity link: alfalfa yields (tons per acre) by date of cutting, 6 blocks
bench_models$gamma_id_alfalfa <- function() {
  list(formula = Yield ~ Date + (1 | Block), family = Gamma(link = "identity"),
       data = as.data.frame(nlme::Alfalfa))
}

# binomial, probit link: cbpp
bench_models$probit_cbpp <- function() {
  list(formula = cbind(incidence, size - incidence) ~ period + (1 | herd),
       family = binomial(link = "probit"), data = lme4::cbpp)
}

# binomial, probit link, 0/1: infertility after abortions, 83 matched strata of 2-3 women
bench_models$probit_infert <- function() {
  list(formula = case ~ spontaneous + induced + (1 | stratum), family = binomial(link = "probit"),
       data = datasets::infert)
}

# binomial, cloglog link, cbind: oesophageal cancer cases and controls, ordered factors, a
# random intercept per age group (6)
bench_models$cloglog_esoph <- function() {
  list(formula = cbind(ncases, ncontrols) ~ alcgp + tobgp + (1 | agegp),
       family = binomial(link = "cloglog"), data = datasets::esoph)
}

# binomial, cloglog link, 0/1: a discrete-time event (did the patient relapse within the
# month) in 40 clinics, simulated
bench_models$cloglog_bern <- function() {
  set.seed(19)
  m <- 40; n <- 1200; clinic <- sample.int(m, n, TRUE)
  dose <- round(runif(n, 0, 4), 1); female <- rbinom(n, 1, 0.5)
  eta <- -1.6 - 0.35 * dose + 0.3 * female + rnorm(m, 0, 0.5)[clinic]
  list(formula = relapse ~ dose + female + (1 | clinic), family = binomial(link = "cloglog"),
       data = data.frame(relapse = rbinom(n, 1, 1 - exp(-exp(eta))), dose = dose,
                         female = female, clinic = factor(clinic)))
}

# poisson, sqrt link: warp breaks, 3 tensions as the random term
bench_models$pois_sqrt_warp <- function() {
  list(formula = breaks ~ wool + (1 | tension), family = poisson(link = "sqrt"),
       data = datasets::warpbreaks)
}

# poisson, identity link: birds counted at 30 sites, 6 visits each, additive in the share
# of woodland around the point (simulated)
bench_models$pois_id_birds <- function() {
  set.seed(23)
  m <- 30; site <- rep(seq_len(m), each = 6); wood <- rep(runif(m), each = 6)
  mu <- 3 + 6 * wood + rnorm(m, 0, 1)[site]
  list(formula = birds ~ wood + (1 | site), family = poisson(link = "identity"),
       data = data.frame(birds = rpois(length(mu), pmax(mu, 0.1)), wood = wood,
                         site = factor(site)))
}
