# kfold() and loo(k_threshold = ) against a hand-written refit loop.

# elpd of each observation: the model refitted without fold k (seed = fit's seed + k) and
# evaluated on fold k, new groups drawing their effects after set.seed(seed + k).
hand_kfold <- function(fit, data, folds) {
  elpd <- numeric(nrow(data))
  for (k in sort(unique(folds))) {
    out <- folds == k
    fk <- bglmm(bright ~ 1 + (1 | operator), data = data[!out, ], chains = 2, iter = 300,
                refresh = 0, seed = fit$sampler$seed + k, sweeps = fit$sampler$sweeps)
    set.seed(fit$sampler$seed + k)
    ll <- log_lik(fk, newdata = data[out, ], allow_new_levels = TRUE)
    elpd[out] <- apply(ll, 2, function(v) log(mean(exp(v))))
  }
  elpd
}

test_that("kfold() equals a hand-written refit loop, for random and grouped folds", {
  fit <- eco_fit("pulp")
  folds <- rep(1:4, length.out = 20)
  kf <- suppressMessages(kfold(fit, folds = folds))
  expect_s3_class(kf, c("kfold", "loo"))
  expect_equal(attr(kf, "K"), 4L)
  expect_equal(rownames(kf$estimates), c("elpd_kfold", "p_kfold", "kfoldic"))
  elpd <- hand_kfold(fit, pulp, folds)
  expect_equal(kf$pointwise[, "elpd_kfold"], elpd)
  expect_equal(kf$elpd_kfold, sum(elpd))
  expect_equal(kf$se_elpd_kfold, sqrt(20 * var(elpd)))

  # leave-one-operator-out: every left-out operator is a new level
  groups <- as.integer(pulp$operator)
  kg <- suppressMessages(kfold(fit, folds = groups, cores = 2))
  expect_equal(kg$pointwise[, "elpd_kfold"], hand_kfold(fit, pulp, groups))
  cmp <- loo::loo_compare(kf, kg)
  expect_s3_class(cmp, "compare.loo")
  expect_equal(nrow(cmp), 2)
})

test_that("loo(k_threshold = ) refits without each observation above the threshold", {
  fit <- eco_fit("pulp")
  l0 <- suppressWarnings(loo(fit))
  k <- l0$diagnostics$pareto_k
  threshold <- sort(k, decreasing = TRUE)[3]  # the two observations of highest k
  bad <- which(k > threshold)
  expect_message(l1 <- loo(fit, k_threshold = threshold), "refitted 2 times")
  expect_true(all(is.na(l1$diagnostics$pareto_k[bad])))
  expect_equal(l1$pointwise[-bad, "elpd_loo"], l0$pointwise[-bad, "elpd_loo"])
  j <- bad[1]
  fj <- bglmm(bright ~ 1 + (1 | operator), data = pulp[-j, ], chains = 2, iter = 300,
              refresh = 0, seed = fit$sampler$seed + 1, sweeps = fit$sampler$sweeps)
  set.seed(fit$sampler$seed + 1)
  ll <- log_lik(fj, newdata = pulp[j, ], allow_new_levels = TRUE)
  expect_equal(l1$pointwise[j, "elpd_loo"], log(mean(exp(ll))))
  expect_equal(l1$estimates["elpd_loo", "Estimate"], sum(l1$pointwise[, "elpd_loo"]))
})

test_that("kfold() needs the data of the fit, unchanged", {
  d <- pulp
  fit <- bglmm(bright ~ 1 + (1 | operator), data = d, chains = 1, iter = 100, refresh = 0, seed = 1)
  d$bright <- d$bright + 1
  expect_error(kfold(fit, K = 2), "changed since the fit")
  rm(d)
  expect_error(kfold(fit, K = 2), "could not be found")
  expect_error(kfold(eco_fit("pulp"), folds = rep(1:2, 5)), "one per observation")
  expect_error(bglmm:::need_package("notapackage", "kfold(future = TRUE)"),
               "needs the package 'notapackage': install it")
})
