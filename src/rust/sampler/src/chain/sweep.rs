//! One sweep of the sampler: the order of its steps, and each step's use of the chain state.

use super::adapt::{adapt_extra_step, adapt_log_scale, adapt_move_step, group_work_len, StepSize, MANY_GROUPS};
use super::state::{two_mut, Chain, TermState};
use crate::error::Error;
use crate::family::Family;
use crate::model::Source;
use crate::rows::{GroupBlock, Rows};
use crate::steps::block::{gibbs_block, mh_block};
use crate::steps::extra::ExtraData;
use crate::steps::expansion::{gibbs_scale_component, gibbs_shear_component, scale_component, scale_nested, shear_component, TermData};
use crate::steps::gibbs::gibbs_group;
use crate::steps::group::{metric_chol, mh_begin, mh_finish};
use crate::steps::hyper::{draw_hw, draw_sigma, draw_theta};
use crate::steps::translate::{self, FixefAt};
use crate::steps::{GroupPrior, Likelihood, Proposal};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

/// Terms with fewer rows update their groups on one thread: a sweep over them is too short
/// to gain from splitting.
const PARALLEL_MIN_ROWS: usize = 5000;

/// Ordered pairs (k, l), k != l, of a term's components: the shear moves.
fn pairs(q: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..q).flat_map(move |k| (0..q).filter(move |&l| l != k).map(move |l| (k, l)))
}

/// An ordered pair (k, l), k != l, uniformly at random.
fn random_pair<R: Rng>(rng: &mut R, q: usize) -> (usize, usize) {
    let k = rng.gen_range(0..q);
    let l = rng.gen_range(0..q - 1);
    (k, l + usize::from(l >= k))
}

impl<F: Family + Copy> Chain<'_, F> {
    /// One full sweep. `adapt` is Some(gain) during warmup.
    pub fn sweep(&mut self, adapt: Option<f64>) -> Result<(), Error> {
        let m = self.model;
        let fam = self.fam;
        let y_sim = self.y_sim.take();
        let y: &[f64] = y_sim.as_deref().unwrap_or(&m.y);
        let lik = Likelihood { fam: &fam, y, trials: m.trials() };
        self.n_sweeps += 1;
        let aux = self.n_sweeps % self.aux_every == 0;
        // Fixed effects jointly, non-centred: interweaves with the centred theta step below,
        // and is the only update of fixed effects not centred in a term (every sweep then).
        if m.p > 0 && (aux || !m.alpha_cols.is_empty()) {
            self.fixef_step(lik, adapt);
        }
        self.translate_shadows();
        self.translate_group_level();
        self.translate_nested();
        self.scale_nested(adapt);
        for ti in 0..m.terms.len() {
            self.group_steps(lik, ti, adapt);
            self.hyper_steps(ti)?;
            if aux {
                self.expansion_steps(lik, ti, adapt);
            }
        }
        self.extra_step(y, adapt);
        self.y_sim = y_sim;
        // a fold without early exit vectorizes (any() compiles to a branch per row)
        let bad_eta = self.rows.cur.eta.iter().fold(false, |bad, e| bad | !e.is_finite());
        if !self.extra.is_finite() || bad_eta {
            return Err(Error::NonFinite);
        }
        Ok(())
    }

    /// The family's extra parameter (`Family::draw_extra`); the family follows it, and in
    /// warmup the step size adapts to the sweep's acceptance.
    fn extra_step(&mut self, y: &[f64], adapt: Option<f64>) {
        let (m, fam) = (self.model, self.fam);
        let st = &mut self.extra_state;
        st.begin_sweep();
        let d = ExtraData { y, trials: m.trials(), rows: &mut self.rows };
        self.extra = fam.draw_extra(&mut self.rng, d, &m.extra_prior, st, self.extra);
        self.fam = fam.with_extra(self.extra);
        if let (Some(g), Some(p)) = (adapt, st.sweep_acceptance()) {
            adapt_extra_step(&mut st.log_step, g, p);
        }
    }

    /// All fixed effects as one block (Gibbs or Langevin Metropolis).
    fn fixef_step(&mut self, lik: Likelihood<F>, adapt: Option<f64>) {
        for c in 0..self.model.p {
            self.f_old[c] = self.fixef_value(c);
        }
        self.f_new.copy_from_slice(&self.f_old);
        let a = self.fixef_block();
        if self.fam.all_gibbs() {
            let d = self.gauss(lik.y);
            gibbs_block(&mut self.rng, a, d, &mut self.rows.cur.eta, &mut self.f_new, &mut self.work);
        } else {
            let proposal = Proposal { chol: &self.fix_chol, scale: self.fix_log_scale.exp() };
            let mv = mh_block(&mut self.rng, lik, a, &mut self.rows, &mut self.f_new, proposal, &mut self.work);
            self.fix_accepted += usize::from(mv.accepted);
            self.fix_tried += 1;
            if let Some(g) = adapt {
                adapt_log_scale(&mut self.fix_log_scale, g, mv.prob());
            }
        }
        self.shift_fixef();
    }

    /// Every group's coefficients of term `ti`. Metropolis steps draw from a stream of their
    /// own (seeded from the chain's stream and the group), so the draws are the same whether
    /// the groups run one after another or in parallel.
    fn group_steps(&mut self, lik: Likelihood<F>, ti: usize, adapt: Option<f64>) {
        let model = self.model;
        let t = &model.terms[ti];
        let q = t.q;
        if self.fam.all_gibbs() {
            let d = self.gauss(lik.y);
            let s = &mut self.terms[ti];
            let prior = GroupPrior { mean: &s.coefs.theta, prec: &s.cov.prec };
            for j in 0..t.m {
                let b = &mut s.coefs.beta[j * q..(j + 1) * q];
                gibbs_group(&mut self.rng, d, &mut self.rows.cur.eta, t.group(j), b, prior, &mut self.work);
            }
            return;
        }
        let TermState { coefs, cov, curv, step_sizes: sizes, work, block, accepted, .. } = &mut self.terms[ti];
        let key: u64 = self.rng.gen();
        let prior = GroupPrior { mean: &coefs.theta, prec: &cov.prec };
        let (qq, wl, size) = (q * q, group_work_len(q), *block);
        // each block: the first half of every group's step, the family for all their
        // proposals, the second halves
        type Item<'g> = (usize, ((GroupBlock<'g>, &'g mut [f64]), (&'g mut [StepSize], (&'g [f64], &'g mut [f64]))));
        let step = |(b, ((mut blk, beta), (ls, (cv, wk)))): Item| -> usize {
            let j0 = b * size;
            for k in 0..blk.len() {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(key.wrapping_add((j0 + k) as u64));
                let (metric, w) = wk[k * wl..(k + 1) * wl].split_at_mut(qq);
                metric_chol(&cv[k * qq..(k + 1) * qq], prior.prec, metric);
                mh_begin(&mut rng, &mut blk.group(k), &beta[k * q..(k + 1) * q], prior, Proposal { chol: metric, scale: ls[k].value }, w);
            }
            let (pe, pl, ps) = blk.prop_slots();
            lik.fam.prepare(pe, pl, ps);
            let mut n_acc = 0;
            for k in 0..blk.len() {
                let (metric, w) = wk[k * wl..(k + 1) * wl].split_at_mut(qq);
                let mv = mh_finish(lik, &mut blk.group(k), &mut beta[k * q..(k + 1) * q], prior, metric, w);
                if let Some(gain) = adapt {
                    ls[k].adapt(gain, mv.prob());
                }
                n_acc += usize::from(mv.accepted);
            }
            n_acc
        };
        let Rows { cur, prop } = &mut self.rows;
        let beta = &mut coefs.beta;
        let n_acc: usize = if self.parallel && t.rows.len() >= PARALLEL_MIN_ROWS && t.m > 1 {
            let blocks = cur.par_blocks(prop, t, size).zip(beta.par_chunks_mut(size * q));
            blocks.zip(sizes.par_chunks_mut(size).zip(curv.par_chunks(size * qq).zip(work.par_chunks_mut(size * wl)))).enumerate().map(step).sum()
        } else {
            let blocks = cur.blocks(prop, t, size).zip(beta.chunks_mut(size * q));
            blocks.zip(sizes.chunks_mut(size).zip(curv.chunks(size * qq).zip(work.chunks_mut(size * wl)))).enumerate().map(step).sum()
        };
        *accepted += n_acc;
    }

    /// theta, then Sigma (and the Huang-Wand variances) of term `ti`: the eta contribution
    /// of beta does not change.
    fn hyper_steps(&mut self, ti: usize) -> Result<(), Error> {
        let m = self.model;
        let t = &m.terms[ti];
        let s = &mut self.terms[ti];
        draw_theta(&mut self.rng, &mut s.coefs, &s.cov.prec, &t.mean_col, &m.fixef_mean, &m.fixef_sd, &mut self.work);
        if !draw_sigma(&mut self.rng, &s.coefs, &mut s.cov, &mut self.work) {
            return Err(Error::SingularCovariance);
        }
        draw_hw(&mut self.rng, &mut s.cov);
        Ok(())
    }

    /// Parameter-expansion moves of term `ti`: scalings and shears of (b, Sigma), exact
    /// Gibbs draws in the gaussian model, Metropolis steps otherwise.
    fn expansion_steps(&mut self, lik: Likelihood<F>, ti: usize, adapt: Option<f64>) {
        let t = &self.model.terms[ti];
        let q = t.q;
        if self.fam.all_gibbs() {
            let d = self.gauss(lik.y);
            let s = &mut self.terms[ti];
            let eta = &mut self.rows.cur.eta;
            if s.cov.hw.is_some() {
                for k in 0..q {
                    gibbs_scale_component(&mut self.rng, d, eta, t, k, &mut s.coefs, &mut s.cov);
                }
            }
            for kl in pairs(q) {
                gibbs_shear_component(&mut self.rng, d, eta, t, kl, &mut s.coefs, &mut s.cov);
            }
            return;
        }
        let s = &mut self.terms[ti];
        let mut data = TermData { lik, rows: &mut self.rows, term: t };
        for k in (0..q).cycle().take(s.n_scalings * q) {
            let mv = scale_component(&mut self.rng, &mut data, k, &mut s.coefs, &mut s.cov, s.scale_steps[k].exp());
            if let Some(gm) = adapt {
                adapt_move_step(&mut s.scale_steps[k], gm, mv.prob());
            }
        }
        // every ordered pair for q <= 2; for larger q, q pairs at random: as many passes as
        // the scalings instead of q(q - 1), which mixes better per second (tumor, q = 5)
        let n_shears = if t.m >= MANY_GROUPS { 0 } else if q <= 2 { q * (q - 1) } else { q };
        for r in 0..n_shears {
            let (k, l) = if q <= 2 { (r, 1 - r) } else { random_pair(&mut self.rng, q) };
            let mv = shear_component(&mut self.rng, &mut data, (k, l), &mut s.coefs, &mut s.cov, s.shear_steps[k + l * q].exp());
            if let Some(gm) = adapt {
                adapt_move_step(&mut s.shear_steps[k + l * q], gm, mv.prob());
            }
        }
    }

    /// A fixed effect's prior and current value.
    fn fixef_at(&self, c: usize) -> FixefAt {
        FixefAt { mean: self.model.fixef_mean[c], sd: self.model.fixef_sd[c], value: self.fixef_value(c) }
    }

    /// The shadow translations (`translate::shadow`): fixed effect c + delta, with the
    /// group coefficients centred on it, and deviations b_{t,.,k} - delta for every
    /// non-centred component k whose column equals fixed column c.
    fn translate_shadows(&mut self) {
        let m = self.model;
        for (ti, t) in m.terms.iter().enumerate() {
            for k in 0..t.q {
                let Some(c) = t.shadow_col[k] else { continue };
                let s = &self.terms[ti];
                let delta = translate::shadow(&s.coefs, &s.cov.prec, k, self.fixef_at(c)).draw(&mut self.rng);
                // as the block step's shift: f_new - f_old for every fixed effect
                self.f_new.iter_mut().for_each(|v| *v = 0.0);
                self.f_old.iter_mut().for_each(|v| *v = 0.0);
                self.f_new[c] = delta;
                self.shift_fixef();
                let s = &mut self.terms[ti].coefs;
                s.beta.iter_mut().skip(k).step_by(t.q).for_each(|b| *b -= delta);
            }
        }
    }

    /// The group-level translations (`translate::group_level`): alpha_c + delta, intercept
    /// deviations - delta (w_j - wbar), and the intercept fixed effect - delta wbar.
    fn translate_group_level(&mut self) {
        let m = self.model;
        for (ti, t) in m.terms.iter().enumerate() {
            let q = t.q;
            for gl in &t.group_level {
                let (c, k) = (gl.col, gl.k);
                let Source::Alpha(a) = m.fixef_source[c] else { continue };
                let s = &self.terms[ti];
                // fixef_at(c) holds alpha[a]
                let cond = translate::group_level(&s.coefs, &s.cov.prec, gl, self.fixef_at(c), gl.intercept.map(|c0| self.fixef_at(c0)));
                let delta = cond.draw(&mut self.rng);
                self.alpha[a] += delta;
                let s = &mut self.terms[ti].coefs;
                for (j, &w) in gl.w.iter().enumerate() {
                    s.beta[j * q + k] -= delta * (w - gl.wbar);
                }
                if let Some(c0) = gl.intercept {
                    self.shift_one_fixef(c0, -delta * gl.wbar);
                }
            }
        }
    }

    /// The nested translations (`translate::nested`): outer intercept of group g + delta_g,
    /// intercepts of the inner groups in g - delta_g.
    fn translate_nested(&mut self) {
        let m = self.model;
        for nest in &m.nested {
            let (qi, qo, ki, ko) = (m.terms[nest.inner].q, m.terms[nest.outer].q, nest.k_in, nest.k_out);
            for g in 0..m.terms[nest.outer].m {
                let (so, si) = (&self.terms[nest.outer], &self.terms[nest.inner]);
                let delta = translate::nested(&so.coefs, &so.cov.prec, &si.coefs, &si.cov.prec, nest, g).draw(&mut self.rng);
                self.terms[nest.outer].coefs.beta[g * qo + ko] += delta;
                let si = &mut self.terms[nest.inner].coefs;
                for &j in &nest.children[nest.child_ptr[g]..nest.child_ptr[g + 1]] {
                    si.beta[j * qi + ki] -= delta;
                }
            }
        }
    }

    /// The scaling move of each nested pair's outer intercept against its inner groups
    /// (`scale_nested`): cheap, so every sweep.
    fn scale_nested(&mut self, adapt: Option<f64>) {
        let m = self.model;
        for (ni, nest) in m.nested.iter().enumerate() {
            let (so, si) = two_mut(&mut self.terms, nest.outer, nest.inner);
            let mv = scale_nested(&mut self.rng, nest, &mut so.coefs, &mut so.cov, &mut si.coefs, &si.cov.prec, self.nest_steps[ni].exp());
            if let Some(gm) = adapt {
                adapt_move_step(&mut self.nest_steps[ni], gm, mv.prob());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::adapt::BLOCK_ROWS;
    use super::*;
    use crate::chain::ChainInit;
    use crate::dist::std_normal;
    use crate::family::Poisson;
    use crate::model::Model;
    use crate::spec::{CovPrior, ModelSpec, TermSpec};
    use rand_chacha::ChaCha8Rng;

    /// Group steps in blocks give the draws of one group at a time: nested intercepts
    /// (contiguous rows, groups of 2) and a crossed intercept-and-slope term (gathered rows,
    /// q = 2, groups of 6), with warmup adaptation and after it.
    #[test]
    fn blocks_of_group_steps_do_not_change_the_draws() {
        let (m1, n) = (21, 42);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let b: Vec<f64> = (0..m1).map(|_| 0.5 * std_normal(&mut rng)).collect();
        let y: Vec<f64> = (0..n).map(|i| (1.1 + b[i / 2] + 0.3 * std_normal(&mut rng)).exp().round()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let x: Vec<f64> = (0..n).map(|_| std_normal(&mut rng)).collect();
        let mut z = vec![1.0; n];
        z.extend_from_slice(&x);
        let spec = ModelSpec {
            family: "poisson".into(),
            link: String::new(),
            y: y.into(),
            trials: vec![].into(),
            offset: vec![0.0; n].into(),
            x: vec![1.0; n].into(),
            p: 1,
            terms: vec![
                TermSpec {
                    n_groups: m1,
                    group: (0..n).map(|i| i / 2).collect(),
                    z: vec![1.0; n].into(),
                    mean_col: vec![Some(0)],
                    shadow_col: vec![],
                    cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0] },
                },
                TermSpec {
                    n_groups: 7,
                    group: (0..n).map(|i| i % 7).collect(),
                    z: z.into(),
                    mean_col: vec![None, None],
                    shadow_col: vec![],
                    cov_prior: CovPrior::HuangWand { nu: 2.0, sd_scale: vec![1.0, 1.0] },
                },
            ],
            fixef_mean: vec![0.0],
            fixef_sd: vec![2.5],
            sigma_df: 1.0,
            sigma_scale: 1.0,
            aux_rate: 1.0,
        };
        let model = Model::new(spec).unwrap();
        let init = ChainInit { fixef: vec![1.0], jitter_sd: vec![0.1], extra: 1.0 };
        let new = || Chain::new(Poisson, &model, &init, 4, 0, false).unwrap();
        let (mut a, mut b) = (new(), new());
        assert_eq!((a.terms[0].block, a.terms[1].block), (BLOCK_ROWS / 2, BLOCK_ROWS / 6));
        b.terms.iter_mut().for_each(|t| t.block = 1);
        for it in 0..60 {
            let adapt = (it < 30).then_some(0.1);
            a.sweep(adapt).unwrap();
            b.sweep(adapt).unwrap();
        }
        for (ta, tb) in a.terms.iter().zip(&b.terms) {
            assert!(ta.accepted > 0 && ta.accepted == tb.accepted);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&ta.coefs.beta), bits(&tb.coefs.beta));
            assert_eq!(ta.step_sizes, tb.step_sizes);
        }
        assert_eq!(a.rows.cur.eta, b.rows.cur.eta);
        assert_eq!(a.rows.cur.ll, b.rows.cur.ll);
    }
}
