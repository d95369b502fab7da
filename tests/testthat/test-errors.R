# Clear R errors (our own messages) for bad input.

err_data <- function() {
  set.seed(1)
  d <- data.frame(g = factor(rep(1:10, each = 10)), x = stats::rnorm(100))
  d$y <- stats::rnorm(100)
  d$cnt <- stats::rpois(100, 3)
  d$bin <- stats::rbinom(100, 1, 0.5)
  d$s <- stats::rbinom(100, 5, 0.3)
  d$n <- 5
  d
}
ef <- function(formula, data = err_data(), ...) {
  bglmm(formula, data = data, chains = 1, iter = 20, refresh = 0, seed = 1, ...)
}

test_that("unsupported family or link", {
  supported <- "use gaussian, poisson, binomial, neg_binomial_2 or Gamma"
  expect_error(ef(y ~ x, family = inverse.gaussian()),
               paste0("The family 'inverse.gaussian' is not supported: ", supported, "\\. For positive continuous"))
  expect_error(ef(cnt ~ x, family = "quasipoisson"),
               paste0("family 'quasipoisson' is not supported: ", supported, ".*family = \"neg_binomial_2\""))
  expect_error(ef(cnt ~ x, family = quasipoisson()), "family 'quasipoisson' is not supported.*neg_binomial_2")
  expect_error(ef(bin ~ x, family = quasibinomial), "family 'quasibinomial' is not supported")
  expect_error(ef(y ~ x, family = quasi()), "family 'quasi' is not supported")
  expect_error(ef(cnt ~ x, family = "negative.binomial"), "fixes theta")
  # MASS's (a recommended package, not a dependency of bglmm)
  if (requireNamespace("MASS", quietly = TRUE)) {
    negative.binomial <- getExportedValue("MASS", "negative.binomial")
    expect_error(ef(cnt ~ x, family = negative.binomial(2)),
                 "family 'Negative Binomial\\(2\\)' is not supported.*fixes theta: use family = \"neg_binomial_2\"")
    expect_error(ef(cnt ~ x, family = negative.binomial), "fixes theta: use family = \"neg_binomial_2\"")
  }
  expect_error(ef(y ~ x, family = "nosuchfamily"), paste0("Unknown family 'nosuchfamily': ", supported, "\\.$"))
  # a family name in other capitals, a link given as the family, base R's gamma function
  expect_error(ef(y ~ x, family = "gamma"), "Unknown family 'gamma': .*case-sensitive: 'Gamma'")
  expect_error(ef(cnt ~ x, family = "Poisson"), "case-sensitive: 'poisson'")
  expect_error(ef(bin ~ x, family = "probit"),
               "Unknown family 'probit': .*'probit' is a link: e.g. family = binomial\\(link = \"probit\"\\)")
  expect_error(ef(cnt ~ x, family = "sqrt"), "'sqrt' is a link: e.g. family = poisson\\(link = \"sqrt\"\\)")
  for (nb in c("nb", "negative_binomial", "NegBin2", "nbinom1")) {
    expect_error(ef(cnt ~ x, family = nb), "For negative binomial counts: family = \"neg_binomial_2\"")
  }
  expect_error(ef(y ~ x, family = gamma), "'gamma' is base R's gamma function: the family is 'Gamma'")
  expect_error(ef(y ~ x, family = 3), paste0("'family' must be ", sub("use ", "", supported)))
  expect_error(ef(cnt ~ x, family = poisson(link = stats::power(1 / 3))),
               "The poisson family supports only the links 'log', 'identity' or 'sqrt', not 'mu\\^0.333'")
  expect_error(nb2("logit"), "The neg_binomial_2 family supports only the links 'log', 'identity' or 'sqrt', not 'logit'")
  expect_error(ef(bin ~ x, family = binomial(link = stats::make.link("sqrt"))),
               "binomial family supports only the links 'logit', 'probit', 'cloglog', 'cauchit' or 'log', not 'sqrt'")
})

test_that("responses impossible for the new families, and weights they do not take", {
  d <- err_data()
  d$pos <- exp(d$y)
  d$pos[7] <- 0
  expect_error(ef(pos ~ x, d, family = Gamma("log")), "A Gamma response must be positive numbers \\(y > 0\\); it has 1 value <= 0")
  d$pos[8] <- -2
  expect_error(ef(pos ~ x, d, family = Gamma), "it has 2 values <= 0")
  d <- err_data()
  d$cnt[3] <- -1
  expect_error(ef(cnt ~ x, d, family = "neg_binomial_2"), "A neg_binomial_2 response must be non-negative whole numbers")
  d$cnt[3] <- 2.5
  expect_error(ef(cnt ~ x, d, family = nb2), "A neg_binomial_2 response must be non-negative whole numbers")
  # a binomial response with a Gamma (or negative binomial) family
  expect_error(ef(cbind(s, n - s) ~ x, family = Gamma), "cbind\\(successes, failures\\) is a binomial response: the Gamma family needs a numeric vector")
  expect_error(ef(cbind(s, n - s) ~ x, family = nb2()), "is a binomial response: the neg_binomial_2 family")
  d <- err_data()
  d$yes <- factor(ifelse(d$bin == 1, "yes", "no"))
  expect_error(ef(yes ~ x, d, family = Gamma), "response must be a numeric vector for the Gamma family")
  # weights: gaussian precisions only with the identity link; none for neg_binomial_2 and Gamma
  d <- err_data()
  d$w <- runif(100, 0.5, 2)
  d$pos <- exp(d$y)
  expect_error(ef(pos ~ x, d, family = gaussian(link = "log"), weights = w),
               "Gaussian 'weights' \\(precisions\\) are supported with the identity link only, not the 'log' link")
  expect_error(ef(cnt ~ x, d, family = "neg_binomial_2", weights = w),
               "'weights' are taken by the binomial family .* not by neg_binomial_2. For exposures, use offset")
  expect_error(ef(pos ~ x, d, family = Gamma("log"), weights = w), "'weights' are .* not by Gamma\\.$")
})

test_that("poisson response must be non-negative whole numbers", {
  d <- err_data()
  d$cnt[3] <- -1
  expect_error(ef(cnt ~ x + (1 | g), d, family = poisson), "poisson response must be non-negative whole numbers")
  d <- err_data()
  d$cnt[3] <- 1.5
  expect_error(ef(cnt ~ x + (1 | g), d, family = poisson), "poisson response must be non-negative whole numbers")
})

test_that("binomial response must be 0/1 (or valid successes/failures)", {
  d <- err_data()
  d$bin[3] <- 2
  expect_error(ef(bin ~ x, d, family = binomial), "binomial response must be 0/1, logical, a two-level factor")
  d$bin[3] <- 0.5
  expect_error(ef(bin ~ x, d, family = binomial), "binomial response must be 0/1")
  d$bin[3] <- -1
  expect_error(ef(bin ~ x, d, family = binomial), "binomial response must be 0/1")
  # successes > trials: negative failures
  expect_error(ef(cbind(s, n - s - 3) ~ x, family = binomial),
               "successes and failures must be non-negative whole numbers")
  expect_error(ef(cbind(s + 0.5, n - s) ~ x, family = binomial),
               "successes and failures must be non-negative whole numbers")
  d <- err_data()
  d$f3 <- factor(rep(c("a", "b", "c"), length.out = 100))
  expect_error(ef(f3 ~ x, d, family = binomial), "factor response for binomial must have exactly two levels")
})

test_that("character and other non-numeric responses", {
  d <- err_data()
  d$ch <- as.character(round(d$y, 2))
  expect_error(ef(ch ~ x, d), "response must be a numeric vector for the gaussian family")
  expect_error(ef(ch ~ x, d, family = poisson), "response must be a numeric vector for the poisson family")
  d$ch2 <- ifelse(d$bin == 1, "yes", "no")
  expect_error(ef(ch2 ~ x, d, family = binomial), "binomial response must be 0/1")
  d <- err_data()
  d$y[5] <- Inf
  expect_error(ef(y ~ x, d), "response has non-finite values")
})

test_that("missing variables are reported by name", {
  expect_error(ef(y ~ nosuchvar + (1 | g)), "Could not evaluate the formula's variables: object 'nosuchvar' not found")
  expect_error(ef(y ~ x + (1 | nosuchgroup)), "object 'nosuchgroup' not found.*column of 'data'")
  expect_error(ef(nosuchresp ~ x), "object 'nosuchresp' not found")
})

test_that("Inf in a predictor", {
  d <- err_data()
  d$x[4] <- Inf
  expect_error(ef(y ~ x + (1 | g), d), "fixed-effects design has non-finite values")
  expect_error(ef(y ~ 1 + (0 + x | g), d), "random-effects design has non-finite values")
  d <- err_data()
  d$x[4] <- NaN  # NaN is missing for model.frame: dropped with a message, not an error
  expect_message(ef(y ~ x, d), "Removed 1 row with missing values")
})

test_that("rank-deficient fixed effects name the aliased column", {
  d <- err_data()
  d$x2 <- 2 * d$x
  expect_error(ef(y ~ x + x2 + (1 | g), d), "rank deficient: x2 cannot be estimated")
  d$k <- factor(rep(1:2, 50))
  d$k2 <- d$k
  expect_error(ef(y ~ k + k2, d), "rank deficient: k22 cannot be estimated")
  # on many rows the rank is first taken on a subset: a column that is zero on the subset
  # is still estimable from all rows, and an aliased one is still found
  X <- cbind(1, x = seq_len(100), spike = replace(numeric(100), 50, 1))
  expect_silent(bglmm:::check_rank(X, max_rows = 10))
  expect_error(bglmm:::check_rank(cbind(X, x2 = 2 * X[, "x"]), max_rows = 10), "rank deficient: x2")
})

test_that("a grouping factor with one level", {
  d <- err_data()
  d$one <- factor("a")
  expect_error(ef(y ~ x + (1 | one), d), "grouping factor 'one' has only one level")
})

test_that("sampler settings are checked", {
  expect_error(ef(y ~ x, warmup = 20), "'warmup' must be smaller than 'iter'")
  expect_error(ef(y ~ x, warmup = 25), "'warmup' must be smaller than 'iter'")
  expect_error(bglmm(y ~ x, data = err_data(), chains = 0, refresh = 0), "'chains' must be a whole number of at least 1")
  expect_error(bglmm(y ~ x, data = err_data(), thin = 0, refresh = 0), "'thin' must be a whole number of at least 1")
  expect_error(bglmm(y ~ x, data = err_data(), iter = -1, refresh = 0), "'iter' must be a whole number of at least 2")
  expect_error(bglmm(y ~ x, data = err_data(), iter = 10.5, refresh = 0), "'iter' must be a whole number")
  expect_error(bglmm(y ~ x, data = err_data(), iter = 20, warmup = -1, refresh = 0), "'warmup' must be a whole number")
  expect_error(bglmm(y ~ x, data = err_data(), iter = 20, seed = "a", refresh = 0), "'seed' must be a whole number")
  expect_error(bglmm(y ~ x, data = err_data(), iter = 20, cores = 0, refresh = 0), "'cores' must be a whole number of at least 1")
  expect_error(bglmm(y ~ x, data = err_data(), chains = NA, refresh = 0), "'chains' must be a whole number")
})

test_that("invalid priors", {
  expect_error(bglmm_prior(fixef_scale = -1), "'fixef_scale' must be positive finite number")
  expect_error(bglmm_prior(fixef_scale = 0), "'fixef_scale' must be positive")
  expect_error(bglmm_prior(intercept_scale = Inf), "'intercept_scale' must be a single positive finite number")
  expect_error(bglmm_prior(sigma_df = -2), "'sigma_df' must be a single positive")
  expect_error(bglmm_prior(cov_scale = matrix(c(1, 2, 2, 1), 2)), "'cov_scale' must be a symmetric positive definite matrix")
  expect_error(bglmm_prior(cov_scale = matrix(c(1, 0.1, 0, 1), 2)), "'cov_scale' must be a symmetric positive definite matrix")
  expect_error(bglmm_prior(cov_scale = -1), "'cov_scale' must be a positive number or a positive definite matrix")
  # cov_df must exceed q - 1 = 1 for a (1 + x | g) term
  expect_error(ef(y ~ x + (1 + x | g), prior = bglmm_prior(cov_df = 1)),
               "'cov_df' must exceed q - 1 = 1 for the term of 'g'")
  expect_error(ef(y ~ x + (1 + x | g), prior = bglmm_prior(cov_scale = diag(3))),
               "'cov_scale' for 'g' must be a 2 x 2 matrix")
  expect_error(ef(y ~ x, prior = list(fixef_scale = 1)), "'prior' must be made by bglmm_prior\\(\\)")
  expect_error(ef(y ~ x, prior = bglmm_prior(fixef_scale = c(nosuch = 1))),
               "'fixef_scale' names coefficients the model does not have: nosuch")
})

test_that("data must be a data frame", {
  d <- err_data()
  expect_error(ef(y ~ x + (1 | g), as.list(d)), "'data' must be a data frame")
  expect_error(ef(y ~ x, as.matrix(d[, c("y", "x")])), "'data' must be a data frame")
  expect_error(ef("y ~ x", d), "'formula' must be a two-sided formula")
  expect_error(ef(~ x, d), "'formula' must be a two-sided formula")
})

test_that("rows with NA are dropped with a message saying how many", {
  d <- err_data()
  d$y[c(1, 5, 9)] <- NA
  d$x[10] <- NA
  d$g[20] <- NA
  expect_message(fit <- ef(y ~ x + (1 | g), d), "Removed 5 rows with missing values")
  expect_identical(nobs(fit), 95L)
  expect_identical(fit$n_dropped, 5L)
  expect_output(print(fit), "5 rows with missing values removed")
  # unused columns with NA do not drop rows
  d <- err_data()
  d$unused <- NA
  expect_no_message(fit2 <- ef(y ~ x + (1 | g), d))
  expect_identical(nobs(fit2), 100L)
  # all rows missing
  d <- err_data()
  d$y <- NA_real_
  expect_error(suppressMessages(ef(y ~ x, d)), "No rows are left")
})

test_that("more random coefficients than groups gives a warning naming the factor", {
  set.seed(3)
  d <- data.frame(y = rnorm(30), x = rnorm(30), z = rnorm(30), g = factor(rep(1:3, 10)))
  expect_warning(
    bglmm(y ~ x + z + (1 + x + z | g), d, chains = 1, iter = 100, refresh = 0, seed = 1),
    "'g' has 3 levels for 3 random coefficients"
  )
})
