//! The model as the sampler sees it, laid out for the sweeps from a checked [`ModelSpec`].
//!
//! Linear predictor: eta_i = offset_i + w_i' alpha + sum_t z_ti' beta_{t, g_t(i)}.
//! Term t has q_t coefficients per group with beta_tj ~ N(theta_t, Sigma_t). A coefficient whose
//! random column repeats a fixed-effect column is centred: its theta component is that fixed
//! effect (Gibbs step). The other theta components are 0 (zero-mean deviations). Fixed columns
//! not centred in any term form alpha (block step).

use crate::error::Error;
use crate::family::{ExtraPrior, FamilyKind};
use crate::spec::{CovPrior, ModelSpec};

/// A term laid out for the sweeps: rows of each group listed together.
pub struct Term {
    pub q: usize,
    pub m: usize,
    /// Rows of group j are `rows[ptr[j]..ptr[j+1]]`.
    pub ptr: Vec<usize>,
    pub rows: Vec<usize>,
    /// rows[pos] == pos (the first term: rows are sorted by its groups), so a group's rows
    /// are one contiguous range of the row state.
    pub contiguous: bool,
    /// z values in the same order as `rows`, row-major (q per row).
    pub z: Vec<f64>,
    /// Z_j' Z_j per group, q x q each (gaussian steps).
    pub ztz: Vec<f64>,
    pub mean_col: Vec<Option<usize>>,
    pub shadow_col: Vec<Option<usize>>,
    pub cov_prior: CovPrior,
    /// Fixed effects not centred anywhere whose column is constant within this term's groups
    /// (group-level predictors), with the term's intercept component (see `GroupLevel`).
    pub group_level: Vec<GroupLevel>,
}

/// Rows of one group in one term: their row indices, their z values (row-major, q each)
/// and Z_j' Z_j (q x q; empty where not needed).
#[derive(Clone, Copy)]
pub struct Group<'a> {
    pub rows: &'a [usize],
    pub z: &'a [f64],
    pub ztz: &'a [f64],
}

impl Term {
    /// Group j's rows.
    pub fn group(&self, j: usize) -> Group<'_> {
        let (a, b, qq) = (self.ptr[j], self.ptr[j + 1], self.q * self.q);
        Group { rows: &self.rows[a..b], z: &self.z[a * self.q..b * self.q], ztz: &self.ztz[j * qq..(j + 1) * qq] }
    }
}

/// A group-level predictor of a term with a random intercept: fixed column `col` (alpha)
/// equals `w[j]` on every row of group j. Moving its coefficient by delta and intercept k of
/// every group j by -delta w_j leaves eta unchanged, so delta has an exact normal draw; it
/// removes the coupling that makes such coefficients mix slowly against the intercepts.
pub struct GroupLevel {
    pub col: usize,
    pub k: usize,
    pub w: Vec<f64>,
    /// The fixed-effect column of the term's intercept (centred in this term or, as a
    /// shadow, in another), which the move shifts by -delta wbar; none: wbar is 0.
    pub intercept: Option<usize>,
    /// Mean of w over the groups, and sum_j (w_j - wbar)^2.
    pub wbar: f64,
    pub su2: f64,
}

/// Term `inner`'s groups nest in term `outer`'s (each inner group's rows lie in one outer
/// group), both with random intercepts (components `k_in`, `k_out`). Moving outer group k's
/// intercept by delta_k and the intercepts of the inner groups in it by -delta_k leaves eta
/// unchanged, so each delta_k has an exact normal draw; it decouples the two levels of a
/// nested design such as (1 | a/b).
pub struct Nesting {
    pub inner: usize,
    pub outer: usize,
    pub k_in: usize,
    pub k_out: usize,
    /// Inner groups of outer group k: `children[child_ptr[k]..child_ptr[k + 1]]`.
    pub child_ptr: Vec<usize>,
    pub children: Vec<usize>,
}

/// Term `o`'s group of every inner group of term `i`, if the inner groups nest in o's.
fn parents(i: &Term, o: &Term, n: usize) -> Option<Vec<usize>> {
    let mut group_of = vec![0usize; n];
    for j in 0..o.m {
        for &r in &o.rows[o.ptr[j]..o.ptr[j + 1]] {
            group_of[r] = j;
        }
    }
    (0..i.m)
        .map(|j| {
            let rows = &i.rows[i.ptr[j]..i.ptr[j + 1]];
            let k = group_of[*rows.first()?];
            rows.iter().all(|&r| group_of[r] == k).then_some(k)
        })
        .collect()
}

fn nestings(terms: &[Term], n: usize) -> Vec<Nesting> {
    let mut out = Vec::new();
    for (ii, ti) in terms.iter().enumerate() {
        for (oi, to) in terms.iter().enumerate() {
            // an outer term has fewer groups; equal groupings are left to the other steps
            if ii == oi || to.m >= ti.m {
                continue;
            }
            let (Some(k_in), Some(k_out)) = (intercept_component(&ti.z, ti.q), intercept_component(&to.z, to.q)) else { continue };
            let Some(parent) = parents(ti, to, n) else { continue };
            let mut child_ptr = vec![0usize; to.m + 1];
            for &k in &parent {
                child_ptr[k + 1] += 1;
            }
            for k in 0..to.m {
                child_ptr[k + 1] += child_ptr[k];
            }
            let mut fill = child_ptr.clone();
            let mut children = vec![0usize; ti.m];
            for (j, &k) in parent.iter().enumerate() {
                children[fill[k]] = j;
                fill[k] += 1;
            }
            out.push(Nesting { inner: ii, outer: oi, k_in, k_out, child_ptr, children });
        }
    }
    out
}

/// Intercept component of a term (z = 1 on every row), if any.
fn intercept_component(z: &[f64], q: usize) -> Option<usize> {
    (0..q).find(|&k| z.iter().skip(k).step_by(q).all(|&v| v == 1.0))
}

/// Value of column `x` (sorted rows) on each group of the term if it is constant within
/// every group (to 1e-12 relative).
fn group_values(x: &[f64], ptr: &[usize], rows: &[usize]) -> Option<Vec<f64>> {
    (0..ptr.len() - 1)
        .map(|j| {
            let r = &rows[ptr[j]..ptr[j + 1]];
            let w = r.first().map_or(0.0, |&i| x[i]);
            r.iter().all(|&i| (x[i] - w).abs() <= 1e-12 * w.abs().max(1.0)).then_some(w)
        })
        .collect()
}

/// The checked model with rows sorted by the first term's groups.
pub struct Model {
    pub family: FamilyKind,
    pub n: usize,
    pub p: usize,
    pub y: Vec<f64>,
    /// Binomial trials; empty for the other families (see `trials()`).
    trials: Vec<f64>,
    /// Offset; empty when it is zero on every row.
    pub offset: Vec<f64>,
    /// Fixed-effects design in sorted row order, n x p column-major, and X'X.
    pub x: Vec<f64>,
    pub xtx: Vec<f64>,
    /// Fixed columns not centred in any term (alpha).
    pub alpha_cols: Vec<usize>,
    pub terms: Vec<Term>,
    /// Pairs of terms with random intercepts whose groups nest (see `Nesting`).
    pub nested: Vec<Nesting>,
    pub fixef_mean: Vec<f64>,
    pub fixef_sd: Vec<f64>,
    /// Where each fixed effect lives in the sampler state.
    pub fixef_source: Vec<Source>,
    /// Prior of the family's extra parameter.
    pub extra_prior: ExtraPrior,
}

/// A fixed effect is either a component of alpha or the mean of a centred random coefficient.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    Alpha(usize),
    /// (term, component)
    Theta(usize, usize),
}

impl Model {
    /// Checks `spec` ([`ModelSpec::check`]) and builds the sweep layout.
    pub fn new(spec: ModelSpec<'_>) -> Result<Model, Error> {
        let family = spec.check()?;
        let extra_prior = spec.extra_prior();
        let n = spec.y.len();
        let p = spec.p;

        // Sort rows by the first term's group so that its groups are contiguous.
        let mut order: Vec<usize> = (0..n).collect();
        if let Some(t0) = spec.terms.first() {
            if t0.group.len() == n {
                order.sort_by_key(|&i| t0.group[i]);
            }
        }
        let perm = |v: &[f64]| -> Vec<f64> { order.iter().map(|&i| v[i]).collect() };
        let y = perm(&spec.y);
        let trials = if family.family().uses_trials() { perm(&spec.trials) } else { Vec::new() };
        let offset = if spec.offset.iter().any(|&o| o != 0.0) { perm(&spec.offset) } else { Vec::new() };

        let mut centred = vec![false; p];
        let mut terms = Vec::with_capacity(spec.terms.len());
        for t in &spec.terms {
            let (q, m) = (t.q(), t.n_groups);
            t.mean_col.iter().flatten().for_each(|&c| centred[c] = true);
            let cols = t.columns(&spec.x, n).expect("checked by ModelSpec::check");
            // Group rows in sorted-row order; z row-major in that order.
            let mut counts = vec![0usize; m + 1];
            for &g in t.group.iter() {
                counts[g + 1] += 1;
            }
            for j in 0..m {
                counts[j + 1] += counts[j];
            }
            let ptr = counts.clone();
            let mut fill = counts;
            let mut rows = vec![0usize; n];
            let mut z = vec![0.0; n * q];
            for (new_i, &old_i) in order.iter().enumerate() {
                let g = t.group[old_i];
                let pos = fill[g];
                fill[g] += 1;
                rows[pos] = new_i;
                for k in 0..q {
                    z[pos * q + k] = cols[k][old_i];
                }
            }
            let mut ztz = vec![0.0; m * q * q];
            for j in 0..m {
                let blk = &mut ztz[j * q * q..(j + 1) * q * q];
                for pos in ptr[j]..ptr[j + 1] {
                    let zr = &z[pos * q..(pos + 1) * q];
                    for a in 0..q {
                        for b in 0..q {
                            blk[a + b * q] += zr[a] * zr[b];
                        }
                    }
                }
            }
            terms.push(Term {
                q,
                m,
                ptr,
                contiguous: rows.iter().enumerate().all(|(pos, &i)| pos == i),
                rows,
                z,
                ztz,
                mean_col: t.mean_col.clone(),
                shadow_col: if t.shadow_col.is_empty() { vec![None; q] } else { t.shadow_col.clone() },
                cov_prior: t.cov_prior.clone(),
                group_level: vec![],
            });
        }

        let alpha_cols: Vec<usize> = (0..p).filter(|c| !centred[*c]).collect();
        let mut x = Vec::with_capacity(n * p);
        for c in 0..p {
            let col = &spec.x[c * n..(c + 1) * n];
            x.extend(order.iter().map(|&i| col[i]));
        }
        for t in terms.iter_mut() {
            let Some(k) = intercept_component(&t.z, t.q) else { continue };
            for &c in &alpha_cols {
                if let Some(w) = group_values(&x[c * n..(c + 1) * n], &t.ptr, &t.rows) {
                    let intercept = t.mean_col[k].or(t.shadow_col[k]);
                    let wbar = if intercept.is_some() { w.iter().sum::<f64>() / w.len() as f64 } else { 0.0 };
                    let su2 = w.iter().map(|v| (v - wbar) * (v - wbar)).sum();
                    if su2 > 0.0 {
                        t.group_level.push(GroupLevel { col: c, k, w, intercept, wbar, su2 });
                    }
                }
            }
        }
        let nested = nestings(&terms, n);
        let mut fixef_source: Vec<Source> = Vec::with_capacity(p);
        for c in 0..p {
            let theta = terms.iter().enumerate().find_map(|(ti, t)| {
                t.mean_col.iter().position(|mc| *mc == Some(c)).map(|k| Source::Theta(ti, k))
            });
            fixef_source.push(theta.unwrap_or_else(|| Source::Alpha(alpha_cols.iter().position(|&a| a == c).unwrap())));
        }
        let mut xtx = vec![0.0; p * p];
        for a in 0..p {
            for b in 0..=a {
                let s = crate::linalg::dot(&x[a * n..(a + 1) * n], &x[b * n..(b + 1) * n]);
                xtx[a + b * p] = s;
                xtx[b + a * p] = s;
            }
        }

        Ok(Model {
            family,
            n,
            p,
            y,
            trials,
            offset,
            x,
            xtx,
            alpha_cols,
            terms,
            nested,
            fixef_mean: spec.fixef_mean,
            fixef_sd: spec.fixef_sd,
            fixef_source,
            extra_prior,
        })
    }

    /// Binomial trials per row. Families without trials ignore them: they get the response
    /// instead, so that no vector of ones is kept for them.
    #[inline]
    pub fn trials(&self) -> &[f64] {
        if self.trials.is_empty() {
            &self.y
        } else {
            &self.trials
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::TermSpec;

    fn spec(z: Vec<f64>, mean_col: Vec<Option<usize>>) -> ModelSpec<'static> {
        let n = 6;
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 1.0).collect();
        let xm: Vec<f64> = std::iter::repeat(1.0).take(n).chain(x).collect();
        let q = mean_col.len();
        ModelSpec {
            family: "poisson".into(),
            link: String::new(),
            y: vec![1.0, 0.0, 2.0, 3.0, 1.0, 0.0].into(),
            trials: vec![].into(),
            offset: vec![].into(),
            x: xm.into(),
            p: 2,
            terms: vec![TermSpec {
                n_groups: 3,
                group: vec![2, 0, 1, 0, 2, 1],
                z: z.into(),
                mean_col,
                shadow_col: vec![None; q],
                cov_prior: CovPrior::InvWishart { df: q as f64 + 1.0, scale: (0..q * q).map(|i| if i % (q + 1) == 0 { 1.0 } else { 0.0 }).collect() },
            }],
            fixef_mean: vec![0.0; 2],
            fixef_sd: vec![1.0; 2],
            sigma_df: 1.0,
            sigma_scale: 1.0,
            aux_rate: 1.0,
        }
    }

    #[test]
    fn a_term_may_leave_out_the_columns_it_repeats_from_x() {
        let n = 6;
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 1.0).collect();
        let w = vec![0.3, -1.0, 2.0, 0.5, 0.0, 1.5];
        // (1 + x | g), both centred: z in full and with no columns at all
        let full: Vec<f64> = std::iter::repeat(1.0).take(n).chain(x.iter().copied()).collect();
        let a = Model::new(spec(full, vec![Some(0), Some(1)])).unwrap();
        let b = Model::new(spec(vec![], vec![Some(0), Some(1)])).unwrap();
        assert_eq!(a.terms[0].z, b.terms[0].z);
        assert_eq!(a.terms[0].z[1], x[1]); // first row of group 0 is data row 1
        // (1 + w | g): the intercept repeats x's first column, w is the term's own
        let full: Vec<f64> = std::iter::repeat(1.0).take(n).chain(w.iter().copied()).collect();
        let a = Model::new(spec(full, vec![Some(0), None])).unwrap();
        let b = Model::new(spec(w.clone(), vec![Some(0), None])).unwrap();
        assert_eq!(a.terms[0].z, b.terms[0].z);
        assert_eq!(a.terms[0].z[1], w[1]);
        // any other length is refused
        assert!(Model::new(spec(vec![1.0; 3], vec![Some(0), None])).is_err());
    }
}
