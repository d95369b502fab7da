//! Steps of the families' extra parameters (see `Family::draw_extra`): the gaussian residual
//! variance. A family with another extra parameter adds its step here or beside.

use crate::dist::inv_gamma;
use rand::Rng;

/// Gibbs step for sigma^2 with a scaled-inverse-chi^2(nu, s^2) prior:
/// inverse-gamma((nu + n)/2, (nu s^2 + SSR)/2).
pub fn draw_sigma2<R: Rng + ?Sized>(rng: &mut R, y: &[f64], eta: &[f64], nu: f64, s: f64) -> f64 {
    let ssr: f64 = y.iter().zip(eta).map(|(a, b)| (a - b) * (a - b)).sum();
    inv_gamma(rng, 0.5 * (nu + y.len() as f64), 0.5 * (nu * s * s + ssr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn sigma2_step_matches_its_inverse_gamma() {
        // nu = 4, s = 0.5, SSR = 2 from 3 rows: IG(3.5, 1.5), mean 1.5 / 2.5 = 0.6
        let (y, eta) = ([1.0, 0.0, -1.0], [0.0, 0.0, 0.0]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 100_000;
        let draws: Vec<f64> = (0..n).map(|_| draw_sigma2(&mut rng, &y, &eta, 4.0, 0.5)).collect();
        let m = draws.iter().sum::<f64>() / n as f64;
        let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / n as f64;
        assert!((m - 0.6).abs() < 5.0 * (v / n as f64).sqrt(), "{m}");
    }
}
