# Agreement with lme4 where the posterior should be close to the (RE)ML fit.

test_that("nitrofen poisson GLMM: posterior means agree with glmer", {
  # glmer on conc / 100 (same model, well-scaled, no convergence warnings); estimates and
  # standard errors mapped back to the conc scale.
  n2 <- transform(nitrofen, c100 = conc / 100)
  gm <- lme4::glmer(live ~ c100 * brood + (1 | flea), data = n2, family = poisson)
  cf <- summary(gm)$coefficients
  cf[c("c100", "c100:brood"), 1:2] <- cf[c("c100", "c100:brood"), 1:2] / 100
  rownames(cf) <- c("(Intercept)", "conc", "brood", "conc:brood")

  fit <- bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson,
               chains = 2, iter = 4000, refresh = 0, seed = 1)
  s <- post_stats(fit, rownames(cf))
  # Tolerance: |posterior mean - glmer estimate| < 0.5 glmer SE. With weak priors and 150
  # rows the mean and the Laplace-approximate MLE differ by a fraction of an SE (largest
  # |difference| 0.12-0.28 SE over seeds 1-10, partly because the posterior of the flea sd
  # sits above glmer's estimate); the Monte Carlo SE is ~0.06 SE at this length. A
  # likelihood, link or design error moves a coefficient by well over half an SE.
  dz <- (s$mean - cf[, 1]) / cf[, 2]
  expect_true(all(abs(dz) < 0.5), label = paste(rownames(cf), round(dz, 3), collapse = "; "))
  # posterior sds are of the same size as glmer's SEs (observed ratios 0.93-1.15 over seeds
  # 1-10; a factor 1.5 either way fails for a sampler that does not explore the posterior)
  ratio <- s$sd / cf[, 2]
  expect_true(all(ratio > 1 / 1.5 & ratio < 1.5), label = paste(round(ratio, 2), collapse = ", "))
  # glmer's flea sd (0.288) is inside the posterior 95% interval of sqrt(Sigma). (It sits at
  # the 5-7% posterior quantile over seeds 1-10: the default inverse-Wishart(3, 1) prior,
  # density ~ s^-2.5 exp(-0.5 / s) in the variance s, pulls small variances up.)
  tau <- sqrt(as.matrix(fit)[, "Sigma[flea:(Intercept),(Intercept)]"])
  tau_hat <- sqrt(lme4::VarCorr(gm)$flea[1, 1])
  expect_gt(tau_hat, stats::quantile(tau, 0.025))
  expect_lt(tau_hat, stats::quantile(tau, 0.975))
})

test_that("pulp: intercept and sigma agree with lmer (REML)", {
  lm1 <- lme4::lmer(bright ~ 1 + (1 | operator), data = pulp)  # REML
  est <- lme4::fixef(lm1)[["(Intercept)"]]
  se <- summary(lm1)$coefficients["(Intercept)", "Std. Error"]
  vc <- as.data.frame(lme4::VarCorr(lm1))
  sigma_hat <- vc$sdcor[vc$grp == "Residual"]        # 0.326
  tau_hat <- vc$sdcor[vc$grp == "operator"]          # 0.261
  expect_equal(sigma_hat, 0.326, tolerance = 0.01)

  fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, chains = 2, iter = 4000,
               refresh = 0, seed = 1)
  m <- as.matrix(fit)
  s <- post_stats(fit, "(Intercept)")
  # Intercept: the balanced design makes the posterior mean ~ the grand mean (60.4) whatever
  # the operator variance; tolerance 0.5 lmer SE (observed < 0.03 SE over seeds 1-10).
  expect_lt(abs(s$mean - est), 0.5 * se)
  # sigma: posterior median within 25% of lmer's 0.326 (observed ~0.34, +4%): with 16
  # residual df the posterior median of sigma sits a few percent above the REML estimate.
  expect_lt(abs(stats::median(m[, "sigma"]) / sigma_hat - 1), 0.25)
  # operator sd: 4 groups, strongly prior-sensitive, so only require lmer's estimate to lie
  # inside the posterior 95% interval.
  tau <- sqrt(m[, "Sigma[operator:(Intercept),(Intercept)]"])
  expect_gt(tau_hat, stats::quantile(tau, 0.025))
  expect_lt(tau_hat, stats::quantile(tau, 0.975))
})

test_that("large simulated gaussian data: posterior close to lmer", {
  set.seed(101)
  J <- 400
  n <- 10
  b <- rmvnorm_chol(J, c(0, 0), matrix(c(0.36, 0.072, 0.072, 0.16), 2))
  g <- rep(seq_len(J), each = n)
  x <- stats::rnorm(J * n)
  z <- stats::rbinom(J * n, 1, 0.4)
  d <- data.frame(y = 2 + b[g, 1] + (1 + b[g, 2]) * x - 0.5 * z + stats::rnorm(J * n),
                  x = x, z = z, g = factor(g))
  lm1 <- lme4::lmer(y ~ x + z + (1 + x | g), data = d)
  cf <- summary(lm1)$coefficients
  fit <- bglmm(y ~ x + z + (1 + x | g), data = d, chains = 2, iter = 1000, refresh = 0, seed = 101)
  s <- post_stats(fit, rownames(cf))
  # 4000 rows, 400 groups, weak priors: the posterior mean equals the REML estimate up to
  # O(SE / sqrt(J)) and Monte Carlo error (~0.04 SE). Tolerance 0.2 SE (largest observed
  # 0.14 SE over 10 simulated data sets).
  dz <- (s$mean - cf[, 1]) / cf[, 2]
  expect_true(all(abs(dz) < 0.2), label = paste(rownames(cf), round(dz, 3), collapse = "; "))
  # variance parameters: posterior medians within 2 posterior sds of lmer's REML values
  # (the difference is of order sd / sqrt(J) plus the default prior's upward pull on the
  # slope variance; observed |z| up to 0.94, for Sigma[g:x,x], over 10 data sets).
  vc <- as.data.frame(lme4::VarCorr(lm1))
  ref <- c("Sigma[g:(Intercept),(Intercept)]" = vc$vcov[vc$grp == "g" & vc$var1 == "(Intercept)" & is.na(vc$var2)],
           "Sigma[g:x,(Intercept)]" = vc$vcov[vc$grp == "g" & !is.na(vc$var2)],
           "Sigma[g:x,x]" = vc$vcov[vc$grp == "g" & vc$var1 == "x" & is.na(vc$var2)],
           sigma = vc$sdcor[vc$grp == "Residual"])
  m <- as.matrix(fit)[, names(ref)]
  zv <- (apply(m, 2, stats::median) - ref) / apply(m, 2, stats::sd)
  expect_true(all(abs(zv) < 2), label = paste(names(zv), round(zv, 2), collapse = "; "))
})
