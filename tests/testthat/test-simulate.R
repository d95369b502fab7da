# simulate(): replicated data sets from the posterior predictive distribution.

test_that("simulate() gives nsim replicates, one posterior draw each, reproducibly", {
  fit <- eco_fit("gauss")
  set.seed(10)
  before <- runif(1)
  set.seed(10)
  s <- simulate(fit, nsim = 40, seed = 7)
  expect_equal(runif(1), before)  # R's generator restored after a seeded simulate()
  expect_s3_class(s, "data.frame")
  expect_equal(dim(s), c(180L, 40L))
  expect_equal(names(s)[c(1, 40)], c("sim_1", "sim_40"))
  expect_equal(rownames(s), rownames(model.frame(fit)))
  expect_identical(simulate(fit, nsim = 40, seed = 7), s)
  set.seed(7)
  expect_equal(attr(s, "draws"), sample.int(500, 40))
  # each replicate is y ~ N(mu, sigma) of its draw
  mu <- posterior_epred(fit)[attr(s, "draws"), ]
  sig <- as.matrix(fit)[attr(s, "draws"), "sigma"]
  z <- (t(as.matrix(s)) - mu) / sig
  expect_lt(abs(mean(z)), 0.05)
  expect_lt(abs(sd(z) - 1), 0.05)
})

test_that("simulate() takes newdata and re.form, and more replicates than draws", {
  fit <- eco_fit("pois")
  nd <- data.frame(conc = c(0, 310), brood = c(1, 3), flea = "new")
  s <- simulate(fit, nsim = 3, newdata = nd, re.form = NA, seed = 1)
  expect_equal(dim(s), c(2L, 3L))
  s <- simulate(fit, nsim = 1200, seed = 1)
  expect_equal(dim(s), c(150L, 1200L))
  expect_true(all(s >= 0 & s == round(s)))
  # the replicates' mean is the posterior predictive mean
  z <- (rowMeans(s) - fitted(fit)) / (apply(s, 1, sd) / sqrt(1200))
  expect_lt(max(abs(z)), 5)
})
