//! The order of the values in a kept draw, defined once: [`Model::layout`] lists them, a
//! chain stores its draws in that order, and the caller's names are checked against it.

use crate::error::Error;
use crate::model::Model;

/// One value of a kept draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// Fixed effect c (column c of the fixed design).
    Fixef(usize),
    /// Deviation beta_jk - theta_k of group j's coefficient k in term `term`.
    Ranef { term: usize, group: usize, k: usize },
    /// The family's extra parameter (gaussian: sigma; neg_binomial_2: reciprocal_dispersion;
    /// Gamma: shape).
    Extra,
    /// Entry (row, col), row >= col, of term `term`'s covariance Sigma.
    Cov { term: usize, row: usize, col: usize },
}

/// What to do with each kind of value of a kept draw (see [`Layout::visit`]).
pub trait LayoutVisitor {
    /// Fixed effect c.
    fn fixef(&mut self, c: usize);
    /// Group `group`'s coefficient k of term `term`, as a deviation from theta.
    fn ranef(&mut self, term: usize, group: usize, k: usize);
    /// The family's extra parameter.
    fn extra(&mut self);
    /// Entry (row, col) of term `term`'s Sigma.
    fn cov(&mut self, term: usize, row: usize, col: usize);
}

/// The values of a kept draw: fixed effects; the group effects, term by term, group by
/// group (if kept); the family's extra parameter (if it has one); the lower triangle of each
/// term's Sigma, column by column.
#[derive(Clone, Copy)]
pub struct Layout<'a> {
    model: &'a Model,
    ranef: bool,
    extra: Option<&'static str>,
}

impl Model {
    /// The layout of a kept draw, with the group effects if `ranef`.
    pub fn layout(&self, ranef: bool) -> Layout<'_> {
        Layout { model: self, ranef, extra: self.family.extra_name() }
    }

    /// Number of values in one kept draw with the group effects.
    pub fn n_params(&self) -> usize {
        self.layout(true).len()
    }

    /// Values in one kept draw when the group effects are kept only if `ranef`.
    pub fn n_kept_params(&self, ranef: bool) -> usize {
        self.layout(ranef).len()
    }
}

impl<'a> Layout<'a> {
    /// Number of values.
    pub fn len(&self) -> usize {
        let terms = &self.model.terms;
        let b: usize = if self.ranef { terms.iter().map(|t| t.m * t.q).sum() } else { 0 };
        let s: usize = terms.iter().map(|t| t.q * (t.q + 1) / 2).sum();
        self.model.p + b + usize::from(self.extra.is_some()) + s
    }

    /// Whether a draw has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `v`'s method of each value's kind, in order: the one definition of the order.
    /// Plain loops and a method per kind, so that storing a draw costs about what writing
    /// its values does.
    #[inline(always)]
    pub fn visit(&self, v: &mut impl LayoutVisitor) {
        let m = self.model;
        for c in 0..m.p {
            v.fixef(c);
        }
        if self.ranef {
            for (term, t) in m.terms.iter().enumerate() {
                for group in 0..t.m {
                    for k in 0..t.q {
                        v.ranef(term, group, k);
                    }
                }
            }
        }
        if self.extra.is_some() {
            v.extra();
        }
        for (term, t) in m.terms.iter().enumerate() {
            for col in 0..t.q {
                for row in col..t.q {
                    v.cov(term, row, col);
                }
            }
        }
    }

    /// Calls `f` with each value in order.
    pub fn for_each(&self, f: impl FnMut(Param)) {
        struct Each<F>(F);
        impl<F: FnMut(Param)> LayoutVisitor for Each<F> {
            fn fixef(&mut self, c: usize) {
                (self.0)(Param::Fixef(c))
            }
            fn ranef(&mut self, term: usize, group: usize, k: usize) {
                (self.0)(Param::Ranef { term, group, k })
            }
            fn extra(&mut self) {
                (self.0)(Param::Extra)
            }
            fn cov(&mut self, term: usize, row: usize, col: usize) {
                (self.0)(Param::Cov { term, row, col })
            }
        }
        self.visit(&mut Each(f));
    }

    /// The values in order (see `for_each`).
    pub fn iter(&self) -> impl Iterator<Item = Param> {
        let mut all = Vec::with_capacity(self.len());
        self.for_each(|p| all.push(p));
        all.into_iter()
    }

    /// Checks the caller's names of the values (rstanarm's: `(Intercept)`, `b[(Intercept)
    /// g:1]`, `sigma`, `Sigma[g:(Intercept),(Intercept)]`): one per value, each of its
    /// value's kind. A group effect's starts with `b[`, a covariance entry's with `Sigma[`,
    /// the extra parameter's is the family's name for it, and a fixed effect's starts with
    /// neither. (A fixed effect may share the extra parameter's name: a predictor named
    /// `sigma` in a gaussian model.) A mismatch is an [`Error::Internal`].
    pub fn check_names<'n>(&self, names: impl ExactSizeIterator<Item = &'n str>) -> Result<(), Error> {
        if names.len() != self.len() {
            return Err(Error::Internal("'par_names' must name every kept parameter".into()));
        }
        for (i, (par, name)) in self.iter().zip(names).enumerate() {
            let (ok, what) = match par {
                Param::Fixef(_) => (!name.starts_with("b[") && !name.starts_with("Sigma["), "a fixed effect"),
                Param::Ranef { .. } => (name.starts_with("b["), "a group effect"),
                Param::Extra => (Some(name) == self.extra, "the family's extra parameter"),
                Param::Cov { .. } => (name.starts_with("Sigma["), "a covariance entry"),
            };
            if !ok {
                return Err(Error::Internal(format!("'par_names'[{}] is '{name}', not the name of {what}", i + 1)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CovPrior, ModelSpec, TermSpec};

    /// Gaussian, two fixed effects, (1 + x | g) with 2 groups.
    fn model() -> Model {
        let n = 4;
        let x: Vec<f64> = vec![1.0, 1.0, 1.0, 1.0, 0.1, 0.5, -0.3, 0.2];
        Model::new(ModelSpec {
            family: "gaussian".into(),
            link: String::new(),
            y: vec![1.0, 2.0, 0.5, 1.5].into(),
            trials: vec![].into(),
            offset: vec![].into(),
            x: x.clone().into(),
            p: 2,
            terms: vec![TermSpec {
                n_groups: 2,
                group: vec![0, 1, 0, 1],
                z: x.into(),
                mean_col: vec![Some(0), Some(1)],
                shadow_col: vec![],
                cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0, 1.0] },
            }],
            fixef_mean: vec![0.0; 2],
            fixef_sd: vec![1.0; 2],
            sigma_df: 1.0,
            sigma_scale: 1.0,
            aux_rate: 1.0,
        })
        .inspect(|m| assert_eq!(m.n, n))
        .unwrap()
    }

    #[test]
    fn the_layout_lists_every_value_once_in_order() {
        let m = model();
        let all: Vec<Param> = m.layout(true).iter().collect();
        assert_eq!(all.len(), m.n_params());
        assert_eq!(all.len(), 2 + 4 + 1 + 3);
        assert_eq!(all[..3], [Param::Fixef(0), Param::Fixef(1), Param::Ranef { term: 0, group: 0, k: 0 }]);
        assert_eq!(all[5], Param::Ranef { term: 0, group: 1, k: 1 });
        assert_eq!(all[6..], [Param::Extra, Param::Cov { term: 0, row: 0, col: 0 }, Param::Cov { term: 0, row: 1, col: 0 }, Param::Cov { term: 0, row: 1, col: 1 }]);
        let lean: Vec<Param> = m.layout(false).iter().collect();
        assert_eq!(lean.len(), m.n_kept_params(false));
        assert_eq!(lean, [&all[..2], &all[6..]].concat());
    }

    #[test]
    fn names_must_match_their_kinds() {
        let m = model();
        let names = [
            "(Intercept)",
            "x",
            "b[(Intercept) g:1]",
            "b[x g:1]",
            "b[(Intercept) g:2]",
            "b[x g:2]",
            "sigma",
            "Sigma[g:(Intercept),(Intercept)]",
            "Sigma[g:x,(Intercept)]",
            "Sigma[g:x,x]",
        ];
        let layout = m.layout(true);
        assert_eq!(layout.check_names(names.iter().copied()), Ok(()));
        // a predictor named sigma is a fixed effect
        let mut sigma_fixef = names;
        sigma_fixef[1] = "sigma";
        assert_eq!(layout.check_names(sigma_fixef.iter().copied()), Ok(()));
        assert!(layout.check_names(names[1..].iter().copied()).unwrap_err().to_string().contains("every kept parameter"));
        // sigma where Sigma's first entry belongs, and the group effects out of place
        let mut swapped = names;
        swapped.swap(6, 7);
        let e = layout.check_names(swapped.iter().copied()).unwrap_err();
        assert!(matches!(e, Error::Internal(_)) && e.to_string().contains("'par_names'[7] is 'Sigma["), "{e}");
        let mut shifted = names;
        shifted[1..6].rotate_left(1);
        assert!(layout.check_names(shifted.iter().copied()).is_err());
        let lean: Vec<&str> = names[..2].iter().chain(&names[6..]).copied().collect();
        assert_eq!(m.layout(false).check_names(lean.iter().copied()), Ok(()));
    }
}
