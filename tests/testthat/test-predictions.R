# Predictions, log-likelihood and loo against independent computations from the draws.

test_that("posterior_linpred / epred equal X beta + Z b from the draws; fitted is their mean", {
  fit <- quick_fit(count ~ x + (x | mouse), tumor, family = poisson, iter = 300)
  m <- as.matrix(fit)
  b0 <- m[, paste0("b[(Intercept) mouse:", tumor$mouse, "]")]
  b1 <- m[, paste0("b[x mouse:", tumor$mouse, "]")]
  eta <- m[, "(Intercept)"] + b0 + (m[, "x"] + b1) * rep(tumor$x, each = nrow(m))
  expect_equal(unname(posterior_linpred(fit)), unname(eta))
  expect_equal(unname(posterior_epred(fit)), unname(exp(eta)))
  expect_equal(unname(fitted(fit)), unname(colMeans(posterior_epred(fit))))
  eta0 <- m[, "(Intercept)"] + outer(m[, "x"], tumor$x)
  expect_equal(unname(posterior_linpred(fit, re.form = NA)), unname(eta0))
  expect_equal(unname(predict(fit, re.form = NA)), unname(colMeans(eta0)))
  expect_equal(unname(predict(fit, type = "response")), unname(fitted(fit)))
  expect_identical(dim(posterior_predict(fit)), c(nrow(m), nrow(tumor)))
  expect_identical(dim(posterior_linpred(fit, draws = 50)), c(50L, nrow(tumor)))
})

test_that("newdata uses the fit's poly() coefficients and factor levels", {
  fit <- quick_fit(count ~ poly(x, 2) + (1 | mouse), tumor, family = poisson, iter = 300)
  rows <- c(3, 50, 400)
  expect_equal(unname(predict(fit, newdata = tumor[rows, ])), unname(predict(fit)[rows]))
  fit2 <- quick_fit(live ~ factor(brood) + (1 | flea), nitrofen, family = poisson, iter = 300)
  nd <- nitrofen[nitrofen$brood == 3, ][1:2, ]
  expect_equal(unname(predict(fit2, newdata = nd)),
               unname(predict(fit2)[as.numeric(rownames(nd))]))
})

test_that("a new level is an error without allow_new_levels", {
  fit <- quick_fit(live ~ conc + (1 | flea), nitrofen, family = poisson, iter = 300)
  nd <- data.frame(conc = 80, flea = "new")
  expect_error(posterior_epred(fit, newdata = nd), "allow_new_levels = TRUE")
  expect_error(predict(fit, nd), "not in the fitted data")
  expect_silent(predict(fit, nd, re.form = NA))
  expect_length(predict(fit, nd, allow_new_levels = TRUE), 1L)
  expect_length(predict(fit, nd, allow.new.levels = TRUE), 1L)
})

test_that("new levels get independent N(0, Sigma) draws per level and per draw", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 1000)
  m <- as.matrix(fit)
  nd <- data.frame(operator = rep(paste0("new", 1:20), each = 2))
  eta <- posterior_linpred(fit, newdata = nd, allow_new_levels = TRUE, seed = 1)
  # rows with the same new level share the draw; different levels do not
  expect_equal(eta[, 1], eta[, 2])
  expect_false(isTRUE(all.equal(eta[, 1], eta[, 3])))
  b <- (eta[, seq(1, 40, 2)] - m[, "(Intercept)"]) / sqrt(m[, "Sigma[operator:(Intercept),(Intercept)]"])
  # standardised by each draw's Sigma: N(0, 1), 20000 values
  expect_lt(abs(mean(b)), 0.05)
  expect_lt(abs(sd(b) - 1), 0.03)
  expect_lt(abs(cor(b[, 1], b[, 2])), 0.1)
  # a known level gets its own effect
  known <- posterior_linpred(fit, newdata = data.frame(operator = "a"))
  expect_equal(unname(known[, 1]), unname(m[, "(Intercept)"] + m[, "b[(Intercept) operator:a]"]))
})

test_that("new levels with correlated slopes have the covariance of Sigma", {
  fit <- quick_fit(count ~ x + (x | mouse), tumor, family = poisson, iter = 400)
  m <- as.matrix(fit)
  L <- 25
  nd <- data.frame(x = rep(c(0, 1), L), mouse = rep(paste0("n", 1:L), each = 2))
  eta <- posterior_linpred(fit, newdata = nd, allow_new_levels = TRUE, seed = 2)
  b0 <- eta[, seq(1, 2 * L, 2)] - m[, "(Intercept)"]
  b1 <- eta[, seq(2, 2 * L, 2)] - m[, "(Intercept)"] - m[, "x"] - b0
  # whiten each draw's pair with its own Sigma: should be iid N(0, I)
  z <- matrix(NA, 0, 2)
  for (s in seq_len(nrow(m))) {
    S <- matrix(m[s, c("Sigma[mouse:(Intercept),(Intercept)]", "Sigma[mouse:x,(Intercept)]",
                       "Sigma[mouse:x,(Intercept)]", "Sigma[mouse:x,x]")], 2, 2)
    z <- rbind(z, cbind(b0[s, ], b1[s, ]) %*% solve(chol(S)))
  }
  v <- cov(z)
  expect_lt(max(abs(v - diag(2))), 0.06)
  expect_lt(max(abs(colMeans(z))), 0.04)
})

test_that("offsets and binomial trials in newdata are honoured", {
  d <- binom_data()
  fo <- quick_fit(cnt ~ x + offset(log(t)) + (1 | g), d, family = poisson, iter = 300)
  nd <- d[1:2, ]
  nd$t <- c(1, 10)
  expect_equal(unname(predict(fo, nd) - predict(fo, d[1:2, ])), log(nd$t / d$t[1:2]))
  expect_equal(unname(predict(fo, d[1:2, ], offset = 0) + log(d$t[1:2])), unname(predict(fo)[1:2]))

  fb <- quick_fit(cbind(s, f) ~ x + (1 | g), d, family = binomial, iter = 300)
  nd <- d[1:3, ]
  nd$s <- c(0, 1, 2)
  nd$f <- c(100, 200, 0)
  yrep <- posterior_predict(fb, newdata = nd, seed = 1)
  expect_true(all(yrep[, 1] <= 100) && all(yrep[, 3] <= 2) && any(yrep[, 2] > 10))
  expect_error(posterior_predict(fb, newdata = d[1:3, c("x", "g")]), "trials")
  yrep <- posterior_predict(fb, newdata = d[1:3, c("x", "g")], trials = 5)
  expect_true(all(yrep >= 0 & yrep <= 5))
  # 0/1 response: one trial
  d01 <- data.frame(y = rep(0:1, 20), x = d$x, g = d$g)
  f01 <- quick_fit(y ~ x + (1 | g), d01, family = binomial, iter = 300)
  expect_true(all(posterior_predict(f01, newdata = d01[1:5, c("x", "g")]) %in% 0:1))
})

test_that("log_lik sums agree with the family's density evaluated in R", {
  d <- binom_data()
  fb <- quick_fit(cbind(s, f) ~ x + (1 | g), d, family = binomial, iter = 300)
  m <- as.matrix(fb)
  p <- plogis(m[, "(Intercept)"] + outer(m[, "x"], d$x) + m[, paste0("b[(Intercept) g:", d$g, "]")])
  ll <- log_lik(fb)
  expect_identical(dim(ll), dim(p))
  ref <- sapply(seq_len(nrow(m)), function(s) sum(dbinom(d$s, d$n, p[s, ], log = TRUE)))
  expect_equal(unname(rowSums(ll)), ref)
  expect_equal(unname(log_lik(fb, newdata = d[1:4, ])), unname(ll[, 1:4]))

  fg <- quick_fit(bright ~ 1 + (1 | operator), pulp, iter = 300)
  m <- as.matrix(fg)
  mu <- m[, "(Intercept)"] + m[, paste0("b[(Intercept) operator:", pulp$operator, "]")]
  ref <- sapply(seq_len(nrow(m)), function(s) sum(dnorm(pulp$bright, mu[s, ], m[s, "sigma"], log = TRUE)))
  expect_equal(unname(rowSums(log_lik(fg))), ref)

  fp <- quick_fit(live ~ conc + (1 | flea), nitrofen, family = poisson, iter = 300)
  m <- as.matrix(fp)
  mu <- exp(m[, "(Intercept)"] + outer(m[, "conc"], nitrofen$conc) +
              m[, paste0("b[(Intercept) flea:", nitrofen$flea, "]")])
  ref <- sapply(seq_len(nrow(m)), function(s) sum(dpois(nitrofen$live, mu[s, ], log = TRUE)))
  expect_equal(unname(rowSums(log_lik(fp))), ref)
  expect_error(log_lik(fp, newdata = nitrofen[1:3, c("conc", "flea")]), "response")
})

test_that("loo and waic come from the loo package on log_lik; loo_compare compares fits", {
  f1 <- quick_fit(live ~ conc + (1 | flea), nitrofen, family = poisson, iter = 400)
  f2 <- quick_fit(live ~ conc + brood + (1 | flea), nitrofen, family = poisson, iter = 400)
  ll <- log_lik(f1)
  w <- suppressWarnings(waic(f1))
  lppd <- sum(log(colMeans(exp(ll))))
  pw <- sum(apply(ll, 2, var))
  expect_equal(w$estimates["elpd_waic", "Estimate"], lppd - pw)
  l1 <- suppressWarnings(loo(f1))
  l2 <- suppressWarnings(loo(f2))
  expect_s3_class(l1, "psis_loo")
  expect_identical(dim(l1$pointwise)[1], 150L)
  cmp <- suppressWarnings(loo_compare(l1, l2))
  expect_s3_class(cmp, "compare.loo")
  expect_identical(nrow(cmp), 2L)
  cmp2 <- suppressWarnings(loo_compare(f1, f2))
  expect_identical(sort(rownames(cmp2)), c("f1", "f2"))
})

test_that("predictive_interval and nested grouping factors", {
  pulp2 <- transform(pulp, batch = factor(rep(1:2, 10)))
  fit <- quick_fit(bright ~ 1 + (1 | operator/batch), pulp2, iter = 300)
  expect_named(ranef(fit), c("batch:operator", "operator"))
  expect_equal(unname(predict(fit, pulp2[1:3, ])), unname(predict(fit)[1:3]))
  m <- as.matrix(fit)
  nd <- data.frame(operator = "a", batch = "3")
  eta <- posterior_linpred(fit, newdata = nd, allow_new_levels = TRUE, seed = 1)
  # operator a is known: the new batch adds a draw around intercept + b[operator a]
  dev <- eta[, 1] - m[, "(Intercept)"] - m[, "b[(Intercept) operator:a]"]
  expect_lt(abs(mean(dev / sqrt(m[, "Sigma[batch:operator:(Intercept),(Intercept)]"]))), 0.25)
  expect_equal(predict(fit, nd, re.form = ~ (1 | operator)),
               c(`1` = mean(m[, "(Intercept)"] + m[, "b[(Intercept) operator:a]"])))
  pi <- predictive_interval(fit, prob = 0.5)
  expect_identical(dim(pi), c(20L, 2L))
  expect_identical(colnames(pi), c("25%", "75%"))
})

test_that("re.form = NA needs no grouping column in newdata", {
  fit <- bglmm(count ~ poly(x, 4) + (poly(x, 4) | mouse), data = tumor, family = poisson,
               chains = 2, iter = 300, refresh = 0, seed = 1)
  nd <- data.frame(x = c(0.1, 0.5))
  ep <- posterior_epred(fit, newdata = nd, re.form = NA)
  expect_equal(dim(ep), c(300L, 2L))
  # the same as with any level of the grouping factor present but not used
  ep2 <- posterior_epred(fit, newdata = data.frame(x = c(0.1, 0.5), mouse = "3"), re.form = NA)
  expect_equal(ep, ep2)
  # a kept term still needs its grouping column
  expect_error(posterior_epred(fit, newdata = nd), "mouse")
})
