//! Parameter-expansion moves of a term's (b, Sigma): scalings of a component and shears of
//! a pair of components, by Metropolis (any family) or as exact draws (gaussian).
//!
//! Gibbs steps for b | Sigma and Sigma | b move each other slowly when a variance is small
//! (the funnel); these moves change both at once. A scaling multiplies every group's
//! deviation b_jk = beta_jk - theta_k and row/column k of Sigma by lambda; a shear adds c b_jl
//! to b_jk and maps Sigma to T Sigma T', T = I + c e_k e_l'.

use super::direction::{direction_loglik, direction_moments, shift_eta, take_proposal};
use super::{Gauss, Likelihood, Move};
use crate::dist::{positive_normal, std_normal};
use crate::family::Family;
use crate::model::{Nesting, Term};
use crate::params::{Coefs, CovState};
use crate::rows::Rows;
use rand::Rng;

/// A term's rows and the likelihood: what a move along a direction evaluates.
pub struct TermData<'a, F: ?Sized> {
    pub lik: Likelihood<'a, F>,
    pub rows: &'a mut Rows,
    pub term: &'a Term,
}

/// The data's side of a scaling move of component k by lambda: its part of the log ratio,
/// and what it changes on acceptance (before b and Sigma are scaled).
trait ScaleData {
    fn log_ratio(&mut self, coefs: &Coefs, k: usize, lambda: f64) -> f64;
    fn accept(&mut self, coefs: &Coefs, k: usize, lambda: f64);
}

/// A scaling move: log lambda ~ N(0, step^2), the data's log ratio plus the prior's
/// (`scale_prior_log_ratio`), the decision, and on acceptance the data's change, then the
/// scaling of b_.k, Sigma and Sigma^-1 (and of the Huang-Wand a_k).
fn scaling_move<R: Rng + ?Sized, D: ScaleData>(rng: &mut R, data: &mut D, coefs: &mut Coefs, cov: &mut CovState, k: usize, step: f64) -> Move {
    let log_lambda = step * std_normal(rng);
    let lambda = log_lambda.exp();
    let log_ratio = data.log_ratio(coefs, k, lambda) + scale_prior_log_ratio(cov, k, log_lambda);
    let mv = Move::decide(rng, log_ratio);
    if mv.accepted {
        data.accept(coefs, k, lambda);
        scale(coefs, cov, k, lambda);
    }
    mv
}

impl<F: Family + ?Sized> ScaleData for TermData<'_, F> {
    fn log_ratio(&mut self, coefs: &Coefs, k: usize, lambda: f64) -> f64 {
        direction_loglik(self.lik, self.rows, self.term, (k, k), lambda - 1.0, coefs)
    }
    fn accept(&mut self, _coefs: &Coefs, _k: usize, _lambda: f64) {
        take_proposal(self.term, self.rows);
    }
}

/// Scaling move for component `k` of a term, log lambda ~ N(0, step^2). With
/// Sigma ~ IW(df, S) the log ratio is
///   d loglik - df log lambda - (tr(S Sigma*^-1) - tr(S Sigma^-1)) / 2,
/// where the Jacobian lambda^(m + q + 1) and the change of prod_j N(b_j | 0, Sigma) combine.
/// Under the Huang-Wand prior a_k moves too, to a_k / lambda^2, which keeps tr(S Sigma^-1)
/// fixed; the log ratio is then
///   d loglik + log lambda - (lambda^2 - 1) / (A_k^2 a_k).
pub fn scale_component<R: Rng + ?Sized, F: Family + ?Sized>(rng: &mut R, data: &mut TermData<F>, k: usize, coefs: &mut Coefs, cov: &mut CovState, step: f64) -> Move {
    scaling_move(rng, data, coefs, cov, k, step)
}

/// The part of a scaling move's log ratio that is not the data's: Sigma's (conditional)
/// inverse-Wishart prior, the Huang-Wand variance a_k if any, and the Jacobian.
fn scale_prior_log_ratio(cov: &CovState, k: usize, log_lambda: f64) -> f64 {
    let lambda = log_lambda.exp();
    let (q, prec, iw_scale) = (cov.q, &cov.prec, &cov.iw_scale);
    match &cov.hw {
        Some(hw) => log_lambda - (lambda * lambda - 1.0) / (hw.sd_scale[k] * hw.sd_scale[k] * hw.a[k]),
        None => {
            // tr(S P*) - tr(S P) with P* = D^-1 P D^-1: row and column k of P change
            let mut d_tr = iw_scale[k + k * q] * prec[k + k * q] * (1.0 / (lambda * lambda) - 1.0);
            for l in (0..q).filter(|&l| l != k) {
                d_tr += 2.0 * iw_scale[k + l * q] * prec[l + k * q] * (1.0 / lambda - 1.0);
            }
            -cov.iw_df * log_lambda - 0.5 * d_tr
        }
    }
}

/// An accepted scaling by `lambda` of component `k`: b_jk and row/column k of Sigma and
/// Sigma^-1, and under the Huang-Wand prior a_k with the conditional prior's scale (the
/// caller updates eta).
fn scale(coefs: &mut Coefs, cov: &mut CovState, k: usize, lambda: f64) {
    let (q, m) = (coefs.q(), coefs.m());
    let Coefs { beta, theta } = coefs;
    for j in 0..m {
        beta[j * q + k] = theta[k] + lambda * (beta[j * q + k] - theta[k]);
    }
    let (sigma, prec) = (&mut cov.sigma, &mut cov.prec);
    for l in 0..q {
        let (f_sig, f_prec) = if l == k { (lambda * lambda, 1.0 / (lambda * lambda)) } else { (lambda, 1.0 / lambda) };
        sigma[k + l * q] *= f_sig;
        prec[k + l * q] *= f_prec;
        if l != k {
            sigma[l + k * q] *= f_sig;
            prec[l + k * q] *= f_prec;
        }
    }
    if let Some(hw) = &mut cov.hw {
        hw.a[k] /= lambda * lambda;
        cov.iw_scale[k + k * q] *= lambda * lambda;
    }
}

/// The inner side of a nested pair's scaling move (`scale_nested`).
struct NestedData<'a> {
    nest: &'a Nesting,
    inner: &'a mut Coefs,
    inner_prec: &'a [f64],
}

impl ScaleData for NestedData<'_> {
    /// The change of the inner groups' prior: the shift s of the inner intercepts in outer
    /// group g is (lambda - 1) d_g, and their prior changes by s (P d_j)_ki - s^2 P_kk / 2.
    fn log_ratio(&mut self, outer: &Coefs, ko: usize, lambda: f64) -> f64 {
        let (nest, inner, prec) = (self.nest, &*self.inner, self.inner_prec);
        let (qo, ki, q_in) = (outer.q(), nest.k_in, inner.q());
        let mut d_prior = 0.0;
        for g in 0..outer.m() {
            let sh = (lambda - 1.0) * (outer.beta[g * qo + ko] - outer.theta[ko]);
            for &j in &nest.children[nest.child_ptr[g]..nest.child_ptr[g + 1]] {
                let pd: f64 = (0..q_in).map(|l| prec[ki + l * q_in] * (inner.beta[j * q_in + l] - inner.theta[l])).sum();
                d_prior += sh * pd - 0.5 * sh * sh * prec[ki + ki * q_in];
            }
        }
        d_prior
    }
    fn accept(&mut self, outer: &Coefs, ko: usize, lambda: f64) {
        let (nest, qo, q_in, ki) = (self.nest, outer.q(), self.inner.q(), self.nest.k_in);
        for g in 0..outer.m() {
            let sh = (lambda - 1.0) * (outer.beta[g * qo + ko] - outer.theta[ko]);
            for &j in &nest.children[nest.child_ptr[g]..nest.child_ptr[g + 1]] {
                self.inner.beta[j * q_in + ki] -= sh;
            }
        }
    }
}

/// `scale_component` for the outer intercept of a nested pair, with the inner groups'
/// intercepts moved against the outer ones (b_inner,j -= (lambda - 1) d_outer,k(j)) so that
/// eta does not change: the data term of the ratio is the change of the inner groups' prior
/// instead of the likelihood, a sum over groups with no pass over the rows. The inner move
/// is a shear (volume 1), so the rest of the ratio is the scaling's.
pub fn scale_nested<R: Rng + ?Sized>(rng: &mut R, nest: &Nesting, outer: &mut Coefs, outer_cov: &mut CovState, inner: &mut Coefs, inner_prec: &[f64], step: f64) -> Move {
    let mut data = NestedData { nest, inner, inner_prec };
    scaling_move(rng, &mut data, outer, outer_cov, nest.k_out, step)
}

/// The gaussian, Huang-Wand version of `scale_component` as an exact (generalized Gibbs) draw:
/// lambda from its conditional under the scaling group, density proportional to the move's
/// ratio times the Haar measure d lambda / lambda. The likelihood is quadratic in lambda and
/// the log lambda terms cancel, so lambda ~ N(mu, v) truncated to (0, inf) with
/// 1/v = D/s2 + 2/(A^2 a), mu = v (D + R)/s2, D = sum d_i^2, R = sum r_i d_i,
/// d_i = b_{g(i)k} z_ik, r_i = y_i - eta_i (Gelman 2006's parameter expansion).
pub fn gibbs_scale_component<R: Rng + ?Sized>(rng: &mut R, d: Gauss, eta: &mut [f64], term: &Term, k: usize, coefs: &mut Coefs, cov: &mut CovState) {
    let hw = cov.hw.as_ref().expect("the Gibbs scaling needs the Huang-Wand prior");
    let (a, a_scale, sigma2) = (hw.a[k], hw.sd_scale[k], d.sigma2);
    let (d2, rd) = direction_moments(d.y, eta, term, (k, k), coefs);
    let prec_l = d2 / sigma2 + 2.0 / (a_scale * a_scale * a);
    let mean = (d2 + rd) / sigma2 / prec_l;
    let lambda = positive_normal(rng, mean, prec_l.sqrt().recip());
    shift_eta(term, (k, k), lambda - 1.0, coefs, eta);
    scale(coefs, cov, k, lambda);
}

/// Shear move for components (k, l), k != l: b_jk += c b_jl for every group, Sigma -> T Sigma T'
/// with T = I + c e_k e_l'. It changes correlations the way `scale_component` changes
/// scales. Both Jacobians are 1 and prod_j N(b_j | 0, Sigma) is unchanged, so with
/// Sigma ~ IW(df, S) the log ratio is d loglik - (tr(S Sigma*^-1) - tr(S Sigma^-1)) / 2 with
///   tr(S Sigma*^-1) - tr(S Sigma^-1) = -2 c (Sigma^-1 S)_kl + c^2 (Sigma^-1)_kk S_ll.
/// c ~ N(0, step^2).
pub fn shear_component<R: Rng + ?Sized, F: Family + ?Sized>(rng: &mut R, data: &mut TermData<F>, (k, l): (usize, usize), coefs: &mut Coefs, cov: &mut CovState, step: f64) -> Move {
    let q = data.term.q;
    let c = step * std_normal(rng);
    let d_ll = direction_loglik(data.lik, data.rows, data.term, (k, l), c, coefs);
    let (lin, quad) = shear_trace_terms(&cov.prec, &cov.iw_scale, q, k, l);
    let log_ratio = d_ll - 0.5 * (-2.0 * c * lin + c * c * quad);
    let mv = Move::decide(rng, log_ratio);
    if mv.accepted {
        take_proposal(data.term, data.rows);
        shear(coefs, cov, (k, l), c);
    }
    mv
}

/// ((Sigma^-1 S)_kl, (Sigma^-1)_kk S_ll): the linear and quadratic coefficients in c of the
/// trace term of a shear move.
fn shear_trace_terms(prec: &[f64], s: &[f64], q: usize, k: usize, l: usize) -> (f64, f64) {
    let lin: f64 = (0..q).map(|m| prec[k + m * q] * s[m + l * q]).sum();
    (lin, prec[k + k * q] * s[l + l * q])
}

/// Applies the shear by c of (k, l): b_jk += c b_jl, Sigma -> T Sigma T', and
/// Sigma^-1 -> T^-T Sigma^-1 T^-1 with T^-1 = I - c e_k e_l' (the caller updates eta).
fn shear(coefs: &mut Coefs, cov: &mut CovState, (k, l): (usize, usize), c: f64) {
    let (q, m) = (coefs.q(), coefs.m());
    let Coefs { beta, theta } = coefs;
    for j in 0..m {
        beta[j * q + k] += c * (beta[j * q + l] - theta[l]);
    }
    let (sigma, prec) = (&mut cov.sigma, &mut cov.prec);
    // Sigma: row k += c row l, then column k += c column l
    for m in 0..q {
        sigma[k + m * q] += c * sigma[l + m * q];
    }
    for m in 0..q {
        sigma[m + k * q] += c * sigma[m + l * q];
    }
    // Sigma^-1: row l -= c row k, then column l -= c column k
    for m in 0..q {
        prec[l + m * q] -= c * prec[k + m * q];
    }
    for m in 0..q {
        prec[m + l * q] -= c * prec[m + k * q];
    }
}

/// The gaussian version of `shear_component` as an exact draw: under the additive group
/// (Haar measure dc) the conditional of c is normal with precision D/s2 + (Sigma^-1)_kk S_ll
/// and mean (R/s2 + (Sigma^-1 S)_kl) / precision, D = sum d_i^2, R = sum r_i d_i,
/// d_i = b_{g(i)l} z_ik, r_i = y_i - eta_i.
pub fn gibbs_shear_component<R: Rng + ?Sized>(rng: &mut R, d: Gauss, eta: &mut [f64], term: &Term, (k, l): (usize, usize), coefs: &mut Coefs, cov: &mut CovState) {
    let (q, sigma2) = (term.q, d.sigma2);
    let (d2, rd) = direction_moments(d.y, eta, term, (k, l), coefs);
    let (lin, quad) = shear_trace_terms(&cov.prec, &cov.iw_scale, q, k, l);
    let h = d2 / sigma2 + quad;
    let c = (rd / sigma2 + lin) / h + std_normal(rng) / h.sqrt();
    shift_eta(term, (k, l), c, coefs, eta);
    shear(coefs, cov, (k, l), c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Poisson;
    use crate::model::Model;
    use crate::params::HuangWand;
    use crate::spec::{CovPrior, ModelSpec, TermSpec};
    use crate::steps::hyper::draw_hw;
    use crate::steps::testing::{mean_sd, prior_only};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A term whose groups have no rows: the target is prod_j N(b_j | 0, Sigma) IW(Sigma), so
    /// alternating exact draws of b | Sigma with the scaling move alone (no Gibbs step for
    /// Sigma) must leave Sigma with its inverse-Wishart prior: for q = 1, IG(df/2, S/2).
    /// A wrong Jacobian shifts it.
    #[test]
    fn scaling_move_preserves_the_covariance_prior() {
        let m = 6;
        // one row in an extra group so that the term's m groups have none
        let (model, mut rows) = prior_only("poisson", m, 1, CovPrior::InvWishart { df: 5.0, scale: vec![2.0] });
        let term = &model.terms[0];
        let (df, s0) = (5.0, 2.0);
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut cov = CovState::fixed(&[1.0], &[1.0], df, &[s0]);
        let mut coefs = Coefs { beta: vec![0.0; m + 1], theta: vec![0.0] };
        let lik = Likelihood { fam: &Poisson, y: &model.y, trials: model.trials() };
        let mut draws = Vec::new();
        for it in 0..400_000 {
            for b in coefs.beta.iter_mut().take(m) {
                *b = cov.sigma[0].sqrt() * std_normal(&mut rng);
            }
            scale_component(&mut rng, &mut TermData { lik, rows: &mut rows, term }, 0, &mut coefs, &mut cov, 1.0);
            assert!((cov.sigma[0] * cov.prec[0] - 1.0).abs() < 1e-9);
            if it % 4 == 0 {
                draws.push(cov.sigma[0].ln());
            }
        }
        // E[log Sigma] for IG(a, b) is log b - digamma(a); a = 2.5: digamma(2.5) = 0.7031566
        let expect = (s0 / 2.0).ln() - 0.703_156_640_645_243_2;
        let (mean, sd) = mean_sd(&draws);
        // draws are autocorrelated: 8 iid standard errors
        assert!((mean - expect).abs() < 8.0 * sd / (draws.len() as f64).sqrt(), "E log Sigma {mean} vs {expect}");
    }

    /// The nested scaling move with b_outer | Sigma and b_inner by exact draws and Sigma_outer
    /// only by the move must keep Sigma_outer's inverse-Wishart prior (as above); a wrong
    /// inner-prior term breaks it.
    #[test]
    fn nested_scaling_move_preserves_the_covariance_prior() {
        let (mo, per) = (4, 3);
        let n = mo * per;
        let (df, s0) = (5.0, 2.0);
        let cov_prior = || CovPrior::InvWishart { df, scale: vec![s0] };
        let model = Model::new(ModelSpec {
            family: "poisson".into(),
            link: String::new(),
            y: vec![0.0; n].into(),
            trials: vec![].into(),
            offset: vec![0.0; n].into(),
            x: vec![].into(),
            p: 0,
            terms: vec![
                TermSpec { n_groups: n, group: (0..n).collect(), z: vec![1.0; n].into(), mean_col: vec![None], shadow_col: vec![], cov_prior: cov_prior() },
                TermSpec { n_groups: mo, group: (0..n).map(|i| i / per).collect(), z: vec![1.0; n].into(), mean_col: vec![None], shadow_col: vec![], cov_prior: cov_prior() },
            ],
            fixef_mean: vec![],
            fixef_sd: vec![],
            sigma_df: 1.0,
            sigma_scale: 1.0,
            aux_rate: 1.0,
        })
        .unwrap();
        let nest = &model.nested[0];
        assert_eq!((nest.inner, nest.outer), (0, 1));
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let (prec_i, sd_i) = ([1.0 / 0.5], 0.5f64.sqrt());
        let mut cov = CovState::fixed(&[1.0], &[1.0], df, &[s0]);
        let (mut outer, mut inner) = (Coefs { beta: vec![0.0; mo], theta: vec![0.0] }, Coefs { beta: vec![0.0; n], theta: vec![0.4] });
        let mut draws = Vec::new();
        for it in 0..400_000 {
            outer.beta.iter_mut().for_each(|b| *b = cov.sigma[0].sqrt() * std_normal(&mut rng));
            inner.beta.iter_mut().for_each(|b| *b = 0.4 + sd_i * std_normal(&mut rng));
            scale_nested(&mut rng, nest, &mut outer, &mut cov, &mut inner, &prec_i, 1.0);
            if it % 4 == 0 {
                draws.push(cov.sigma[0].ln());
            }
        }
        let expect = (s0 / 2.0).ln() - 0.703_156_640_645_243_2;
        let (mean, sd) = mean_sd(&draws);
        assert!((mean - expect).abs() < 8.0 * sd / (draws.len() as f64).sqrt(), "E log Sigma {mean} vs {expect}");
    }

    /// A Huang-Wand state (nu, scales A) with Sigma, Sigma^-1 and a_k = A_k^2.
    fn hw_state(nu: f64, a_scale: &[f64], sigma: &[f64], prec: &[f64]) -> CovState {
        let q = a_scale.len();
        let a: Vec<f64> = a_scale.iter().map(|s| s * s).collect();
        let s0: Vec<f64> = (0..q * q).map(|i| if i % (q + 1) == 0 { 2.0 * nu / a[i / (q + 1)] } else { 0.0 }).collect();
        let mut cov = CovState::fixed(sigma, prec, nu, &s0);
        cov.hw = Some(HuangWand { nu, sd_scale: a_scale.to_vec(), a });
        cov
    }

    /// The same with the Huang-Wand prior (q = 1, nu = 2): b | Sigma and a | Sigma by exact
    /// draws, Sigma only by the scaling move (Metropolis, or the gaussian Gibbs version);
    /// sd must be half-t(2, A): P(sd < A) = 1/sqrt(3).
    fn huang_wand_fraction_below_scale(gibbs: bool) -> f64 {
        let m = 6;
        let (nu, a_scale) = (2.0, 0.7);
        let (model, mut rows) = prior_only(if gibbs { "gaussian" } else { "poisson" }, m, 1, CovPrior::HuangWand { nu, sd_scale: vec![a_scale] });
        let term = &model.terms[0];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut cov = hw_state(nu, &[a_scale], &[0.3], &[1.0 / 0.3]);
        let mut coefs = Coefs { beta: vec![0.0; m + 1], theta: vec![0.0] };
        let mut eta = [0.0];
        let lik = Likelihood { fam: &Poisson, y: &model.y, trials: model.trials() };
        let n = 400_000;
        let mut below = 0usize;
        for _ in 0..n {
            for b in coefs.beta.iter_mut().take(m) {
                *b = cov.sigma[0].sqrt() * std_normal(&mut rng);
            }
            draw_hw(&mut rng, &mut cov);
            if gibbs {
                gibbs_scale_component(&mut rng, Gauss { y: &model.y, sigma2: 1.0 }, &mut eta, term, 0, &mut coefs, &mut cov);
            } else {
                scale_component(&mut rng, &mut TermData { lik, rows: &mut rows, term }, 0, &mut coefs, &mut cov, 1.0);
            }
            below += usize::from(cov.sigma[0].sqrt() < a_scale);
        }
        below as f64 / n as f64
    }

    #[test]
    fn scaling_moves_preserve_the_huang_wand_prior() {
        let p = 1.0 / 3f64.sqrt();
        // autocorrelated draws: 10 iid standard errors
        let tol = 10.0 * (p * (1.0 - p) / 400_000.0f64).sqrt();
        for gibbs in [false, true] {
            let f = huang_wand_fraction_below_scale(gibbs);
            assert!((f - p).abs() < tol, "gibbs = {gibbs}: P(sd < A) = {f}, expected {p}");
        }
    }

    /// q = 2, no data: b | Sigma by exact draws and Sigma only by scaling and shear moves
    /// (Metropolis with an inverse-Wishart prior, or the gaussian Gibbs versions with the
    /// Huang-Wand prior, whose a | Sigma is drawn too). Sigma must keep its prior: for
    /// IW(df, S), E[Sigma] = S / (df - 3); for Huang-Wand (nu = 2), E[rho^2] = 1/3 and
    /// P(sd_k < A_k) = 1/sqrt(3).
    #[test]
    fn scaling_and_shear_moves_preserve_two_dimensional_priors() {
        for gibbs in [false, true] {
            let m = 5;
            let (df, s_iw) = (6.0, [2.0, 0.5, 0.5, 1.0]);
            let (nu, a_scale) = (2.0, [0.7, 1.3]);
            let cov_prior = if gibbs {
                CovPrior::HuangWand { nu, sd_scale: a_scale.to_vec() }
            } else {
                CovPrior::InvWishart { df, scale: s_iw.to_vec() }
            };
            let (model, mut rows) = prior_only(if gibbs { "gaussian" } else { "poisson" }, m, 2, cov_prior);
            let term = &model.terms[0];
            let mut rng = ChaCha8Rng::seed_from_u64(31);
            let sigma = [0.5, 0.1, 0.1, 0.4];
            let prec = nalgebra::DMatrix::from_column_slice(2, 2, &sigma).try_inverse().unwrap().as_slice().to_vec();
            let mut cov = if gibbs { hw_state(nu, &a_scale, &sigma, &prec) } else { CovState::fixed(&sigma, &prec, df, &s_iw) };
            let mut coefs = Coefs { beta: vec![0.0; 2 * (m + 1)], theta: vec![0.0, 0.0] };
            let mut eta = [0.0];
            let lik = Likelihood { fam: &Poisson, y: &model.y, trials: model.trials() };
            let n = 300_000;
            let (mut mean, mut rho2, mut below) = ([0.0; 4], 0.0, [0usize; 2]);
            for it in 0..n {
                let l = nalgebra::DMatrix::from_column_slice(2, 2, &cov.sigma).cholesky().unwrap().l();
                for j in 0..m {
                    let (u, v) = (std_normal(&mut rng), std_normal(&mut rng));
                    coefs.beta[2 * j] = l[(0, 0)] * u;
                    coefs.beta[2 * j + 1] = l[(1, 0)] * u + l[(1, 1)] * v;
                }
                if gibbs {
                    draw_hw(&mut rng, &mut cov);
                    let d = Gauss { y: &model.y, sigma2: 1.0 };
                    for k in 0..2 {
                        gibbs_scale_component(&mut rng, d, &mut eta, term, k, &mut coefs, &mut cov);
                    }
                    for kl in [(0, 1), (1, 0)] {
                        gibbs_shear_component(&mut rng, d, &mut eta, term, kl, &mut coefs, &mut cov);
                    }
                } else {
                    let mut data = TermData { lik, rows: &mut rows, term };
                    for k in 0..2 {
                        scale_component(&mut rng, &mut data, k, &mut coefs, &mut cov, 1.0);
                    }
                    for kl in [(0, 1), (1, 0)] {
                        shear_component(&mut rng, &mut data, kl, &mut coefs, &mut cov, 0.7);
                    }
                }
                // Sigma and Sigma^-1 stay inverse to each other (up to rounding, which the
                // sampler clears by redrawing both every sweep; here they are re-synced)
                let sig = nalgebra::DMatrix::from_column_slice(2, 2, &cov.sigma);
                let id = &sig * nalgebra::DMatrix::from_column_slice(2, 2, &cov.prec);
                assert!((id[(0, 0)] - 1.0).abs() < 1e-6 && id[(1, 0)].abs() < 1e-6 && id[(0, 1)].abs() < 1e-6, "it {it}: {id}");
                cov.prec.copy_from_slice(sig.try_inverse().unwrap().as_slice());
                let sigma = &cov.sigma;
                for e in 0..4 {
                    mean[e] += sigma[e] / n as f64;
                }
                rho2 += sigma[1] * sigma[1] / (sigma[0] * sigma[3]) / n as f64;
                for k in 0..2 {
                    below[k] += usize::from(sigma[3 * k].sqrt() < a_scale[k]);
                }
            }
            if gibbs {
                let p = 1.0 / 3f64.sqrt();
                for k in 0..2 {
                    let f = below[k] as f64 / n as f64;
                    assert!((f - p).abs() < 0.012, "Huang-Wand sd {k}: P(sd < A) = {f}, expected {p}");
                }
                assert!((rho2 - 1.0 / 3.0).abs() < 0.012, "Huang-Wand E[rho^2] = {rho2}");
            } else {
                for e in 0..4 {
                    let expect = s_iw[e] / (df - 3.0);
                    assert!((mean[e] - expect).abs() < 0.05 * s_iw[0] / (df - 3.0), "IW mean entry {e}: {} vs {expect}", mean[e]);
                }
            }
        }
    }
}
