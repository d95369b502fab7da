//! Exact draws along directions that leave eta unchanged: a fixed effect against the
//! deviations that repeat its column ([`shadow`]), a group-level predictor's coefficient
//! against the intercepts ([`group_level`]), an outer group's intercept against its inner
//! groups' ([`nested`]). Along each the log posterior is quadratic in the shift delta, so
//! delta | rest is normal; these functions give its [`Canonical`] parameters from the
//! current state, and the chain draws delta and moves the state.

use crate::dist::std_normal;
use crate::model::{GroupLevel, Nesting};
use crate::params::Coefs;
use rand::Rng;

/// delta ~ N(lin / h, 1 / h).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Canonical {
    pub lin: f64,
    pub h: f64,
}

impl Canonical {
    /// A draw of delta.
    pub fn draw<R: Rng + ?Sized>(self, rng: &mut R) -> f64 {
        self.lin / self.h + std_normal(rng) / self.h.sqrt()
    }
}

/// A fixed effect's normal prior N(mean, sd^2) and its current value.
#[derive(Clone, Copy, Debug)]
pub struct FixefAt {
    pub mean: f64,
    pub sd: f64,
    pub value: f64,
}

/// (P sum_j w_j d_j)_k for the deviations d_j = beta_j - theta of a term with Sigma^-1 = P,
/// summed as the steps always have: group by group, component by component.
fn weighted_pd(coefs: &Coefs, prec: &[f64], k: usize, w: impl Fn(usize) -> f64) -> f64 {
    let q = coefs.q();
    let mut pb = 0.0;
    for j in 0..coefs.m() {
        for l in 0..q {
            pb += w(j) * prec[k + l * q] * (coefs.beta[j * q + l] - coefs.theta[l]);
        }
    }
    pb
}

/// Fixed effect c + delta (with the group coefficients centred on it) and deviations
/// b_{.,k} - delta of a term whose non-centred component k repeats column c: precision
/// 1/sd_c^2 + m P_kk, linear term (mu_c - f_c)/sd_c^2 + (P sum_j d_j)_k.
pub fn shadow(coefs: &Coefs, prec: &[f64], k: usize, c: FixefAt) -> Canonical {
    let q = coefs.q();
    // weight 1: 1 * x is x, bit for bit
    let pb = weighted_pd(coefs, prec, k, |_| 1.0);
    let sd2 = c.sd * c.sd;
    let h = 1.0 / sd2 + coefs.m() as f64 * prec[k + k * q];
    Canonical { lin: (c.mean - c.value) / sd2 + pb, h }
}

/// A group-level predictor `gl` of the term (alpha_c + delta, intercept deviations minus
/// delta (w_j - wbar), and the intercept fixed effect `intercept` minus delta wbar with the
/// intercepts it centres): precision 1/sd_c^2 + P_kk sum_j u_j^2 + wbar^2/sd_c0^2,
/// u_j = w_j - wbar, linear term (mu_c - alpha_c)/sd_c^2 + sum_j u_j (P d_j)_k +
/// wbar (f_c0 - mu_c0)/sd_c0^2. Centring w keeps the move from fighting the intercept: with
/// wbar far from 0 (an age, a baseline score) alpha_c and the intercept are otherwise
/// strongly correlated.
pub fn group_level(coefs: &Coefs, prec: &[f64], gl: &GroupLevel, c: FixefAt, intercept: Option<FixefAt>) -> Canonical {
    let (q, k) = (coefs.q(), gl.k);
    let pb = weighted_pd(coefs, prec, k, |j| gl.w[j] - gl.wbar);
    let mut h = 1.0 / (c.sd * c.sd) + prec[k + k * q] * gl.su2;
    let mut lin = (c.mean - c.value) / (c.sd * c.sd) + pb;
    if let Some(c0) = intercept {
        h += gl.wbar * gl.wbar / (c0.sd * c0.sd);
        lin += gl.wbar * (c0.value - c0.mean) / (c0.sd * c0.sd);
    }
    Canonical { lin, h }
}

/// Outer group g's intercept + delta and the intercepts of the inner groups in g - delta
/// (`Nesting`): precision P_o,kk + n_g P_i,kk, linear term -(P_o d_g)_k + sum_j (P_i d_j)_k,
/// d = beta - theta, n_g inner groups.
pub fn nested(outer: &Coefs, outer_prec: &[f64], inner: &Coefs, inner_prec: &[f64], nest: &Nesting, g: usize) -> Canonical {
    let (qi, qo, ki, ko) = (inner.q(), outer.q(), nest.k_in, nest.k_out);
    let kids = &nest.children[nest.child_ptr[g]..nest.child_ptr[g + 1]];
    let mut lin = 0.0;
    for l in 0..qo {
        lin -= outer_prec[ko + l * qo] * (outer.beta[g * qo + l] - outer.theta[l]);
    }
    for &j in kids {
        for l in 0..qi {
            lin += inner_prec[ki + l * qi] * (inner.beta[j * qi + l] - inner.theta[l]);
        }
    }
    let h = outer_prec[ko + ko * qo] + kids.len() as f64 * inner_prec[ki + ki * qi];
    Canonical { lin, h }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// log N(d | 0, P^-1) up to a constant, for q = 2.
    fn log_normal(d: [f64; 2], p: &[f64; 4]) -> f64 {
        -0.5 * (p[0] * d[0] * d[0] + 2.0 * p[1] * d[0] * d[1] + p[3] * d[1] * d[1])
    }

    /// (lin, h) of a quadratic log density by central differences at 0.
    fn numeric(logp: impl Fn(f64) -> f64) -> Canonical {
        let e = 1e-3;
        let (a, b, c) = (logp(-e), logp(0.0), logp(e));
        Canonical { lin: (c - a) / (2.0 * e), h: -(c - 2.0 * b + a) / (e * e) }
    }

    fn close(a: Canonical, b: Canonical) -> bool {
        (a.lin - b.lin).abs() < 1e-6 * (1.0 + b.lin.abs()) && (a.h - b.h).abs() < 1e-5 * (1.0 + b.h)
    }

    const P: [f64; 4] = [1.7, -0.4, -0.4, 0.9];

    fn coefs() -> Coefs {
        Coefs { beta: vec![0.3, -0.2, 1.1, 0.4, -0.7, 0.9], theta: vec![0.2, 0.0] }
    }

    fn dev(c: &Coefs, j: usize) -> [f64; 2] {
        [c.beta[2 * j] - c.theta[0], c.beta[2 * j + 1] - c.theta[1]]
    }

    #[test]
    fn shadow_conditional_is_the_log_posterior_along_its_direction() {
        let c = coefs();
        let f = FixefAt { mean: 0.4, sd: 0.8, value: -0.3 };
        for k in 0..2 {
            let logp = |d: f64| {
                let prior = -0.5 * ((f.value + d - f.mean) / f.sd).powi(2);
                prior + (0..3).map(|j| {
                    let mut x = dev(&c, j);
                    x[k] -= d;
                    log_normal(x, &P)
                }).sum::<f64>()
            };
            let got = shadow(&c, &P, k, f);
            assert!(close(got, numeric(logp)), "k = {k}: {got:?} vs {:?}", numeric(logp));
        }
    }

    #[test]
    fn group_level_conditional_is_the_log_posterior_along_its_direction() {
        let c = coefs();
        let w = vec![2.0, 3.5, 1.0];
        let wbar = w.iter().sum::<f64>() / 3.0;
        let su2 = w.iter().map(|v| (v - wbar) * (v - wbar)).sum();
        let gl = GroupLevel { col: 1, k: 0, w: w.clone(), intercept: Some(0), wbar, su2 };
        let (a, c0) = (FixefAt { mean: 0.1, sd: 0.5, value: 0.6 }, FixefAt { mean: -0.2, sd: 1.5, value: 0.9 });
        let logp = |d: f64| {
            let prior = -0.5 * ((a.value + d - a.mean) / a.sd).powi(2) - 0.5 * ((c0.value - d * wbar - c0.mean) / c0.sd).powi(2);
            prior + (0..3).map(|j| {
                let mut x = dev(&c, j);
                x[0] -= d * (w[j] - wbar);
                log_normal(x, &P)
            }).sum::<f64>()
        };
        let got = group_level(&c, &P, &gl, a, Some(c0));
        assert!(close(got, numeric(logp)), "{got:?} vs {:?}", numeric(logp));
        // no intercept to shift: wbar is 0 and the intercept's prior is not involved
        let gl0 = GroupLevel { intercept: None, wbar: 0.0, su2: w.iter().map(|v| v * v).sum(), ..gl };
        let logp0 = |d: f64| {
            -0.5 * ((a.value + d - a.mean) / a.sd).powi(2)
                + (0..3).map(|j| {
                    let mut x = dev(&c, j);
                    x[0] -= d * w[j];
                    log_normal(x, &P)
                }).sum::<f64>()
        };
        assert!(close(group_level(&c, &P, &gl0, a, None), numeric(logp0)));
    }

    #[test]
    fn nested_conditional_is_the_log_posterior_along_its_direction() {
        // outer: 2 groups (q = 2, intercept component 1); inner: 3 groups (q = 1), groups 0
        // and 2 in outer group 1
        let outer = coefs();
        let inner = Coefs { beta: vec![0.5, -0.4, 1.2], theta: vec![0.3] };
        let pi = [2.5];
        let nest = Nesting { inner: 0, outer: 1, k_in: 0, k_out: 1, child_ptr: vec![0, 1, 3], children: vec![1, 0, 2] };
        let logp = |d: f64| {
            let mut x = dev(&outer, 1);
            x[1] += d;
            log_normal(x, &P) + [0usize, 2].iter().map(|&j| -0.5 * pi[0] * (inner.beta[j] - inner.theta[0] - d).powi(2)).sum::<f64>()
        };
        let got = nested(&outer, &P, &inner, &pi, &nest, 1);
        assert!(close(got, numeric(logp)), "{got:?} vs {:?}", numeric(logp));
    }
}
