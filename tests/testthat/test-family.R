# The table of families (R/family.R): every entry complete, resolved by bglmm_family(), and
# its functions agree with the stats distributions they stand for.

test_that("every family of the table has every field, and bglmm_family() accepts its links", {
  fams <- bglmm:::families
  fields <- c("links", "sampler", "aux", "weights", "response", "response_scale",
              "response_location", "aux_prior", "aux_init", "glm_dispersion", "separation",
              "log_density", "simulate", "residual_variance")
  expect_identical(names(fams), c("gaussian", "poisson", "binomial"))
  for (nm in names(fams)) {
    expect_true(all(fields %in% names(fams[[nm]])), label = nm)
    if (is.null(fams[[nm]]$weights)) expect_type(fams[[nm]]$no_weights, "character")
    for (link in fams[[nm]]$links) {
      for (f in list(get(nm, asNamespace("stats"))(link = link), if (link == fams[[nm]]$links[1]) nm)) {
        if (is.null(f)) next
        fam <- bglmm:::bglmm_family(f)
        expect_s3_class(fam, "family")
        expect_identical(c(fam$family, fam$link), c(nm, link))
        expect_identical(bglmm:::family_spec_name(fam), fams[[nm]]$sampler)
      }
    }
  }
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
