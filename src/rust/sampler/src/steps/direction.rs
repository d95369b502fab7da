//! Passes over a term's rows along a direction of the expansion moves: component k of every
//! group moves by `factor` times its deviation in component `src`, so row i's eta moves by
//! d_i = factor (beta_{g(i),src} - theta_src) z_ik. Each loop is written once for both row
//! orders of a term ([`RowOrder`]).

use super::Likelihood;
use crate::family::Family;
use crate::model::Term;
use crate::params::Coefs;
use crate::rows::{by_row_order, RowOrder, RowState, Rows};

/// The proposal's (eta, loglik, score) along the direction, per position of the term's rows,
/// into `rows.prop`; returns the change of the log-likelihood.
pub fn direction_loglik<F: Family + ?Sized>(lik: Likelihood<F>, rows: &mut Rows, term: &Term, dir: (usize, usize), factor: f64, coefs: &Coefs) -> f64 {
    by_row_order!(term, o => direction_loglik_in(o, lik, rows, term, dir, factor, coefs))
}

#[inline(always)]
fn direction_loglik_in<O: RowOrder, F: Family + ?Sized>(
    o: O,
    lik: Likelihood<F>,
    rows: &mut Rows,
    term: &Term,
    (k, src): (usize, usize),
    factor: f64,
    coefs: &Coefs,
) -> f64 {
    let (q, n) = (term.q, term.rows.len());
    let Rows { cur, prop } = rows;
    let (beta, theta) = (&coefs.beta[..], &coefs.theta[..]);
    let (pe, z) = (&mut prop.eta[..n], &term.z[..n * q]);
    if term.m == n {
        // one row per group (observation-level terms): position j is group j, and a loop
        // over groups would spend more on each group's bounds than on its row
        let b = &beta[..n * q];
        let shift = |j: usize| factor * (b[j * q + src] - theta[src]) * z[j * q + k];
        for (j, (p, r)) in pe.iter_mut().zip(o.at(&cur.eta, 0..n)).enumerate() {
            *p = r + shift(j);
        }
    } else {
        for j in 0..term.m {
            let shift = factor * (beta[j * q + src] - theta[src]);
            let (a, b) = (term.ptr[j], term.ptr[j + 1]);
            for (pos, (p, r)) in (a..b).zip(pe[a..b].iter_mut().zip(o.at(&cur.eta, a..b))) {
                *p = r + shift * z[pos * q + k];
            }
        }
    }
    lik.fam.prepare(&prop.eta, &mut prop.ll, &mut prop.sc);
    let ynl = o.at(lik.y, 0..n).zip(o.at(lik.trials, 0..n)).zip(o.at(&cur.ll, 0..n)).map(|((y, t), l)| (y, t, l));
    prop_delta_loglik(lik.fam, ynl, prop)
}

/// The proposal's (loglik, score) per position in place from `prepare`'s values, given each
/// position's (y, trials, current loglik) in `ynl`; returns the change in log-likelihood.
#[inline(always)]
pub(super) fn prop_delta_loglik<F: Family + ?Sized>(fam: &F, ynl: impl Iterator<Item = (f64, f64, f64)>, prop: &mut RowState) -> f64 {
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
pub fn take_proposal(term: &Term, rows: &mut Rows) {
    let Rows { cur, prop } = rows;
    by_row_order!(term, o => o.take(cur, prop, term.rows.len()))
}

/// For the gaussian Gibbs versions: D = sum d_i^2 and R = sum (y_i - eta_i) d_i along the
/// direction with factor 1.
pub fn direction_moments(y: &[f64], eta: &[f64], term: &Term, dir: (usize, usize), coefs: &Coefs) -> (f64, f64) {
    by_row_order!(term, o => direction_moments_in(o, y, eta, term, dir, coefs))
}

#[inline(always)]
fn direction_moments_in<O: RowOrder>(o: O, y: &[f64], eta: &[f64], term: &Term, (k, src): (usize, usize), coefs: &Coefs) -> (f64, f64) {
    let q = term.q;
    let (mut d2, mut rd) = (0.0, 0.0);
    for j in 0..term.m {
        let b = coefs.beta[j * q + src] - coefs.theta[src];
        let (lo, hi) = (term.ptr[j], term.ptr[j + 1]);
        let z = term.z[lo * q..hi * q].chunks_exact(q).map(|zr| zr[k]);
        for ((yi, ei), zk) in o.at(y, lo..hi).zip(o.at(eta, lo..hi)).zip(z) {
            let d = b * zk;
            d2 += d * d;
            rd += (yi - ei) * d;
        }
    }
    (d2, rd)
}

/// eta moves along the direction with `factor` (gaussian moves).
pub fn shift_eta(term: &Term, dir: (usize, usize), factor: f64, coefs: &Coefs, eta: &mut [f64]) {
    by_row_order!(term, o => shift_eta_in(o, term, dir, factor, coefs, eta))
}

#[inline(always)]
fn shift_eta_in<O: RowOrder>(o: O, term: &Term, (k, src): (usize, usize), factor: f64, coefs: &Coefs, eta: &mut [f64]) {
    let q = term.q;
    for j in 0..term.m {
        let shift = factor * (coefs.beta[j * q + src] - coefs.theta[src]);
        let (lo, hi) = (term.ptr[j], term.ptr[j + 1]);
        let z = term.z[lo * q..hi * q].chunks_exact(q).map(|zr| zr[k]);
        o.zip_mut(eta, lo..hi, z, |e, zk| *e += shift * zk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::std_normal;
    use crate::family::Binomial;
    use crate::model::Model;
    use crate::spec::{CovPrior, ModelSpec, TermSpec};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The loglik change (against a sum over rows), the proposal, the moments and the shift
    /// of eta along every direction, for every layout of a term: contiguous groups of 2,
    /// gathered one-row groups, contiguous one-row groups, and gathered groups of 3 with q = 2.
    #[test]
    fn direction_passes_match_sums_over_rows() {
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
            link: String::new(),
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
            aux_rate: 1.0,
        })
        .unwrap();
        let layouts: Vec<(bool, usize)> = model.terms.iter().map(|t| (t.contiguous, t.m)).collect();
        assert_eq!(layouts, [(true, 6), (false, n), (true, n), (false, 4)]);
        let mut rows = Rows::new(n, true);
        rows.cur.eta.iter_mut().for_each(|e| *e = std_normal(&mut rng));
        rows.cur.refresh(&Binomial, &model.y, model.trials());
        let lik = Likelihood { fam: &Binomial, y: &model.y, trials: model.trials() };
        for t in &model.terms {
            let q = t.q;
            let coefs = Coefs { beta: (0..t.m * q).map(|_| std_normal(&mut rng)).collect(), theta: (0..q).map(|_| std_normal(&mut rng)).collect() };
            for (k, src) in (0..q).flat_map(|k| (0..q).map(move |s| (k, s))) {
                let d_ll = direction_loglik(lik, &mut rows, t, (k, src), 0.7, &coefs);
                let (st, prop) = (&rows.cur, &rows.prop);
                let (mut want, mut d2, mut rd) = (0.0, 0.0, 0.0);
                let mut shifted = st.eta.clone();
                for j in 0..t.m {
                    for p in t.ptr[j]..t.ptr[j + 1] {
                        let i = t.rows[p];
                        let d = (coefs.beta[j * q + src] - coefs.theta[src]) * t.z[p * q + k];
                        let e = st.eta[i] + 0.7 * d;
                        assert!((prop.eta[p] - e).abs() < 1e-12, "eta at position {p}");
                        let (ll, sc) = Binomial.loglik_score(model.y[i], model.trials()[i], e);
                        assert!((prop.ll[p] - ll).abs() < 1e-12 && (prop.sc[p] - sc).abs() < 1e-12);
                        want += ll - st.ll[i];
                        d2 += d * d;
                        rd += (model.y[i] - st.eta[i]) * d;
                        shifted[i] += 0.7 * d;
                    }
                }
                assert!((d_ll - want).abs() < 1e-10, "{d_ll} vs {want}");
                let (m2, mr) = direction_moments(&model.y, &st.eta, t, (k, src), &coefs);
                assert!((m2 - d2).abs() < 1e-10 && (mr - rd).abs() < 1e-10);
                let mut eta = st.eta.clone();
                shift_eta(t, (k, src), 0.7, &coefs, &mut eta);
                assert!(eta.iter().zip(&shifted).all(|(a, b)| (a - b).abs() < 1e-12));
            }
            // the last proposal made current: each row gets its position's values
            let prop = rows.prop.clone();
            take_proposal(t, &mut rows);
            for (p, &i) in t.rows.iter().enumerate() {
                assert_eq!((rows.cur.eta[i], rows.cur.ll[i], rows.cur.sc[i]), (prop.eta[p], prop.ll[p], prop.sc[p]));
            }
        }
    }
}
