# Simulated data for the toolkit tests (binomial with trials, poisson with an offset).

binom_data <- function(seed = 3) {
  set.seed(seed)
  d <- data.frame(g = factor(rep(1:8, each = 5)), x = rnorm(40), n = rpois(40, 10) + 1)
  d$s <- rbinom(40, d$n, plogis(0.3 * d$x + rnorm(8)[d$g]))
  d$f <- d$n - d$s
  d$t <- runif(40, 1, 5)
  d$cnt <- rpois(40, d$t * exp(0.2 * d$x))
  d
}
