//! Storing a kept draw: the chain's value of each parameter, in the model's layout.

use super::state::Chain;
use crate::draws::ChainDraws;
use crate::family::Family;
use crate::layout::LayoutVisitor;

/// Writes a chain's values as kept draw `k`, column after column.
struct Store<'c, 'a, 'd, 'w, F> {
    chain: &'c Chain<'a, F>,
    draws: &'w mut ChainDraws<'d>,
    k: usize,
    col: usize,
}

impl<F> Store<'_, '_, '_, '_, F> {
    #[inline(always)]
    fn put(&mut self, v: f64) {
        self.draws.set(self.k, self.col, v);
        self.col += 1;
    }
}

impl<F: Family + Copy> LayoutVisitor for Store<'_, '_, '_, '_, F> {
    #[inline(always)]
    fn fixef(&mut self, c: usize) {
        self.put(self.chain.fixef_value(c));
    }
    #[inline(always)]
    fn ranef(&mut self, term: usize, group: usize, k: usize) {
        let c = &self.chain.terms[term].coefs;
        self.put(c.beta[group * c.q() + k] - c.theta[k]);
    }
    #[inline(always)]
    fn extra(&mut self) {
        self.put(self.chain.fam.extra_value(self.chain.extra));
    }
    #[inline(always)]
    fn cov(&mut self, term: usize, row: usize, col: usize) {
        let s = &self.chain.terms[term].cov;
        self.put(s.sigma[row + col * s.q]);
    }
}

impl<F: Family + Copy> Chain<'_, F> {
    /// Writes the current state as kept draw `k` in the order of `Model::layout`; the group
    /// coefficients only if `ranef`.
    pub fn store(&self, draws: &mut ChainDraws, k: usize, ranef: bool) {
        self.model.layout(ranef).visit(&mut Store { chain: self, draws, k, col: 0 });
    }
}
