# emmeans on bglmm fits: population-level estimates (re.form = NA) from the posterior
# draws, compared with posterior_linpred / posterior_epred on the reference grid.

test_that("emmeans' means and contrasts are the medians of the draws on the reference grid", {
  skip_if_not_installed("emmeans")
  fit <- eco_fit("pois")
  grid <- data.frame(conc = mean(nitrofen$conc), brood = 1:3)
  eta <- posterior_linpred(fit, newdata = grid, re.form = NA)
  mu <- posterior_epred(fit, newdata = grid, re.form = NA)

  em <- suppressMessages(emmeans::emmeans(fit, ~ brood))
  s <- as.data.frame(summary(em))
  expect_equal(as.character(s$brood), c("1", "2", "3"))
  expect_equal(s$emmean, unname(col_medians(eta)), tolerance = 1e-8)

  resp <- as.data.frame(summary(suppressMessages(emmeans::emmeans(fit, ~ brood, type = "response"))))
  expect_equal(resp$rate, unname(col_medians(mu)), tolerance = 1e-8)
  rg <- as.data.frame(summary(emmeans::regrid(em)))
  expect_equal(rg$rate, unname(col_medians(mu)), tolerance = 1e-8)

  pw <- suppressMessages(emmeans::emmeans(fit, pairwise ~ brood, type = "response"))
  ratios <- as.data.frame(summary(pw$contrasts))
  expect_equal(ratios$ratio, unname(col_medians(cbind(mu[, 1] / mu[, 2], mu[, 1] / mu[, 3],
                                                       mu[, 2] / mu[, 3]))), tolerance = 1e-8)
  # the HPD interval of a mean is the one of its draws
  skip_if_not_installed("coda")
  hpd <- coda::HPDinterval(coda::as.mcmc(eta[, 1]), prob = 0.95)
  expect_equal(c(s$lower.HPD[1], s$upper.HPD[1]), unname(hpd[1, ]), tolerance = 1e-8)
})

test_that("emtrends gives the draws' slopes; a gaussian fit's means are on the response scale", {
  skip_if_not_installed("emmeans")
  fit <- eco_fit("pois")
  m <- as.matrix(fit)
  slopes <- cbind(m[, "conc"], m[, "conc"] + m[, "conc:factor(brood)2"],
                  m[, "conc"] + m[, "conc:factor(brood)3"])
  tr <- as.data.frame(summary(emmeans::emtrends(fit, ~ brood, var = "conc")))
  expect_equal(tr$conc.trend, unname(col_medians(slopes)), tolerance = 1e-4)

  g <- eco_fit("gauss")
  em <- as.data.frame(summary(emmeans::emmeans(g, ~ Days, at = list(Days = c(0, 9)))))
  mu <- posterior_epred(g, newdata = data.frame(Days = c(0, 9)), re.form = NA)
  expect_equal(em$emmean, unname(col_medians(mu)), tolerance = 1e-8)
})
