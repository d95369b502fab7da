# Parameter names, as in rstanarm, built here only. The sampler writes its draws in this
# order (they are handed to it as config$par_names) and every method finds parameters by
# these names:
#   fixed effects     the columns of X: "(Intercept)", "conc"
#   group effects     "b[<coefficient> <group>:<level>]", by term, then level, then coefficient
#   extra parameter   the family's (family_aux_name()): "sigma" (gaussian),
#                     "reciprocal_dispersion" (neg_binomial_2), "shape" (Gamma); none otherwise
#   covariances       "Sigma[<group>:<row>,<column>]", by term, lower triangles by column
# The functions take the model data of bglmm_model_data() or a fit: both have X and re
# (with group_name, levels and cnms per term).

# All parameter names, in the order of the draws; without the group effects when they are
# not saved.
parameter_names <- function(md, family, save_ranef = TRUE) {
  c(colnames(md$X), if (save_ranef) all_b_names(md), family_aux_name(family), all_sigma_names(md))
}

# Names of the group effects of coefficient(s) cn of one term, for each of `levels`.
b_names <- function(r, cn, levels = r$levels) paste0("b[", cn, " ", r$group_name, ":", levels, "]")

# Names of one term's group effects, in the order of the draws (level by level).
term_b_names <- function(r) {
  b_names(r, rep(r$cnms, times = length(r$levels)), rep(r$levels, each = length(r$cnms)))
}

# Names of all the group effects, whether or not their draws were kept.
all_b_names <- function(x) unlist(lapply(x$re, term_b_names))

# q x q matrix of Sigma parameter names of one term (symmetric; lower triangle stored).
sigma_names_matrix <- function(r) {
  q <- length(r$cnms)
  nm <- matrix("", q, q)
  for (j in seq_len(q)) for (i in j:q) {
    nm[i, j] <- nm[j, i] <- paste0("Sigma[", r$group_name, ":", r$cnms[i], ",", r$cnms[j], "]")
  }
  nm
}

# Names of all the covariance parameters, in the order of the draws.
all_sigma_names <- function(x) {
  unlist(lapply(x$re, function(r) {
    nm <- sigma_names_matrix(r)
    nm[lower.tri(nm, diag = TRUE)]
  }))
}

# Names of the residual scale (the family's extra parameter) and the group covariances.
scale_names <- function(x) c(family_aux_name(x$family), all_sigma_names(x))

# Names of the group effects of the terms of one grouping factor.
group_b_names <- function(x, group) {
  unlist(lapply(x$re, function(r) if (r$group_name == group) term_b_names(r)))
}
