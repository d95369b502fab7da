//! The Gibbs step of one group's coefficients in the gaussian (normal-linear) model.

use super::{draw_canonical_normal, Gauss, GroupPrior};
use crate::dist::std_normal;
use crate::linalg::{chol_in_place, dot};
use crate::model::Group;
use rand::Rng;

/// beta | rest ~ N(H^-1 (Z'r/s2 + P mean), H^-1), H = Z'Z/s2 + P, r = y - eta + Z beta,
/// with the prior N(mean, P^-1); eta follows. `work` needs q*q + 3q.
pub fn gibbs_group<R: Rng + ?Sized>(rng: &mut R, d: Gauss, eta: &mut [f64], g: Group, beta: &mut [f64], prior: GroupPrior, work: &mut [f64]) {
    let q = beta.len();
    if q == 1 {
        return gibbs_group_1(rng, d, eta, g, &mut beta[0], prior);
    }
    let (y, sigma2, ztz, mean, prec) = (d.y, d.sigma2, g.ztz, prior.mean, prior.prec);
    let (h, rest) = work.split_at_mut(q * q);
    let (b, rest) = rest.split_at_mut(q);
    let (u, old) = rest.split_at_mut(q);
    for k in 0..q * q {
        h[k] = ztz[k] / sigma2 + prec[k];
    }
    crate::linalg::mat_vec(prec, q, mean, b);
    for (k, &i) in g.rows.iter().enumerate() {
        let zr = &g.z[k * q..(k + 1) * q];
        let r = y[i] - eta[i] + dot(zr, beta);
        for a in 0..q {
            b[a] += zr[a] * r / sigma2;
        }
    }
    let ok = chol_in_place(h, q);
    debug_assert!(ok, "Z'Z/s2 + Sigma^-1 is positive definite");
    draw_canonical_normal(rng, h, q, b, u);
    for k in 0..q {
        old[k] = b[k] - beta[k];
        beta[k] = b[k];
    }
    for (k, &i) in g.rows.iter().enumerate() {
        eta[i] += dot(&g.z[k * q..(k + 1) * q], &old[..q]);
    }
}

/// `gibbs_group` for q = 1 (random intercepts) in scalars: on small models the q x q
/// loops and calls were most of a group's step.
fn gibbs_group_1<R: Rng + ?Sized>(rng: &mut R, d: Gauss, eta: &mut [f64], g: Group, beta: &mut f64, prior: GroupPrior) {
    let (y, sigma2, ztz, mean, prec) = (d.y, d.sigma2, g.ztz[0], prior.mean[0], prior.prec[0]);
    let h = ztz / sigma2 + prec;
    let mut b = prec * mean;
    for (&i, &z) in g.rows.iter().zip(g.z) {
        b += z * (y[i] - eta[i] + z * *beta) / sigma2;
    }
    debug_assert!(h > 0.0, "Z'Z/s2 + Sigma^-1 is positive");
    let l = h.sqrt();
    let new = (b / l + std_normal(rng)) / l;
    let d = new - *beta;
    *beta = new;
    for (&i, &z) in g.rows.iter().zip(g.z) {
        eta[i] += z * d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::testing::mean_sd;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn gibbs_group_matches_conjugate_posterior() {
        // y_i = b + e_i, e ~ N(0, s2), b ~ N(mu, tau2): b | y ~ N(post_mean, post_var)
        let y = [1.0, 2.5, 0.5];
        let rows = [0usize, 1, 2];
        let z = [1.0; 3];
        let ztz = [3.0];
        let (mu, tau2, s2) = (-1.0, 2.0, 0.5);
        let post_var = 1.0 / (3.0 / s2 + 1.0 / tau2);
        let post_mean = post_var * (4.0 / s2 + mu / tau2);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut beta = [0.0];
        let mut eta = [0.0; 3];
        let mut work = [0.0; 4];
        let draws: Vec<f64> = (0..100_000)
            .map(|_| {
                let g = Group { rows: &rows, z: &z, ztz: &ztz };
                let prior = GroupPrior { mean: &[mu], prec: &[1.0 / tau2] };
                gibbs_group(&mut rng, Gauss { y: &y, sigma2: s2 }, &mut eta, g, &mut beta, prior, &mut work);
                beta[0]
            })
            .collect();
        let (m, s) = mean_sd(&draws);
        assert!((m - post_mean).abs() < 5.0 * post_var.sqrt() / (draws.len() as f64).sqrt());
        assert!((s * s / post_var - 1.0).abs() < 0.03);
        assert!((eta[2] - beta[0]).abs() < 1e-12);
    }
}
