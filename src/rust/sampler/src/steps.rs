//! One function per full-conditional update (Hoff 2009, ch. 8 and 11; shared/notes/sampler.md).
//!
//! Each step reads and writes the linear predictor `eta` in place, so that a sweep costs
//! O(n q) and never recomputes eta from scratch. Buffers come from the caller.

use crate::dist::{inv_gamma, inv_wishart, std_normal};
use crate::family::Family;
use crate::rows::{GroupRows, RowState};
use crate::linalg::{chol_in_place, dot, lower_t_mul, quad_form, solve_lower, solve_lower_t};
use rand::Rng;

/// Rows of one group in one term: their row indices and their z values (row-major, q each).
#[derive(Clone, Copy)]
pub struct Group<'a> {
    pub rows: &'a [usize],
    pub z: &'a [f64],
}

/// Response data the likelihood needs.
#[derive(Clone, Copy)]
pub struct Response<'a> {
    pub y: &'a [f64],
    pub trials: &'a [f64],
}

/// Outcome of one Metropolis step: whether it moved, and its log acceptance ratio.
#[derive(Clone, Copy, Debug)]
pub struct Move {
    pub accepted: bool,
    pub log_ratio: f64,
}

impl Move {
    /// Accepts with probability min(1, exp(log_ratio)), never for a non-finite ratio. A
    /// proposal at least as probable as the current state is accepted without a uniform
    /// draw (its log is a libm call per step, which weighs where groups have one row).
    pub fn decide<R: Rng + ?Sized>(rng: &mut R, log_ratio: f64) -> Move {
        let accepted = log_ratio.is_finite() && (log_ratio >= 0.0 || rng.gen::<f64>().ln() < log_ratio);
        Move { accepted, log_ratio }
    }
    /// `decide` with the uniform `u` drawn beforehand (group steps draw it with the
    /// proposal; it is used only when log_ratio < 0, as in `decide`).
    pub fn decide_with(u: f64, log_ratio: f64) -> Move {
        let accepted = log_ratio.is_finite() && (log_ratio >= 0.0 || u.ln() < log_ratio);
        Move { accepted, log_ratio }
    }
    /// A move not tried (its proposal was impossible).
    pub fn rejected() -> Move {
        Move { accepted: false, log_ratio: f64::NEG_INFINITY }
    }
    /// min(1, ratio), for adapting step sizes (warmup only, so its exp is not paid after).
    pub fn prob(&self) -> f64 {
        if self.log_ratio.is_finite() {
            self.log_ratio.min(0.0).exp()
        } else {
            0.0
        }
    }
}

/// Draws x ~ N(H^-1 b, H^-1) given H's Cholesky factor `l`; `b` is overwritten with the draw.
fn draw_canonical_normal<R: Rng + ?Sized>(rng: &mut R, l: &[f64], q: usize, b: &mut [f64], u: &mut [f64]) {
    solve_lower(l, q, b);
    for (bi, ui) in b.iter_mut().zip(u.iter_mut()) {
        *ui = std_normal(rng);
        *bi += *ui;
    }
    solve_lower_t(l, q, b);
}

/// Preconditioned Langevin proposal with metric H = L L' and step size s in (0, 1]:
/// x* = x + a H^-1 grad(x) + s L^-T u, with a = 1 - sqrt(1 - s^2).
/// For small s this is MALA (a ~ s^2/2). The drift and noise are balanced so that for a
/// gaussian target with precision H the proposal leaves the target invariant exactly; at s = 1
/// it is an independent draw from the Newton (Laplace) approximation. Near-gaussian group
/// posteriors thus get nearly independent draws, at the cost of one likelihood pass: the
/// gradient comes from the same pass.
struct Langevin<'a> {
    l: &'a [f64],
    q: usize,
    s: f64,
}

impl Langevin<'_> {
    /// grad -> a H^-1 grad, in place.
    fn drift(&self, g: &mut [f64]) {
        solve_lower(self.l, self.q, g);
        solve_lower_t(self.l, self.q, g);
        let a = drift_coef(self.s);
        g.iter_mut().for_each(|v| *v *= a);
    }
    /// delta = drift + s L^-T u; returns log q(x* | x) up to a constant (-u'u/2).
    fn propose<R: Rng + ?Sized>(&self, rng: &mut R, drift: &[f64], delta: &mut [f64]) -> f64 {
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
    fn log_q_back(&self, delta: &[f64], drift_new: &[f64], tmp: &mut [f64], out: &mut [f64]) -> f64 {
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

/// Values a group step keeps from `mh_begin` to `mh_finish` (at the start of its scratch):
/// the current log-likelihood, log q(x* | x), the uniform for the decision, the step size s
/// and its drift coefficient (kept by the q = 1 path only; `Langevin` recomputes it).
const KEPT: usize = 5;

/// Scratch of one group step (`mh_begin` to `mh_finish`), without the metric factor.
pub fn mh_work_len(q: usize) -> usize {
    KEPT + 6 * q
}

/// Metropolis step (preconditioned Langevin proposal) for one group's coefficients `beta`
/// (q) with target p(y_j | beta) N(beta | mean, prec^-1). The current log-likelihood and
/// score come from the row cache, so the family is evaluated once per row, at the proposal.
/// `prop_chol` is the Cholesky factor of the proposal metric, `scale` the step size. `work`
/// needs `mh_work_len(q)`. The step is `mh_begin`, the family's `prepare` on the proposal,
/// and `mh_finish`; a sweep runs the first half for a block of small groups, `prepare` once
/// for the block, then the second half.
#[allow(clippy::too_many_arguments)]
pub fn mh_group<R: Rng + ?Sized, F: Family + ?Sized>(
    rng: &mut R,
    fam: &F,
    resp: Response,
    g: &mut GroupRows,
    beta: &mut [f64],
    mean: &[f64],
    prec: &[f64],
    prop_chol: &[f64],
    scale: f64,
    work: &mut [f64],
) -> Move {
    mh_begin(rng, g, beta, mean, prec, prop_chol, scale, work);
    let (pe, pl, ps) = g.prop_slots();
    fam.prepare(pe, pl, ps);
    mh_finish(fam, resp, g, beta, mean, prec, prop_chol, work)
}

/// First half of `mh_group`: draws the proposal (and the uniform that decides it, so the
/// group's stream is not needed after) and writes its eta into the group's proposal slots.
#[allow(clippy::too_many_arguments)]
pub fn mh_begin<R: Rng + ?Sized>(rng: &mut R, g: &mut GroupRows, beta: &[f64], mean: &[f64], prec: &[f64], prop_chol: &[f64], scale: f64, work: &mut [f64]) {
    match beta.len() {
        1 => begin_1(rng, g, beta[0], mean[0], prec[0], prop_chol[0], scale, work),
        2 => begin_q::<2, _>(rng, g, beta, mean, prec, prop_chol, scale, work),
        _ => begin_q::<0, _>(rng, g, beta, mean, prec, prop_chol, scale, work),
    }
}

/// Second half of `mh_group`, once `prepare` has filled the proposal's slots: the
/// log-likelihood and gradient at the proposal, the decision, and on acceptance the move.
#[allow(clippy::too_many_arguments)]
pub fn mh_finish<F: Family + ?Sized>(fam: &F, resp: Response, g: &mut GroupRows, beta: &mut [f64], mean: &[f64], prec: &[f64], prop_chol: &[f64], work: &mut [f64]) -> Move {
    match beta.len() {
        1 => finish_1(fam, resp, g, &mut beta[0], mean[0], prec[0], prop_chol[0], work),
        2 => finish_q::<2, _>(fam, resp, g, beta, mean, prec, prop_chol, work),
        _ => finish_q::<0, _>(fam, resp, g, beta, mean, prec, prop_chol, work),
    }
}

/// `mh_begin` for q = Q, or any q with Q = 0. A constant Q (intercept and slope: 2) lets
/// the row loops keep the gradient in registers instead of adding to memory at every row
/// (a store-to-load chain that was a fifth of a poisson sweep); the operations and their
/// order are the same, so are the draws.
#[allow(clippy::too_many_arguments)]
fn begin_q<const Q: usize, R: Rng + ?Sized>(rng: &mut R, g: &mut GroupRows, beta: &[f64], mean: &[f64], prec: &[f64], prop_chol: &[f64], scale: f64, work: &mut [f64]) {
    let q = if Q == 0 { beta.len() } else { Q };
    assert_eq!(q, beta.len(), "begin_q: Q and the coefficients differ");
    let (kept, rest) = work.split_at_mut(KEPT);
    let (delta, rest) = rest.split_at_mut(q);
    let (d_old, rest) = rest.split_at_mut(q);
    let grad = &mut rest[..q];
    let lv = Langevin { l: prop_chol, q, s: scale.min(1.0) };
    // gradient of the log posterior at beta
    for k in 0..q {
        d_old[k] = beta[k] - mean[k];
    }
    crate::linalg::mat_vec(prec, q, d_old, grad);
    grad.iter_mut().for_each(|v| *v = -*v);
    let mut ll_old = 0.0;
    if let Some((_, ll, sc)) = g.cur_slices() {
        for ((&l, &s), zk) in ll.iter().zip(sc).zip(g.z_rows().chunks_exact(q)) {
            ll_old += l;
            for (gv, zv) in grad.iter_mut().zip(zk) {
                *gv += s * zv;
            }
        }
    } else {
        for k in 0..g.len() {
            let (_, ll, sc) = g.get(k);
            ll_old += ll;
            for (gv, zv) in grad.iter_mut().zip(g.z(k)) {
                *gv += sc * zv;
            }
        }
    }
    lv.drift(grad);
    let log_q_fwd = lv.propose(rng, grad, delta);
    kept.copy_from_slice(&[ll_old, log_q_fwd, rng.gen::<f64>(), lv.s, 0.0]);
    g.shift_prop::<Q>(delta);
}

/// `mh_finish` for q = Q (see `begin_q`).
#[allow(clippy::too_many_arguments)]
fn finish_q<const Q: usize, F: Family + ?Sized>(fam: &F, resp: Response, g: &mut GroupRows, beta: &mut [f64], mean: &[f64], prec: &[f64], prop_chol: &[f64], work: &mut [f64]) -> Move {
    let q = if Q == 0 { beta.len() } else { Q };
    assert_eq!(q, beta.len(), "finish_q: Q and the coefficients differ");
    let (kept, rest) = work.split_at_mut(KEPT);
    let &mut [ll_old, log_q_fwd, u, s, _] = kept else { unreachable!() };
    let (delta, rest) = rest.split_at_mut(q);
    let (d_old, rest) = rest.split_at_mut(q);
    let (gnew, rest) = rest.split_at_mut(q);
    let (d_new, rest) = rest.split_at_mut(q);
    let (tmp, rest) = rest.split_at_mut(q);
    let out = &mut rest[..q];
    let lv = Langevin { l: prop_chol, q, s };
    for k in 0..q {
        debug_assert_eq!(d_old[k], beta[k] - mean[k]);
        d_new[k] = d_old[k] + delta[k];
    }
    crate::linalg::mat_vec(prec, q, d_new, gnew);
    gnew.iter_mut().for_each(|v| *v = -*v);
    let ll_new = proposal_rows::<Q, _>(fam, resp, g, gnew);
    lv.drift(gnew);
    let log_q_back = lv.log_q_back(delta, gnew, tmp, out);
    let log_ratio = ll_new - ll_old + 0.5 * (quad_form(prec, q, d_old) - quad_form(prec, q, d_new)) + log_q_back - log_q_fwd;
    let mv = Move::decide_with(u, log_ratio);
    if mv.accepted {
        g.accept();
        for k in 0..q {
            beta[k] += delta[k];
        }
    }
    mv
}

/// `mh_begin` for q = 1 (random intercepts, the most common term) in scalars: the same
/// operations in the same order, so the same draws, without the q x q loops and calls.
#[allow(clippy::too_many_arguments)]
fn begin_1<R: Rng + ?Sized>(rng: &mut R, g: &mut GroupRows, beta: f64, mean: f64, prec: f64, l: f64, scale: f64, work: &mut [f64]) {
    let s = scale.min(1.0);
    let a = drift_coef(s);
    let d_old = beta - mean;
    let mut grad = -(0.0 + prec * d_old);
    let mut ll_old = 0.0;
    if let Some((_, ll, sc)) = g.cur_slices() {
        for ((&lv, &sv), &zv) in ll.iter().zip(sc).zip(g.z_rows()) {
            ll_old += lv;
            grad += sv * zv;
        }
    } else {
        for k in 0..g.len() {
            let (_, ll, sc) = g.get(k);
            ll_old += ll;
            grad += sc * g.z(k)[0];
        }
    }
    // drift a H^-1 grad, H = l^2, as Langevin::drift (two triangular solves)
    let drift_old = grad / l / l * a;
    let un = std_normal(rng);
    let log_q_fwd = -0.5 * (un * un);
    let delta = s * (un / l) + drift_old;
    work[..KEPT + 2].copy_from_slice(&[ll_old, log_q_fwd, rng.gen::<f64>(), s, a, delta, d_old]);
    g.shift_prop::<1>(&[delta]);
}

/// `mh_finish` for q = 1 (see `begin_1`).
#[allow(clippy::too_many_arguments)]
fn finish_1<F: Family + ?Sized>(fam: &F, resp: Response, g: &mut GroupRows, beta: &mut f64, mean: f64, prec: f64, l: f64, work: &mut [f64]) -> Move {
    let &[ll_old, log_q_fwd, u, s, a, delta, d_old] = &work[..KEPT + 2] else { unreachable!() };
    debug_assert_eq!(d_old, *beta - mean);
    let d_new = d_old + delta;
    let mut gnew = [-(0.0 + prec * d_new)];
    let ll_new = proposal_rows::<1, _>(fam, resp, g, &mut gnew);
    let back = 0.0 + l * ((-delta - gnew[0] / l / l * a) / s);
    let log_q_back = -0.5 * (back * back);
    let quad = |d: f64| 0.0 + (0.0 + prec * d) * d;
    let log_ratio = ll_new - ll_old + 0.5 * (quad(d_old) - quad(d_new)) + log_q_back - log_q_fwd;
    let mv = Move::decide_with(u, log_ratio);
    if mv.accepted {
        g.accept();
        *beta += delta;
    }
    mv
}

/// The proposal's log-likelihood and score per row from `prepare`'s values in its slots;
/// adds score * z to `grad` and returns the summed log-likelihood. Contiguous rows read the
/// response as slices (no row index, no bounds check per row).
#[inline(always)]
fn proposal_rows<const Q: usize, F: Family + ?Sized>(fam: &F, resp: Response, g: &mut GroupRows, grad: &mut [f64]) -> f64 {
    let span = g.span();
    let (rows, z) = (g.rows(), g.z_rows());
    let (pe, pl, ps) = g.prop_slots();
    match span {
        Some(r) => {
            let yn = resp.y[r.clone()].iter().zip(&resp.trials[r]).map(|(&y, &n)| (y, n));
            finish_rows::<Q, _>(fam, yn, pe, pl, ps, z, grad)
        }
        None => finish_rows::<Q, _>(fam, rows.iter().map(|&i| (resp.y[i], resp.trials[i])), pe, pl, ps, z, grad),
    }
}

/// Each row's (loglik, score) from `prepare`'s values in `pl` and `ps`, in place, for the
/// responses `yn` (y, trials); the rest as `proposal_rows`.
#[inline(always)]
fn finish_rows<const Q: usize, F: Family + ?Sized>(
    fam: &F,
    yn: impl Iterator<Item = (f64, f64)>,
    pe: &[f64],
    pl: &mut [f64],
    ps: &mut [f64],
    z: &[f64],
    grad: &mut [f64],
) -> f64 {
    let q = if Q == 0 { grad.len() } else { Q };
    let mut ll_sum = 0.0;
    for ((((y, n), &e), (l, s)), zk) in yn.zip(pe).zip(pl.iter_mut().zip(ps.iter_mut())).zip(z.chunks_exact(q)) {
        let (ll, sc) = fam.loglik_score_prepared(y, n, e, *l, *s);
        (*l, *s) = (ll, sc);
        ll_sum += ll;
        for (gv, zv) in grad.iter_mut().zip(zk) {
            *gv += sc * zv;
        }
    }
    ll_sum
}

/// The data part of a group's log-posterior curvature at the current eta: sum_i w_i z_i z_i'
/// (q x q into `out`). The proposal metric adds the current Sigma^-1 to it at every step.
pub fn group_curvature<F: Family + ?Sized>(fam: &F, trials: &[f64], eta: &[f64], g: Group, out: &mut [f64]) {
    let q = (out.len() as f64).sqrt() as usize;
    out.iter_mut().for_each(|v| *v = 0.0);
    for (k, &i) in g.rows.iter().enumerate() {
        let w = fam.weight(trials[i], eta[i], 1.0);
        if !w.is_finite() {
            continue;
        }
        let zr = &g.z[k * q..(k + 1) * q];
        for a in 0..q {
            for b in 0..q {
                out[a + b * q] += w * zr[a] * zr[b];
            }
        }
    }
}

/// Cholesky factor of the proposal metric `curv + prec` into `out` (q x q).
pub fn metric_chol(curv: &[f64], prec: &[f64], out: &mut [f64]) {
    if out.len() == 1 {
        // chol_in_place's test and fallback, in scalars
        let d = curv[0] + prec[0];
        out[0] = if d > 0.0 && d.is_finite() { d.sqrt() } else { prec[0].sqrt() };
        return;
    }
    let q = (out.len() as f64).sqrt() as usize;
    for k in 0..q * q {
        out[k] = curv[k] + prec[k];
    }
    if !chol_in_place(out, q) {
        out.copy_from_slice(prec);
        let ok = chol_in_place(out, q);
        debug_assert!(ok, "Sigma^-1 is positive definite");
    }
}

/// Gibbs step for one group's coefficients in the gaussian model:
/// beta | rest ~ N(H^-1 (Z'r/s2 + P mean), H^-1), H = Z'Z/s2 + P, r = y - eta + Z beta.
/// `work` needs q*q + 3q.
#[allow(clippy::too_many_arguments)]
pub fn gibbs_group<R: Rng + ?Sized>(
    rng: &mut R,
    y: &[f64],
    eta: &mut [f64],
    g: Group,
    ztz: &[f64],
    beta: &mut [f64],
    mean: &[f64],
    prec: &[f64],
    sigma2: f64,
    work: &mut [f64],
) {
    let q = beta.len();
    if q == 1 {
        return gibbs_group_1(rng, y, eta, g, ztz[0], &mut beta[0], mean[0], prec[0], sigma2);
    }
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
#[allow(clippy::too_many_arguments)]
fn gibbs_group_1<R: Rng + ?Sized>(rng: &mut R, y: &[f64], eta: &mut [f64], g: Group, ztz: f64, beta: &mut f64, mean: f64, prec: f64, sigma2: f64) {
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

/// Gibbs step for the group means theta (Hoff's theta | beta, Sigma), for the components
/// that are free (`free[k]` is the prior index of component k); other components stay 0.
/// Prior theta_k ~ N(mu_k, sd_k^2) independent. `work` needs q^2 + 4q slots.
#[allow(clippy::too_many_arguments)]
pub fn draw_theta<R: Rng + ?Sized>(
    rng: &mut R,
    beta: &[f64],
    q: usize,
    prec: &[f64],
    free: &[Option<usize>],
    prior_mean: &[f64],
    prior_sd: &[f64],
    theta: &mut [f64],
    work: &mut [f64],
) {
    let f = free.iter().filter(|k| k.is_some()).count();
    if f == 0 {
        return;
    }
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

/// Gibbs step for Sigma: inverse-Wishart(nu0 + m, S0 + sum_j (beta_j - theta)(beta_j - theta)'),
/// into `sigma` and `prec` (Sigma^-1). `work` needs 3 q^2 slots. False if the draw is
/// numerically singular.
#[allow(clippy::too_many_arguments)]
pub fn draw_sigma<R: Rng + ?Sized>(
    rng: &mut R,
    beta: &[f64],
    theta: &[f64],
    prior_df: f64,
    prior_scale: &[f64],
    work: &mut [f64],
    sigma: &mut [f64],
    prec: &mut [f64],
) -> bool {
    let q = theta.len();
    let m = beta.len() / q;
    let (s, rest) = work.split_at_mut(q * q);
    s.copy_from_slice(prior_scale);
    for bj in beta.chunks_exact(q) {
        for c in 0..q {
            let dc = bj[c] - theta[c];
            for a in c..q {
                s[a + c * q] += (bj[a] - theta[a]) * dc;
            }
        }
    }
    chol_in_place(s, q) && inv_wishart(rng, prior_df + m as f64, s, q, rest, sigma, prec)
}

/// Along the direction that moves component k of every group by `factor` times its
/// deviation in component `src` (d_i = (beta_{j,src} - theta_src) z_ik): the proposal's
/// (eta, loglik, score) per position of the term's rows into `prop`, and the change of the
/// log-likelihood.
#[allow(clippy::too_many_arguments)]
fn direction_loglik<F: Family + ?Sized>(
    fam: &F,
    resp: Response,
    rows: &RowState,
    prop: &mut RowState,
    term: &crate::model::Term,
    (k, src): (usize, usize),
    factor: f64,
    beta: &[f64],
    theta: &[f64],
) -> f64 {
    let (q, n) = (term.q, term.rows.len());
    let (pe, re, z, ix) = (&mut prop.eta[..n], &rows.eta[..n], &term.z[..n * q], &term.rows[..n]);
    if term.m == n {
        // one row per group (observation-level terms): position j is group j, and a loop
        // over groups would spend more on each group's bounds than on its row
        let b = &beta[..n * q];
        let shift = |j: usize| factor * (b[j * q + src] - theta[src]) * z[j * q + k];
        if term.contiguous {
            for j in 0..n {
                pe[j] = re[j] + shift(j);
            }
        } else {
            for j in 0..n {
                pe[j] = re[ix[j]] + shift(j);
            }
        }
    } else {
        for j in 0..term.m {
            let shift = factor * (beta[j * q + src] - theta[src]);
            let (a, b) = (term.ptr[j], term.ptr[j + 1]);
            if term.contiguous {
                for p in a..b {
                    pe[p] = re[p] + shift * z[p * q + k];
                }
            } else {
                for p in a..b {
                    pe[p] = re[ix[p]] + shift * z[p * q + k];
                }
            }
        }
    }
    fam.prepare(&prop.eta, &mut prop.ll, &mut prop.sc);
    if term.contiguous {
        let ynl = resp.y[..n].iter().zip(&resp.trials[..n]).zip(&rows.ll[..n]).map(|((&y, &t), &l)| (y, t, l));
        prop_delta_loglik(fam, ynl, prop)
    } else {
        prop_delta_loglik(fam, term.rows.iter().map(|&i| (resp.y[i], resp.trials[i], rows.ll[i])), prop)
    }
}

/// The proposal's (loglik, score) per position in place from `prepare`'s values, given each
/// position's (y, trials, current loglik) in `ynl`; returns the change in log-likelihood.
#[inline(always)]
fn prop_delta_loglik<F: Family + ?Sized>(fam: &F, ynl: impl Iterator<Item = (f64, f64, f64)>, prop: &mut RowState) -> f64 {
    let mut d_ll = 0.0;
    let slots = prop.eta.iter().zip(prop.ll.iter_mut().zip(prop.sc.iter_mut()));
    for ((y, n, cur), (&e, (l, s))) in ynl.zip(slots) {
        let (ll, sc) = fam.loglik_score_prepared(y, n, e, *l, *s);
        (*l, *s) = (ll, sc);
        d_ll += ll - cur;
    }
    d_ll
}

/// Makes the proposal stored per position of the term's rows (by `direction_loglik`) current.
fn take_proposal(term: &crate::model::Term, rows: &mut RowState, prop: &RowState) {
    if term.contiguous {
        let n = term.rows.len();
        rows.eta[..n].copy_from_slice(&prop.eta[..n]);
        rows.ll[..n].copy_from_slice(&prop.ll[..n]);
        rows.sc[..n].copy_from_slice(&prop.sc[..n]);
        return;
    }
    for (pos, &i) in term.rows.iter().enumerate() {
        (rows.eta[i], rows.ll[i], rows.sc[i]) = (prop.eta[pos], prop.ll[pos], prop.sc[pos]);
    }
}

/// For the gaussian Gibbs versions: D = sum d_i^2 and R = sum (y_i - eta_i) d_i along the
/// same direction with factor 1.
fn direction_moments(y: &[f64], eta: &[f64], term: &crate::model::Term, (k, src): (usize, usize), beta: &[f64], theta: &[f64]) -> (f64, f64) {
    let q = term.q;
    let (mut d2, mut rd) = (0.0, 0.0);
    for j in 0..term.m {
        let b = beta[j * q + src] - theta[src];
        let (lo, hi) = (term.ptr[j], term.ptr[j + 1]);
        let z = term.z[lo * q..hi * q].chunks_exact(q).map(|zr| zr[k]);
        // contiguous rows (the first term) as slices: no row index per row
        if term.contiguous {
            for ((&yi, &ei), zk) in y[lo..hi].iter().zip(&eta[lo..hi]).zip(z) {
                let d = b * zk;
                d2 += d * d;
                rd += (yi - ei) * d;
            }
        } else {
            for (&i, zk) in term.rows[lo..hi].iter().zip(z) {
                let d = b * zk;
                d2 += d * d;
                rd += (y[i] - eta[i]) * d;
            }
        }
    }
    (d2, rd)
}

/// eta moves along that direction with `factor` (gaussian moves).
fn shift_eta(term: &crate::model::Term, (k, src): (usize, usize), factor: f64, beta: &[f64], theta: &[f64], eta: &mut [f64]) {
    let q = term.q;
    for j in 0..term.m {
        let shift = factor * (beta[j * q + src] - theta[src]);
        let (lo, hi) = (term.ptr[j], term.ptr[j + 1]);
        let z = term.z[lo * q..hi * q].chunks_exact(q).map(|zr| zr[k]);
        if term.contiguous {
            for (e, zk) in eta[lo..hi].iter_mut().zip(z) {
                *e += shift * zk;
            }
        } else {
            for (&i, zk) in term.rows[lo..hi].iter().zip(z) {
                eta[i] += shift * zk;
            }
        }
    }
}

/// Parameter-expansion move for component `k` of a term: scales every group's deviation
/// b_jk = beta_jk - theta_k and row/column k of Sigma by the same lambda (log lambda ~
/// N(0, step^2)). Gibbs steps for beta | Sigma and Sigma | beta move each other slowly when a
/// variance is small (the funnel); this move changes both at once. With
/// Sigma ~ IW(df, S) the log ratio is
///   d loglik - df log lambda - (tr(S Sigma*^-1) - tr(S Sigma^-1)) / 2,
/// where the Jacobian lambda^(m + q + 1) and the change of prod_j N(b_j | 0, Sigma) combine.
/// Under the Huang-Wand prior (`hw` = Some((a_k, A_k, iw_scale_kk))) a_k moves too, to
/// a_k / lambda^2, which keeps tr(S Sigma^-1) fixed; the log ratio is then
///   d loglik + log lambda - (lambda^2 - 1) / (A_k^2 a_k).
/// `sigma` and `prec` (Sigma^-1) are updated in place on acceptance.
#[allow(clippy::too_many_arguments)]
pub fn scale_component<R: Rng + ?Sized, F: Family + ?Sized>(
    rng: &mut R,
    fam: &F,
    resp: Response,
    rows: &mut RowState,
    prop: &mut RowState,
    term: &crate::model::Term,
    k: usize,
    beta: &mut [f64],
    theta: &[f64],
    sigma: &mut [f64],
    prec: &mut [f64],
    iw_df: f64,
    iw_scale: &mut [f64],
    hw: Option<(&mut f64, f64)>,
    step: f64,
) -> Move {
    let q = term.q;
    let log_lambda = step * std_normal(rng);
    let lambda = log_lambda.exp();
    let d_ll = direction_loglik(fam, resp, rows, prop, term, (k, k), lambda - 1.0, beta, theta);
    let log_ratio = d_ll + scale_prior_log_ratio(q, k, log_lambda, prec, iw_df, iw_scale, &hw);
    let mv = Move::decide(rng, log_ratio);
    if mv.accepted {
        take_proposal(term, rows, prop);
        accept_scale(term, k, lambda, beta, theta, sigma, prec, iw_scale, hw);
    }
    mv
}

/// The part of a scaling move's log ratio that is not the data's: Sigma's (conditional)
/// inverse-Wishart prior, the Huang-Wand variance a_k when `hw`, and the Jacobian.
fn scale_prior_log_ratio(q: usize, k: usize, log_lambda: f64, prec: &[f64], iw_df: f64, iw_scale: &[f64], hw: &Option<(&mut f64, f64)>) -> f64 {
    let lambda = log_lambda.exp();
    match hw {
        Some((a, a_scale)) => log_lambda - (lambda * lambda - 1.0) / (a_scale * a_scale * **a),
        None => {
            // tr(S P*) - tr(S P) with P* = D^-1 P D^-1: row and column k of P change
            let mut d_tr = iw_scale[k + k * q] * prec[k + k * q] * (1.0 / (lambda * lambda) - 1.0);
            for l in (0..q).filter(|&l| l != k) {
                d_tr += 2.0 * iw_scale[k + l * q] * prec[l + k * q] * (1.0 / lambda - 1.0);
            }
            -iw_df * log_lambda - 0.5 * d_tr
        }
    }
}

/// An accepted scaling: b_jk, Sigma and Sigma^-1 (`apply_scale`), and a_k with the
/// conditional prior's scale when `hw`.
#[allow(clippy::too_many_arguments)]
fn accept_scale(term: &crate::model::Term, k: usize, lambda: f64, beta: &mut [f64], theta: &[f64], sigma: &mut [f64], prec: &mut [f64], iw_scale: &mut [f64], hw: Option<(&mut f64, f64)>) {
    apply_scale(term, k, lambda, beta, theta, sigma, prec);
    if let Some((a, _)) = hw {
        *a /= lambda * lambda;
        iw_scale[k + k * term.q] *= lambda * lambda;
    }
}

/// One side of a nested pair (`Nesting`) in `scale_nested`: a term's coefficients, their
/// means and Sigma^-1.
pub struct NestSide<'a> {
    pub beta: &'a mut [f64],
    pub theta: &'a [f64],
    pub prec: &'a [f64],
}

/// `scale_component` for component k of the outer term of a nested pair, with the inner
/// groups' intercepts moved against the outer ones (b_inner,j -= (lambda - 1) d_outer,k(j))
/// so that eta does not change: the data term of the ratio is the change of the inner
/// groups' prior instead of the likelihood, a sum over groups with no pass over the rows.
/// The inner move is a shear (volume 1), so the rest of the ratio is the scaling's.
#[allow(clippy::too_many_arguments)]
pub fn scale_nested<R: Rng + ?Sized>(
    rng: &mut R,
    outer: &crate::model::Term,
    nest: &crate::model::Nesting,
    beta_o: &mut [f64],
    theta_o: &[f64],
    sigma_o: &mut [f64],
    prec_o: &mut [f64],
    iw_df: f64,
    iw_scale: &mut [f64],
    hw: Option<(&mut f64, f64)>,
    inner: NestSide,
    q_in: usize,
    step: f64,
) -> Move {
    let (qo, ko, ki) = (outer.q, nest.k_out, nest.k_in);
    let log_lambda = step * std_normal(rng);
    let lambda = log_lambda.exp();
    // shift s of the inner intercepts in outer group g: (lambda - 1) d_g; their prior changes
    // by s (P d_j)_ki - s^2 P_kk / 2
    let mut d_prior = 0.0;
    for g in 0..outer.m {
        let sh = (lambda - 1.0) * (beta_o[g * qo + ko] - theta_o[ko]);
        for &j in &nest.children[nest.child_ptr[g]..nest.child_ptr[g + 1]] {
            let pd: f64 = (0..q_in).map(|l| inner.prec[ki + l * q_in] * (inner.beta[j * q_in + l] - inner.theta[l])).sum();
            d_prior += sh * pd - 0.5 * sh * sh * inner.prec[ki + ki * q_in];
        }
    }
    let log_ratio = d_prior + scale_prior_log_ratio(qo, ko, log_lambda, prec_o, iw_df, iw_scale, &hw);
    let mv = Move::decide(rng, log_ratio);
    if mv.accepted {
        for g in 0..outer.m {
            let sh = (lambda - 1.0) * (beta_o[g * qo + ko] - theta_o[ko]);
            for &j in &nest.children[nest.child_ptr[g]..nest.child_ptr[g + 1]] {
                inner.beta[j * q_in + ki] -= sh;
            }
        }
        accept_scale(outer, ko, lambda, beta_o, theta_o, sigma_o, prec_o, iw_scale, hw);
    }
    mv
}

/// Applies the scaling by `lambda` of component `k` to b_jk and to row/column k of Sigma
/// and Sigma^-1 (the caller updates eta).
#[allow(clippy::too_many_arguments)]
fn apply_scale(term: &crate::model::Term, k: usize, lambda: f64, beta: &mut [f64], theta: &[f64], sigma: &mut [f64], prec: &mut [f64]) {
    let q = term.q;
    for j in 0..term.m {
        beta[j * q + k] = theta[k] + lambda * (beta[j * q + k] - theta[k]);
    }
    for l in 0..q {
        let (f_sig, f_prec) = if l == k { (lambda * lambda, 1.0 / (lambda * lambda)) } else { (lambda, 1.0 / lambda) };
        sigma[k + l * q] *= f_sig;
        prec[k + l * q] *= f_prec;
        if l != k {
            sigma[l + k * q] *= f_sig;
            prec[l + k * q] *= f_prec;
        }
    }
}

/// The gaussian, Huang-Wand version of `scale_component` as an exact (generalized Gibbs) draw:
/// lambda from its conditional under the scaling group, density proportional to the move's
/// ratio times the Haar measure d lambda / lambda. The likelihood is quadratic in lambda and
/// the log lambda terms cancel, so lambda ~ N(mu, v) truncated to (0, inf) with
/// 1/v = D/s2 + 2/(A^2 a), mu = v (D + R)/s2, D = sum d_i^2, R = sum r_i d_i,
/// d_i = b_{g(i)k} z_ik, r_i = y_i - eta_i (Gelman 2006's parameter expansion).
#[allow(clippy::too_many_arguments)]
pub fn gibbs_scale_component<R: Rng + ?Sized>(
    rng: &mut R,
    y: &[f64],
    eta: &mut [f64],
    term: &crate::model::Term,
    k: usize,
    beta: &mut [f64],
    theta: &[f64],
    sigma: &mut [f64],
    prec: &mut [f64],
    sigma2: f64,
    a: &mut f64,
    a_scale: f64,
    iw_scale: &mut [f64],
) {
    let q = term.q;
    let (d2, rd) = direction_moments(y, eta, term, (k, k), beta, theta);
    let prec_l = d2 / sigma2 + 2.0 / (a_scale * a_scale * *a);
    let mean = (d2 + rd) / sigma2 / prec_l;
    let lambda = crate::dist::positive_normal(rng, mean, prec_l.sqrt().recip());
    shift_eta(term, (k, k), lambda - 1.0, beta, theta, eta);
    apply_scale(term, k, lambda, beta, theta, sigma, prec);
    *a /= lambda * lambda;
    iw_scale[k + k * q] *= lambda * lambda;
}

/// Shear move for components (k, l), k != l: b_jk += c b_jl for every group, Sigma -> T Sigma T'
/// with T = I + c e_k e_l'. It changes correlations the way `scale_component` changes
/// scales. Both Jacobians are 1 and prod_j N(b_j | 0, Sigma) is unchanged, so with
/// Sigma ~ IW(df, S) the log ratio is d loglik - (tr(S Sigma*^-1) - tr(S Sigma^-1)) / 2 with
///   tr(S Sigma*^-1) - tr(S Sigma^-1) = -2 c (Sigma^-1 S)_kl + c^2 (Sigma^-1)_kk S_ll.
/// c ~ N(0, step^2).
#[allow(clippy::too_many_arguments)]
pub fn shear_component<R: Rng + ?Sized, F: Family + ?Sized>(
    rng: &mut R,
    fam: &F,
    resp: Response,
    rows: &mut RowState,
    prop: &mut RowState,
    term: &crate::model::Term,
    (k, l): (usize, usize),
    beta: &mut [f64],
    theta: &[f64],
    sigma: &mut [f64],
    prec: &mut [f64],
    iw_scale: &[f64],
    step: f64,
) -> Move {
    let q = term.q;
    let c = step * std_normal(rng);
    let d_ll = direction_loglik(fam, resp, rows, prop, term, (k, l), c, beta, theta);
    let (lin, quad) = shear_trace_terms(prec, iw_scale, q, k, l);
    let log_ratio = d_ll - 0.5 * (-2.0 * c * lin + c * c * quad);
    let mv = Move::decide(rng, log_ratio);
    if mv.accepted {
        take_proposal(term, rows, prop);
        apply_shear(term, (k, l), c, beta, theta, sigma, prec);
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
#[allow(clippy::too_many_arguments)]
fn apply_shear(term: &crate::model::Term, (k, l): (usize, usize), c: f64, beta: &mut [f64], theta: &[f64], sigma: &mut [f64], prec: &mut [f64]) {
    let q = term.q;
    for j in 0..term.m {
        beta[j * q + k] += c * (beta[j * q + l] - theta[l]);
    }
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
#[allow(clippy::too_many_arguments)]
pub fn gibbs_shear_component<R: Rng + ?Sized>(
    rng: &mut R,
    y: &[f64],
    eta: &mut [f64],
    term: &crate::model::Term,
    (k, l): (usize, usize),
    beta: &mut [f64],
    theta: &[f64],
    sigma: &mut [f64],
    prec: &mut [f64],
    sigma2: f64,
    iw_scale: &[f64],
) {
    let q = term.q;
    let (d2, rd) = direction_moments(y, eta, term, (k, l), beta, theta);
    let (lin, quad) = shear_trace_terms(prec, iw_scale, q, k, l);
    let h = d2 / sigma2 + quad;
    let c = (rd / sigma2 + lin) / h + std_normal(rng) / h.sqrt();
    shift_eta(term, (k, l), c, beta, theta, eta);
    apply_shear(term, (k, l), c, beta, theta, sigma, prec);
}

/// Gibbs step for the Huang-Wand auxiliary variances:
/// a_k | Sigma ~ inverse-gamma((nu + q)/2, nu (Sigma^-1)_kk + 1/A_k^2).
pub fn draw_hw_a<R: Rng + ?Sized>(rng: &mut R, prec: &[f64], nu: f64, sd_scale: &[f64], a: &mut [f64]) {
    let q = a.len();
    for k in 0..q {
        a[k] = inv_gamma(rng, 0.5 * (nu + q as f64), nu * prec[k + k * q] + 1.0 / (sd_scale[k] * sd_scale[k]));
    }
}

/// Gibbs step for sigma^2 with a scaled-inverse-chi^2(nu, s^2) prior:
/// inverse-gamma((nu + n)/2, (nu s^2 + SSR)/2).
pub fn draw_sigma2<R: Rng + ?Sized>(rng: &mut R, y: &[f64], eta: &[f64], nu: f64, s: f64) -> f64 {
    let ssr: f64 = y.iter().zip(eta).map(|(a, b)| (a - b) * (a - b)).sum();
    inv_gamma(rng, 0.5 * (nu + y.len() as f64), 0.5 * (nu * s * s + ssr))
}

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
pub fn gibbs_block<R: Rng + ?Sized>(rng: &mut R, a: Block, y: &[f64], eta: &mut [f64], alpha: &mut [f64], sigma2: f64, work: &mut [f64]) {
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
/// `prop` (n rows), which becomes the row state if the move is accepted. `work` needs 7pa.
#[allow(clippy::too_many_arguments)]
pub fn mh_block<R: Rng + ?Sized, F: Family + ?Sized>(
    rng: &mut R,
    fam: &F,
    a: Block,
    resp: Response,
    rows: &mut RowState,
    prop: &mut RowState,
    alpha: &mut [f64],
    prop_chol: &[f64],
    scale: f64,
    work: &mut [f64],
) -> Move {
    let pa = a.pa();
    let (grad, rest) = work.split_at_mut(pa);
    let (gnew, rest) = rest.split_at_mut(pa);
    let (delta, rest) = rest.split_at_mut(pa);
    let (new, rest) = rest.split_at_mut(pa);
    let (tmp, out) = rest.split_at_mut(pa);
    let lv = Langevin { l: prop_chol, q: pa, s: scale.min(1.0) };
    let ll_old = rows.loglik();
    a.gradient(&rows.sc, alpha, grad);
    lv.drift(grad);
    let log_q_fwd = lv.propose(rng, grad, delta);
    prop.eta.copy_from_slice(&rows.eta);
    a.shift_eta(&mut prop.eta, delta);
    // likelihood and score at the proposal in one pass
    fam.prepare(&prop.eta, &mut prop.ll, &mut prop.sc);
    // against a current log-likelihood of 0 per row, the change is the new total
    let ll_new = prop_delta_loglik(fam, resp.y.iter().zip(resp.trials).map(|(&y, &t)| (y, t, 0.0)), prop);
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
        std::mem::swap(rows, prop);
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
        let w = fam.weight(trials[i], eta[i], 1.0);
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
    use crate::family::{Binomial, Gaussian, Poisson};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn metropolis_decision_accepts_at_the_ratio() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // at least as probable: accepted, and no uniform is drawn
        let before = rng.clone();
        assert!(Move::decide(&mut rng, 0.0).accepted && Move::decide(&mut rng, 2.0).accepted);
        assert_eq!(rng, before);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mv = Move::decide(&mut rng, bad);
            assert!(!mv.accepted && mv.prob() == 0.0);
        }
        // ratio 0.3: 20,000 tries, sd of the share 0.0032, tolerance 4 sd
        let n = 20_000;
        let acc = (0..n).filter(|_| Move::decide(&mut rng, 0.3f64.ln()).accepted).count();
        assert!((acc as f64 / n as f64 - 0.3).abs() < 0.013, "accepted {acc} of {n}");
        assert!((Move::decide(&mut rng, 0.3f64.ln()).prob() - 0.3).abs() < 1e-15);
    }

    /// A model whose term has m groups without data (one row sits in an extra group m), so
    /// that moves of (b, Sigma) must keep Sigma's prior; with its row state, cached as Poisson.
    fn prior_only(family: &str, m: usize, q: usize, cov_prior: crate::model::CovPrior) -> (crate::model::Model, RowState, RowState) {
        use crate::model::{Model, ModelSpec, TermSpec};
        let model = Model::new(ModelSpec {
            family: family.into(),
            y: vec![1.0].into(),
            trials: vec![].into(),
            offset: vec![0.0].into(),
            x: vec![].into(),
            p: 0,
            terms: vec![TermSpec { n_groups: m + 1, group: vec![m], z: vec![0.0; q].into(), mean_col: vec![None; q], shadow_col: vec![], cov_prior }],
            fixef_mean: vec![],
            fixef_sd: vec![],
            sigma_df: 1.0,
            sigma_scale: 1.0,
        })
        .unwrap();
        let (mut st, prop) = (RowState::new(1, true), RowState::new(1, true));
        st.refresh(&Poisson, &model.y, model.trials());
        (model, st, prop)
    }

    fn mean_sd(v: &[f64]) -> (f64, f64) {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        (m, s)
    }

    /// A Metropolis step on a Poisson group with a normal prior, iterated, must reproduce the
    /// posterior computed by quadrature. A one-sided ratio or a missing prior term fails this.
    #[test]
    fn mh_group_targets_the_right_posterior() {
        let y = [3.0, 5.0, 2.0, 6.0];
        let trials = [1.0; 4];
        let rows = [0usize, 1, 2, 3];
        let z = [1.0; 4];
        let (mu, tau2) = (0.5, 0.8);
        let prec = [1.0 / tau2];
        // exact posterior mean of b by quadrature
        let logpost = |b: f64| y.iter().map(|yi| yi * b - b.exp()).sum::<f64>() - 0.5 * (b - mu).powi(2) / tau2;
        let grid: Vec<f64> = (0..20_001).map(|k| -3.0 + 6.0 * k as f64 / 20_000.0).collect();
        let wts: Vec<f64> = grid.iter().map(|&b| logpost(b).exp()).collect();
        let tot: f64 = wts.iter().sum();
        let exact_mean = grid.iter().zip(&wts).map(|(b, w)| b * w).sum::<f64>() / tot;
        let exact_sd = (grid.iter().zip(&wts).map(|(b, w)| (b - exact_mean).powi(2) * w).sum::<f64>() / tot).sqrt();

        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut beta = [0.0];
        let (mut st, mut prop) = (RowState::new(4, true), RowState::new(4, true));
        st.refresh(&Poisson, &y, &trials);
        let chol = [1.0 / 0.3]; // proposal sd 0.3 * scale
        let mut work = [0.0; 11];
        let mut draws = Vec::new();
        for it in 0..200_000 {
            let resp = Response { y: &y, trials: &trials };
            mh_group(&mut rng, &Poisson, resp, &mut st.group(&mut prop, &rows, &z), &mut beta, &[mu], &prec, &chol, 1.0, &mut work);
            assert!((st.eta[0] - beta[0]).abs() < 1e-12, "eta stays in sync with beta");
            let (ll, sc) = Poisson.loglik_score(y[3], 1.0, st.eta[3], 1.0);
            assert!(st.ll[3] == ll && st.sc[3] == sc, "the cache stays in sync with eta");
            if it % 10 == 0 {
                draws.push(beta[0]);
            }
        }
        let (m, s) = mean_sd(&draws);
        // thinned draws are nearly independent; 5 standard errors, generous for autocorrelation
        let se = s / (draws.len() as f64).sqrt() * 2.0;
        assert!((m - exact_mean).abs() < 5.0 * se, "mean {m} vs exact {exact_mean}");
        assert!((s - exact_sd).abs() < 0.03 * exact_sd, "sd {s} vs exact {exact_sd}");
    }

    /// metric_chol's scalar path for q = 1 is chol_in_place with its fallback to Sigma^-1.
    #[test]
    fn metric_chol_for_one_coefficient_matches_the_general_factor() {
        for curv in [2.3, 0.0, -5.0, f64::NAN, f64::INFINITY] {
            let prec = 0.7;
            let mut general = [curv + prec];
            if !chol_in_place(&mut general, 1) {
                general = [prec];
                assert!(chol_in_place(&mut general, 1));
            }
            let mut out = [0.0];
            metric_chol(&[curv], &[prec], &mut out);
            assert_eq!(out[0].to_bits(), general[0].to_bits(), "curvature {curv}");
        }
    }

    /// One group step through the scalar halves for q = 1.
    #[allow(clippy::too_many_arguments)]
    fn step_1<F: Family>(rng: &mut ChaCha8Rng, fam: &F, resp: Response, g: &mut GroupRows, beta: &mut [f64; 1], mean: f64, prec: f64, l: f64, scale: f64, work: &mut [f64]) -> Move {
        begin_1(rng, g, beta[0], mean, prec, l, scale, work);
        let (pe, pl, ps) = g.prop_slots();
        fam.prepare(pe, pl, ps);
        finish_1(fam, resp, g, &mut beta[0], mean, prec, l, work)
    }

    /// One group step through the halves for q = Q (any q with Q = 0).
    #[allow(clippy::too_many_arguments)]
    fn step_q<const Q: usize, F: Family>(rng: &mut ChaCha8Rng, fam: &F, resp: Response, g: &mut GroupRows, beta: &mut [f64], mean: &[f64], prec: &[f64], l: &[f64], scale: f64, work: &mut [f64]) -> Move {
        begin_q::<Q, _>(rng, g, beta, mean, prec, l, scale, work);
        let (pe, pl, ps) = g.prop_slots();
        fam.prepare(pe, pl, ps);
        finish_q::<Q, _>(fam, resp, g, beta, mean, prec, l, work)
    }

    /// The scalar path for q = 1 must give the same bits as the general one (the draws then
    /// do not depend on which runs), from the same state and stream, at a step below 1.
    #[test]
    fn mh_group_for_one_coefficient_matches_the_general_step() {
        let y = [3.0, 0.0, 7.0, 2.0, 5.0];
        let trials = [9.0, 4.0, 12.0, 6.0, 8.0];
        let rows = [3usize, 0, 4];
        let z = [1.0, 0.7, -1.2];
        let state = || {
            let mut st = RowState::new(5, true);
            st.eta.copy_from_slice(&[0.2, -0.5, 0.1, -0.3, 0.4]);
            st.refresh(&Binomial, &y, &trials);
            st
        };
        let (mut st1, mut stq) = (state(), state());
        let (mut p1, mut pq) = (RowState::new(3, true), RowState::new(3, true));
        let (mut b1, mut bq) = ([0.4f64], [0.4f64]);
        let (mut r1, mut rq) = (ChaCha8Rng::seed_from_u64(5), ChaCha8Rng::seed_from_u64(5));
        let (mut w1, mut work) = ([0.0; 11], [0.0; 11]);
        let (mu, prec, l, step) = (-0.1, 1.7, 1.9, 0.8);
        let mut moved = 0;
        for _ in 0..500 {
            let resp = Response { y: &y, trials: &trials };
            let a = step_1(&mut r1, &Binomial, resp, &mut st1.group(&mut p1, &rows, &z), &mut b1, mu, prec, l, step, &mut w1);
            let b = step_q::<0, _>(&mut rq, &Binomial, resp, &mut stq.group(&mut pq, &rows, &z), &mut bq, &[mu], &[prec], &[l], step, &mut work);
            assert_eq!((a.accepted, a.prob().to_bits(), b1[0].to_bits()), (b.accepted, b.prob().to_bits(), bq[0].to_bits()));
            moved += usize::from(a.accepted);
        }
        assert_eq!((st1.eta, st1.ll, st1.sc), (stq.eta, stq.ll, stq.sc));
        assert!(moved > 100 && moved < 500, "both outcomes occur: {moved}");
    }

    /// The step for a constant q = 2 gives the draws of the step for any q, bit for bit.
    #[test]
    fn mh_group_for_two_coefficients_matches_the_general_step() {
        let y = [3.0, 0.0, 7.0, 2.0, 5.0];
        let rows = [3usize, 0, 4, 1];
        let z = [1.0, 0.3, 1.0, -0.7, 1.0, 1.2, 1.0, 0.1];
        let state = || {
            let mut st = RowState::new(5, true);
            st.eta.copy_from_slice(&[0.2, -0.5, 0.1, -0.3, 0.4]);
            st.refresh(&Poisson, &y, &[1.0; 5]);
            st
        };
        let (mut s2, mut s0) = (state(), state());
        let (mut p2, mut p0) = (RowState::new(4, true), RowState::new(4, true));
        let (mut b2, mut b0) = ([0.4, -0.1], [0.4, -0.1]);
        let (mut r2, mut r0) = (ChaCha8Rng::seed_from_u64(6), ChaCha8Rng::seed_from_u64(6));
        let (mut w2, mut w0) = ([0.0; 17], [0.0; 17]);
        let (mu, prec, l, step) = ([-0.1, 0.2], [1.7, 0.3, 0.3, 2.2], [2.1, 0.4, 0.0, 1.3], 0.8);
        let mut moved = 0;
        for _ in 0..500 {
            let resp = Response { y: &y, trials: &[1.0; 5] };
            let a = step_q::<2, _>(&mut r2, &Poisson, resp, &mut s2.group(&mut p2, &rows, &z), &mut b2, &mu, &prec, &l, step, &mut w2);
            let b = step_q::<0, _>(&mut r0, &Poisson, resp, &mut s0.group(&mut p0, &rows, &z), &mut b0, &mu, &prec, &l, step, &mut w0);
            assert_eq!((a.accepted, a.prob().to_bits()), (b.accepted, b.prob().to_bits()));
            assert_eq!(b2.map(f64::to_bits), b0.map(f64::to_bits));
            moved += usize::from(a.accepted);
        }
        assert_eq!((s2.eta, s2.ll, s2.sc), (s0.eta, s0.ll, s0.sc));
        assert!(moved > 100 && moved < 500, "both outcomes occur: {moved}");
    }

    #[test]
    fn langevin_at_full_step_is_exact_for_gaussian_targets() {
        // gaussian likelihood (unit variance) + normal prior: the proposal at s = 1 with the
        // exact precision as metric is the posterior itself, so the ratio is always 1
        let y = [0.3, 1.9, 1.1];
        let trials = [1.0; 3];
        let rows = [0usize, 1, 2];
        let z = [1.0; 3];
        let prec = [0.5];
        let chol = [(3.0f64 + 0.5).sqrt()];
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut beta = [5.0];
        let (mut st, mut prop) = (RowState::new(3, true), RowState::new(3, true));
        st.eta.fill(5.0);
        st.refresh(&Gaussian, &y, &trials);
        let mut work = [0.0; 11];
        for _ in 0..100 {
            let resp = Response { y: &y, trials: &trials };
            let mv = mh_group(&mut rng, &Gaussian, resp, &mut st.group(&mut prop, &rows, &z), &mut beta, &[0.0], &prec, &chol, 1.0, &mut work);
            assert!(mv.accepted && (mv.prob() - 1.0).abs() < 1e-9, "prob {}", mv.prob());
        }
        assert!((drift_coef(0.01) - 0.5e-4).abs() < 1e-8 && drift_coef(1.0) == 1.0 && drift_coef(3.0) == 1.0);
    }

    /// The scaling and shear passes' proposal and log-likelihood change, against a sum over
    /// rows, for every layout of a term: contiguous groups of 2, gathered one-row groups,
    /// contiguous one-row groups, and gathered groups of 3 with q = 2.
    #[test]
    fn direction_loglik_matches_a_sum_over_rows() {
        use crate::model::{CovPrior, Model, ModelSpec, TermSpec};
        let n = 12;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x: Vec<f64> = (0..n).map(|_| std_normal(&mut rng)).collect();
        let trials: Vec<f64> = (0..n).map(|i| 3.0 + (i % 4) as f64).collect();
        let y: Vec<f64> = trials.iter().map(|t| (t / 2.0f64).floor()).collect();
        let mut z2 = vec![1.0; n];
        z2.extend_from_slice(&x);
        let term = |m: usize, group: Vec<usize>, z: Vec<f64>, q: usize| TermSpec {
            n_groups: m,
            group,
            z: z.into(),
            mean_col: vec![None; q],
            shadow_col: vec![],
            cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0; q] },
        };
        let model = Model::new(ModelSpec {
            family: "binomial".into(),
            y: y.into(),
            trials: trials.into(),
            offset: vec![0.0; n].into(),
            x: vec![].into(),
            p: 0,
            terms: vec![
                term(6, (0..n).map(|i| i / 2).collect(), vec![1.0; n], 1),
                term(n, (0..n).map(|i| (i * 5) % n).collect(), x.clone(), 1),
                term(n, (0..n).collect(), vec![1.0; n], 1),
                term(4, (0..n).map(|i| i % 4).collect(), z2, 2),
            ],
            fixef_mean: vec![],
            fixef_sd: vec![],
            sigma_df: 1.0,
            sigma_scale: 1.0,
        })
        .unwrap();
        let layouts: Vec<(bool, usize)> = model.terms.iter().map(|t| (t.contiguous, t.m)).collect();
        assert_eq!(layouts, [(true, 6), (false, n), (true, n), (false, 4)]);
        let (mut st, mut prop) = (RowState::new(n, true), RowState::new(n, true));
        st.eta.iter_mut().for_each(|e| *e = std_normal(&mut rng));
        st.refresh(&Binomial, &model.y, model.trials());
        let resp = Response { y: &model.y, trials: model.trials() };
        for t in &model.terms {
            let q = t.q;
            let beta: Vec<f64> = (0..t.m * q).map(|_| std_normal(&mut rng)).collect();
            let theta: Vec<f64> = (0..q).map(|_| std_normal(&mut rng)).collect();
            for (k, src) in (0..q).flat_map(|k| (0..q).map(move |s| (k, s))) {
                let d_ll = direction_loglik(&Binomial, resp, &st, &mut prop, t, (k, src), 0.7, &beta, &theta);
                let mut want = 0.0;
                for j in 0..t.m {
                    for p in t.ptr[j]..t.ptr[j + 1] {
                        let i = t.rows[p];
                        let e = st.eta[i] + 0.7 * (beta[j * q + src] - theta[src]) * t.z[p * q + k];
                        assert!((prop.eta[p] - e).abs() < 1e-12, "eta at position {p}");
                        let (ll, sc) = Binomial.loglik_score(model.y[i], model.trials()[i], e, 1.0);
                        assert!((prop.ll[p] - ll).abs() < 1e-12 && (prop.sc[p] - sc).abs() < 1e-12);
                        want += ll - st.ll[i];
                    }
                }
                assert!((d_ll - want).abs() < 1e-10, "{d_ll} vs {want}");
            }
        }
    }

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
                gibbs_group(&mut rng, &y, &mut eta, Group { rows: &rows, z: &z }, &ztz, &mut beta, &[mu], &[1.0 / tau2], s2, &mut work);
                beta[0]
            })
            .collect();
        let (m, s) = mean_sd(&draws);
        assert!((m - post_mean).abs() < 5.0 * post_var.sqrt() / (draws.len() as f64).sqrt());
        assert!((s * s / post_var - 1.0).abs() < 0.03);
        assert!((eta[2] - beta[0]).abs() < 1e-12);
    }

    #[test]
    fn theta_step_matches_conjugate_posterior() {
        // q = 1: theta | beta ~ N((sum beta / s2 + mu0/v0) / (m/s2 + 1/v0), 1 / (m/s2 + 1/v0))
        let beta = [1.0, 2.0, 4.0, 3.0];
        let (s2, mu0, sd0) = (2.0, 0.0, 3.0);
        let pv = 1.0 / (4.0 / s2 + 1.0 / (sd0 * sd0));
        let pm = pv * (10.0 / s2 + mu0);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut theta = [0.0];
        let draws: Vec<f64> = (0..100_000)
            .map(|_| {
                draw_theta(&mut rng, &beta, 1, &[1.0 / s2], &[Some(0)], &[mu0], &[sd0], &mut theta, &mut [0.0; 5]);
                theta[0]
            })
            .collect();
        let (m, s) = mean_sd(&draws);
        assert!((m - pm).abs() < 5.0 * pv.sqrt() / (draws.len() as f64).sqrt());
        assert!((s * s / pv - 1.0).abs() < 0.03);
        // a component that is not free stays at zero
        let mut t2 = [0.0, 0.0];
        draw_theta(&mut rng, &[1.0, 1.0, 2.0, 2.0], 2, &[1.0, 0.0, 0.0, 1.0], &[Some(0), None], &[0.0], &[1.0], &mut t2, &mut [0.0; 12]);
        assert_eq!(t2[1], 0.0);
    }

    #[test]
    fn sigma_step_uses_prior_df_plus_groups() {
        // q = 1: Sigma | beta ~ IG((nu0 + m)/2, (s0 + SS)/2); mean (s0 + SS) / (nu0 + m - 2)
        let beta = [1.0, -1.0, 2.0, 0.0, 0.5];
        let theta = [0.5];
        let ss: f64 = beta.iter().map(|b| (b - 0.5f64).powi(2)).sum();
        let (nu0, s0) = (3.0, 1.0);
        let expect = (s0 + ss) / (nu0 + 5.0 - 2.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (mut work, mut sig, mut prec) = ([0.0; 3], [0.0], [0.0]);
        let draws: Vec<f64> = (0..100_000)
            .map(|_| {
                assert!(draw_sigma(&mut rng, &beta, &theta, nu0, &[s0], &mut work, &mut sig, &mut prec));
                sig[0]
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
        let mut a = [1.0, 1.0];
        let n = 200_000;
        let (mut below, mut rho2) = ([0usize; 2], 0.0);
        let (mut work, mut sig, mut prec) = ([0.0; 12], [0.0; 4], [0.0; 4]);
        for _ in 0..n {
            let s0 = [2.0 * nu / a[0], 0.0, 0.0, 2.0 * nu / a[1]];
            assert!(draw_sigma(&mut rng, &[], &[0.0, 0.0], nu + 1.0, &s0, &mut work, &mut sig, &mut prec));
            draw_hw_a(&mut rng, &prec, nu, &a_scale, &mut a);
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

    /// A term whose groups have no rows: the target is prod_j N(b_j | 0, Sigma) IW(Sigma), so
    /// alternating exact draws of b | Sigma with the scaling move alone (no Gibbs step for
    /// Sigma) must leave Sigma with its inverse-Wishart prior: for q = 1, IG(df/2, S/2).
    /// A wrong Jacobian shifts it.
    #[test]
    fn scaling_move_preserves_the_covariance_prior() {
        use crate::model::CovPrior;
        let m = 6;
        // one row in an extra group so that the term's m groups have none
        let (model, mut st, mut prop) = prior_only("poisson", m, 1, CovPrior::InvWishart { df: 5.0, scale: vec![2.0] });
        let term = &model.terms[0];
        let (df, s0) = (5.0, 2.0);
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let (mut sigma, mut prec) = ([1.0f64], [1.0f64]);
        let mut beta = vec![0.0; m + 1];
        let resp = Response { y: &model.y, trials: model.trials() };
        let mut draws = Vec::new();
        for it in 0..400_000 {
            for b in beta.iter_mut().take(m) {
                *b = sigma[0].sqrt() * std_normal(&mut rng);
            }
            scale_component(&mut rng, &Poisson, resp, &mut st, &mut prop, term, 0, &mut beta, &[0.0], &mut sigma, &mut prec, df, &mut [s0], None, 1.0);
            assert!((sigma[0] * prec[0] - 1.0).abs() < 1e-9);
            if it % 4 == 0 {
                draws.push(sigma[0].ln());
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
        use crate::model::{CovPrior, Model, ModelSpec, TermSpec};
        let (mo, per) = (4, 3);
        let n = mo * per;
        let (df, s0) = (5.0, 2.0);
        let cov = || CovPrior::InvWishart { df, scale: vec![s0] };
        let model = Model::new(ModelSpec {
            family: "poisson".into(),
            y: vec![0.0; n].into(),
            trials: vec![].into(),
            offset: vec![0.0; n].into(),
            x: vec![].into(),
            p: 0,
            terms: vec![
                TermSpec { n_groups: n, group: (0..n).collect(), z: vec![1.0; n].into(), mean_col: vec![None], shadow_col: vec![], cov_prior: cov() },
                TermSpec { n_groups: mo, group: (0..n).map(|i| i / per).collect(), z: vec![1.0; n].into(), mean_col: vec![None], shadow_col: vec![], cov_prior: cov() },
            ],
            fixef_mean: vec![],
            fixef_sd: vec![],
            sigma_df: 1.0,
            sigma_scale: 1.0,
        })
        .unwrap();
        let nest = &model.nested[0];
        assert_eq!((nest.inner, nest.outer), (0, 1));
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let (theta_i, prec_i, sd_i) = ([0.4], [1.0 / 0.5], 0.5f64.sqrt());
        let (mut sigma, mut prec) = ([1.0f64], [1.0f64]);
        let (mut beta_o, mut beta_i) = (vec![0.0; mo], vec![0.0; n]);
        let mut draws = Vec::new();
        for it in 0..400_000 {
            beta_o.iter_mut().for_each(|b| *b = sigma[0].sqrt() * std_normal(&mut rng));
            beta_i.iter_mut().for_each(|b| *b = theta_i[0] + sd_i * std_normal(&mut rng));
            let inner = NestSide { beta: &mut beta_i, theta: &theta_i, prec: &prec_i };
            scale_nested(&mut rng, &model.terms[1], nest, &mut beta_o, &[0.0], &mut sigma, &mut prec, df, &mut [s0], None, inner, 1, 1.0);
            if it % 4 == 0 {
                draws.push(sigma[0].ln());
            }
        }
        let expect = (s0 / 2.0).ln() - 0.703_156_640_645_243_2;
        let (mean, sd) = mean_sd(&draws);
        assert!((mean - expect).abs() < 8.0 * sd / (draws.len() as f64).sqrt(), "E log Sigma {mean} vs {expect}");
    }

    /// The same with the Huang-Wand prior (q = 1, nu = 2): b | Sigma and a | Sigma by exact
    /// draws, Sigma only by the scaling move (Metropolis, or the gaussian Gibbs version);
    /// sd must be half-t(2, A): P(sd < A) = 1/sqrt(3).
    fn huang_wand_fraction_below_scale(gibbs: bool) -> f64 {
        use crate::model::CovPrior;
        let m = 6;
        let (nu, a_scale) = (2.0, 0.7);
        let (model, mut st, mut prop) = prior_only(if gibbs { "gaussian" } else { "poisson" }, m, 1, CovPrior::HuangWand { nu, sd_scale: vec![a_scale] });
        let term = &model.terms[0];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (mut sigma, mut prec) = ([0.3f64], [1.0 / 0.3]);
        let mut a = [a_scale * a_scale];
        let mut s0 = [2.0 * nu / a[0]];
        let mut beta = vec![0.0; m + 1];
        let mut eta = [0.0];
        let resp = Response { y: &model.y, trials: model.trials() };
        let n = 400_000;
        let mut below = 0usize;
        for _ in 0..n {
            for b in beta.iter_mut().take(m) {
                *b = sigma[0].sqrt() * std_normal(&mut rng);
            }
            draw_hw_a(&mut rng, &prec, nu, &[a_scale], &mut a);
            s0[0] = 2.0 * nu / a[0];
            if gibbs {
                gibbs_scale_component(&mut rng, &model.y, &mut eta, term, 0, &mut beta, &[0.0], &mut sigma, &mut prec, 1.0, &mut a[0], a_scale, &mut s0);
            } else {
                scale_component(&mut rng, &Poisson, resp, &mut st, &mut prop, term, 0, &mut beta, &[0.0], &mut sigma, &mut prec, nu, &mut s0, Some((&mut a[0], a_scale)), 1.0);
            }
            below += usize::from(sigma[0].sqrt() < a_scale);
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
        use crate::model::CovPrior;
        for gibbs in [false, true] {
            let m = 5;
            let (df, s_iw) = (6.0, [2.0, 0.5, 0.5, 1.0]);
            let (nu, a_scale) = (2.0, [0.7, 1.3]);
            let cov_prior = if gibbs {
                CovPrior::HuangWand { nu, sd_scale: a_scale.to_vec() }
            } else {
                CovPrior::InvWishart { df, scale: s_iw.to_vec() }
            };
            let (model, mut st, mut prop) = prior_only(if gibbs { "gaussian" } else { "poisson" }, m, 2, cov_prior);
            let term = &model.terms[0];
            let mut rng = ChaCha8Rng::seed_from_u64(31);
            let mut sigma = [0.5, 0.1, 0.1, 0.4];
            let mut prec = nalgebra::DMatrix::from_column_slice(2, 2, &sigma).try_inverse().unwrap().as_slice().to_vec();
            let mut a = [a_scale[0] * a_scale[0], a_scale[1] * a_scale[1]];
            let mut s0 = if gibbs { [2.0 * nu / a[0], 0.0, 0.0, 2.0 * nu / a[1]] } else { s_iw };
            let mut beta = vec![0.0; 2 * (m + 1)];
            let mut eta = [0.0];
            let resp = Response { y: &model.y, trials: model.trials() };
            let n = 300_000;
            let (mut mean, mut rho2, mut below) = ([0.0; 4], 0.0, [0usize; 2]);
            for it in 0..n {
                let l = nalgebra::DMatrix::from_column_slice(2, 2, &sigma).cholesky().unwrap().l();
                for j in 0..m {
                    let (u, v) = (std_normal(&mut rng), std_normal(&mut rng));
                    beta[2 * j] = l[(0, 0)] * u;
                    beta[2 * j + 1] = l[(1, 0)] * u + l[(1, 1)] * v;
                }
                if gibbs {
                    draw_hw_a(&mut rng, &prec, nu, &a_scale, &mut a);
                    s0 = [2.0 * nu / a[0], 0.0, 0.0, 2.0 * nu / a[1]];
                    for k in 0..2 {
                        gibbs_scale_component(&mut rng, &model.y, &mut eta, term, k, &mut beta, &[0.0, 0.0], &mut sigma, &mut prec, 1.0, &mut a[k], a_scale[k], &mut s0);
                    }
                    for kl in [(0, 1), (1, 0)] {
                        gibbs_shear_component(&mut rng, &model.y, &mut eta, term, kl, &mut beta, &[0.0, 0.0], &mut sigma, &mut prec, 1.0, &s0);
                    }
                } else {
                    for k in 0..2 {
                        scale_component(&mut rng, &Poisson, resp, &mut st, &mut prop, term, k, &mut beta, &[0.0, 0.0], &mut sigma, &mut prec, df, &mut s0, None, 1.0);
                    }
                    for kl in [(0, 1), (1, 0)] {
                        shear_component(&mut rng, &Poisson, resp, &mut st, &mut prop, term, kl, &mut beta, &[0.0, 0.0], &mut sigma, &mut prec, &s0, 0.7);
                    }
                }
                // Sigma and Sigma^-1 stay inverse to each other (up to rounding, which the
                // sampler clears by redrawing both every sweep; here they are re-synced)
                let id = nalgebra::DMatrix::from_column_slice(2, 2, &sigma) * nalgebra::DMatrix::from_column_slice(2, 2, &prec);
                assert!((id[(0, 0)] - 1.0).abs() < 1e-6 && id[(1, 0)].abs() < 1e-6 && id[(0, 1)].abs() < 1e-6, "it {it}: {id}");
                prec.copy_from_slice(nalgebra::DMatrix::from_column_slice(2, 2, &sigma).try_inverse().unwrap().as_slice());
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
                gibbs_block(&mut rng, a, &y, &mut eta, &mut alpha, s2, &mut work);
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
        let (mut st, mut prop) = (RowState::new(5, true), RowState::new(5, true));
        st.refresh(&fam, &ys, &trials);
        assert!(block_curvature(&fam, a2, &trials, &st.eta, &mut chol));
        assert!((chol[0] * chol[0] - 1.0 / pv).abs() < 1e-9);
        let mut alpha2 = [0.0];
        let mut w2 = [0.0; 7];
        let mut draws = Vec::new();
        for it in 0..200_000 {
            mh_block(&mut rng, &fam, a2, Response { y: &ys, trials: &trials }, &mut st, &mut prop, &mut alpha2, &chol, 1.5, &mut w2);
            if it % 5 == 0 {
                draws.push(alpha2[0]);
            }
        }
        assert!((st.eta[3] - xs[3] * alpha2[0]).abs() < 1e-9, "eta follows the accepted block");
        assert!(st.ll[3] == fam.loglik(ys[3], 1.0, st.eta[3], 1.0), "the cache follows eta");
        let (m2, s2d) = mean_sd(&draws);
        assert!((m2 - pm).abs() < 6.0 * s2d / (draws.len() as f64).sqrt(), "{m2} vs {pm}");
        assert!((s2d * s2d / pv - 1.0).abs() < 0.05);
    }
}
