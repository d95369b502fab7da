# Helpers of test-families.R: whether the installed sampler fits a family and link (the Rust
# side of issue 19), and the data of the end-to-end fits.

# Whether the installed sampler fits the model of `family` (a family as bglmm() takes it)
# with its link. Two probes on a 4-row intercept-only model, built by bglmm's own stages as
# bglmm() builds it: the model itself must run, and the sampler must read the link (reject
# an unknown link name; a sampler from before issue 19 ignores spec$link and would fit the
# canonical link instead). A sampler that does not know the family says so ("not
# supported"): FALSE, so the tests skip; any other failure of the probe is an error, so a
# broken sampler fails the tests rather than skipping them. Cached per family and link.
sampler_knows <- function(family) {
  fam <- bglmm:::bglmm_family(family)
  key <- paste(fam$family, fam$link)
  if (is.null(sampler_probes[[key]])) {
    bogus <- probe_error(fam, "no_such_link")
    known <- probe_error(fam, fam$link)
    if (!is.null(known) && !grepl("not supported|unsupported|unknown", known, ignore.case = TRUE)) {
      stop(sprintf("The sampler failed on the %s probe model: %s", key, known), call. = FALSE)
    }
    sampler_probes[[key]] <- !is.null(bogus) && is.null(known)
  }
  sampler_probes[[key]]
}
sampler_probes <- new.env()

# The sampler's error on the probe model of family object fam with spec$link = link, NULL
# if it ran.
probe_error <- function(fam, link) {
  d <- data.frame(y = c(1, 2, 3, 4), n = 5)
  f <- if (fam$family == "binomial") cbind(y, n - y) ~ 1 else y ~ 1
  md <- bglmm:::bglmm_model_data(f, d, fam, stats::na.omit, NULL, environment())
  pr <- bglmm:::resolve_prior(bglmm_prior(), md, fam)
  settings <- list(iter = 4, warmup = 2, thin = 1, sweeps = 1, save_ranef = TRUE, chains = 1,
                   cores = 1, seed = 1, refresh = 0)
  spec <- bglmm:::sampler_spec(md, fam, pr)
  spec$link <- link
  config <- bglmm:::sampler_config(settings, bglmm:::initial_values(md, fam, pr),
                                   bglmm:::parameter_names(md, fam))
  bglmm:::bglmm_sample(spec, config)$error
}

# Small data with a response for every family of test-families.R: 8 groups of 6 rows, x in
# [0, 1], a group effect u; means that suit every link fitted to them (positive counts and
# Gamma means, probabilities below 1/2 for the log link of binomial).
families_data <- function(seed = 19) {
  set.seed(seed)
  d <- data.frame(g = factor(rep(1:8, each = 6)), x = rep(seq(0, 1, length.out = 6), 8), n = 12)
  u <- stats::rnorm(8, 0, 0.3)[d$g]
  d$nb <- stats::rnbinom(48, size = 3, mu = exp(1.5 + 0.5 * d$x + u))
  d$cnt <- stats::rpois(48, 4 + 3 * d$x + 2 * u)
  d$pos <- stats::rgamma(48, shape = 5, rate = 5 / exp(1 + 0.5 * d$x + u))
  d$s <- stats::rbinom(48, d$n, stats::plogis(-1.5 + d$x + u))
  d$yg <- stats::rnorm(48, exp(1 + 0.5 * d$x + u), 0.3)
  d
}
