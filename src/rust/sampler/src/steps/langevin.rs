//! The preconditioned Langevin proposal of the Metropolis steps (groups and fixed effects).

use crate::dist::std_normal;
use crate::linalg::{dot, lower_t_mul, solve_lower, solve_lower_t};
use rand::Rng;

/// Preconditioned Langevin proposal with metric H = L L' and step size s in (0, 1]:
/// x* = x + a H^-1 grad(x) + s L^-T u, with a = 1 - sqrt(1 - s^2).
/// For small s this is MALA (a ~ s^2/2). The drift and noise are balanced so that for a
/// gaussian target with precision H the proposal leaves the target invariant exactly; at s = 1
/// it is an independent draw from the Newton (Laplace) approximation. Near-gaussian group
/// posteriors thus get nearly independent draws, at the cost of one likelihood pass: the
/// gradient comes from the same pass.
pub(crate) struct Langevin<'a> {
    pub l: &'a [f64],
    pub q: usize,
    pub s: f64,
}

impl Langevin<'_> {
    /// grad -> a H^-1 grad, in place.
    pub fn drift(&self, g: &mut [f64]) {
        solve_lower(self.l, self.q, g);
        solve_lower_t(self.l, self.q, g);
        let a = drift_coef(self.s);
        g.iter_mut().for_each(|v| *v *= a);
    }
    /// delta = drift + s L^-T u; returns log q(x* | x) up to a constant (-u'u/2).
    pub fn propose<R: Rng + ?Sized>(&self, rng: &mut R, drift: &[f64], delta: &mut [f64]) -> f64 {
        let mut uu = 0.0;
        for d in delta.iter_mut() {
            let u = std_normal(rng);
            uu += u * u;
            *d = u;
        }
        solve_lower_t(self.l, self.q, delta);
        for (d, dr) in delta.iter_mut().zip(drift) {
            *d = self.s * *d + dr;
        }
        -0.5 * uu
    }
    /// log q(x | x*) up to the same constant: x - x* = -delta, mean shift drift_new.
    pub fn log_q_back(&self, delta: &[f64], drift_new: &[f64], tmp: &mut [f64], out: &mut [f64]) -> f64 {
        for k in 0..self.q {
            tmp[k] = (-delta[k] - drift_new[k]) / self.s;
        }
        lower_t_mul(self.l, self.q, tmp, out);
        -0.5 * dot(&out[..self.q], &out[..self.q])
    }
}

/// a = 1 - sqrt(1 - s^2), written without cancellation; s is capped at 1.
pub fn drift_coef(s: f64) -> f64 {
    let s2 = (s * s).min(1.0);
    s2 / (1.0 + (1.0 - s2).sqrt())
}
