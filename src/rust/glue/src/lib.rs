//! extendr glue: converts the R wrapper's lists to the sampler's types and back.
//! All checking of user input happens in R; what is checked here are the shapes the R code
//! promises, so that a bug in R becomes an R error, never a crash. A failure reaches R as
//! `list(error = message, error_class = class)` (`failure`).

use bglmm_sampler::{run_chains, ChainConfig, ChainInit, CovPrior, DrawBuffer, ErrorKind, Model, ModelSpec, TermSpec};
use extendr_api::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::os::raw::{c_int, c_void};

extern "C" {
    fn REAL_RO(x: *mut c_void) -> *const f64;
    fn INTEGER_RO(x: *mut c_void) -> *const i32;
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut c_void)>, data: *mut c_void) -> c_int;
    fn R_CheckUserInterrupt();
    fn R_FlushConsole();
}

unsafe extern "C" fn check_interrupt(_: *mut c_void) {
    R_CheckUserInterrupt();
}

/// True if the user pressed Ctrl-C. R_CheckUserInterrupt would long-jump out of Rust;
/// R_ToplevelExec contains the jump and reports it as 0.
fn user_interrupted() -> bool {
    unsafe { R_ToplevelExec(Some(check_interrupt), std::ptr::null_mut()) == 0 }
}

/// The values of a vector of type `rtype`, read in place through R's read-only pointer
/// `data_ro`. Unlike extendr's slices (R's writable pointer), it does not expand an ALTREP
/// wrapper (which R makes when, for example, the row names of a shared matrix are dropped)
/// into a copy.
fn slice_ro<T>(r: &Robj, rtype: Rtype, data_ro: unsafe extern "C" fn(*mut c_void) -> *const T) -> Option<&[T]> {
    if r.rtype() != rtype {
        return None;
    }
    let n = r.len();
    // SAFETY: a vector of n values of type T (checked above), kept alive and protected by `r`
    Some(if n == 0 { &[] } else { unsafe { std::slice::from_raw_parts(data_ro(r.get().cast()), n) } })
}

fn real_ro(r: &Robj) -> Option<&[f64]> {
    slice_ro(r, Rtype::Doubles, REAL_RO)
}

/// An integer vector (or factor) in place.
fn integer_ro(r: &Robj) -> Option<&[i32]> {
    slice_ro(r, Rtype::Integers, INTEGER_RO)
}

type Fields = HashMap<&'static str, Robj>;
type Result<T> = std::result::Result<T, Failure>;

/// Why a call failed: the sampler's error (the glue's own are `Internal`), or R's.
enum Failure {
    Sampler(bglmm_sampler::Error),
    R(Error),
    /// A panic, including the `debug_panic` test hook's.
    Panic,
}

impl From<bglmm_sampler::Error> for Failure {
    fn from(e: bglmm_sampler::Error) -> Self {
        Failure::Sampler(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::R(e)
    }
}

/// A broken promise of the R code (message "internal: `msg`").
fn internal(msg: impl Into<String>) -> Failure {
    Failure::Sampler(bglmm_sampler::Error::Internal(msg.into()))
}

/// The R value of a failure: `list(error = message, error_class = class)`, the class one of
/// "invalid_model", "numerical", "interrupted" and "internal", for R to test instead of the
/// message.
fn failure(e: Failure) -> Robj {
    let (msg, class) = match e {
        Failure::Sampler(e) => {
            let class = match e.kind() {
                ErrorKind::InvalidModel => "invalid_model",
                ErrorKind::Numerical => "numerical",
                ErrorKind::Interrupted => "interrupted",
                ErrorKind::Internal => "internal",
            };
            (e.to_string(), class)
        }
        Failure::R(Error::Other(msg)) => (msg, "internal"),
        Failure::R(e) => (format!("internal error: {e}"), "internal"),
        Failure::Panic => ("internal error in bglmm's sampler (please report it)".to_string(), "internal"),
    };
    list!(error = msg, error_class = class).into()
}

fn fields(l: List) -> Result<Fields> {
    Ok(l.try_into()?)
}

fn field<'a>(f: &'a Fields, name: &str) -> Result<&'a Robj> {
    f.get(name).ok_or_else(|| internal(format!("missing field '{name}'")))
}

fn reals(f: &Fields, name: &str) -> Result<Vec<f64>> {
    field(f, name)?
        .as_real_slice()
        .map(|s| s.to_vec())
        .ok_or_else(|| internal(format!("field '{name}' must be a double vector")))
}

/// A double vector in place (R's memory, no copy), or an integer vector as doubles.
fn values<'a>(f: &'a Fields, name: &str) -> Result<Cow<'a, [f64]>> {
    let r = field(f, name)?;
    if let Some(s) = real_ro(r) {
        return Ok(Cow::Borrowed(s));
    }
    integer_ro(r)
        .map(|s| Cow::Owned(s.iter().map(|&v| f64::from(v)).collect()))
        .ok_or_else(|| internal(format!("field '{name}' must be a numeric vector")))
}

fn real(f: &Fields, name: &str) -> Result<f64> {
    field(f, name)?.as_real().ok_or_else(|| internal(format!("field '{name}' must be a number")))
}

fn count(f: &Fields, name: &str) -> Result<usize> {
    let v = real(f, name)?;
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 {
        Ok(v as usize)
    } else {
        Err(internal(format!("field '{name}' must be a whole number")))
    }
}

fn ints(f: &Fields, name: &str) -> Result<Vec<i32>> {
    field(f, name)?
        .as_integer_slice()
        .map(|s| s.to_vec())
        .ok_or_else(|| internal(format!("field '{name}' must be an integer vector")))
}

fn list_field(f: &Fields, name: &str) -> Result<List> {
    field(f, name)?.as_list().ok_or_else(|| internal(format!("field '{name}' must be a list")))
}

/// 1-based column indices, 0 meaning none.
fn columns(f: &Fields, name: &str) -> Result<Vec<Option<usize>>> {
    Ok(ints(f, name)?.iter().map(|&c| if c > 0 { Some((c - 1) as usize) } else { None }).collect())
}

fn term_fields(t: Robj) -> Result<Fields> {
    fields(t.as_list().ok_or_else(|| internal("a term must be a list"))?)
}

fn term_spec(f: &Fields) -> Result<TermSpec<'_>> {
    let group = integer_ro(field(f, "group")?)
        .ok_or_else(|| internal("field 'group' must be an integer vector"))?;
    if group.iter().any(|&g| g < 1) {
        return Err(internal("group codes must be positive"));
    }
    Ok(TermSpec {
        n_groups: count(f, "n_groups")?,
        group: group.iter().map(|&g| (g - 1) as usize).collect(),
        z: values(f, "z")?,
        mean_col: columns(f, "mean_col")?,
        shadow_col: columns(f, "shadow_col")?,
        cov_prior: match field(f, "cov_type")?.as_str() {
            Some("half_t") => CovPrior::HuangWand { nu: real(f, "cov_df")?, sd_scale: reals(f, "cov_scale")? },
            Some("inv_wishart") => CovPrior::InvWishart { df: real(f, "cov_df")?, scale: reals(f, "cov_scale")? },
            _ => return Err(internal("unknown covariance prior")),
        },
    })
}

fn matrix(values: &[f64], nrow: usize, ncol: usize) -> Result<Robj> {
    let mut r: Robj = values.iter().copied().collect_robj();
    r.set_attrib("dim", [nrow as i32, ncol as i32])?;
    Ok(r)
}

/// Fits the model described by `spec` with the settings in `config`; returns the draws as
/// an array [kept iteration, chain, parameter] and acceptance rates, or `list(error = msg)`.
/// Errors are returned as data, not raised: extendr raises through a panic, whose text would
/// reach the user's console.
/// @keywords internal
#[extendr]
fn bglmm_sample(spec: List, config: List) -> Robj {
    std::panic::set_hook(Box::new(|_| {}));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sample(spec, config)));
    let _ = std::panic::take_hook();
    match out.unwrap_or(Err(Failure::Panic)) {
        Ok(r) => r,
        Err(e) => failure(e),
    }
}

fn sample(spec: List, config: List) -> Result<Robj> {
    // a deliberate panic, for the test that no panic text reaches R (tests/testthat/test-faults.R)
    if config.iter().any(|(name, _)| name == "debug_panic") {
        panic!("deliberate panic for testing");
    }
    // the data are read in place: Model::new keeps its own sorted copy
    let s = fields(spec)?;
    let term_lists = list_field(&s, "terms")?.values().map(term_fields).collect::<Result<Vec<_>>>()?;
    let terms = term_lists.iter().map(term_spec).collect::<Result<Vec<_>>>()?;
    let link = field(&s, "link")?.as_str().ok_or_else(|| internal("field 'link' must be a string"))?;
    let model_spec = ModelSpec {
        family: field(&s, "family")?.as_str().unwrap_or("").to_string(),
        link: link.to_string(),
        y: values(&s, "y")?,
        trials: values(&s, "trials")?,
        offset: values(&s, "offset")?,
        x: values(&s, "x")?,
        p: count(&s, "p")?,
        terms,
        fixef_mean: reals(&s, "fixef_mean")?,
        fixef_sd: reals(&s, "fixef_sd")?,
        sigma_df: real(&s, "sigma_df")?,
        sigma_scale: real(&s, "sigma_scale")?,
        aux_rate: real(&s, "aux_rate")?,
    };
    let model = Model::new(model_spec)?;
    // the chains allocate in their threads' own arenas, which cannot reuse what Model::new
    // freed here (its sort order and converted inputs): give that back first
    release_memory();

    let c = fields(config)?;
    let cfg = ChainConfig {
        iter: count(&c, "iter")?,
        warmup: count(&c, "warmup")?,
        thin: count(&c, "thin")?,
        sweeps: count(&c, "sweeps")?,
        save_ranef: field(&c, "save_ranef")?.as_bool().ok_or_else(|| internal("field 'save_ranef' must be TRUE or FALSE"))?,
        first_chain: count(&c, "first_chain")? as u64,
    };
    let chains = count(&c, "chains")?;
    // the extra parameter's start (sigma, phi or the shape)
    let init = ChainInit { fixef: reals(&c, "init_fixef")?, jitter_sd: reals(&c, "init_jitter")?, extra: real(&c, "init_aux")? };
    let inits = vec![init; chains];
    let seed = count(&c, "seed")? as u64;
    let cores = count(&c, "cores")?;
    let refresh = count(&c, "refresh")?;

    let mut printed = vec![0usize; chains];
    let poll = |progress: &[usize]| -> bool {
        if refresh > 0 {
            for (ch, (&done, last)) in progress.iter().zip(printed.iter_mut()).enumerate() {
                let mark = if done == cfg.iter { done } else { done / refresh * refresh };
                if mark > *last {
                    *last = mark;
                    let phase = if mark <= cfg.warmup { "warmup" } else { "sampling" };
                    rprintln!("Chain {}: iteration {} / {} ({})", cfg.first_chain as usize + ch + 1, mark, cfg.iter, phase);
                }
            }
            unsafe { R_FlushConsole() };
        }
        !user_interrupted()
    };
    // The R array the chains write to from their threads (plain memory: they never call R).
    // `draws` keeps it protected until it is returned, and is not touched while they run.
    // Its dimnames are set here: it reaches R referenced twice (REF(2) in
    // .Internal(inspect())), so dimnames<- in R would copy it.
    cfg.check()?;
    let (n_kept, npar) = (cfg.n_kept(), model.n_kept_params(cfg.save_ranef));
    // each name must be one of the kind of value the chains write there (Model::layout)
    let names = field(&c, "par_names")?;
    let name_strs = names.as_str_iter().ok_or_else(|| internal("'par_names' must name every kept parameter"))?;
    model.layout(cfg.save_ranef).check_names(name_strs)?;
    let dimnames = List::from_names_and_values(["iteration", "chain", "parameter"], [NULL.into(), NULL.into(), names.clone()])?;
    let too_many = || internal("too many draws");
    let dim = [n_kept, chains, npar].iter().map(|&d| i32::try_from(d).map_err(|_| too_many())).collect::<Result<Vec<i32>>>()?;
    let len = n_kept.checked_mul(chains).and_then(|v| v.checked_mul(npar)).ok_or_else(too_many)?;
    let mut draws: Robj = Doubles::new(len).into();
    let values = draws.as_real_slice_mut().ok_or_else(|| internal("draws array"))?;
    let buffer = DrawBuffer::new(values, n_kept, chains, npar)?;
    let outs = run_chains(&model, cfg, &inits, buffer, seed, cores, 100, poll)?;
    draws.set_attrib("dim", dim)?;
    draws.set_attrib("dimnames", dimnames)?;

    let accept_fixef: Vec<f64> = outs.iter().map(|o| o.accept_fixef).collect();
    let nt = model.terms.len();
    let acc_groups: Vec<f64> = (0..nt).flat_map(|t| outs.iter().map(move |o| o.accept_groups[t])).collect();
    Ok(list!(
        draws = draws,
        accept_fixef = accept_fixef,
        accept_groups = matrix(&acc_groups, chains, nt)?
    )
    .into())
}

/// Gives the memory that R and the sampler have freed back to the system (glibc keeps
/// freed blocks below its mmap threshold for reuse, so resident memory would stay at its
/// peak). Returns whether anything was released; a no-op on other C libraries.
/// @keywords internal
#[extendr]
fn bglmm_release_memory() -> bool {
    release_memory()
}

fn release_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> c_int;
        }
        unsafe { malloc_trim(0) != 0 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

fn doubles<'a>(x: &'a Robj, what: &str) -> Result<&'a [f64]> {
    real_ro(x).ok_or_else(|| internal(format!("{what} must be a double matrix")))
}

/// Standard deviation of each column of a double matrix with `nrow` rows, read in place.
/// @keywords internal
#[extendr]
fn bglmm_column_sd(m: Robj, nrow: i32) -> Robj {
    let n = usize::try_from(nrow).unwrap_or(0);
    match doubles(&m, "m") {
        Ok(v) if n > 0 && v.len() % n == 0 => bglmm_sampler::linalg::column_sd(v, n).into_iter().collect_robj(),
        _ => failure(internal("column_sd needs a double matrix")),
    }
}

/// Whether column `j` of `x` and column `k` of `z` (1-based; both with `nrow` rows) are
/// equal to rounding (1e-10 relative), compared in place.
/// @keywords internal
#[extendr]
fn bglmm_same_column(x: Robj, j: i32, z: Robj, k: i32, nrow: i32) -> bool {
    let n = usize::try_from(nrow).unwrap_or(0);
    match (column(&x, j, n), column(&z, k, n)) {
        (Some(a), Some(b)) => bglmm_sampler::linalg::columns_equal(a, b, 1e-10),
        _ => false,
    }
}

/// Column `c` (1-based) of a double matrix with `n` rows, in place.
fn column(m: &Robj, c: i32, n: usize) -> Option<&[f64]> {
    let c = usize::try_from(c).ok()?.checked_sub(1)?;
    real_ro(m)?.get(c * n..(c + 1) * n)
}

extendr_module! {
    mod bglmm;
    fn bglmm_sample;
    fn bglmm_release_memory;
    fn bglmm_column_sd;
    fn bglmm_same_column;
}
