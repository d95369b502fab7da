# tidy(), glance() and augment() against the draws: medians, MAD SDs, quantile and HPD
# intervals; the columns of broom.mixed's tidiers.

test_that("tidy() of the fixed effects and sigma: medians, MAD SDs and intervals of the draws", {
  skip_if_not_installed("generics")
  fit <- eco_fit("gauss")
  m <- as.matrix(fit)
  td <- generics::tidy(fit, conf.int = TRUE, conf.level = 0.8)
  expect_equal(names(td), c("effect", "term", "estimate", "std.error", "conf.low", "conf.high"))
  expect_equal(td$term, c("(Intercept)", "Days"))
  expect_equal(td$estimate, unname(fixef(fit)))
  expect_equal(td$std.error, unname(apply(m[, td$term], 2, mad)))
  expect_equal(cbind(td$conf.low, td$conf.high), unname(t(apply(m[, td$term], 2, quantile, c(0.1, 0.9)))))
  aux <- generics::tidy(fit, effects = "auxiliary")
  expect_equal(aux$term, "sigma")
  expect_equal(aux$estimate, median(m[, "sigma"]))
  skip_if_not_installed("coda")
  hpd <- generics::tidy(fit, conf.int = TRUE, conf.method = "HPDinterval")
  expect_equal(cbind(hpd$conf.low, hpd$conf.high),
               unname(coda::HPDinterval(coda::as.mcmc(m[, c("(Intercept)", "Days")]), prob = 0.9)),
               ignore_attr = TRUE)
})

test_that("tidy() of ran_pars, ran_vals and ran_coefs summarises the draws of each quantity", {
  skip_if_not_installed("generics")
  fit <- eco_fit("gauss")
  m <- as.matrix(fit)
  rp <- generics::tidy(fit, effects = "ran_pars", conf.int = TRUE)
  expect_equal(rp$term, c("sd_(Intercept).Subject", "sd_Days.Subject",
                          "cor_(Intercept).Days.Subject", "sd_Observation.Residual"))
  expect_equal(rp$group, c("Subject", "Subject", "Subject", "Residual"))
  s0 <- sqrt(m[, "Sigma[Subject:(Intercept),(Intercept)]"])
  s1 <- sqrt(m[, "Sigma[Subject:Days,Days]"])
  r <- m[, "Sigma[Subject:Days,(Intercept)]"] / (s0 * s1)
  expect_equal(rp$estimate, unname(col_medians(cbind(s0, s1, r, m[, "sigma"]))))

  rv <- generics::tidy(fit, effects = "ran_vals")
  expect_equal(nrow(rv), 2 * 18)
  expect_equal(unique(rv$effect), "ran_vals")
  re <- ranef(fit)$Subject
  expect_equal(rv$estimate[rv$term == "Days"], unname(re$Days))
  expect_equal(rv$level[rv$term == "Days"], rownames(re))

  rc <- generics::tidy(fit, effects = "ran_coefs")
  cd <- coef(fit, summary = FALSE)$Subject
  expect_equal(rc$estimate[rc$term == "(Intercept)"], unname(apply(cd[, , "(Intercept)"], 2, median)))
  both <- generics::tidy(fit, effects = c("fixed", "ran_pars"))
  expect_equal(names(both), c("effect", "group", "term", "estimate", "std.error"))
  expect_equal(both$effect, rep(c("fixed", "ran_pars"), c(2, 4)))
})

test_that("glance() and augment() have broom's columns and the fit's numbers", {
  skip_if_not_installed("generics")
  fit <- eco_fit("gauss")
  gl <- generics::glance(fit)
  expect_equal(names(gl), c("algorithm", "pss", "nobs", "ngrps.Subject", "sigma"))
  expect_equal(c(gl$pss, gl$nobs, gl$ngrps.Subject), c(500L, 180L, 18L))
  expect_equal(gl$sigma, sigma(fit))
  gl2 <- suppressWarnings(generics::glance(fit, looic = TRUE))
  expect_equal(gl2$elpd_loo, suppressWarnings(loo(fit))$estimates["elpd_loo", "Estimate"])

  au <- generics::augment(fit)
  expect_equal(nrow(au), 180)
  expect_equal(au$.fitted, unname(fitted(fit)))
  expect_equal(au$.resid, unname(residuals(fit)))
  expect_equal(au$.se.fit, unname(apply(posterior_epred(fit), 2, sd)))
  nd <- data.frame(Days = 0:1, Subject = "308")
  au2 <- generics::augment(fit, newdata = nd, re.form = NA)
  expect_equal(au2$.fitted, unname(colMeans(posterior_epred(fit, newdata = nd, re.form = NA))))
  expect_false(".resid" %in% names(au2))
})
