# bglmm developer tasks.
#
#   make deps     install what is missing (R and Debian r-cran-* packages, cargo)
#   make install  build the Rust crate and install the package (default library, or LIB=dir)
#   make demo     install, then fit the three course models and print their summaries
#   make test     cargo test of the sampler crate, then R CMD check (runs the testthat tests)
#   make check    R CMD check only
#   make bench    install (and rstanarm, MCMCpack), time the sampler, compare it with stan_glmer
#                 and MCMCpack side by side (bench/compare.R, writes bench/RESULTS.md; ~1 h)
#   make validate install, then the large simulation-based calibration: validation/RESULTS.md
#   make clean    remove build outputs
#
# Optional variables: LIB=/path/to/library installs there instead of the default site
# library (and `make demo` then loads the package from it).
# SBC_SIMS (default 500) is the number of simulations per configuration of `make validate`,
# SBC_CORES (default 2) its number of worker processes.
# BENCH_MODELS, BENCH_SAMPLERS, BENCH_ITER, BENCH_CHAINS make `make bench` a quick run that
# prints its table without writing it (see bench/compare.R).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

# cargo from rustup lives in ~/.cargo/bin, which a non-login shell may not have on PATH.
ifeq ($(shell command -v cargo 2>/dev/null),)
  ifneq ($(wildcard $(HOME)/.cargo/bin/cargo),)
    export PATH := $(HOME)/.cargo/bin:$(PATH)
  endif
endif

PKG     := $(shell sed -n 's/^Package: *//p' DESCRIPTION)
VERSION := $(shell sed -n 's/^Version: *//p' DESCRIPTION)
TARBALL := $(PKG)_$(VERSION).tar.gz
CHECKDIR := $(PKG).Rcheck

DEB_PACKAGES := r-base-dev r-cran-lme4 r-cran-nlme r-cran-matrix r-cran-posterior \
  r-cran-bayesplot r-cran-loo r-cran-rstantools r-cran-coda r-cran-testthat r-cran-knitr \
  r-cran-rmarkdown r-cran-roxygen2 r-cran-devtools r-cran-rcmdcheck r-cran-ggplot2 r-cran-processx \
  r-cran-future r-cran-future.apply r-cran-glmmtmb \
  r-cran-emmeans r-cran-broom.mixed r-cran-generics r-cran-insight r-cran-bayestestr \
  r-cran-parameters r-cran-performance \
  pandoc qpdf
BENCH_DEB_PACKAGES := r-cran-rstanarm r-cran-mcmcpack

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

LIB ?=
INSTALL_LIB := $(if $(LIB),-l $(LIB),)
RUN_LIBS := $(if $(LIB),R_LIBS=$(LIB)$${R_LIBS:+:$$R_LIBS},)

SBC_SIMS ?= 500
SBC_CORES ?= 2

.PHONY: help deps install demo test cargo-test check validate build clean bench bench-deps

help:
	@sed -n 's/^#   //p' Makefile

# Shell lines that apt-install those of the Debian packages $(1) that are missing.
define apt_install
missing=""
for p in $(1); do
  s=$$(dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null || true)
  [ "$$s" = "install ok installed" ] || missing="$$missing $$p"
done
if [ -n "$$missing" ]; then
  echo "Installing missing Debian packages:$$missing"
  $(APT_GET) update
  $(APT_GET) install -y --no-install-recommends $$missing
fi
endef

deps:
	@$(call apt_install,$(DEB_PACKAGES))
	if ! command -v cargo >/dev/null 2>&1; then
	  echo "cargo not found (neither on PATH nor in ~/.cargo/bin): installing Debian's cargo."
	  $(APT_GET) update
	  $(APT_GET) install -y --no-install-recommends cargo rustc
	  command -v cargo >/dev/null 2>&1 || { echo "deps: cargo is still missing." >&2; exit 1; }
	  echo "Note: the package needs rustc >= 1.89 (AVX-512 intrinsics; the locked rayon 1.12 needs 1.80); Debian 12's rustc is $$(rustc --version)."
	fi
	echo "deps: R $$(R --version | sed -n '1s/^R version \([^ ]*\).*/\1/p'), $$(cargo --version)"

install: deps
	R CMD INSTALL --preclean $(INSTALL_LIB) .

demo: install
	$(RUN_LIBS) Rscript scripts/demo.R

# Simulation-based calibration, 30 configurations x SBC_SIMS simulations (about 0.1 s of
# one core per simulation); raw ranks are cached in validation/cache/ so a rerun resumes.
validate: install
	$(RUN_LIBS) SBC_SIMS=$(SBC_SIMS) SBC_CORES=$(SBC_CORES) Rscript validation/run.R

cargo-test: deps
	cargo test --release --manifest-path src/rust/Cargo.toml -p bglmm-sampler

test: deps cargo-test check

build: deps
	@rm -f $(TARBALL)
	if compgen -G "vignettes/*.Rmd" >/dev/null; then
	  echo "R CMD build ."; R CMD build .
	else
	  echo "R CMD build --no-build-vignettes ."; R CMD build --no-build-vignettes .
	fi

# R CMD check exits non-zero on ERROR but not on WARNING: read the log for both.
# NOTEs are allowed. The last line printed is "N passed, M failed" for the testthat tests.
check: build
	@rm -rf $(CHECKDIR)
	rc=0
	echo "_R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual $(TARBALL)"
	_R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual $(TARBALL) || rc=$$?
	log=$(CHECKDIR)/00check.log
	out=""
	for f in $(CHECKDIR)/tests/testthat.Rout.fail $(CHECKDIR)/tests/testthat.Rout; do
	  if [ -f "$$f" ]; then out=$$f; break; fi
	done
	if [ -n "$$out" ]; then
	  echo; echo "==== testthat output ($$out) ===="
	  cat "$$out"
	  echo "===="
	fi
	bad=""
	if [ ! -f "$$log" ]; then
	  bad="no check log"
	elif grep -qE '^\* .*(ERROR|WARNING)$$|^Status: .*(ERROR|WARNING)' "$$log"; then
	  bad="$$(grep -E '^Status:' "$$log" || echo 'ERROR or WARNING in the check log')"
	fi
	[ "$$rc" = 0 ] || bad="$${bad:-R CMD check exited with status $$rc}"
	pass=0; fail=0; skip=0
	if [ -n "$$out" ]; then
	  line=$$(grep -E '\[ FAIL [0-9]+ \| WARN [0-9]+ \| SKIP [0-9]+ \| PASS [0-9]+ \]' "$$out" | tail -n 1 || true)
	  if [ -n "$$line" ]; then
	    fail=$$(sed -E 's/.*FAIL ([0-9]+).*/\1/' <<<"$$line")
	    skip=$$(sed -E 's/.*SKIP ([0-9]+).*/\1/' <<<"$$line")
	    pass=$$(sed -E 's/.*PASS ([0-9]+).*/\1/' <<<"$$line")
	  elif [ "$$out" = "$(CHECKDIR)/tests/testthat.Rout.fail" ]; then
	    fail=1
	  fi
	else
	  echo "No testthat output found: the check ran no testthat tests."
	fi
	echo
	if [ -n "$$bad" ]; then echo "R CMD check failed: $$bad"; else echo "R CMD check: no ERROR or WARNING."; fi
	echo "$$pass passed, $$fail failed, $$skip skipped"
	[ -z "$$bad" ]

clean:
	rm -rf src/rust/target src/*.o src/*.so src/*.dll $(PKG).Rcheck $(PKG)_*.tar.gz

# The samplers bench/compare.R compares bglmm with (lme4 is in DEB_PACKAGES).
bench-deps: deps
	@$(call apt_install,$(BENCH_DEB_PACKAGES))

bench: bench-deps install
	$(RUN_LIBS) Rscript -e 'source("bench/models.R"); source("bench/speed.R")'
	$(RUN_LIBS) Rscript bench/compare.R
