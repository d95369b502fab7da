# Running the sampler: the chains in threads of this session or as futures, their outputs
# combined, and a failed run raised as an R condition of class "bglmm_sampler_error".

# Runs the chains, in threads of this session or as futures: the sampler's output with the
# run's time in seconds (`time`). A failed run is an R error (stop_sampler_error()).
run_sampler <- function(spec, config, future) {
  start <- Sys.time()
  out <- if (future) sample_with_futures(spec, config) else bglmm_sample(spec, config)
  if (!is.null(out$error)) stop_sampler_error(out)
  out$time <- as.numeric(difftime(Sys.time(), start, units = "secs"))
  out
}

# Raises the error of a failed run, out = list(error = message, error_class = kind), as a
# condition of classes "bglmm_<kind>" and "bglmm_sampler_error". The sampler's kinds are
# "invalid_model", "numerical", "interrupted" (Ctrl-C) and "internal"; "future" is a
# future that failed to run a chain. Code that handles these errors decides on the class.
stop_sampler_error <- function(out) {
  kind <- out$error_class %||% "internal"
  msg <- if (kind == "interrupted") "Sampling was interrupted (Ctrl-C); no draws were kept."
         else paste0("Sampling failed: ", out$error)
  stop(errorCondition(msg, class = c(paste0("bglmm_", kind), "bglmm_sampler_error"), call = NULL))
}

# One future per chain. The seed was drawn in this session and chain k keeps its own random
# stream (first_chain = k - 1), so the draws equal those of the threaded run. The sampler
# uses no random numbers of R: future.seed = NULL neither generates L'Ecuyer streams for
# the futures (which would change this session's RNG state) nor checks the futures for use
# of R's RNG (which loading packages on a worker can trip without affecting the draws).
sample_with_futures <- function(spec, config) {
  outs <- tryCatch(
    future.apply::future_lapply(seq_len(config$chains) - 1, sample_one_chain, spec = spec,
                                config = config, future.seed = NULL, future.chunk.size = 1L,
                                future.packages = "bglmm"),
    error = function(e) {
      stop_sampler_error(list(
        error = paste0("a future running a chain failed (does every worker have bglmm installed?): ",
                       conditionMessage(e)),
        error_class = "future"))
    }
  )
  combine_chains(outs)
}

# Chain k + 1 of a run alone, in one thread and silent, as a worker runs it. A function of
# bglmm's namespace, so a fresh worker loads bglmm to call it.
sample_one_chain <- function(k, spec, config) {
  config[c("chains", "first_chain", "cores", "refresh")] <- list(1, as.numeric(k), 1, 0)
  bglmm_sample(spec, config)
}

# The outputs of one-chain runs as the output of one run of all the chains (the draws are
# copied into one array [iteration, chain, parameter]).
combine_chains <- function(outs) {
  for (o in outs) if (!is.null(o$error)) return(o)
  d <- dimnames(outs[[1L]]$draws)
  draws <- array(NA_real_, c(dim(outs[[1L]]$draws)[1L], length(outs), length(d[[3L]])), dimnames = d)
  for (k in seq_along(outs)) draws[, k, ] <- outs[[k]]$draws
  list(draws = draws,
       accept_fixef = vapply(outs, function(o) o$accept_fixef, 1),
       accept_groups = do.call(rbind, lapply(outs, function(o) o$accept_groups)))
}
