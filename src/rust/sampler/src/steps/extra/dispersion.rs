//! The negative binomial's reciprocal dispersion phi (the size; Var y = mu + mu^2 / phi).
//!
//! With mu_i fixed, the phi-dependent part of the log-likelihood is
//!   sum_i [lnGamma(y_i + phi) - lnGamma(phi) - y_i ln phi] - sum_i (y_i + phi) ln(1 + mu_i / phi),
//! (the first sum is `CountTable::value`, the second the rows' cached log-likelihood
//! y ln mu - (y + phi) ln1p(mu / phi) less its phi-free part). The first sum depends on y
//! only through its counts: sum_i sum_{k < y_i} ln(1 + k / phi) = sum_k #{i : y_i > k}
//! ln(1 + k / phi), O(max y) per value of phi; where max y is large against the number of
//! distinct counts, one Stirling-series difference per distinct count instead. Each
//! proposal evaluates every row once at the proposed phi (its log-likelihood and score,
//! into the rows' scratch, made current if it is accepted).

use super::{log_scale_step, ExtraData, ExtraState};
use crate::family::Family;
use crate::special::x_ln_x_minus_ln_gamma;
use rand::Rng;

/// Metropolis proposals of phi per sweep (each a pass over the rows). phi's random walk,
/// not its coupling with the other parameters, limited its ESS: on a model like
/// bench/models.R's nb_counts (2 x 1000, 8 seeds) its mean ESS was 219, 393, 540 and 672
/// with 1 to 4 proposals, each about 15% of a sweep's time; min ESS/s over all parameters
/// 479, 695, 764 and 643.
pub const PHI_PROPOSALS: usize = 3;

/// The exceedance table is used while max y is at most this many times the number of
/// distinct positive counts (a distinct count's Stirling difference cost 2.0 to 2.7 times
/// an entry of the table, measured with 50 to 1000 distinct counts) and at most
/// `MAX_EXCEEDANCE` long.
const EXCEEDANCE_PER_DISTINCT: f64 = 2.5;
const MAX_EXCEEDANCE: f64 = 1e7;

/// The response's counts, as the phi-dependent part of sum_i lnGamma(y_i + phi) needs them.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum CountTable {
    /// No response yet (or none positive): the part is 0.
    #[default]
    Empty,
    /// #{i : y_i > k} for k = 1, 2, ..., max y - 1.
    Exceedance(Vec<f64>),
    /// Each positive count and how many rows have it.
    Distinct(Vec<(f64, f64)>),
}

impl CountTable {
    /// The table of the counts y (non-negative whole numbers).
    pub fn new(y: &[f64]) -> Self {
        let mut pos: Vec<f64> = y.iter().copied().filter(|&v| v >= 1.0).collect();
        if pos.is_empty() {
            return CountTable::Empty;
        }
        pos.sort_by(f64::total_cmp);
        let mut distinct: Vec<(f64, f64)> = Vec::new();
        for v in pos {
            match distinct.last_mut() {
                Some((last, c)) if *last == v => *c += 1.0,
                _ => distinct.push((v, 1.0)),
            }
        }
        let max = distinct.last().map_or(0.0, |d| d.0);
        if max > MAX_EXCEEDANCE || max > EXCEEDANCE_PER_DISTINCT * distinct.len() as f64 {
            return CountTable::Distinct(distinct);
        }
        // e[k - 1] = #{i : y_i > k}, from the largest count down
        let mut e = vec![0.0; max as usize - 1];
        let mut above = 0.0;
        let mut next = distinct.len();
        for k in (1..max as usize).rev() {
            while next > 0 && distinct[next - 1].0 > k as f64 {
                next -= 1;
                above += distinct[next].1;
            }
            e[k - 1] = above;
        }
        CountTable::Exceedance(e)
    }

    /// sum_i [lnGamma(y_i + phi) - lnGamma(phi) - y_i ln phi] = sum_i sum_{k < y_i} ln(1 + k/phi).
    pub fn value(&self, phi: f64) -> f64 {
        match self {
            CountTable::Empty => 0.0,
            CountTable::Exceedance(e) => e.iter().enumerate().map(|(k, &c)| c * ((k + 1) as f64 / phi).ln_1p()).sum(),
            CountTable::Distinct(d) => d.iter().map(|&(v, c)| c * ln_rising_over_power(v, phi)).sum(),
        }
    }
}

/// lnGamma(v + phi) - lnGamma(phi) - v ln phi for v >= 0, phi > 0, without the cancellation
/// of the three terms when phi is large: with lnGamma(x) = x ln x - x - s(x) (s: the
/// Stirling remainder `x_ln_x_minus_ln_gamma`) it is (v + phi) ln(1 + v/phi) - v
/// - s(v + phi) + s(phi).
pub fn ln_rising_over_power(v: f64, phi: f64) -> f64 {
    (v + phi) * (v / phi).ln_1p() - v - x_ln_x_minus_ln_gamma(v + phi) + x_ln_x_minus_ln_gamma(phi)
}

/// The step of phi (`PHI_PROPOSALS` log-scale Metropolis proposals with its exponential
/// prior): `fam` is the family at phi, whose `with_extra` gives it at a proposal. Returns
/// the new phi; the rows' cache follows it.
pub fn draw_phi<R: Rng + ?Sized, F: Family + Copy>(rng: &mut R, fam: F, d: ExtraData, rate: f64, st: &mut ExtraState, phi: f64) -> f64 {
    let ExtraData { y, trials, rows } = d;
    let (mut phi, mut ll) = (phi, st.counts.value(phi) + rows.cur.loglik());
    for _ in 0..PHI_PROPOSALS {
        let counts = &st.counts;
        let (mv, p, l) = log_scale_step(rng, st.log_step, rate, phi, ll, |p| counts.value(p) + rows.evaluate_at(&fam.with_extra(p), y, trials));
        st.record(mv);
        if mv.accepted {
            rows.take_rows();
            (phi, ll) = (p, l);
        }
    }
    phi
}

#[cfg(test)]
mod tests {
    use super::super::testing::{quadrature, rows_at};
    use super::*;
    use crate::family::NegBinomial;
    use crate::links::Link;
    use crate::special::ln_gamma;
    use crate::steps::testing::mean_sd;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn direct(y: &[f64], phi: f64) -> f64 {
        y.iter().map(|&v| ln_gamma(v + phi) - ln_gamma(phi) - v * phi.ln()).sum()
    }

    #[test]
    fn count_tables_give_the_log_gamma_sums() {
        let y = [0.0, 3.0, 1.0, 7.0, 3.0, 0.0, 12.0, 2.0];
        let e = CountTable::new(&y);
        assert!(matches!(e, CountTable::Exceedance(ref v) if v.len() == 11 && v[0] == 5.0 && v[10] == 1.0), "{e:?}");
        let mut wide = y.to_vec();
        wide.push(5000.0);
        let w = CountTable::new(&wide);
        assert!(matches!(w, CountTable::Distinct(ref d) if d.len() == 6 && d[1] == (2.0, 1.0) && d[2] == (3.0, 2.0)), "{w:?}");
        for phi in [0.03, 0.7, 4.0, 90.0] {
            let (a, b) = (e.value(phi), direct(&y, phi));
            assert!((a - b).abs() < 1e-11 * b.abs().max(1.0), "{phi}: {a} vs {b}");
            let (a, b) = (w.value(phi), direct(&wide, phi));
            assert!((a - b).abs() < 1e-10 * b.abs().max(1.0), "{phi}: {a} vs {b}");
        }
        // large phi, where the direct form cancels: sum_k c_k ln1p(k/phi) ~ sum_k c_k k / phi
        let phi = 1e9;
        let small = e.value(phi);
        let d = CountTable::Distinct(vec![(1.0, 1.0), (2.0, 1.0), (3.0, 2.0), (7.0, 1.0), (12.0, 1.0)]);
        assert!((d.value(phi) - small).abs() < 1e-12, "{} vs {small}", d.value(phi));
        assert!((small - 94.0 / phi).abs() < 1e-6 * small, "{small}");
        assert_eq!(CountTable::new(&[0.0, 0.0]), CountTable::Empty);
        assert_eq!(CountTable::new(&[1.0, 1.0]).value(0.5), 0.0);
    }

    /// Rows of known mu: the step of phi, iterated, must reproduce phi's exact conditional
    /// (NB likelihood times the exponential prior) computed by quadrature on ln phi. Without
    /// the Jacobian in `log_scale_step` the draws' mean was 3.58 against 4.93.
    #[test]
    fn phi_step_targets_its_conditional() {
        let y = [0.0, 3.0, 1.0, 7.0, 3.0, 0.0, 12.0, 2.0, 5.0, 1.0];
        let eta: [f64; 10] = [0.5, 1.2, 0.1, 1.9, 1.0, -0.3, 2.2, 0.7, 1.4, 0.2];
        let rate = 0.5;
        // log dnbinom(y, size = phi, mu = e^eta) summed, up to terms free of phi
        let ll = |phi: f64| -> f64 {
            y.iter().zip(&eta).map(|(&v, &e)| ln_gamma(v + phi) - ln_gamma(phi) + phi * (phi / (phi + e.exp())).ln() + v * (e.exp() / (phi + e.exp())).ln()).sum()
        };
        let (mean, sd) = quadrature(-6.0, 7.0, |p| ll(p) - rate * p);
        let fam = |p| NegBinomial::new(Link::Log, p);
        let mut phi = 1.0;
        let (mut rows, mut st) = rows_at(&fam(phi), &y, &eta, 0.0);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut draws = Vec::new();
        for it in 0..300_000 {
            st.begin_sweep();
            phi = draw_phi(&mut rng, fam(phi), ExtraData { y: &y, trials: &y, rows: &mut rows }, rate, &mut st, phi);
            if it % 3 == 0 {
                draws.push(phi);
            }
        }
        // the cache follows phi
        let mut fresh = rows.cur.clone();
        fresh.refresh(&fam(phi), &y, &y);
        assert_eq!(fresh.ll, rows.cur.ll);
        assert_eq!(fresh.sc, rows.cur.sc);
        let (m, s) = mean_sd(&draws);
        let se = 4.0 * s / (draws.len() as f64).sqrt();
        assert!((m - mean).abs() < 5.0 * se, "mean {m} vs {mean} (se {se})");
        assert!((s - sd).abs() < 0.03 * sd, "sd {s} vs {sd}");
    }
}
