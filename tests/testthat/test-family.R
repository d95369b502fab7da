# The table of families (R/family-table.R, read through R/family.R): every entry complete,
# resolved by bglmm_family(), and its functions agree with the stats distributions they stand for.

test_that("every family of the table has every field, and bglmm_family() accepts its links", {
  fams <- bglmm:::families
  fields <- c("links", "bounded_links", "family_object", "glm_family", "sampler", "aux", "weights",
              "response", "valid_mean", "response_scale", "response_location", "aux_prior", "aux_init",
              "glm_dispersion", "separation", "log_density", "simulate", "residual_variance")
  expect_identical(names(fams), c("gaussian", "poisson", "binomial", "neg_binomial_2", "Gamma"))
  # the links of the issue, with stats' default first
  expect_identical(fams$gaussian$links, c("identity", "log", "inverse"))
  expect_identical(fams$poisson$links, c("log", "identity", "sqrt"))
  expect_identical(fams$binomial$links, c("logit", "probit", "cloglog", "cauchit", "log"))
  expect_identical(fams$neg_binomial_2$links, c("log", "identity", "sqrt"))
  expect_identical(fams$Gamma$links, c("inverse", "log", "identity"))
  # the sampler's names (the contract with the Rust side)
  sampler_links <- c("identity", "log", "sqrt", "inverse", "logit", "probit", "cloglog", "cauchit")
  expect_identical(vapply(fams, function(f) f$sampler, ""), stats::setNames(names(fams), names(fams)))
  for (nm in names(fams)) {
    expect_true(all(fields %in% names(fams[[nm]])), label = nm)
    expect_true(all(fams[[nm]]$links %in% sampler_links), label = nm)
    expect_true(all(fams[[nm]]$bounded_links %in% fams[[nm]]$links), label = nm)
    if (is.null(fams[[nm]]$weights)) expect_type(fams[[nm]]$no_weights, "character")
    # the name alone: the default link
    expect_identical(bglmm:::bglmm_family(nm)$link, fams[[nm]]$links[1], label = nm)
    for (link in fams[[nm]]$links) {
      objects <- list(fams[[nm]]$family_object(link))
      if (nm != "neg_binomial_2") objects <- c(objects, list(get(nm, asNamespace("stats"))(link = link)))
      for (f in objects) {
        fam <- bglmm:::bglmm_family(f)
        expect_s3_class(fam, "family")
        expect_identical(c(fam$family, fam$link), c(nm, link))
        expect_identical(bglmm:::family_spec_name(fam), fams[[nm]]$sampler)
        expect_identical(bglmm:::family_link(fam), link)
        expect_true(bglmm:::is_glm_family(fam))
      }
    }
  }
})

test_that("nb2(), the string, rstanarm's, brms's and glmmTMB's objects give the same neg_binomial_2", {
  same_nb <- function(f, link = "log") {
    fam <- bglmm:::bglmm_family(f)
    expect_identical(class(fam), "family")
    expect_identical(c(fam$family, fam$link), c("neg_binomial_2", link))
    eta <- c(0.5, 1, 2)
    ref <- poisson(link = link)
    expect_identical(fam$linkinv(eta), ref$linkinv(eta))
    expect_identical(fam$linkfun(eta), ref$linkfun(eta))
    expect_identical(fam$mu.eta(eta), ref$mu.eta(eta))
    expect_identical(fam$variance(eta, 2), eta + eta^2 / 2)
  }
  same_nb(nb2())
  same_nb(nb2)
  same_nb("neg_binomial_2")
  for (link in c("identity", "sqrt")) {
    same_nb(nb2(link), link)
    same_nb(nb2(link = link), link)
  }
  same_nb(nb2(sqrt), "sqrt")
  # brms's negbinomial() (a "brmsfamily" without mu.eta or variance) and glmmTMB's nbinom2(),
  # as those packages build them
  brms_nb <- structure(list(family = "negbinomial", link = "log", linkfun = log, linkinv = exp,
                            dpars = c("mu", "shape"), link_shape = "log"),
                       class = c("brmsfamily", "family"))
  same_nb(brms_nb)
  tmb_nb <- structure(c(list(family = "nbinom2", variance = function(mu, theta) mu * (1 + mu / theta)),
                        list(link = "sqrt"), make.link("sqrt")), class = "family")
  same_nb(tmb_nb, "sqrt")
  # glmmTMB's nbinom1 is another model
  expect_error(bglmm:::bglmm_family(structure(list(family = "nbinom1", link = "log"), class = "family")),
               "The family 'nbinom1' is not supported")
  expect_error(nb2("inverse"), "supports only the links 'log', 'identity' or 'sqrt', not 'inverse'")
  skip_if_not_installed("rstanarm")
  # rstanarm is not a dependency (not even suggested): its function is taken from its namespace
  neg_binomial_2 <- getExportedValue("rstanarm", "neg_binomial_2")
  same_nb(neg_binomial_2())
  same_nb(neg_binomial_2)
  same_nb(neg_binomial_2(link = "identity"), "identity")
  expect_identical(bglmm:::bglmm_family(neg_binomial_2())$family, neg_binomial_2()$family)
})

test_that("a stats family object of the table is kept as given; others are rebuilt", {
  g <- Gamma(link = "log")
  expect_identical(bglmm:::bglmm_family(g), g)
  b <- binomial(link = "cloglog")
  expect_identical(bglmm:::bglmm_family(b), b)
  expect_identical(bglmm:::bglmm_family(Gamma)$link, "inverse")
  expect_identical(bglmm:::bglmm_family("binomial")$link, "logit")
})

test_that("what differs by family is read from the table", {
  g <- gaussian(); p <- poisson(); b <- binomial()
  expect_identical(bglmm:::family_aux_name(g), "sigma")
  expect_null(bglmm:::family_aux_name(p))
  expect_null(bglmm:::family_aux_name(b))
  expect_identical(vapply(list(g, p, b), bglmm:::family_uses_trials, NA), c(FALSE, FALSE, TRUE))
  expect_identical(vapply(list(g, p, b), bglmm:::family_precision_weights, NA), c(TRUE, FALSE, FALSE))
  expect_null(bglmm:::family_separation(g))
  expect_true(bglmm:::family_separation(p)$near_boundary(1e-5))
  expect_true(bglmm:::family_separation(b)$near_boundary(1 - 1e-5))
  expect_identical(bglmm:::family_observed(b, c(1, 0, 3), c(2, 0, 3)), c(0.5, NA, 1))
  expect_identical(bglmm:::family_observed(p, c(1, 0), c(2, 0)), c(1, 0))
  # the extra parameter's draws, from a draws matrix or array, in the order of as.matrix()
  a <- array(as.numeric(1:12), c(3, 2, 2), dimnames = list(NULL, NULL, c("x", "sigma")))
  m <- matrix(a, 6, 2, dimnames = list(NULL, c("x", "sigma")))
  expect_identical(bglmm:::family_aux_draws(g, a), as.numeric(7:12))
  expect_identical(bglmm:::family_aux_draws(g, m), as.numeric(7:12))
  expect_null(bglmm:::family_aux_draws(p, m))
})

test_that("the family's density, simulation and residual variance are the stats ones", {
  mu <- matrix(c(0.2, 0.7, 0.4, 0.5, 0.9, 0.3), 2, 3, dimnames = list(NULL, c("r1", "r2", "r3")))
  aux <- c(1.5, 2)
  y <- c(0, 1, 2)
  trials <- c(1, 3, 2)
  w <- c(1, 2, 0.5)
  g <- gaussian(); p <- poisson(); b <- binomial()
  by_draw <- function(v) rep(v, each = 2)
  expect_identical(bglmm:::family_log_density(g, y, mu, aux, numeric(0), w),
                   matrix(dnorm(by_draw(y), mu, aux / by_draw(sqrt(w)), log = TRUE), 2, 3,
                          dimnames = dimnames(mu)))
  expect_identical(bglmm:::family_log_density(g, y, mu, aux, numeric(0), NULL),
                   matrix(dnorm(by_draw(y), mu, aux, log = TRUE), 2, 3, dimnames = dimnames(mu)))
  expect_identical(bglmm:::family_log_density(p, y, mu, NULL, numeric(0), NULL),
                   matrix(dpois(by_draw(y), mu, log = TRUE), 2, 3, dimnames = dimnames(mu)))
  expect_identical(bglmm:::family_log_density(b, y, mu, NULL, trials, NULL),
                   matrix(dbinom(by_draw(y), by_draw(trials), mu, log = TRUE), 2, 3,
                          dimnames = dimnames(mu)))
  expect_simulated <- function(fam, aux, trials, weights, draws) {
    set.seed(3)
    expected <- matrix(draws(), 2, 3, dimnames = dimnames(mu))
    set.seed(3)
    expect_identical(bglmm:::family_simulate(fam, mu, aux, trials, weights), expected)
  }
  expect_simulated(g, aux, numeric(0), w, function() rnorm(6, mu, aux / by_draw(sqrt(w))))
  expect_simulated(p, NULL, numeric(0), NULL, function() rpois(6, mu))
  expect_simulated(b, NULL, trials, NULL, function() rbinom(6, by_draw(trials), mu))
  expect_identical(bglmm:::family_residual_variance(g, mu, aux, numeric(0), w), aux^2 * mean(1 / w))
  expect_identical(bglmm:::family_residual_variance(p, mu, NULL, numeric(0), NULL), rowMeans(mu))
  n <- matrix(trials, 2, 3, byrow = TRUE)
  expect_identical(bglmm:::family_residual_variance(b, mu, NULL, trials, NULL), rowMeans(mu * n * (1 - mu)))
  expect_identical(bglmm:::family_expected_response(b, mu, trials), mu * n)
  expect_identical(bglmm:::family_expected_response(p, mu, numeric(0)), mu)
})

test_that("what differs for neg_binomial_2 and Gamma is read from the table", {
  nb <- nb2(); ga <- Gamma(link = "log"); p <- poisson()
  expect_identical(bglmm:::family_aux_name(nb), "reciprocal_dispersion")
  expect_identical(bglmm:::family_aux_name(ga), "shape")
  expect_identical(vapply(list(nb, ga), bglmm:::family_uses_trials, NA), c(FALSE, FALSE))
  expect_identical(vapply(list(nb, ga), bglmm:::family_precision_weights, NA), c(FALSE, FALSE))
  # zeros separated for counts (any link), no separation check for Gamma
  expect_identical(bglmm:::family_separation(nb), bglmm:::family_separation(p))
  expect_identical(bglmm:::family_separation(poisson("sqrt")), bglmm:::family_separation(p))
  expect_identical(bglmm:::family_separation(binomial("probit")), bglmm:::family_separation(binomial()))
  expect_null(bglmm:::family_separation(ga))
  # the starting GLM of neg_binomial_2 is Poisson with its link
  expect_identical(bglmm:::family_glm_family(nb2("sqrt"))[c("family", "link")], list(family = "poisson", link = "sqrt"))
  expect_identical(bglmm:::family_glm_family(ga), ga)
  a <- array(as.numeric(1:12), c(3, 2, 2), dimnames = list(NULL, NULL, c("x", "shape")))
  expect_identical(bglmm:::family_aux_draws(ga, a), as.numeric(7:12))
  # links that can leave the parameter space, and what is inside it
  bounded <- function(f) bglmm:::family_bounded_link(f)
  expect_identical(vapply(list(poisson(), poisson("identity"), poisson("sqrt"), nb2("identity"), nb2(),
                               binomial(), binomial("log"), binomial("probit"), Gamma("log"), Gamma("inverse"),
                               Gamma("identity"), gaussian(), gaussian("log")), bounded, NA),
                   c(FALSE, TRUE, TRUE, TRUE, FALSE, FALSE, TRUE, FALSE, FALSE, TRUE, TRUE, FALSE, FALSE))
  inside <- function(f, eta) bglmm:::family_inside(f, eta)
  expect_true(inside(poisson("identity"), c(0.1, 3)))
  expect_false(inside(poisson("identity"), c(0.1, -0.2)))
  expect_false(inside(nb2("sqrt"), c(1, -0.1)))
  expect_false(inside(binomial("log"), c(-1, 0.01)))
  expect_true(inside(binomial("log"), c(-1, -0.01)))
  expect_false(inside(Gamma("inverse"), c(0.1, -0.1)))
  expect_false(inside(Gamma("identity"), c(2, 0)))
  expect_false(inside(poisson(), c(1, NaN)))
  # means that are not the family's, elementwise (from newdata or new groups' effects)
  mu <- c(-0.5, 0, 0.5, 1.5, Inf, NA)
  invalid <- function(f) bglmm:::family_invalid_eta(f, rep(1, length(mu)), mu)
  expect_identical(invalid(poisson("identity")), c(TRUE, FALSE, FALSE, FALSE, FALSE, TRUE))
  expect_identical(invalid(nb2("identity")), invalid(poisson("identity")))
  expect_identical(invalid(binomial("log")), c(TRUE, FALSE, FALSE, TRUE, TRUE, TRUE))
  expect_identical(invalid(Gamma("inverse")), c(TRUE, TRUE, FALSE, FALSE, FALSE, TRUE))
  expect_identical(invalid(gaussian("inverse")), c(FALSE, FALSE, FALSE, FALSE, TRUE, TRUE))
  # and the predictions of those are NA, with a warning that says why
  eta <- matrix(c(2, -1, 0.5, 3), 2)
  expect_warning(mu <- bglmm:::pp_mu(poisson("identity"), eta, "simulated responses"),
                 "For 1 of the 4 draws x observations the linear predictor is outside the parameter space of the poisson family with the identity link.*simulated responses are NA")
  expect_identical(mu, matrix(c(2, NA, 0.5, 3), 2))
  expect_silent(bglmm:::pp_mu(poisson(), eta, "log densities"))
  # the sqrt link's eta < 0 has no mean (stats' linkinv gives eta^2, the mean of -eta)
  expect_identical(bglmm:::family_invalid_eta(poisson("sqrt"), c(-1, 0, 2, NA)), c(TRUE, FALSE, FALSE, TRUE))
  expect_identical(bglmm:::family_invalid_eta(nb2("sqrt"), c(-1, 0, 2)), c(TRUE, FALSE, FALSE))
  expect_warning(mu <- bglmm:::pp_mu(nb2("sqrt"), eta, "expected responses"),
                 "For 1 of the 4 .* neg_binomial_2 family with the sqrt link.*expected responses are NA")
  expect_identical(mu, matrix(c(4, NA, 0.25, 9), 2))
})

test_that("the densities, simulations and residual variances of neg_binomial_2 and Gamma are the stats ones", {
  mu <- matrix(c(0.2, 0.7, 4, 0.5, 9, 3), 2, 3, dimnames = list(NULL, c("r1", "r2", "r3")))
  aux <- c(1.5, 20)
  y <- c(0, 1, 7)
  by_draw <- function(v) rep(v, each = 2)
  # column-major: entry [s, i] uses draw s's aux
  aux_m <- matrix(aux, 2, 3)
  nb <- nb2(); ga <- Gamma(link = "log")
  expect_identical(bglmm:::family_log_density(nb, y, mu, aux, numeric(0), NULL),
                   matrix(dnbinom(by_draw(y), size = aux_m, mu = mu, log = TRUE), 2, 3, dimnames = dimnames(mu)))
  expect_equal(bglmm:::family_log_density(nb, y, mu, aux, numeric(0), NULL)[[2, 3]],
               dnbinom(7, size = 20, mu = 3, log = TRUE))
  yg <- c(0.3, 2, 5.5)
  expect_identical(bglmm:::family_log_density(ga, yg, mu, aux, numeric(0), NULL),
                   matrix(dgamma(by_draw(yg), shape = aux_m, rate = aux_m / mu, log = TRUE), 2, 3,
                          dimnames = dimnames(mu)))
  expect_equal(bglmm:::family_log_density(ga, yg, mu, aux, numeric(0), NULL)[[1, 2]],
               dgamma(2, shape = 1.5, scale = 4 / 1.5, log = TRUE))
  set.seed(3)
  expected <- matrix(rnbinom(6, size = aux_m, mu = mu), 2, 3, dimnames = dimnames(mu))
  set.seed(3)
  expect_identical(bglmm:::family_simulate(nb, mu, aux, numeric(0), NULL), expected)
  set.seed(3)
  expected <- matrix(rgamma(6, shape = aux_m, rate = aux_m / mu), 2, 3, dimnames = dimnames(mu))
  set.seed(3)
  expect_identical(bglmm:::family_simulate(ga, mu, aux, numeric(0), NULL), expected)
  expect_equal(bglmm:::family_residual_variance(nb, mu, aux, numeric(0), NULL),
               c(mean(mu[1, ] + mu[1, ]^2 / 1.5), mean(mu[2, ] + mu[2, ]^2 / 20)))
  expect_equal(bglmm:::family_residual_variance(ga, mu, aux, numeric(0), NULL),
               c(mean(mu[1, ]^2 / 1.5), mean(mu[2, ]^2 / 20)))
  expect_identical(bglmm:::family_expected_response(nb, mu, numeric(0)), mu)
  # other links change nothing in these: the means come from the link
  expect_identical(bglmm:::family_log_density(binomial("probit"), c(0, 1, 2), mu / 10, NULL, c(1, 3, 2), NULL),
                   bglmm:::family_log_density(binomial(), c(0, 1, 2), mu / 10, NULL, c(1, 3, 2), NULL))
})

# Model data and resolved prior of a formula on the data d.
model_of <- function(formula, d, family, prior = bglmm_prior()) {
  fam <- bglmm:::bglmm_family(family)
  md <- bglmm:::bglmm_model_data(formula, d, fam, stats::na.omit, NULL, environment())
  list(md = md, fam = fam, pr = bglmm:::resolve_prior(prior, md, fam))
}

family_data <- function(seed = 1) {
  set.seed(seed)
  d <- data.frame(x = seq(-3, 3, length.out = 60), g = factor(rep(1:6, 10)), n = 10)
  d$y <- rpois(60, exp(1.5 * d$x))                  # convex: a straight line goes below 0
  d$pos <- exp(2 + 0.8 * d$x) * rgamma(60, 5, 5)
  d$s <- rbinom(60, 10, plogis(2 * d$x))
  d
}

test_that("the extra parameter's prior is exponential(aux_rate), shown by prior_summary()", {
  d <- family_data()
  for (f in list(nb2(), "neg_binomial_2", Gamma("log"))) {
    m <- model_of(if (identical(f, "neg_binomial_2") || inherits(f, "family") && f$family == "neg_binomial_2")
                    y ~ x + (1 | g) else pos ~ x + (1 | g), d, f)
    expect_identical(m$pr$aux, list(dist = "exponential", rate = 1))
    expect_null(m$pr$sigma)
    # rstanarm's defaults: intercept N(0, 2.5), slopes N(0, 2.5 / sd(x)), not scaled by sd(y)
    expect_equal(unname(m$pr$location), c(0, 0))
    expect_equal(unname(m$pr$scale[2]), 2.5 / sd(d$x))
  }
  m <- model_of(pos ~ x, d, Gamma("log"), bglmm_prior(aux_rate = 0.25))
  expect_identical(m$pr$aux$rate, 0.25)
  expect_identical(bglmm:::sampler_spec(m$md, m$fam, m$pr)$aux_rate, 0.25)
  expect_error(bglmm_prior(aux_rate = 0), "'aux_rate' must be a single positive")
  expect_error(bglmm_prior(aux_rate = c(1, 2)), "'aux_rate' must be a single positive")
  # printed with the parameter's name (prior_summary() reads the fit's prior and family)
  ps <- prior_summary(structure(list(prior = m$pr, family = m$fam), class = "bglmm"))
  expect_output(print(ps), "shape ~ exponential\\(rate = 0.25\\)")
  expect_output(print(ps), "Fixed effects ~ normal")
  nb <- model_of(y ~ x, d, nb2())
  expect_output(print(prior_summary(structure(list(prior = nb$pr, family = nb$fam), class = "bglmm"))),
                "reciprocal_dispersion ~ exponential\\(rate = 1\\)")
  # gaussian keeps sigma's prior, whatever the link, and has no aux prior; the intercept's
  # location is mean(y) with the identity link only (as rstanarm), the scales sd(y)-scaled
  for (link in c("identity", "log", "inverse")) {
    g <- model_of(pos ~ x, d, gaussian(link = link))
    expect_false("aux" %in% names(g$pr))
    expect_identical(g$pr$sigma, list(df = 1, scale = sd(d$pos)))
    expect_equal(unname(g$pr$scale[2]), 2.5 * sd(d$pos) / sd(d$x))
    expect_equal(unname(g$pr$location[1]), if (link == "identity") mean(d$pos) else 0)
    expect_output(print(prior_summary(structure(list(prior = g$pr, family = g$fam), class = "bglmm"))),
                  "sigma\\^2 ~ scaled-inv-chi-squared")
  }
  # families without an extra parameter: no aux prior, nothing printed for it
  p <- model_of(y ~ x, d, poisson("sqrt"))
  expect_false("aux" %in% names(p$pr))
  expect_false(any(grepl("exponential", capture.output(print(prior_summary(
    structure(list(prior = p$pr, family = p$fam), class = "bglmm")))))))
})

test_that("the sampler's specification has the link and aux_rate, its config init_aux", {
  d <- family_data()
  for (case in list(list(y ~ x + (1 | g), nb2("sqrt"), "neg_binomial_2", "sqrt"),
                    list(pos ~ x, Gamma("inverse"), "Gamma", "inverse"),
                    list(cbind(s, n - s) ~ x, binomial("cloglog"), "binomial", "cloglog"),
                    list(pos ~ x, gaussian(), "gaussian", "identity"))) {
    m <- model_of(case[[1]], d, case[[2]])
    spec <- bglmm:::sampler_spec(m$md, m$fam, m$pr)
    expect_identical(spec$family, case[[3]])
    expect_identical(spec$link, case[[4]])
    expect_identical(spec$aux_rate, 1)
    init <- bglmm:::initial_values(m$md, m$fam, m$pr)
    settings <- list(iter = 10, warmup = 5, thin = 1, sweeps = 1, save_ranef = TRUE, chains = 1,
                     cores = 1, seed = 1, refresh = 0)
    config <- bglmm:::sampler_config(settings, init, "p")
    expect_identical(config$init_aux, init$aux)
  }
  expect_identical(spec$sigma_scale, sd(d$pos))
})

test_that("the extra parameter is named after the group effects, before Sigma", {
  d <- family_data()
  for (case in list(list(y ~ x + (1 | g), nb2(), "reciprocal_dispersion"),
                    list(pos ~ x + (1 | g), Gamma("log"), "shape"))) {
    m <- model_of(case[[1]], d, case[[2]])
    nm <- bglmm:::parameter_names(m$md, m$fam)
    expect_identical(nm, c("(Intercept)", "x", sprintf("b[(Intercept) g:%d]", 1:6), case[[3]],
                           "Sigma[g:(Intercept),(Intercept)]"))
    expect_identical(bglmm:::parameter_names(m$md, m$fam, save_ranef = FALSE),
                     c("(Intercept)", "x", case[[3]], "Sigma[g:(Intercept),(Intercept)]"))
  }
  m <- model_of(y ~ x + (1 | g), d, poisson("identity"))
  expect_false(any(c("sigma", "shape", "reciprocal_dispersion") %in% bglmm:::parameter_names(m$md, m$fam)))
})

test_that("starting values are inside the parameter space where glm.fit fails or leaves it", {
  d <- family_data()
  X <- model.matrix(~x, d)
  # glm.fit fails on these data with these links
  expect_error(suppressWarnings(glm.fit(X, d$y, family = poisson("identity"))), "no valid set of coefficients")
  expect_error(suppressWarnings(glm.fit(X, d$y, family = poisson("sqrt"))), "no valid set of coefficients")
  expect_error(suppressWarnings(glm.fit(X, d$s / 10, weights = rep(10, 60), family = binomial("log"))),
               "no valid set of coefficients")
  cases <- list(list(y ~ x + (1 | g), poisson("identity")), list(y ~ x, poisson("sqrt")),
                list(y ~ x, nb2("identity")), list(y ~ x + (1 | g), nb2("sqrt")),
                list(cbind(s, n - s) ~ x, binomial("log")), list(pos ~ x, Gamma("identity")),
                list(pos ~ x, Gamma("inverse")), list(pos ~ x, gaussian("inverse")))
  for (case in cases) {
    m <- model_of(case[[1]], d, case[[2]])
    label <- paste(m$fam$family, m$fam$link)
    for (g in list(bglmm:::fixed_glm(m$md, m$fam), NULL)) {   # with the GLM, and without (it failed)
      init <- bglmm:::initial_values(m$md, m$fam, m$pr, g)
      eta <- drop(m$md$X %*% init$fixef) + m$md$offset
      expect_true(bglmm:::family_inside(m$fam, eta), label = label)
      # every chain's jittered start within 3 jitter sds is inside too, in any direction
      reach <- 3 * drop(abs(m$md$X) %*% init$jitter)
      expect_true(bglmm:::family_inside(m$fam, eta - reach), label = paste(label, "jittered"))
      expect_true(bglmm:::family_inside(m$fam, eta + reach), label = paste(label, "jittered"))
      expect_true(all(init$jitter > 0), label = label)
      expect_true(is.finite(init$aux) && init$aux > 0, label = label)
    }
  }
  # an offset is taken off the intercept of the mean start
  d$off <- 1
  m <- model_of(y ~ x + offset(off), d, poisson("identity"))
  init <- bglmm:::initial_values(m$md, m$fam, m$pr, NULL)
  expect_equal(init$fixef, c(mean(d$y + 0.1) - 1, 0))
})

test_that("the extra parameter starts at a moment estimate, kept in [0.1, 100]", {
  set.seed(2)
  d <- data.frame(x = rnorm(400))
  d$over <- rnbinom(400, size = 2, mu = exp(1 + 0.5 * d$x))
  d$pois <- rpois(400, exp(1 + 0.5 * d$x))
  d$gam <- rgamma(400, shape = 4, rate = 4 / exp(1 + 0.5 * d$x))
  d$flat <- 5 + 1e-6 * runif(400)
  start_aux <- function(f, family) {
    m <- model_of(f, d, family)
    bglmm:::initial_values(m$md, m$fam, m$pr)$aux
  }
  expect_equal(start_aux(over ~ x, nb2()), 2, tolerance = 0.3)
  expect_identical(start_aux(pois ~ x, nb2()), 100)      # no overdispersion
  expect_equal(start_aux(gam ~ x, Gamma("log")), 4, tolerance = 0.2)
  expect_identical(start_aux(flat ~ x, Gamma("log")), 100)  # nearly constant
  # without the GLM, from the mean and variance of y: 4 * 6.25^2 / sum((y - 6.25)^2 - 6.25)
  expect_equal(bglmm:::nb_phi_init(c(0, 0, 5, 20), NULL), 4 * 6.25^2 / (268.75 - 25))
  expect_identical(bglmm:::nb_phi_init(c(rep(0, 99), 1000), NULL), 0.1)
  expect_identical(bglmm:::clamp_aux(NaN), 1)
})
