//! Storing a kept draw: the chain's value of each parameter of the model's layout.

use super::state::Chain;
use crate::draws::ChainDraws;
use crate::family::Family;
use crate::layout::Param;

impl<F: Family + Copy> Chain<'_, F> {
    /// The current value of `par`.
    fn value(&self, par: Param) -> f64 {
        match par {
            Param::Fixef(c) => self.fixef_value(c),
            Param::Ranef { term, group, k } => {
                let c = &self.terms[term].coefs;
                c.beta[group * c.q() + k] - c.theta[k]
            }
            Param::Extra => self.fam.extra_value(self.extra),
            Param::Cov { term, row, col } => {
                let s = &self.terms[term].cov;
                s.sigma[row + col * s.q]
            }
        }
    }

    /// Writes the current state as kept draw `k` in the order of `Model::layout`; the group
    /// coefficients only if `ranef`.
    pub fn store(&self, draws: &mut ChainDraws, k: usize, ranef: bool) {
        for (col, par) in self.model.layout(ranef).iter().enumerate() {
            draws.set(k, col, self.value(par));
        }
    }
}
