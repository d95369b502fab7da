# plot.bglmm: ggplot objects, the parameters shown, clear errors.

plotted_pars <- function(p) {
  d <- p$data
  as.character(unique(if ("parameter" %in% names(d)) d$parameter else d$Parameter))
}

test_that("plot() returns ggplots of the fixed effects by default", {
  fit <- quick_fit(live ~ conc * brood + (1 | flea), nitrofen, family = poisson)
  for (type in c("trace", "dens", "hist", "intervals", "areas")) {
    p <- plot(fit, type)
    expect_s3_class(p, "ggplot")
    expect_setequal(plotted_pars(p), c("(Intercept)", "conc", "brood", "conc:brood"))
  }
  expect_s3_class(plot(fit, "ppc"), "ggplot")
  expect_s3_class(plot(fit, "ppc", plotfun = "stat", stat = "sd"), "ggplot")
})

test_that("plot() selects parameters by name, regular expression and group", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp)
  p <- plot(fit, "trace", pars = c("sigma", "Sigma[operator:(Intercept),(Intercept)]"))
  expect_setequal(plotted_pars(p), c("sigma", "Sigma[operator:(Intercept),(Intercept)]"))
  b <- paste0("b[(Intercept) operator:", c("a", "b", "c", "d"), "]")
  expect_setequal(plotted_pars(plot(fit, "intervals", regex_pars = "^b\\[")), b)
  expect_setequal(plotted_pars(plot(fit, "intervals", group = "operator")), b)
  expect_setequal(plotted_pars(plot(fit, "areas", group = "operator", regex_pars = "a\\]$")), b[1])
  expect_setequal(plotted_pars(plot(fit, "dens", pars = "(Intercept)", regex_pars = "^sigma$")),
                  c("(Intercept)", "sigma"))
})

test_that("plot() errors clearly on unknown parameters, groups and types", {
  fit <- quick_fit(bright ~ 1 + (1 | operator), pulp)
  expect_error(plot(fit, pars = "nope"), "Unknown parameters: nope")
  expect_error(plot(fit, regex_pars = "^zzz"), "No parameters match")
  expect_error(plot(fit, "intervals", group = "flea"), "grouping factors of the model: operator")
  expect_error(plot(fit, "intervals", group = "operator", pars = "sigma"), "None of the chosen parameters")
  expect_error(plot(fit, "bogus"), "should be one of")
})

test_that("plot() of a model without groups or fixed effects", {
  glm_fit <- quick_fit(bright ~ 1, pulp)
  expect_setequal(plotted_pars(plot(glm_fit)), "(Intercept)")
  nofe <- quick_fit(bright ~ 0 + (1 | operator), pulp)
  expect_setequal(plotted_pars(plot(nofe)), c("sigma", "Sigma[operator:(Intercept),(Intercept)]"))
})

test_that("many panels warn and suggest intervals", {
  fit <- quick_fit(live ~ conc + (1 | flea), nitrofen, family = poisson)
  expect_warning(plot(fit, "trace", group = "flea"), "type = \"intervals\"")
})
