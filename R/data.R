# Documentation of the course data sets (built by data/*.R).

#' Brightness of paper pulp by shift operator
#'
#' Brightness of paper pulp produced by four shift operators, five measurements each: the
#' random-effects one-way ANOVA example of the course.
#'
#' @format A data frame with 20 rows and 2 columns:
#' \describe{
#'   \item{bright}{Brightness of the pulp.}
#'   \item{operator}{Shift operator, a factor with levels a, b, c, d.}
#' }
#' @source R package faraway (data set \code{pulp}); originally Sheldon, F. R. (1960),
#'   Statistical techniques applied to production situations, \emph{Industrial and
#'   Engineering Chemistry} 52, 507-509. Used in Faraway, \emph{Extending the Linear Model
#'   with R}.
#' @examples
#' fit <- bglmm(bright ~ 1 + (1 | operator), data = pulp, iter = 1000, refresh = 0, seed = 1)
#' fit
"pulp"

#' Offspring of water fleas exposed to nitrofen
#'
#' Live offspring of 50 female water fleas (\emph{Ceriodaphnia dubia}) in five nitrofen
#' concentrations (10 fleas each), counted in three successive broods. Long form: one row
#' per flea and brood.
#'
#' @format A data frame with 150 rows and 4 columns:
#' \describe{
#'   \item{flea}{Flea, a factor with 50 levels.}
#'   \item{conc}{Nitrofen concentration in micrograms per litre (0, 80, 160, 235, 310).}
#'   \item{brood}{Brood number, 1 to 3.}
#'   \item{live}{Number of live offspring.}
#' }
#' @source R package boot (data set \code{nitrofen}, wide form); originally Bailer, A. J.
#'   and Oris, J. T. (1994), in \emph{Case Studies in Biometry}, Wiley, 25-40. Used in
#'   Davison, A. C. and Hinkley, D. V. (1997), \emph{Bootstrap Methods and Their
#'   Application}, Cambridge University Press.
#' @examples
#' fit <- bglmm(live ~ conc * brood + (1 | flea), data = nitrofen, family = poisson,
#'              iter = 1000, refresh = 0, seed = 1)
#' fit
"nitrofen"

#' Intestinal tumor counts along the intestine of mice
#'
#' Tumor counts in 20 sections along the intestine of each of 21 mice. Long form: one row
#' per mouse and section.
#'
#' @format A data frame with 420 rows and 4 columns:
#' \describe{
#'   \item{mouse}{Mouse, a factor with 21 levels.}
#'   \item{location}{Section index along the intestine, 1 to 20.}
#'   \item{x}{Relative location, \code{location / 20}.}
#'   \item{count}{Number of tumors in the section.}
#' }
#' @source Hoff, P. D. (2009), \emph{A First Course in Bayesian Statistical Methods},
#'   Springer, section 11.5 (data object \code{tumorLocation}).
#' @examples
#' fit <- bglmm(count ~ poly(x, 4) + (poly(x, 4) | mouse), data = tumor, family = poisson,
#'              chains = 2, iter = 1000, refresh = 0, seed = 1)
#' fit
"tumor"
