# Source: ../shared/data/nitrofen.csv of the course materials (wide form, one row per flea;
# see ?nitrofen for the reference), written here in long form: one row per flea and brood.
nitrofen <- local({
  conc <- c(
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    80, 80, 80, 80, 80, 80, 80, 80, 80, 80,
    160, 160, 160, 160, 160, 160, 160, 160, 160, 160,
    235, 235, 235, 235, 235, 235, 235, 235, 235, 235,
    310, 310, 310, 310, 310, 310, 310, 310, 310, 310
  )
  # live offspring in broods 1, 2, 3 of each flea, flea by flea
  live <- c(
    3, 14, 10, 5, 12, 15, 6, 11, 17, 6, 12, 15, 6, 15, 15,
    5, 14, 15, 6, 12, 15, 5, 13, 12, 3, 10, 11, 6, 11, 14,
    6, 11, 16, 5, 12, 16, 6, 11, 18, 5, 12, 16, 8, 13, 15,
    3, 9, 14, 5, 9, 13, 7, 12, 12, 5, 13, 14, 3, 12, 14,
    6, 12, 11, 6, 12, 11, 2, 8, 13, 6, 10, 11, 6, 11, 13,
    6, 13, 12, 6, 12, 12, 5, 10, 11, 6, 13, 10, 6, 12, 11,
    4, 13, 6, 6, 10, 5, 2, 5, 0, 6, 0, 6, 6, 13, 8,
    6, 0, 10, 7, 0, 6, 4, 2, 9, 6, 8, 7, 7, 0, 10,
    6, 0, 0, 6, 0, 0, 7, 0, 0, 0, 0, 0, 5, 10, 0,
    5, 0, 0, 6, 0, 0, 4, 0, 0, 6, 0, 0, 5, 0, 0
  )
  data.frame(
    flea = factor(rep(seq_along(conc), each = 3)),
    conc = rep(conc, each = 3),
    brood = rep(1:3, times = length(conc)),
    live = live
  )
})
