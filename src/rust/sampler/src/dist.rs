//! Draws from the standard distributions the full conditionals need.

use crate::linalg::{dot, solve_lower, solve_lower_t};
use rand::Rng;
use rand_distr::{ChiSquared, Distribution, Gamma, StandardNormal};

/// A standard normal draw.
#[inline]
pub fn std_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.sample(StandardNormal)
}

/// sigma^2 ~ inverse-gamma(shape, rate): 1 / Gamma(shape, scale = 1 / rate).
pub fn inv_gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64, rate: f64) -> f64 {
    let g = Gamma::new(shape, 1.0 / rate).expect("inverse-gamma parameters are checked by the caller");
    1.0 / g.sample(rng)
}

/// A Poisson(lambda) draw, for simulating responses (0 where lambda is not a positive
/// finite number): a
/// uniform against lambda below 1e-12 (P(y > 1) is below 1e-24 there), a rounded normal
/// above 1e15 (where a double no longer tells consecutive counts much apart), rand_distr's
/// between. rand_distr's alone returns -1 below about 1e-16 and does not return near 1e307.
pub fn poisson<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> f64 {
    if !(lambda > 0.0 && lambda.is_finite()) {
        0.0
    } else if lambda < 1e-12 {
        f64::from(u8::from(rng.gen::<f64>() < lambda))
    } else if lambda > 1e15 {
        (lambda + lambda.sqrt() * std_normal(rng)).round().max(0.0)
    } else {
        rand_distr::Poisson::new(lambda).map_or(0.0, |d| d.sample(rng))
    }
}

/// A draw from N(mean, sd^2) truncated to (0, inf): plain rejection when the mean is
/// non-negative (acceptance >= 1/2), else Robert's (1995) exponential proposal for the tail.
pub fn positive_normal<R: Rng + ?Sized>(rng: &mut R, mean: f64, sd: f64) -> f64 {
    if mean >= 0.0 {
        loop {
            let x = mean + sd * std_normal(rng);
            if x > 0.0 {
                return x;
            }
        }
    }
    let alpha = -mean / sd;
    let rate = 0.5 * (alpha + (alpha * alpha + 4.0).sqrt());
    loop {
        let z = alpha - rng.gen::<f64>().ln() / rate;
        if rng.gen::<f64>().ln() < -0.5 * (z - rate) * (z - rate) {
            return mean + sd * z;
        }
    }
}

/// Sigma ~ inverse-Wishart(nu, S), density proportional to
/// |Sigma|^-(nu+q+1)/2 exp(-tr(S Sigma^-1)/2), mean S / (nu - q - 1).
///
/// By the Bartlett decomposition the precision is W = L^-T A A' L^-1 ~ Wishart(nu, S^-1),
/// with S = L L' and A lower triangular (A_ii^2 ~ chi^2(nu - i), A_ij ~ N(0, 1)), so
/// Sigma = (L A^-T)(L A^-T)' and Sigma^-1 = (L^-T A)(L^-T A)'. Only triangular solves are
/// needed: S is never inverted, which keeps ill-conditioned scales (tiny prior scale,
/// nearly collinear group effects) from failing. `l` holds L in its lower triangle (q x q,
/// column-major, as `chol_in_place` leaves it); `work` needs 2 q^2 slots. Sigma and Sigma^-1
/// go to `sigma` and `prec`; false if a draw is not finite. Allocates nothing: it runs for
/// every term in every sweep.
pub fn inv_wishart<R: Rng + ?Sized>(
    rng: &mut R,
    nu: f64,
    l: &[f64],
    q: usize,
    work: &mut [f64],
    sigma: &mut [f64],
    prec: &mut [f64],
) -> bool {
    let qq = q * q;
    let (a, x) = work[..2 * qq].split_at_mut(qq);
    a.fill(0.0);
    for i in 0..q {
        let Ok(chi) = ChiSquared::new(nu - i as f64) else { return false };
        a[i + i * q] = chi.sample(rng).sqrt();
        for j in 0..i {
            a[i + j * q] = std_normal(rng);
        }
    }
    // X = A^-1 L' = C' with C = L A^-T, column by column; Sigma = C C' = X' X
    for c in 0..q {
        let col = &mut x[c * q..(c + 1) * q];
        for (r, v) in col.iter_mut().enumerate() {
            *v = if r <= c { l[c + r * q] } else { 0.0 };
        }
        solve_lower(a, q, col);
    }
    for i in 0..q {
        for j in 0..q {
            sigma[i + j * q] = dot(&x[i * q..(i + 1) * q], &x[j * q..(j + 1) * q]);
        }
    }
    // D = L^-T A, column by column (A's columns in place); Sigma^-1 = D D'
    for c in 0..q {
        solve_lower_t(l, q, &mut a[c * q..(c + 1) * q]);
    }
    for i in 0..q {
        for j in 0..q {
            prec[i + j * q] = (0..q).map(|c| a[i + c * q] * a[j + c * q]).sum();
        }
    }
    sigma[..qq].iter().chain(&prec[..qq]).all(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn inverse_wishart_mean_is_scale_over_df_minus_q_minus_1() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let scales = [
            DMatrix::from_row_slice(2, 2, &[2.0, 0.6, 0.6, 1.0]),
            DMatrix::from_row_slice(3, 3, &[2.0, 0.6, -0.3, 0.6, 1.0, 0.2, -0.3, 0.2, 0.5]),
        ];
        let nu = 9.0;
        for s in scales {
            let q = s.nrows();
            // the strict upper triangle of the factor is garbage, as chol_in_place leaves it
            let mut l = s.clone().cholesky().unwrap().l();
            for i in 0..q {
                for j in i + 1..q {
                    l[(i, j)] = 99.0;
                }
            }
            let n = 40_000;
            let mut mean = DMatrix::<f64>::zeros(q, q);
            let mut sq = DMatrix::<f64>::zeros(q, q);
            let (mut work, mut sig, mut prec) = (vec![0.0; 2 * q * q], vec![0.0; q * q], vec![0.0; q * q]);
            for _ in 0..n {
                assert!(inv_wishart(&mut rng, nu, l.as_slice(), q, &mut work, &mut sig, &mut prec));
                let (sig, prec) = (DMatrix::from_column_slice(q, q, &sig), DMatrix::from_column_slice(q, q, &prec));
                let id = &sig * &prec;
                assert!((id - DMatrix::<f64>::identity(q, q)).abs().max() < 1e-9);
                assert!((&sig - sig.transpose()).abs().max() < 1e-12);
                mean += &sig;
                sq += sig.component_mul(&sig);
            }
            mean /= n as f64;
            sq /= n as f64;
            let expect = &s / (nu - q as f64 - 1.0);
            for i in 0..q {
                for j in 0..q {
                    // Monte Carlo standard error of the mean from the sample variance
                    let se = ((sq[(i, j)] - mean[(i, j)].powi(2)) / n as f64).sqrt();
                    assert!(
                        (mean[(i, j)] - expect[(i, j)]).abs() < 4.0 * se,
                        "q = {q}, entry ({i},{j}): {} vs {} (se {se})",
                        mean[(i, j)],
                        expect[(i, j)]
                    );
                }
            }
        }
    }

    #[test]
    fn positive_normal_matches_truncated_moments() {
        // E[X | X > 0] for N(m, 1) is m + phi(m) / Phi(m)
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for &(m, expect) in &[(1.0, 1.287_599_7), (-2.0, 0.373_159_4)] {
            let n = 200_000;
            let draws: Vec<f64> = (0..n).map(|_| positive_normal(&mut rng, m, 1.0)).collect();
            assert!(draws.iter().all(|&x| x > 0.0));
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert!((mean - expect).abs() < 5.0 * (var / n as f64).sqrt(), "m = {m}: {mean} vs {expect}");
        }
    }

    #[test]
    fn poisson_draws_at_every_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for lambda in [0.0, 1e-310, 1e-20, 1e-13, 0.3, 7.0, 40.0, 1e9, 1e16, 1e307, f64::INFINITY, f64::NAN] {
            let n = 2000;
            let draws: Vec<f64> = (0..n).map(|_| poisson(&mut rng, lambda)).collect();
            assert!(draws.iter().all(|&y| y >= 0.0 && y.fract() == 0.0), "{lambda}");
            if lambda > 0.1 && lambda.is_finite() {
                let m = draws.iter().map(|y| y / n as f64).sum::<f64>();
                assert!((m - lambda).abs() < 5.0 * (lambda / n as f64).sqrt() + 1e-12 * lambda, "{lambda}: {m}");
            }
        }
    }

    #[test]
    fn inverse_gamma_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (a, b) = (6.0, 10.0);
        let n = 50_000;
        let draws: Vec<f64> = (0..n).map(|_| inv_gamma(&mut rng, a, b)).collect();
        let m = draws.iter().sum::<f64>() / n as f64;
        let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / n as f64;
        let expect = b / (a - 1.0);
        assert!((m - expect).abs() < 4.0 * (v / n as f64).sqrt());
    }
}
