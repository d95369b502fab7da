# Source: ../shared/data/pulp.csv of the course materials (see ?pulp for the reference).
pulp <- data.frame(
  bright = c(
    59.8, 60.0, 60.8, 60.8, 59.8, 59.8, 60.2, 60.4, 59.9, 60.0,
    60.7, 60.7, 60.5, 60.9, 60.3, 61.0, 60.8, 60.6, 60.5, 60.5
  ),
  operator = factor(c(
    "a", "a", "a", "a", "a", "b", "b", "b", "b", "b",
    "c", "c", "c", "c", "c", "d", "d", "d", "d", "d"
  ))
)
