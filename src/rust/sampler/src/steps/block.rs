//! The fixed effects as one block: a Gibbs step (gaussian) or a Langevin Metropolis step.

use super::direction::prop_delta_loglik;
use super::langevin::Langevin;
use super::{draw_canonical_normal, Gauss, Likelihood, Move, Proposal};
use crate::family::Family;
use crate::linalg::{chol_in_place, dot};
use crate::rows::Rows;
use rand::Rng;

/// A block of coefficients with design W (n x pa, column-major), W'W, and independent normal
/// priors. The sampler uses it for all fixed effects at once, in the non-centred view.
#[derive(Clone, Copy)]
pub struct Block<'a> {
    pub w: &'a [f64],
    pub wtw: &'a [f64],
    pub prior_mean: &'a [f64],
    pub prior_sd: &'a [f64],
}

impl Block<'_> {
    fn pa(&self) -> usize {
        self.prior_mean.len()
    }
    /// eta += W d
    fn shift_eta(&self, eta: &mut [f64], d: &[f64]) {
        let n = eta.len();
        for (c, &dc) in d.iter().enumerate() {
            if dc != 0.0 {
                for (e, wv) in eta.iter_mut().zip(&self.w[c * n..(c + 1) * n]) {
                    *e += dc * wv;
                }
            }
        }
    }
    /// W' score + d log prior / d a.
    fn gradient(&self, score: &[f64], a: &[f64], out: &mut [f64]) {
        let n = score.len();
        for c in 0..self.pa() {
            out[c] = dot(&self.w[c * n..(c + 1) * n], score) - (a[c] - self.prior_mean[c]) / (self.prior_sd[c] * self.prior_sd[c]);
        }
    }
    fn log_prior(&self, a: &[f64]) -> f64 {
        a.iter()
            .zip(self.prior_mean.iter().zip(self.prior_sd))
            .map(|(v, (m, s))| -0.5 * ((v - m) / s).powi(2))
            .sum()
    }
}

/// Gibbs step for a block in the gaussian model. `work` needs pa*pa + 3pa.
pub fn gibbs_block<R: Rng + ?Sized>(rng: &mut R, a: Block, d: Gauss, eta: &mut [f64], alpha: &mut [f64], work: &mut [f64]) {
    let (y, sigma2) = (d.y, d.sigma2);
    let pa = a.pa();
    let n = y.len();
    let (h, rest) = work.split_at_mut(pa * pa);
    let (b, rest) = rest.split_at_mut(pa);
    let (u, d) = rest.split_at_mut(pa);
    for k in 0..pa * pa {
        h[k] = a.wtw[k] / sigma2;
    }
    for c in 0..pa {
        let v0 = a.prior_sd[c] * a.prior_sd[c];
        h[c + c * pa] += 1.0 / v0;
        // W'(y - eta + W alpha) = W'(y - eta) + W'W alpha
        let col = &a.w[c * n..(c + 1) * n];
        let mut s = 0.0;
        for i in 0..n {
            s += col[i] * (y[i] - eta[i]);
        }
        for k in 0..pa {
            s += a.wtw[c + k * pa] * alpha[k];
        }
        b[c] = s / sigma2 + a.prior_mean[c] / v0;
    }
    let ok = chol_in_place(h, pa);
    debug_assert!(ok);
    draw_canonical_normal(rng, h, pa, b, u);
    for c in 0..pa {
        d[c] = b[c] - alpha[c];
        alpha[c] = b[c];
    }
    a.shift_eta(eta, &d[..pa]);
}

/// Block Metropolis step with a preconditioned Langevin proposal (see `mh_group`). The
/// current log-likelihood and score come from the row cache; the proposal's are computed into
/// `rows.prop` (n rows), which becomes the row state if the move is accepted. `work` needs 7pa.
pub fn mh_block<R: Rng + ?Sized, F: Family + ?Sized>(rng: &mut R, lik: Likelihood<F>, a: Block, rows: &mut Rows, alpha: &mut [f64], proposal: Proposal, work: &mut [f64]) -> Move {
    let pa = a.pa();
    let (grad, rest) = work.split_at_mut(pa);
    let (gnew, rest) = rest.split_at_mut(pa);
    let (delta, rest) = rest.split_at_mut(pa);
    let (new, rest) = rest.split_at_mut(pa);
    let (tmp, out) = rest.split_at_mut(pa);
    let lv = Langevin { l: proposal.chol, q: pa, s: proposal.scale.min(1.0) };
    let Rows { cur, prop } = rows;
    let ll_old = cur.loglik();
    a.gradient(&cur.sc, alpha, grad);
    lv.drift(grad);
    let log_q_fwd = lv.propose(rng, grad, delta);
    prop.eta.copy_from_slice(&cur.eta);
    a.shift_eta(&mut prop.eta, delta);
    // likelihood and score at the proposal in one pass
    lik.fam.prepare(&prop.eta, &mut prop.ll, &mut prop.sc);
    // against a current log-likelihood of 0 per row, the change is the new total
    let ll_new = prop_delta_loglik(lik.fam, lik.y.iter().zip(lik.trials).map(|(&y, &t)| (y, t, 0.0)), prop);
    for c in 0..pa {
        new[c] = alpha[c] + delta[c];
    }
    let log_ratio = ll_new - ll_old + a.log_prior(&new[..pa]) - a.log_prior(alpha);
    if !log_ratio.is_finite() {
        return Move::rejected();
    }
    a.gradient(&prop.sc, &new[..pa], gnew);
    lv.drift(gnew);
    let log_ratio = log_ratio + lv.log_q_back(delta, gnew, tmp, out) - log_q_fwd;
    let mv = Move::decide(rng, log_ratio);
    if mv.accepted {
        std::mem::swap(cur, prop);
        alpha.copy_from_slice(&new[..pa]);
    }
    mv
}

/// Cholesky factor of diag(1/sd^2) + W' diag(w) W at the current eta.
pub fn block_curvature<F: Family + ?Sized>(fam: &F, a: Block, trials: &[f64], eta: &[f64], out: &mut [f64]) -> bool {
    let pa = a.pa();
    let n = eta.len();
    out.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..n {
        let w = fam.weight(trials[i], eta[i]);
        if !w.is_finite() {
            continue;
        }
        for c1 in 0..pa {
            let x1 = a.w[c1 * n + i] * w;
            if x1 == 0.0 {
                continue;
            }
            for c2 in 0..=c1 {
                out[c1 + c2 * pa] += x1 * a.w[c2 * n + i];
            }
        }
    }
    for c1 in 0..pa {
        out[c1 + c1 * pa] += 1.0 / (a.prior_sd[c1] * a.prior_sd[c1]);
        for c2 in 0..c1 {
            out[c2 + c1 * pa] = out[c1 + c2 * pa];
        }
    }
    chol_in_place(out, pa)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Gaussian;
    use crate::steps::testing::mean_sd;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn block_steps_keep_eta_in_sync_and_target_posterior() {
        // gaussian regression y = a * x + e with known s2: conjugate posterior for a
        let x = [0.5, 1.0, 1.5, 2.0, -1.0];
        let y = [0.7, 1.2, 1.4, 2.5, -0.8];
        let s2 = 0.3;
        let (mu0, sd0) = (0.0, 2.0);
        let xtx: f64 = x.iter().map(|v| v * v).sum();
        let xty: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        let pv = 1.0 / (xtx / s2 + 1.0 / (sd0 * sd0));
        let pm = pv * (xty / s2 + mu0);
        let a = Block { w: &x, wtw: &[xtx], prior_mean: &[mu0], prior_sd: &[sd0] };
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut alpha = [0.0];
        let mut eta = [0.0; 5];
        let mut work = [0.0; 4];
        let g: Vec<f64> = (0..50_000)
            .map(|_| {
                gibbs_block(&mut rng, a, Gauss { y: &y, sigma2: s2 }, &mut eta, &mut alpha, &mut work);
                alpha[0]
            })
            .collect();
        let (m, _) = mean_sd(&g);
        assert!((m - pm).abs() < 5.0 * pv.sqrt() / (g.len() as f64).sqrt());
        assert!((eta[3] - 2.0 * alpha[0]).abs() < 1e-12);

        // the Metropolis version of the same step targets the same posterior
        let fam = Gaussian;
        let trials = [1.0; 5];
        let mut chol = [0.0];
        // curvature of the gaussian log posterior with s2 folded into y scale: use s2 = 1 family
        let ys: Vec<f64> = y.iter().map(|v| v / s2.sqrt()).collect();
        let xs: Vec<f64> = x.iter().map(|v| v / s2.sqrt()).collect();
        let a2 = Block { w: &xs, wtw: &[0.0], prior_mean: &[mu0], prior_sd: &[sd0] };
        let mut rows = Rows::new(5, true);
        rows.cur.refresh(&fam, &ys, &trials);
        assert!(block_curvature(&fam, a2, &trials, &rows.cur.eta, &mut chol));
        assert!((chol[0] * chol[0] - 1.0 / pv).abs() < 1e-9);
        let mut alpha2 = [0.0];
        let mut w2 = [0.0; 7];
        let mut draws = Vec::new();
        let lik = Likelihood { fam: &fam, y: &ys, trials: &trials };
        for it in 0..200_000 {
            mh_block(&mut rng, lik, a2, &mut rows, &mut alpha2, Proposal { chol: &chol, scale: 1.5 }, &mut w2);
            if it % 5 == 0 {
                draws.push(alpha2[0]);
            }
        }
        let st = &rows.cur;
        assert!((st.eta[3] - xs[3] * alpha2[0]).abs() < 1e-9, "eta follows the accepted block");
        assert!(st.ll[3] == fam.loglik(ys[3], 1.0, st.eta[3]), "the cache follows eta");
        let (m2, s2d) = mean_sd(&draws);
        assert!((m2 - pm).abs() < 6.0 * s2d / (draws.len() as f64).sqrt(), "{m2} vs {pm}");
        assert!((s2d * s2d / pv - 1.0).abs() < 0.05);
    }
}
