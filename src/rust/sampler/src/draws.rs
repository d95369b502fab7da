//! Where the chains put their kept draws. All chains share one buffer laid out as R's array
//! `[iteration, chain, parameter]`, so that the R package allocates that array once and the
//! chains fill it from their threads: the draws are never copied (before, a Vec per chain,
//! an R matrix per chain and the R array made three copies at the peak).

/// The kept draws of `chains` chains, column-major: draw i of chain c, parameter p, at
/// `i + n_kept * (c + chains * p)`.
#[derive(Debug)]
pub struct DrawBuffer<'a> {
    values: &'a mut [f64],
    n_kept: usize,
    chains: usize,
    npar: usize,
}

impl<'a> DrawBuffer<'a> {
    /// Wraps `values`, which must hold exactly `n_kept * chains * npar` numbers.
    pub fn new(values: &'a mut [f64], n_kept: usize, chains: usize, npar: usize) -> Result<Self, crate::error::Error> {
        let len = n_kept.checked_mul(chains).and_then(|v| v.checked_mul(npar));
        if len != Some(values.len()) {
            return Err(crate::error::Error::Internal("the draws buffer does not match the number of draws".into()));
        }
        Ok(DrawBuffer { values, n_kept, chains, npar })
    }

    /// (n_kept, chains, npar).
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.n_kept, self.chains, self.npar)
    }

    /// One writer per chain, chain 0 first. Chain c's draws of parameter p are the run of
    /// `n_kept` numbers starting at `n_kept * (c + chains * p)`, so cutting the buffer into
    /// such runs gives every chain its own slices: the writers cannot overlap, and this
    /// needs no unsafe code (two fat pointers per parameter and chain, against n_kept
    /// numbers).
    pub fn split(self) -> Vec<ChainDraws<'a>> {
        let (n_kept, chains, npar) = self.shape();
        let mut writers: Vec<ChainDraws<'a>> =
            (0..chains).map(|_| ChainDraws { runs: Vec::with_capacity(npar), n_kept }).collect();
        if n_kept == 0 {
            writers.iter_mut().for_each(|w| w.runs.resize_with(npar, Default::default));
        } else if chains > 0 {
            for column in self.values.chunks_exact_mut(n_kept * chains) {
                for (w, run) in writers.iter_mut().zip(column.chunks_exact_mut(n_kept)) {
                    w.runs.push(run);
                }
            }
        }
        writers
    }
}

/// The draws of one chain, a part of a [`DrawBuffer`]: what a chain's thread writes to.
#[derive(Debug)]
pub struct ChainDraws<'a> {
    /// runs[p][i]: kept draw i of parameter p.
    runs: Vec<&'a mut [f64]>,
    n_kept: usize,
}

impl ChainDraws<'_> {
    /// Stores `v` as kept draw `i` of parameter `p`; panics if either is out of range.
    pub fn set(&mut self, i: usize, p: usize, v: f64) {
        self.runs[p][i] = v;
    }

    pub fn n_kept(&self) -> usize {
        self.n_kept
    }

    pub fn n_params(&self) -> usize {
        self.runs.len()
    }
}

/// Draws of all chains in a Vec of their own, laid out as in [`DrawBuffer`]: for Rust
/// callers and tests (the R package writes into an R array instead).
#[derive(Clone, Debug, PartialEq)]
pub struct Draws {
    pub values: Vec<f64>,
    pub n_kept: usize,
    pub chains: usize,
    pub npar: usize,
}

impl Draws {
    pub fn zeros(n_kept: usize, chains: usize, npar: usize) -> Self {
        Draws { values: vec![0.0; n_kept * chains * npar], n_kept, chains, npar }
    }

    pub fn buffer(&mut self) -> DrawBuffer<'_> {
        DrawBuffer { values: &mut self.values, n_kept: self.n_kept, chains: self.chains, npar: self.npar }
    }

    /// Kept draw i of chain c, parameter p.
    pub fn get(&self, i: usize, c: usize, p: usize) -> f64 {
        assert!(i < self.n_kept && c < self.chains && p < self.npar);
        self.values[i + self.n_kept * (c + self.chains * p)]
    }

    /// The draws of parameter p, all chains, chain 0's first.
    pub fn param(&self, p: usize) -> &[f64] {
        let run = self.n_kept * self.chains;
        &self.values[p * run..(p + 1) * run]
    }

    /// Chain c's draws as an n_kept x npar column-major matrix (a copy).
    pub fn chain(&self, c: usize) -> Vec<f64> {
        (0..self.npar).flat_map(|p| (0..self.n_kept).map(move |i| (i, p))).map(|(i, p)| self.get(i, c, p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_chain_writes_its_own_slots() {
        let (n_kept, chains, npar) = (3, 2, 4);
        let mut d = Draws::zeros(n_kept, chains, npar);
        for (c, mut w) in d.buffer().split().into_iter().enumerate() {
            assert_eq!((w.n_kept(), w.n_params()), (n_kept, npar));
            for i in 0..n_kept {
                for p in 0..npar {
                    w.set(i, p, (100 * c + 10 * p + i) as f64);
                }
            }
        }
        // R's a[i, c, p]: i fastest, then the chain, then the parameter
        for (k, v) in d.values.iter().enumerate() {
            let (i, c, p) = (k % n_kept, (k / n_kept) % chains, k / (n_kept * chains));
            assert_eq!(*v, (100 * c + 10 * p + i) as f64, "slot {k}");
        }
        assert_eq!(d.chain(1)[n_kept + 2], 112.0);
        assert_eq!(d.param(1), &[10.0, 11.0, 12.0, 110.0, 111.0, 112.0]);
    }

    #[test]
    fn shapes_are_checked() {
        let mut v = vec![0.0; 5];
        assert!(DrawBuffer::new(&mut v, 2, 1, 3).is_err());
        assert!(DrawBuffer::new(&mut v, usize::MAX, 2, 1).is_err());
        let w = DrawBuffer::new(&mut v, 5, 1, 1).unwrap().split();
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut w = w;
            w[0].set(5, 0, 1.0)
        }))
        .is_err());
        // no draws kept: empty writers, no panic
        let w = DrawBuffer::new(&mut [], 0, 2, 3).unwrap().split();
        assert_eq!((w.len(), w[1].n_params()), (2, 3));
    }
}
