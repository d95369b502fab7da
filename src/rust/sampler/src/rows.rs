//! Per-row state of a chain, the access that group updates in parallel have to it, and the
//! loops over a term's rows.
//!
//! Besides the linear predictor, the state caches each row's log-likelihood and score at it
//! (non-gaussian families). A Metropolis step then reads the current values instead of
//! recomputing them and evaluates the family once per row, at the proposal; accepting the
//! proposal copies its values in.

use crate::family::Family;
use crate::model::Term;
use rayon::prelude::*;
use std::marker::PhantomData;
use std::ops::Range;

/// How a term's positions (its rows listed group by group) map to data rows: one to one for
/// the first term, whose groups' rows are contiguous ([`Contiguous`]), through the term's
/// list of rows for the others ([`Gathered`]). A loop over a term's rows is written once,
/// generic in its order, and compiled for each (`by_row_order!`): the contiguous version
/// reads and writes slices, with no row index and no bounds check per row.
pub trait RowOrder: Copy {
    /// The values of `v` at the rows of positions `pos`, in position order.
    fn at(self, v: &[f64], pos: Range<usize>) -> impl Iterator<Item = f64>;
    /// Calls `f` with `v` at the row of each position of `pos` and the next item of `with`.
    fn zip_mut<T>(self, v: &mut [f64], pos: Range<usize>, with: impl Iterator<Item = T>, f: impl FnMut(&mut f64, T));
    /// Makes `src`'s (eta, loglik, score) at positions 0..n those of their rows in `dst`.
    fn take(self, dst: &mut RowState, src: &RowState, n: usize);
}

/// Position p is data row p.
#[derive(Clone, Copy, Debug)]
pub struct Contiguous;

/// Position p is data row `rows[p]`.
#[derive(Clone, Copy, Debug)]
pub struct Gathered<'a>(pub &'a [usize]);

impl RowOrder for Contiguous {
    #[inline(always)]
    fn at(self, v: &[f64], pos: Range<usize>) -> impl Iterator<Item = f64> {
        v[pos].iter().copied()
    }
    #[inline(always)]
    fn zip_mut<T>(self, v: &mut [f64], pos: Range<usize>, with: impl Iterator<Item = T>, mut f: impl FnMut(&mut f64, T)) {
        for (e, x) in v[pos].iter_mut().zip(with) {
            f(e, x);
        }
    }
    #[inline(always)]
    fn take(self, dst: &mut RowState, src: &RowState, n: usize) {
        dst.eta[..n].copy_from_slice(&src.eta[..n]);
        dst.ll[..n].copy_from_slice(&src.ll[..n]);
        dst.sc[..n].copy_from_slice(&src.sc[..n]);
    }
}

impl RowOrder for Gathered<'_> {
    #[inline(always)]
    fn at(self, v: &[f64], pos: Range<usize>) -> impl Iterator<Item = f64> {
        self.0[pos].iter().map(move |&i| v[i])
    }
    #[inline(always)]
    fn zip_mut<T>(self, v: &mut [f64], pos: Range<usize>, with: impl Iterator<Item = T>, mut f: impl FnMut(&mut f64, T)) {
        for (&i, x) in self.0[pos].iter().zip(with) {
            f(&mut v[i], x);
        }
    }
    #[inline(always)]
    fn take(self, dst: &mut RowState, src: &RowState, n: usize) {
        for (pos, &i) in self.0[..n].iter().enumerate() {
            (dst.eta[i], dst.ll[i], dst.sc[i]) = (src.eta[pos], src.ll[pos], src.sc[pos]);
        }
    }
}

/// `$body` with `$o` bound to the [`RowOrder`] of term `$term`: compiled once for each order.
macro_rules! by_row_order {
    ($term:expr, $o:ident => $body:expr) => {
        if $term.contiguous {
            let $o = $crate::rows::Contiguous;
            $body
        } else {
            let $o = $crate::rows::Gathered(&$term.rows);
            $body
        }
    };
}
pub(crate) use by_row_order;

/// A chain's row state and the scratch that proposals are computed in.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    pub cur: RowState,
    pub prop: RowState,
}

impl Rows {
    /// States for `n` rows (see [`RowState::new`]).
    pub fn new(n: usize, cached: bool) -> Self {
        Rows { cur: RowState::new(n, cached), prop: RowState::new(n, cached) }
    }

    /// The log-likelihood and score of every row at the current eta under `fam` (a family
    /// at a proposed value of its extra parameter), into the proposal's slots; returns
    /// their summed log-likelihood. `take_rows` makes them current.
    pub fn evaluate_at<F: Family + ?Sized>(&mut self, fam: &F, y: &[f64], trials: &[f64]) -> f64 {
        let Rows { cur, prop } = self;
        fam.prepare(&cur.eta, &mut prop.ll, &mut prop.sc);
        let mut sum = 0.0;
        for (((&e, &yi), &ti), (l, s)) in cur.eta.iter().zip(y).zip(trials).zip(prop.ll.iter_mut().zip(prop.sc.iter_mut())) {
            (*l, *s) = fam.loglik_score_prepared(yi, ti, e, *l, *s);
            sum += *l;
        }
        sum
    }

    /// Makes the log-likelihood and score computed by `evaluate_at` current (eta is
    /// unchanged).
    pub fn take_rows(&mut self) {
        std::mem::swap(&mut self.cur.ll, &mut self.prop.ll);
        std::mem::swap(&mut self.cur.sc, &mut self.prop.sc);
    }
}

/// eta, log-likelihood and score per row (`ll` and `sc` are empty for gaussian models,
/// whose steps are all Gibbs).
#[derive(Clone, Debug, Default)]
pub struct RowState {
    pub eta: Vec<f64>,
    pub ll: Vec<f64>,
    pub sc: Vec<f64>,
}

impl RowState {
    /// A state for `n` rows; `cached` allocates the log-likelihood and score.
    pub fn new(n: usize, cached: bool) -> Self {
        let c = if cached { n } else { 0 };
        RowState { eta: vec![0.0; n], ll: vec![0.0; c], sc: vec![0.0; c] }
    }

    /// Recomputes the cached log-likelihood and score from eta (after eta or y changed
    /// outside the steps).
    pub fn refresh<F: Family + ?Sized>(&mut self, fam: &F, y: &[f64], trials: &[f64]) {
        if self.ll.is_empty() {
            return;
        }
        fam.prepare(&self.eta, &mut self.ll, &mut self.sc);
        for i in 0..self.eta.len() {
            (self.ll[i], self.sc[i]) = fam.loglik_score_prepared(y[i], trials[i], self.eta[i], self.ll[i], self.sc[i]);
        }
    }

    /// Sum of the cached log-likelihood.
    pub fn loglik(&self) -> f64 {
        self.ll.iter().sum()
    }

    /// Multiplies the cached log-likelihood and score by `f`: the rows of a family whose
    /// row log-likelihood is proportional to its extra parameter (Gamma: the shape;
    /// gaussian with a link: 1/sigma^2), after that parameter changed.
    pub fn scale_cache(&mut self, f: f64) {
        self.ll.iter_mut().chain(self.sc.iter_mut()).for_each(|v| *v *= f);
    }

    /// The rows of one group, with a scratch state of the group's size in `prop`, for a
    /// single (sequential) update.
    #[cfg(test)]
    pub(crate) fn group<'a>(&'a mut self, prop: &'a mut RowState, rows: &'a [usize], z: &'a [f64]) -> GroupRows<'a> {
        GroupRows { rows, z, q: z.len() / rows.len().max(1), start: None, cur: Raw::new(self), prop: Raw::new(prop) }
    }

    /// The groups of `term` in blocks of `size` consecutive groups (the last may be
    /// shorter), each handed out once, in order: see `GroupBlock`.
    pub(crate) fn blocks<'a>(&'a mut self, prop: &'a mut RowState, term: &'a Term, size: usize) -> impl Iterator<Item = GroupBlock<'a>> + 'a {
        let (cur, scratch) = self.split(prop, term);
        let size = size.max(1);
        (0..term.m.div_ceil(size)).map(move |b| GroupBlock::nth(cur, scratch, term, size, b))
    }

    /// As `blocks`, for updates on several threads. The groups of a term built by
    /// `Model::new` partition the rows, so no two of them share a row or a scratch slot (hence
    /// crate-only: a hand-made term could repeat a row).
    pub(crate) fn par_blocks<'a>(&'a mut self, prop: &'a mut RowState, term: &'a Term, size: usize) -> impl IndexedParallelIterator<Item = GroupBlock<'a>> + 'a {
        let (cur, scratch) = self.split(prop, term);
        let size = size.max(1);
        (0..term.m.div_ceil(size)).into_par_iter().map(move |b| GroupBlock::nth(cur, scratch, term, size, b))
    }

    fn split<'a>(&'a mut self, prop: &'a mut RowState, term: &Term) -> (Raw<'a>, Raw<'a>) {
        let n = term.rows.len();
        assert!(self.eta.len() == n && prop.eta.len() == n, "row state and term sizes differ");
        (Raw::new(self), Raw::new(prop))
    }
}

#[inline(always)]
fn group_at<'a>(cur: Raw<'a>, prop: Raw<'a>, term: &'a Term, j: usize) -> GroupRows<'a> {
    let (a, b) = (term.ptr[j], term.ptr[j + 1]);
    let start = term.contiguous.then_some(a);
    GroupRows { rows: &term.rows[a..b], z: &term.z[a * term.q..b * term.q], q: term.q, start, cur, prop: prop.offset(a) }
}

/// Consecutive groups `j0..j1` of a term: one group's rows at a time, or the proposal slots
/// of all of them (positions ptr[j0]..ptr[j1]), so that the family can be evaluated for the
/// whole block at once. Groups of a row or a few cannot fill a vector alone, and one
/// evaluation of the family per group is a chain of dependent operations that the CPU
/// cannot overlap with the next group's.
pub struct GroupBlock<'a> {
    cur: Raw<'a>,
    prop: Raw<'a>,
    term: &'a Term,
    j0: usize,
    j1: usize,
}

impl<'a> GroupBlock<'a> {
    /// Block b of `size` groups (the last may be shorter).
    fn nth(cur: Raw<'a>, prop: Raw<'a>, term: &'a Term, size: usize, b: usize) -> Self {
        let (j0, j1) = (b * size, ((b + 1) * size).min(term.m));
        assert!(j0 <= j1);
        GroupBlock { cur, prop, term, j0, j1 }
    }
    pub fn len(&self) -> usize {
        self.j1 - self.j0
    }
    pub fn is_empty(&self) -> bool {
        self.j1 == self.j0
    }
    /// The block's k-th group (group j0 + k of the term).
    #[inline(always)]
    pub fn group(&mut self, k: usize) -> GroupRows<'_> {
        assert!(k < self.len());
        group_at(self.cur, self.prop, self.term, self.j0 + k)
    }
    /// The proposal's (eta, loglik, score) slots of every group of the block.
    pub fn prop_slots(&mut self) -> (&[f64], &mut [f64], &mut [f64]) {
        let (a, b) = (self.term.ptr[self.j0], self.term.ptr[self.j1]);
        assert!(b <= self.prop.len);
        // SAFETY: positions a..b are the scratch of groups j0..j1, this block's only
        unsafe {
            (
                std::slice::from_raw_parts(self.prop.eta.add(a), b - a),
                std::slice::from_raw_parts_mut(self.prop.ll.add(a), b - a),
                std::slice::from_raw_parts_mut(self.prop.sc.add(a), b - a),
            )
        }
    }
}

/// Raw pointers into a RowState, shared across threads by `RowState::par_blocks`; `len`
/// values from each (every access is checked against it).
#[derive(Clone, Copy)]
struct Raw<'a> {
    eta: *mut f64,
    ll: *mut f64,
    sc: *mut f64,
    len: usize,
    _life: PhantomData<&'a mut RowState>,
}

// Sound because every GroupRows built from a Raw touches only its own group's rows.
unsafe impl Send for Raw<'_> {}
unsafe impl Sync for Raw<'_> {}

impl<'a> Raw<'a> {
    fn new(s: &'a mut RowState) -> Self {
        let len = s.eta.len().min(s.ll.len()).min(s.sc.len());
        Raw { eta: s.eta.as_mut_ptr(), ll: s.ll.as_mut_ptr(), sc: s.sc.as_mut_ptr(), len, _life: PhantomData }
    }
    fn offset(self, a: usize) -> Self {
        assert!(a <= self.len);
        unsafe { Raw { eta: self.eta.add(a), ll: self.ll.add(a), sc: self.sc.add(a), len: self.len - a, _life: PhantomData } }
    }
}

/// One group's rows: the current (eta, loglik, score) of its k-th row and a scratch slot
/// for the proposal at position k.
pub struct GroupRows<'a> {
    rows: &'a [usize],
    z: &'a [f64],
    q: usize,
    /// First row when the rows are `start..start + len` (no gather needed).
    start: Option<usize>,
    cur: Raw<'a>,
    prop: Raw<'a>,
}

impl<'a> GroupRows<'a> {
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// Random-effects design of the k-th row (q values).
    #[inline]
    pub fn z(&self, k: usize) -> &[f64] {
        &self.z[k * self.q..(k + 1) * self.q]
    }
    /// Current (eta, loglik, score) of the k-th row.
    #[inline]
    pub fn get(&self, k: usize) -> (f64, f64, f64) {
        let i = self.rows[k];
        assert!(i < self.cur.len);
        unsafe { (*self.cur.eta.add(i), *self.cur.ll.add(i), *self.cur.sc.add(i)) }
    }
    /// The current (eta, loglik, score) of the group's rows as slices, when its rows are
    /// contiguous.
    #[inline]
    pub fn cur_slices(&self) -> Option<(&[f64], &[f64], &[f64])> {
        let a = self.start?;
        let n = self.rows.len();
        assert!(a + n <= self.cur.len);
        // SAFETY: rows a..a + n are this group's only (see RowState::blocks), in bounds
        unsafe {
            Some((
                std::slice::from_raw_parts(self.cur.eta.add(a), n),
                std::slice::from_raw_parts(self.cur.ll.add(a), n),
                std::slice::from_raw_parts(self.cur.sc.add(a), n),
            ))
        }
    }
    /// The group's data rows as a range, when they are contiguous.
    #[inline]
    pub fn span(&self) -> Option<std::ops::Range<usize>> {
        self.start.map(|a| a..a + self.rows.len())
    }
    /// The group's rows (data row of each position), for the group's lifetime.
    #[inline]
    pub fn rows(&self) -> &'a [usize] {
        self.rows
    }
    /// The group's random-effects design, row-major (q values per position).
    #[inline]
    pub fn z_rows(&self) -> &'a [f64] {
        self.z
    }
    /// Fills the proposal's eta with the current eta plus z_k'delta at every position.
    /// `Q` is the group's q when known at compile time (the dot products unroll), else 0.
    pub fn shift_prop<const Q: usize>(&mut self, delta: &[f64]) {
        let q = if Q == 0 { self.q } else { Q };
        assert!(q == self.q && delta.len() == q && self.z.len() == self.rows.len() * q);
        let shift = |zk: &[f64]| zk.iter().zip(delta).map(|(a, b)| a * b).sum::<f64>();
        let (rows, z, cur) = (self.rows, self.z, self.cur);
        let start = self.start;
        let (eta, _, _) = self.prop_slots_mut();
        if let Some(a) = start {
            assert!(a + eta.len() <= cur.len);
            // SAFETY: rows a..a + n are this group's only (see RowState::blocks), in bounds
            let cur = unsafe { std::slice::from_raw_parts(cur.eta.add(a), eta.len()) };
            for ((e, &c), zk) in eta.iter_mut().zip(cur).zip(z.chunks_exact(q)) {
                *e = c + shift(zk);
            }
        } else {
            for ((e, &i), zk) in eta.iter_mut().zip(rows).zip(z.chunks_exact(q)) {
                assert!(i < cur.len);
                // SAFETY: i < cur.len, and row i belongs to this group only
                *e = unsafe { *cur.eta.add(i) } + shift(zk);
            }
        }
    }
    /// The proposal's (eta, loglik, score) slots, one per position.
    pub fn prop_slots(&mut self) -> (&[f64], &mut [f64], &mut [f64]) {
        let (e, l, s) = self.prop_slots_mut();
        (e, l, s)
    }
    fn prop_slots_mut(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]) {
        let n = self.rows.len();
        assert!(n <= self.prop.len);
        // SAFETY: the group's scratch positions 0..n are its own (see RowState::blocks)
        unsafe {
            (
                std::slice::from_raw_parts_mut(self.prop.eta, n),
                std::slice::from_raw_parts_mut(self.prop.ll, n),
                std::slice::from_raw_parts_mut(self.prop.sc, n),
            )
        }
    }
    /// Makes the stored proposal current.
    pub fn accept(&mut self) {
        assert!(self.rows.len() <= self.prop.len);
        if let Some(a) = self.start {
            let n = self.rows.len();
            assert!(a + n <= self.cur.len);
            // SAFETY: in bounds (asserted); the group's rows and scratch slots are its own
            if n == 1 {
                // one row: three moves, not three calls of memcpy
                unsafe {
                    *self.cur.eta.add(a) = *self.prop.eta;
                    *self.cur.ll.add(a) = *self.prop.ll;
                    *self.cur.sc.add(a) = *self.prop.sc;
                }
                return;
            }
            unsafe {
                std::ptr::copy_nonoverlapping(self.prop.eta, self.cur.eta.add(a), n);
                std::ptr::copy_nonoverlapping(self.prop.ll, self.cur.ll.add(a), n);
                std::ptr::copy_nonoverlapping(self.prop.sc, self.cur.sc.add(a), n);
            }
            return;
        }
        for (k, &i) in self.rows.iter().enumerate() {
            assert!(i < self.cur.len);
            unsafe {
                *self.cur.eta.add(i) = *self.prop.eta.add(k);
                *self.cur.ll.add(i) = *self.prop.ll.add(k);
                *self.cur.sc.add(i) = *self.prop.sc.add(k);
            }
        }
    }
}
