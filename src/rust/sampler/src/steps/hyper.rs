//! Gibbs steps of a term's hyperparameters: the group means theta, the covariance Sigma and
//! the Huang-Wand variances a (Hoff's theta | beta, Sigma and Sigma | theta, beta).

use super::draw_canonical_normal;
use crate::dist::{inv_gamma, inv_wishart};
use crate::linalg::chol_in_place;
use crate::params::{Coefs, CovState};
use rand::Rng;

/// Gibbs step for the group means theta, for the components that are free (`free[k]` is the
/// prior index of component k); other components stay 0. Prior theta_k ~ N(mu_k, sd_k^2)
/// independent; `prec` is Sigma^-1. `work` needs q^2 + 4q slots.
pub fn draw_theta<R: Rng + ?Sized>(
    rng: &mut R,
    coefs: &mut Coefs,
    prec: &[f64],
    free: &[Option<usize>],
    prior_mean: &[f64],
    prior_sd: &[f64],
    work: &mut [f64],
) {
    let f = free.iter().filter(|k| k.is_some()).count();
    if f == 0 {
        return;
    }
    let Coefs { beta, theta } = coefs;
    let q = theta.len();
    let m = beta.len() / q;
    let (sum, rest) = work.split_at_mut(q);
    let (ps, rest) = rest.split_at_mut(q);
    let (h, rest) = rest.split_at_mut(f * f);
    let (b, rest) = rest.split_at_mut(f);
    let u = &mut rest[..f];
    sum.fill(0.0);
    for bj in beta.chunks_exact(q) {
        for k in 0..q {
            sum[k] += bj[k];
        }
    }
    crate::linalg::mat_vec(prec, q, sum, ps);
    // a, c: positions among the free components; ka, kc: their components
    let free_k = || free.iter().enumerate().filter_map(|(k, pi)| pi.map(|pi| (k, pi)));
    for (a, (ka, pi)) in free_k().enumerate() {
        let v0 = prior_sd[pi] * prior_sd[pi];
        b[a] = ps[ka] + prior_mean[pi] / v0;
        for (c, (kc, _)) in free_k().enumerate() {
            h[a + c * f] = m as f64 * prec[ka + kc * q];
        }
        h[a + a * f] += 1.0 / v0;
    }
    let ok = chol_in_place(h, f);
    debug_assert!(ok);
    draw_canonical_normal(rng, h, f, b, u);
    for (a, (ka, _)) in free_k().enumerate() {
        theta[ka] = b[a];
    }
}

/// Gibbs step for Sigma: inverse-Wishart(nu0 + m, S0 + sum_j (beta_j - theta)(beta_j - theta)')
/// with (nu0, S0) the conditional prior in `cov`, into `cov`'s Sigma and Sigma^-1. `work`
/// needs 3 q^2 slots. False if the draw is numerically singular.
pub fn draw_sigma<R: Rng + ?Sized>(rng: &mut R, coefs: &Coefs, cov: &mut CovState, work: &mut [f64]) -> bool {
    let (beta, theta) = (&coefs.beta, &coefs.theta);
    let q = theta.len();
    let m = beta.len() / q;
    let (s, rest) = work.split_at_mut(q * q);
    s.copy_from_slice(&cov.iw_scale);
    for bj in beta.chunks_exact(q) {
        for c in 0..q {
            let dc = bj[c] - theta[c];
            for a in c..q {
                s[a + c * q] += (bj[a] - theta[a]) * dc;
            }
        }
    }
    chol_in_place(s, q) && inv_wishart(rng, cov.iw_df + m as f64, s, q, rest, &mut cov.sigma, &mut cov.prec)
}

/// Gibbs step for the Huang-Wand auxiliary variances (nothing under a fixed prior):
/// a_k | Sigma ~ inverse-gamma((nu + q)/2, nu (Sigma^-1)_kk + 1/A_k^2); Sigma's conditional
/// prior scale follows, 2 nu diag(1/a).
pub fn draw_hw<R: Rng + ?Sized>(rng: &mut R, cov: &mut CovState) {
    let CovState { q, prec, iw_scale, hw, .. } = cov;
    let (Some(hw), q) = (hw, *q) else { return };
    let nu = hw.nu;
    for k in 0..q {
        hw.a[k] = inv_gamma(rng, 0.5 * (nu + q as f64), nu * prec[k + k * q] + 1.0 / (hw.sd_scale[k] * hw.sd_scale[k]));
    }
    for k in 0..q {
        iw_scale[k + k * q] = 2.0 * nu / hw.a[k];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::HuangWand;
    use crate::steps::testing::mean_sd;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn theta_step_matches_conjugate_posterior() {
        // q = 1: theta | beta ~ N((sum beta / s2 + mu0/v0) / (m/s2 + 1/v0), 1 / (m/s2 + 1/v0))
        let beta = vec![1.0, 2.0, 4.0, 3.0];
        let (s2, mu0, sd0) = (2.0, 0.0, 3.0);
        let pv = 1.0 / (4.0 / s2 + 1.0 / (sd0 * sd0));
        let pm = pv * (10.0 / s2 + mu0);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut c = Coefs { beta, theta: vec![0.0] };
        let draws: Vec<f64> = (0..100_000)
            .map(|_| {
                draw_theta(&mut rng, &mut c, &[1.0 / s2], &[Some(0)], &[mu0], &[sd0], &mut [0.0; 5]);
                c.theta[0]
            })
            .collect();
        let (m, s) = mean_sd(&draws);
        assert!((m - pm).abs() < 5.0 * pv.sqrt() / (draws.len() as f64).sqrt());
        assert!((s * s / pv - 1.0).abs() < 0.03);
        // a component that is not free stays at zero
        let mut c2 = Coefs { beta: vec![1.0, 1.0, 2.0, 2.0], theta: vec![0.0, 0.0] };
        draw_theta(&mut rng, &mut c2, &[1.0, 0.0, 0.0, 1.0], &[Some(0), None], &[0.0], &[1.0], &mut [0.0; 12]);
        assert_eq!(c2.theta[1], 0.0);
    }

    #[test]
    fn sigma_step_uses_prior_df_plus_groups() {
        // q = 1: Sigma | beta ~ IG((nu0 + m)/2, (s0 + SS)/2); mean (s0 + SS) / (nu0 + m - 2)
        let c = Coefs { beta: vec![1.0, -1.0, 2.0, 0.0, 0.5], theta: vec![0.5] };
        let ss: f64 = c.beta.iter().map(|b| (b - 0.5f64).powi(2)).sum();
        let (nu0, s0) = (3.0, 1.0);
        let expect = (s0 + ss) / (nu0 + 5.0 - 2.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut work = [0.0; 3];
        let mut cov = CovState::fixed(&[0.0], &[0.0], nu0, &[s0]);
        let draws: Vec<f64> = (0..100_000)
            .map(|_| {
                assert!(draw_sigma(&mut rng, &c, &mut cov, &mut work));
                cov.sigma[0]
            })
            .collect();
        let (m, s) = mean_sd(&draws);
        assert!((m - expect).abs() < 5.0 * s / (draws.len() as f64).sqrt(), "{m} vs {expect}");
    }

    /// With no groups, alternating Sigma | a and a | Sigma samples the Huang-Wand prior: each
    /// sd is half-t(nu, A), so P(sd_k < A_k) = P(|t_nu| < 1) (= 1/sqrt(3) for nu = 2), and
    /// with nu = 2 correlations are uniform on (-1, 1), so E[rho^2] = 1/3.
    #[test]
    fn huang_wand_steps_reproduce_half_t_and_uniform_correlation() {
        let (nu, a_scale) = (2.0, [1.5, 0.2]);
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let a = vec![1.0, 1.0];
        let mut cov = CovState::fixed(&[0.0; 4], &[0.0; 4], nu + 1.0, &[2.0 * nu / a[0], 0.0, 0.0, 2.0 * nu / a[1]]);
        cov.hw = Some(HuangWand { nu, sd_scale: a_scale.to_vec(), a });
        let none = Coefs { beta: vec![], theta: vec![0.0, 0.0] };
        let n = 200_000;
        let (mut below, mut rho2) = ([0usize; 2], 0.0);
        let mut work = [0.0; 12];
        for _ in 0..n {
            assert!(draw_sigma(&mut rng, &none, &mut cov, &mut work));
            draw_hw(&mut rng, &mut cov);
            let sig = &cov.sigma;
            for k in 0..2 {
                below[k] += usize::from(sig[k + 2 * k].sqrt() < a_scale[k]);
            }
            rho2 += sig[2].powi(2) / (sig[0] * sig[3]);
        }
        let p = 1.0 / 3f64.sqrt();
        let se = (p * (1.0 - p) / n as f64).sqrt();
        for k in 0..2 {
            let f = below[k] as f64 / n as f64;
            // the Gibbs pair is autocorrelated: allow 6 iid standard errors
            assert!((f - p).abs() < 6.0 * se * 2.0, "sd {k}: P(sd < A) = {f}, expected {p}");
        }
        assert!((rho2 / n as f64 - 1.0 / 3.0).abs() < 0.01, "E[rho^2] = {}", rho2 / n as f64);
    }
}
