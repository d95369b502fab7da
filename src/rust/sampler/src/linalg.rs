//! Small dense linear algebra on column-major slices.
//!
//! The sampler's inner loops work on q x q blocks (q = random coefficients per group, usually
//! 1 to 5). These helpers work in place on caller-owned buffers so that a sweep allocates nothing.

/// Overwrites the lower triangle of the q x q matrix `a` with its Cholesky factor L (A = L L').
/// The strict upper triangle is left as it was. Returns false if `a` is not positive definite.
pub fn chol_in_place(a: &mut [f64], q: usize) -> bool {
    for j in 0..q {
        let mut d = a[j + j * q];
        for k in 0..j {
            d -= a[j + k * q] * a[j + k * q];
        }
        if !(d > 0.0) || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j + j * q] = d;
        for i in (j + 1)..q {
            let mut s = a[i + j * q];
            for k in 0..j {
                s -= a[i + k * q] * a[j + k * q];
            }
            a[i + j * q] = s / d;
        }
    }
    true
}

/// Solves L x = b in place (x overwrites b), L lower triangular from `chol_in_place`.
pub fn solve_lower(l: &[f64], q: usize, b: &mut [f64]) {
    for i in 0..q {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i + k * q] * b[k];
        }
        b[i] = s / l[i + i * q];
    }
}

/// Solves L' x = b in place (x overwrites b).
pub fn solve_lower_t(l: &[f64], q: usize, b: &mut [f64]) {
    for i in (0..q).rev() {
        let mut s = b[i];
        for k in (i + 1)..q {
            s -= l[k + i * q] * b[k];
        }
        b[i] = s / l[i + i * q];
    }
}

/// y = L' x for a lower triangular L.
pub fn lower_t_mul(l: &[f64], q: usize, x: &[f64], y: &mut [f64]) {
    for i in 0..q {
        let mut s = 0.0;
        for k in i..q {
            s += l[k + i * q] * x[k];
        }
        y[i] = s;
    }
}

/// y = A x for a full q x q matrix A.
pub fn mat_vec(a: &[f64], q: usize, x: &[f64], y: &mut [f64]) {
    for i in 0..q {
        let mut s = 0.0;
        for k in 0..q {
            s += a[i + k * q] * x[k];
        }
        y[i] = s;
    }
}

/// v' A v for a full symmetric q x q matrix A.
pub fn quad_form(a: &[f64], q: usize, v: &[f64]) -> f64 {
    let mut s = 0.0;
    for j in 0..q {
        let mut t = 0.0;
        for i in 0..q {
            t += a[i + j * q] * v[i];
        }
        s += t * v[j];
    }
    s
}

/// Dot product.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Sample standard deviation of each column of an n x p column-major matrix, by two passes
/// (the one-pass sum of squares loses digits when the mean is large against the sd); NaN
/// when n < 2. For R's prior scaling, which would otherwise copy each column of big data.
pub fn column_sd(m: &[f64], n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    m.chunks_exact(n)
        .map(|col| {
            let mean = col.iter().sum::<f64>() / n as f64;
            let ss: f64 = col.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n as f64 - 1.0)).sqrt()
        })
        .map(|sd| if n < 2 { f64::NAN } else { sd })
        .collect()
}

/// Whether two columns are equal to rounding: |a - b| <= tol max(1, |a|) everywhere.
pub fn columns_equal(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * x.abs().max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_matrix_and_solves() {
        let a = [4.0, 2.0, 0.6, 2.0, 2.0, 0.5, 0.6, 0.5, 3.0];
        let mut l = a;
        assert!(chol_in_place(&mut l, 3));
        // L L' == A on the lower triangle
        for i in 0..3 {
            for j in 0..=i {
                let s: f64 = (0..=j).map(|k| l[i + k * 3] * l[j + k * 3]).sum();
                assert!((s - a[i + j * 3]).abs() < 1e-12);
            }
        }
        // solve A x = b with the two triangular solves
        let b = [1.0, -2.0, 0.5];
        let mut x = b;
        solve_lower(&l, 3, &mut x);
        solve_lower_t(&l, 3, &mut x);
        let mut ax = [0.0; 3];
        mat_vec(&a, 3, &x, &mut ax);
        for i in 0..3 {
            assert!((ax[i] - b[i]).abs() < 1e-12);
        }
        assert!((quad_form(&a, 3, &x) - dot(&x, &b)).abs() < 1e-12);
        // ||L' x||^2 == x' A x
        let mut lx = [0.0; 3];
        lower_t_mul(&l, 3, &x, &mut lx);
        assert!((dot(&lx, &lx) - quad_form(&a, 3, &x)).abs() < 1e-12);
    }

    #[test]
    fn column_sd_and_equality() {
        // columns 1, 2, 3 and 1e9 + (1, 2, 3): sd 1 for both, which one pass would lose
        let m = [1.0, 2.0, 3.0, 1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0];
        let sd = column_sd(&m, 3);
        assert!((sd[0] - 1.0).abs() < 1e-15 && (sd[1] - 1.0).abs() < 1e-12, "{sd:?}");
        assert!(column_sd(&[4.0], 1)[0].is_nan());
        assert!(columns_equal(&[1.0, 2.0], &[1.0, 2.0 + 1e-12], 1e-10));
        assert!(!columns_equal(&[1.0, 2.0], &[1.0, 2.1], 1e-10));
        assert!(!columns_equal(&[1.0], &[1.0, 2.0], 1e-10));
    }

    #[test]
    fn cholesky_rejects_indefinite() {
        let mut a = [1.0, 2.0, 2.0, 1.0];
        assert!(!chol_in_place(&mut a, 2));
        let mut nan = [f64::NAN];
        assert!(!chol_in_place(&mut nan, 1));
    }
}
