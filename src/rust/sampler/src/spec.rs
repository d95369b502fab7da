//! What the caller hands over: data, design and priors ([`ModelSpec`]), checked once by
//! [`ModelSpec::check`] before [`crate::Model::new`] lays them out.

use crate::error::Error;
use crate::family::{ExtraPrior, FamilyKind};
use std::borrow::Cow;

/// One random-effects term `(z | g)` as given by the caller. The design may be borrowed
/// (from R's memory): the sampler keeps its own copy in sorted row order.
#[derive(Clone, Debug)]
pub struct TermSpec<'a> {
    /// Number of groups (levels of g).
    pub n_groups: usize,
    /// 0-based group of every row.
    pub group: Vec<usize>,
    /// Random-effects design, n x q, column-major; or only its columns that repeat no
    /// fixed-effects column (neither `mean_col` nor `shadow_col`), the others being read
    /// from the fixed design, so that the caller need not hold a copy of them.
    pub z: Cow<'a, [f64]>,
    /// For each of the q columns, the fixed-effect column that is its mean, if any.
    pub mean_col: Vec<Option<usize>>,
    /// For each of the q columns that is not centred, a fixed-effect column equal to it that
    /// is centred in another term (e.g. the intercept of a second, crossed factor), if any:
    /// the sampler then moves the two along the direction that leaves eta unchanged. Empty
    /// means none.
    pub shadow_col: Vec<Option<usize>>,
    /// Prior of Sigma.
    pub cov_prior: CovPrior,
}

/// Prior of a term's covariance matrix Sigma.
#[derive(Clone, Debug)]
pub enum CovPrior {
    /// Sigma ~ inverse-Wishart(df, scale), scale q x q column-major.
    InvWishart { df: f64, scale: Vec<f64> },
    /// Huang and Wand (2013): Sigma | a ~ IW(nu + q - 1, 2 nu diag(1/a)), a_k ~ IG(1/2, 1/A_k^2).
    /// Each standard deviation is half-t(nu, A_k); nu = 2 makes correlations uniform.
    HuangWand { nu: f64, sd_scale: Vec<f64> },
}

/// Everything the sampler needs about data and priors. The data may be borrowed (the R
/// glue passes R's vectors without copying them); `Model::new` copies them once, sorted.
#[derive(Clone, Debug)]
pub struct ModelSpec<'a> {
    /// The family's name, as R's `family()$family`.
    pub family: String,
    /// The link's name, as R's `family()$link`; empty: the family's default (R's).
    pub link: String,
    pub y: Cow<'a, [f64]>,
    /// Binomial trials per row (empty for other families).
    pub trials: Cow<'a, [f64]>,
    /// Offset per row; empty means none (zero).
    pub offset: Cow<'a, [f64]>,
    /// Fixed-effects design, n x p, column-major.
    pub x: Cow<'a, [f64]>,
    pub p: usize,
    pub terms: Vec<TermSpec<'a>>,
    /// Normal prior on each fixed effect.
    pub fixef_mean: Vec<f64>,
    pub fixef_sd: Vec<f64>,
    /// Prior of the family's extra parameter (gaussian: sigma^2 ~ scaled-inv-chi^2(sigma_df,
    /// sigma_scale^2), every link; neg_binomial_2's reciprocal dispersion and Gamma's shape
    /// ~ exponential(aux_rate)); ignored by families without one.
    pub sigma_df: f64,
    pub sigma_scale: f64,
    pub aux_rate: f64,
}

fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

impl ModelSpec<'_> {
    /// Checks everything [`crate::Model::new`] relies on; returns the family. Errors name
    /// the problem ([`Error::InvalidModel`]).
    pub fn check(&self) -> Result<FamilyKind, Error> {
        let kind = FamilyKind::from_names(&self.family, &self.link)?;
        let family = kind.family();
        let (n, p) = (self.y.len(), self.p);
        if n == 0 {
            return Err(Error::invalid("the data have no rows"));
        }
        if self.x.len() != n * p {
            return Err(Error::invalid(format!("the fixed-effects design has {} values, expected {} x {}", self.x.len(), n, p)));
        }
        if !(self.offset.is_empty() || self.offset.len() == n) {
            return Err(Error::invalid("the offset must have one value per row, or none"));
        }
        if !all_finite(&self.y) || !all_finite(&self.x) || !all_finite(&self.offset) {
            return Err(Error::invalid("response, predictors and offset must be finite (no NA, NaN or Inf)"));
        }
        family.check_response(&self.y, &self.trials).map_err(Error::InvalidModel)?;
        if self.fixef_mean.len() != p || self.fixef_sd.len() != p {
            return Err(Error::invalid("the fixed-effects prior must have one location and scale per coefficient"));
        }
        if !all_finite(&self.fixef_mean) || self.fixef_sd.iter().any(|&s| !(s > 0.0 && s.is_finite())) {
            return Err(Error::invalid("fixed-effects prior scales must be positive and finite"));
        }
        family.check_extra_prior(&self.extra_prior()).map_err(Error::InvalidModel)?;
        let mut centred = vec![false; p];
        for (ti, t) in self.terms.iter().enumerate() {
            t.check(ti + 1, n, p, &self.x, &mut centred)?;
        }
        Ok(kind)
    }

    /// The prior of the family's extra parameter.
    pub fn extra_prior(&self) -> ExtraPrior {
        ExtraPrior { df: self.sigma_df, scale: self.sigma_scale, rate: self.aux_rate }
    }
}

impl TermSpec<'_> {
    /// Coefficients per group.
    pub fn q(&self) -> usize {
        self.mean_col.len()
    }

    /// The fixed-effect column that column k repeats (its mean or a shadow), if any.
    fn fixed_of(&self, k: usize) -> Option<usize> {
        self.mean_col[k].or(self.shadow_col.get(k).copied().flatten())
    }

    /// The q columns of the design (n rows each): z's own, or the fixed columns they repeat
    /// when z leaves those out; None if z has neither size. Column indices must be valid.
    pub(crate) fn columns<'b>(&'b self, x: &'b [f64], n: usize) -> Option<Vec<&'b [f64]>> {
        let q = self.q();
        let n_own = (0..q).filter(|&k| self.fixed_of(k).is_none()).count();
        let compact = n_own < q && self.z.len() == n * n_own;
        if !(compact || self.z.len() == n * q) {
            return None;
        }
        let mut own = 0;
        Some(
            (0..q)
                .map(|k| match self.fixed_of(k) {
                    Some(c) if compact => &x[c * n..(c + 1) * n],
                    _ => {
                        own += 1;
                        &self.z[(own - 1) * n..own * n]
                    }
                })
                .collect(),
        )
    }

    /// Checks term number `name` of a model with n rows and p fixed effects; marks its
    /// centring columns in `centred` (a column may be centred in one term only).
    fn check(&self, name: usize, n: usize, p: usize, x: &[f64], centred: &mut [bool]) -> Result<(), Error> {
        let (q, m) = (self.q(), self.n_groups);
        let err = |what: String| Err(Error::invalid(format!("random-effects term {name}: {what}")));
        if q == 0 || self.group.len() != n {
            return err("design or grouping has the wrong size".into());
        }
        if m == 0 || self.group.iter().any(|&g| g >= m) {
            return err("group codes must be 1 to the number of groups".into());
        }
        if !all_finite(&self.z) {
            return err("the design must be finite".into());
        }
        if !(self.shadow_col.is_empty() || self.shadow_col.len() == q)
            || self.shadow_col.iter().zip(&self.mean_col).any(|(s, m)| s.is_some() && (m.is_some() || s.unwrap() >= p))
        {
            return err("invalid shadow columns".into());
        }
        for mc in self.mean_col.iter().flatten() {
            if *mc >= p || centred[*mc] {
                return err("invalid or repeated centring column".into());
            }
            centred[*mc] = true;
        }
        if self.columns(x, n).is_none() {
            return err("design or grouping has the wrong size".into());
        }
        match &self.cov_prior {
            CovPrior::InvWishart { df, scale } => {
                if !(*df > (q as f64) - 1.0) || !df.is_finite() {
                    return err(format!("the inverse-Wishart degrees of freedom must exceed q - 1 = {}", q - 1));
                }
                let mut sc = scale.clone();
                if sc.len() != q * q || !crate::linalg::chol_in_place(&mut sc, q) {
                    return err(format!("the inverse-Wishart scale must be a positive definite {q} x {q} matrix"));
                }
            }
            CovPrior::HuangWand { nu, sd_scale } => {
                if !(*nu > 0.0 && nu.is_finite()) || sd_scale.len() != q || sd_scale.iter().any(|a| !(*a > 0.0 && a.is_finite())) {
                    return err(format!("the half-t prior needs positive degrees of freedom and {q} positive scales"));
                }
            }
        }
        Ok(())
    }
}
