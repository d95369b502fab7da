# Formula features: the right parameters come out, and fits run.

make_data <- function(n_g = 10, n_per = 10, seed = 1) {
  set.seed(seed)
  n <- n_g * n_per
  d <- data.frame(
    g = factor(rep(seq_len(n_g), each = n_per)),
    a = factor(rep(1:5, length.out = n)),
    b = factor(rep(1:4, length.out = n)),
    f = factor(rep(c("lo", "mid", "hi"), length.out = n), levels = c("lo", "mid", "hi")),
    x = stats::rnorm(n),
    z = stats::runif(n)
  )
  d$y <- 1 + 0.5 * d$x + stats::rnorm(n)
  d$cnt <- stats::rpois(n, 3)
  d$bin <- stats::rbinom(n, 1, 0.5)
  d
}

b_names <- function(coef, group, levels) paste0("b[", coef, " ", group, ":", levels, "]")

test_that("factors and interactions give model.matrix's columns, in order", {
  d <- make_data()
  fit <- quick_fit(y ~ f * x + z + (1 | g), d)
  X <- stats::model.matrix(y ~ f * x + z, d)
  expect_identical(
    parnames(fit),
    c(colnames(X), b_names("(Intercept)", "g", 1:10), "sigma", "Sigma[g:(Intercept),(Intercept)]")
  )
  expect_identical(colnames(X), c("(Intercept)", "fmid", "fhi", "x", "z", "fmid:x", "fhi:x"))
  expect_true(all(is.finite(fit$draws)))
})

test_that("contrasts are passed on to model.matrix", {
  d <- make_data()
  fit <- quick_fit(y ~ f + (1 | g), d, contrasts = list(f = "contr.sum"))
  expect_identical(parnames(fit)[1:3], c("(Intercept)", "f1", "f2"))
})

test_that("poly() and I() terms work and match lm() for a gaussian GLM", {
  d <- make_data(n_g = 40, n_per = 10)
  d$y <- 1 + 0.5 * d$x - 0.3 * d$x^2 + 2 * d$z^2 + stats::rnorm(nrow(d), sd = 0.5)
  fit <- quick_fit(y ~ poly(x, 2) + I(z^2), d, iter = 2000, seed = 2)
  expect_identical(parnames(fit), c("(Intercept)", "poly(x, 2)1", "poly(x, 2)2", "I(z^2)", "sigma"))
  # The model frame's poly() basis must be used (not re-evaluated): the posterior is then
  # essentially lm()'s (weak priors, n = 400). Tolerance: 0.2 lm SE for the prior's pull on
  # the mean plus 4 Monte Carlo SEs; a wrong basis or a dropped I() moves the means by many SEs.
  cf <- summary(stats::lm(y ~ poly(x, 2) + I(z^2), d))$coefficients
  s <- post_stats(fit, rownames(cf))
  expect_true(all(abs(s$mean - cf[, 1]) < 0.2 * cf[, 2] + 4 * s$mcse),
              label = paste(round((s$mean - cf[, 1]) / cf[, 2], 3), collapse = ", "))
})

test_that("an offset reaches the likelihood: poisson exposure recovers the rate intercept", {
  set.seed(3)
  n <- 2000
  d <- data.frame(x = stats::rnorm(n), expo = stats::runif(n, 0.5, 4))
  d$y <- stats::rpois(n, d$expo * exp(0.5 + 0.3 * d$x))
  with_off <- quick_fit(y ~ x + offset(log(expo)), d, family = poisson, iter = 1000, seed = 3)
  expect_identical(parnames(with_off), c("(Intercept)", "x"))
  # Truth (0.5, 0.3) within 4 posterior sd (+ MC error): the posterior of a 2-parameter
  # GLM with 2000 rows covers the truth at the 4-sd level with probability ~0.9999.
  z <- recovery_z(with_off, c("(Intercept)" = 0.5, x = 0.3))
  expect_true(all(abs(z) < 4), label = paste(round(z, 2), collapse = ", "))
  # The same data without the offset put the exposure into the intercept: its posterior
  # mean is ~log(mean exposure)-ish higher, far outside 4 sd of 0.5.
  no_off <- quick_fit(y ~ x, d, family = poisson, iter = 1000, seed = 3)
  expect_gt(abs(recovery_z(no_off, c("(Intercept)" = 0.5))), 4)
  # offset(log(2)) shifts the intercept by -log(2) exactly in the likelihood; the posterior
  # means differ by log(2) up to the prior's tiny pull and the Monte Carlo error.
  d$two <- 2
  shifted <- quick_fit(y ~ x + offset(log(expo) + log(two)), d, family = poisson, iter = 1000, seed = 3)
  a <- post_stats(with_off, "(Intercept)")
  b <- post_stats(shifted, "(Intercept)")
  expect_lt(abs((b$mean - a$mean) + log(2)), 0.1 * a$sd + 4 * sqrt(a$mcse^2 + b$mcse^2))
})

test_that("(1 + x | g) gives a 2x2 Sigma named like rstanarm", {
  d <- make_data()
  fit <- quick_fit(y ~ x + (1 + x | g), d)
  expect_identical(
    parnames(fit),
    c("(Intercept)", "x",
      as.vector(rbind(b_names("(Intercept)", "g", 1:10), b_names("x", "g", 1:10))),
      "sigma",
      "Sigma[g:(Intercept),(Intercept)]", "Sigma[g:x,(Intercept)]", "Sigma[g:x,x]")
  )
  m <- as.matrix(fit, regex_pars = "^Sigma")
  expect_true(all(m[, "Sigma[g:(Intercept),(Intercept)]"] > 0))
  expect_true(all(m[, "Sigma[g:x,x]"] > 0))
  # every draw of a covariance matrix is positive definite
  det2 <- m[, 1] * m[, 3] - m[, 2]^2
  expect_true(all(det2 > 0))
})

test_that("(x || g) gives two uncorrelated terms and no covariance parameter", {
  d <- make_data()
  fit <- quick_fit(y ~ x + (x || g), d)
  pn <- parnames(fit)
  expect_identical(grep("^Sigma", pn, value = TRUE), c("Sigma[g:(Intercept),(Intercept)]", "Sigma[g:x,x]"))
  expect_false("Sigma[g:x,(Intercept)]" %in% pn)
  expect_identical(pn[3:22], c(b_names("(Intercept)", "g", 1:10), b_names("x", "g", 1:10)))
  expect_equal(ngrps(fit), c(g = 10L))
})

test_that("crossed random intercepts (1 | a) + (1 | b)", {
  d <- make_data()
  fit <- quick_fit(y ~ x + (1 | a) + (1 | b), d)
  expect_identical(
    parnames(fit),
    c("(Intercept)", "x", b_names("(Intercept)", "a", 1:5), b_names("(Intercept)", "b", 1:4),
      "sigma", "Sigma[a:(Intercept),(Intercept)]", "Sigma[b:(Intercept),(Intercept)]")
  )
  expect_equal(ngrps(fit), c(a = 5L, b = 4L))
})

test_that("nested (1 | a/b) uses lme4's grouping factors b:a and a", {
  d <- make_data()
  fit <- quick_fit(y ~ x + (1 | a / b), d)
  lf <- lme4::lFormula(y ~ x + (1 | a / b), d)
  expect_identical(names(lf$reTrms$flist), c("b:a", "a"))
  expect_identical(names(ngrps(fit)), c("b:a", "a"))
  expect_equal(unname(ngrps(fit)), c(nlevels(lf$reTrms$flist[["b:a"]]), 5L))
  pn <- parnames(fit)
  expect_identical(grep("^Sigma", pn, value = TRUE),
                   c("Sigma[b:a:(Intercept),(Intercept)]", "Sigma[a:(Intercept),(Intercept)]"))
  expect_identical(grep("^b\\[\\(Intercept\\) b:a:", pn, value = TRUE),
                   b_names("(Intercept)", "b:a", levels(lf$reTrms$flist[["b:a"]])))
  expect_identical(grep("^b\\[\\(Intercept\\) a:", pn, value = TRUE), b_names("(Intercept)", "a", 1:5))
})

test_that("without random terms the model is a Bayesian GLM", {
  d <- make_data()
  g <- quick_fit(y ~ x * z, d)
  expect_identical(parnames(g), c("(Intercept)", "x", "z", "x:z", "sigma"))
  p <- quick_fit(cnt ~ x, d, family = poisson)
  expect_identical(parnames(p), c("(Intercept)", "x"))
  b <- quick_fit(bin ~ x + f, d, family = binomial)
  expect_identical(parnames(b), c("(Intercept)", "x", "fmid", "fhi"))
  expect_length(ngrps(p), 0)
})

test_that("response types: gaussian numeric, poisson counts", {
  d <- make_data()
  expect_s3_class(quick_fit(y ~ x + (1 | g), d), "bglmm")
  fit <- quick_fit(cnt ~ x + (1 | g), d, family = poisson)
  expect_identical(parnames(fit)[1:2], c("(Intercept)", "x"))
  expect_false("sigma" %in% parnames(fit))
  # integer-typed counts are fine too
  d$cnt_i <- as.integer(d$cnt)
  fit_i <- quick_fit(cnt_i ~ x + (1 | g), d, family = poisson)
  expect_identical(fit_i$draws, fit$draws)
})

test_that("binomial responses: 0/1, logical, two-level factor and cbind(y, 1 - y) are the same model", {
  d <- make_data()
  d$lg <- d$bin == 1
  d$fc <- factor(ifelse(d$bin == 1, "yes", "no"), levels = c("no", "yes"))  # first level = failure
  d$fail <- 1 - d$bin
  f01 <- quick_fit(bin ~ x + (1 | g), d, family = binomial, seed = 7)
  flg <- quick_fit(lg ~ x + (1 | g), d, family = binomial, seed = 7)
  ffc <- quick_fit(fc ~ x + (1 | g), d, family = binomial, seed = 7)
  fcb <- quick_fit(cbind(bin, fail) ~ x + (1 | g), d, family = binomial, seed = 7)
  expect_identical(flg$draws, f01$draws)
  expect_identical(ffc$draws, f01$draws)
  expect_identical(fcb$draws, f01$draws)
  expect_false("sigma" %in% parnames(f01))
})

test_that("cbind(successes, failures) uses the number of trials", {
  set.seed(11)
  n <- 600
  d <- data.frame(x = stats::rnorm(n), trials = sample(1:12, n, replace = TRUE))
  d$s <- stats::rbinom(n, d$trials, stats::plogis(-0.4 + 0.7 * d$x))
  d$f <- d$trials - d$s
  fit <- quick_fit(cbind(s, f) ~ x, d, family = binomial, iter = 1000, seed = 11)
  expect_identical(parnames(fit), c("(Intercept)", "x"))
  # Truth within 4 posterior sd (+ MC error); treating the rows as 0/1 or ignoring the
  # trials would put the intercept many sd away.
  z <- recovery_z(fit, c("(Intercept)" = -0.4, x = 0.7))
  expect_true(all(abs(z) < 4), label = paste(round(z, 2), collapse = ", "))
})

test_that("a cbind response with random terms only has the intercept as its fixed part", {
  # nobars() gives the response call alone, which has length 3 like a formula
  fit <- quick_fit(cbind(incidence, size - incidence) ~ (1 | herd), lme4::cbpp, family = binomial,
                   iter = 40)
  expect_identical(colnames(fit$X), "(Intercept)")
  # (update() needs the call of bglmm() itself, not of a wrapper)
  fit2 <- bglmm(cbind(incidence, size - incidence) ~ period + (1 | herd), data = lme4::cbpp,
                family = binomial, chains = 1, iter = 40, refresh = 0, seed = 1)
  expect_identical(colnames(update(fit2, . ~ . - period)$X), "(Intercept)")
})

test_that("family as poisson, poisson() or \"poisson\" gives the same fit", {
  d <- make_data()
  f1 <- quick_fit(cnt ~ x + (1 | g), d, family = poisson, seed = 3)
  f2 <- quick_fit(cnt ~ x + (1 | g), d, family = poisson(), seed = 3)
  f3 <- quick_fit(cnt ~ x + (1 | g), d, family = "poisson", seed = 3)
  expect_identical(f2$draws, f1$draws)
  expect_identical(f3$draws, f1$draws)
  expect_identical(f1$family$family, "poisson")
  fb <- quick_fit(bin ~ x, d, family = "binomial", seed = 3)
  expect_identical(fb$family$family, "binomial")
  fg <- quick_fit(y ~ x, d, family = gaussian(link = "identity"), seed = 3)
  expect_identical(fg$family$family, "gaussian")
})

test_that("unsupported families and links give clear errors", {
  d <- make_data()
  d$pos <- exp(d$y)
  expect_error(quick_fit(pos ~ x, d, family = inverse.gaussian()), "family 'inverse.gaussian' is not supported")
  expect_error(quick_fit(bin ~ x, d, family = binomial(link = make.link("sqrt"))),
               "binomial family supports only the links 'logit', 'probit', 'cloglog', 'cauchit' or 'log', not 'sqrt'")
  expect_error(quick_fit(cnt ~ x, d, family = poisson(link = power(1 / 3))),
               "poisson family supports only the links 'log', 'identity' or 'sqrt'")
  expect_error(quick_fit(cnt ~ x, d, family = "nosuchfamily"), "Unknown family 'nosuchfamily'")
})

test_that("random terms are lme4's: grouping factors, levels and Z as mkReTrms builds them", {
  d <- make_data()
  d$h <- rep(c("r", "p", "q"), length.out = nrow(d))  # character grouping, unsorted
  d$k <- rep(c(3L, 1L, 4L, 2L), each = 2, length.out = nrow(d))  # integer grouping
  d$g[3] <- NA
  forms <- list(y ~ x + (1 + x | g), y ~ x + (x || g), y ~ (1 | g) + (1 | h), y ~ x + (1 | a / b),
                y ~ x + (1 | a:h), y ~ poly(x, 2) + (poly(x, 2) | g), y ~ f + (0 + f | g),
                y ~ x + (1 | k), y ~ x + (1 + log(z) | h), y ~ x + (z | g) + (1 | g))
  for (f in forms) {
    md <- suppressMessages(suppressWarnings(
      bglmm:::bglmm_model_data(f, d, gaussian(), stats::na.omit, NULL, environment())))
    bars <- lme4::findbars(lme4::expandDoubleVerts(f))
    rt <- lme4::mkReTrms(bars, md$frame, reorder.terms = FALSE)
    fl <- rt$flist[attr(rt$flist, "assign")]
    expect_identical(vapply(md$re, `[[`, "", "group_name"), names(fl), label = deparse(f))
    for (t in seq_along(md$re)) {
      r <- md$re[[t]]
      expect_identical(r$levels, levels(fl[[t]]), label = deparse(f))
      expect_identical(r$group, as.integer(fl[[t]]), label = deparse(f))
      expect_identical(r$cnms, rt$cnms[[t]], label = deparse(f))
      # Zt rows are level-major: level l, coefficient k at row (l - 1) * q + k
      q <- length(r$cnms)
      zfull <- as.matrix(Matrix::t(rt$Ztlist[[t]]))
      Z <- sapply(seq_len(q), function(k) rowSums(zfull[, seq(k, ncol(zfull), by = q), drop = FALSE]))
      expect_equal(r$z, unname(Z), label = deparse(f))
      expect_null(rownames(r$z))
    }
    # row names would be one string per row (6 MB for 100,000 rows), kept in the fit
    expect_null(rownames(md$X))
  }
})

test_that("all_finite finds non-finite values, also where the sum overflows", {
  all_finite <- bglmm:::all_finite
  expect_true(all_finite(c(1e308, 1e308, -3)))
  expect_true(all_finite(matrix(c(1, 2, 3, 4), 2)))
  expect_true(all_finite(1:5))
  expect_false(all_finite(c(1, Inf)))
  expect_false(all_finite(c(-Inf, Inf)))
  expect_false(all_finite(c(1e308, 1e308, NaN)))
  expect_false(all_finite(c(1, NA)))
  expect_false(all_finite(c(1L, NA)))
})

test_that("bar_group keeps a clean factor as it is and drops unused levels otherwise", {
  bar <- quote(1 | g)
  env <- environment()
  clean <- data.frame(g = factor(c("b", "a", "b")))
  expect_identical(bglmm:::bar_group(bar, clean, env), clean$g)
  unused <- data.frame(g = factor(c("b", "a", "b"), levels = c("a", "b", "c")))
  expect_identical(levels(bglmm:::bar_group(bar, unused, env)), c("a", "b"))
  inter <- data.frame(a = factor(c(1, 1, 2)), b = factor(c(1, 2, 1)))
  expect_identical(nlevels(bglmm:::bar_group(quote(1 | a:b), inter, env)), 3L)
})

test_that("same_column accepts rounding differences only", {
  x <- c(1, 2.5, -3)
  X <- cbind(a = 0, x = x)
  expect_true(bglmm:::same_column(X, 2L, cbind(x), 1L))
  expect_true(bglmm:::same_column(X, 2L, cbind(x + 1e-13), 1L))
  expect_false(bglmm:::same_column(X, 2L, cbind(x + c(0, 0, 1e-6)), 1L))
  expect_false(bglmm:::same_column(X, 1L, cbind(x), 1L))
  # integer designs go through R
  expect_true(bglmm:::same_column(cbind(1:3), 1L, cbind(c(1, 2, 3)), 1L))
})

test_that("the response comes from the frame without a copy or names", {
  d <- data.frame(y = c(1L, 0L, 2L, 4L), x = c(0.1, 0.5, -1, 2))
  fr <- stats::model.frame(y ~ x, d)
  y <- bglmm:::frame_response(fr)
  expect_identical(y, d$y)
  expect_identical(y, unname(stats::model.response(fr)))
  fr2 <- stats::model.frame(cbind(y, 4L - y) ~ x, d)
  expect_identical(unname(bglmm:::frame_response(fr2)), unname(stats::model.response(fr2)))
})

test_that("a complete frame skips na.omit's copy and gives the same frame", {
  d <- data.frame(y = c(1, 0, 2, 4), x = c(0.1, 0.5, -1, 2), g = factor(c(1, 1, 2, 2)))
  f <- y ~ x + g
  skip_omit <- bglmm:::skip_if_complete(stats::na.omit)
  expect_identical(stats::model.frame(f, d, na.action = skip_omit), stats::model.frame(f, d, na.action = stats::na.omit))
  d$x[2] <- NA
  with_na <- stats::model.frame(f, d, na.action = skip_omit)
  expect_identical(with_na, stats::model.frame(f, d, na.action = stats::na.omit))
  expect_identical(nrow(with_na), 3L)
  expect_identical(bglmm:::skip_if_complete(stats::na.fail), stats::na.fail)
  expect_identical(bglmm:::skip_if_complete("na.pass"), "na.pass")
  expect_identical(nrow(stats::model.frame(f, d, na.action = bglmm:::skip_if_complete("na.exclude"))), 3L)
})

test_that("the designs have no row names, and Rust reads them without a copy", {
  d <- data.frame(y = rpois(50, 2), x = rnorm(50), g = factor(rep(1:5, 10)))
  md <- bglmm:::bglmm_model_data(y ~ x + (1 + x | g), d, poisson(), stats::na.omit, NULL, environment())
  expect_null(rownames(md$X))
  expect_identical(colnames(md$X), c("(Intercept)", "x"))
  expect_null(rownames(md$re[[1]]$z))
  skip_if_not(capabilities("profmem"))
  # dropping the row names of model.matrix's (shared) result makes an ALTREP wrapper,
  # which a writable read (extendr's slices) would expand into a copy
  X <- stats::model.matrix(~x, data.frame(x = rnorm(2e5)))
  dimnames(X) <- list(NULL, colnames(X))
  invisible(bglmm:::column_sd(cbind(1, 2)))
  out <- tempfile()
  utils::Rprofmem(out, threshold = 1e5)
  sd <- bglmm:::column_sd(X)
  same <- bglmm:::same_column(X, 1L, X, 1L)
  utils::Rprofmem(NULL)
  expect_true(same)
  expect_length(readLines(out), 0L)
})

test_that("unused factor levels are dropped when, and only when, some may be left", {
  d <- data.frame(y = 1:4, x = c(0.1, 0.5, -1, 2), g = factor(c("a", "a", "b", "b")))
  expect_false(bglmm:::may_leave_unused_levels(y ~ x + g, d))
  d2 <- d; d2$g <- factor(d$g, levels = c("a", "b", "c"))
  expect_true(bglmm:::may_leave_unused_levels(y ~ x + g, d2))
  d3 <- d; d3$x[2] <- NA
  expect_true(bglmm:::may_leave_unused_levels(y ~ x + g, d3))
  expect_true(bglmm:::may_leave_unused_levels(y ~ x + h, d))
  expect_true(bglmm:::may_leave_unused_levels(y ~ x, NULL))
  # the frame's factor is then the data's own, and an unused level is still dropped
  fr <- bglmm:::model_frame(y ~ x + (1 | g), d, stats::na.omit, environment())
  expect_identical(fr$g, d$g)
  fr2 <- bglmm:::model_frame(y ~ x + (1 | g), d2, stats::na.omit, environment())
  expect_identical(levels(fr2$g), c("a", "b"))
})

test_that("the sampler gets only the random columns that repeat no fixed column", {
  Z <- cbind("(Intercept)" = 1, x = c(0.5, 1, 2), w = c(3, 1, 2))
  r <- list(z = Z, mean_col = c(1L, 2L, 0L), shadow_col = c(0L, 0L, 0L))
  expect_identical(bglmm:::own_columns(r), Z[, "w", drop = FALSE])
  r$mean_col <- c(1L, 0L, 0L); r$shadow_col <- c(0L, 2L, 0L)
  expect_identical(bglmm:::own_columns(r), Z[, "w", drop = FALSE])
  r$mean_col <- c(1L, 2L, 3L)
  expect_identical(dim(bglmm:::own_columns(r)), c(3L, 0L))
  r$mean_col <- c(0L, 0L, 0L); r$shadow_col <- c(0L, 0L, 0L)
  expect_identical(bglmm:::own_columns(r), Z)
})
