# Small helpers shared by the other files: NULL default, argument checks, cheap tests on
# big vectors, row subsets.

# a, or b when a is NULL.
`%||%` <- function(a, b) if (is.null(a)) b else a

# A whole number of at least `min`, as an integer; an error naming the argument otherwise.
check_count <- function(x, name, min = 0) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x != round(x) || x < min) {
    stop(sprintf("'%s' must be a whole number of at least %d.", name, min), call. = FALSE)
  }
  as.integer(x)
}

# TRUE or FALSE; an error naming the argument otherwise.
check_flag <- function(x, name) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) stop(sprintf("'%s' must be TRUE or FALSE.", name), call. = FALSE)
  x
}

# Finite numbers (optionally positive, or one number); an error naming the argument otherwise.
check_num <- function(x, name, finite = FALSE, positive = FALSE, scalar = FALSE) {
  ok <- is.numeric(x) && length(x) > 0L && !anyNA(x) && all(is.finite(x))
  if (ok && positive) ok <- all(x > 0)
  if (ok && scalar) ok <- length(x) == 1L
  if (!ok) {
    stop(sprintf("'%s' must be %s%s%s.", name, if (scalar) "a single " else "",
                 if (positive) "positive finite number" else "finite number",
                 if (scalar) "" else "(s)"), call. = FALSE)
  }
}

# TRUE when every value of a numeric vector or matrix is finite. A finite sum proves it
# without the logical copies of is.finite() (Inf and NaN propagate; only an overflowing sum
# needs the full check).
all_finite <- function(x) {
  if (is.integer(x)) return(!anyNA(x))
  is.finite(sum(x)) || all(is.finite(x))
}

# At most max_rows of rows 1..n, evenly spaced and including the first and last (all of
# them when n <= max_rows): the subset that big-data checks and the starting GLM use.
spaced_rows <- function(n, max_rows) {
  if (n > max_rows) unique(round(seq(1, n, length.out = max_rows))) else seq_len(n)
}
