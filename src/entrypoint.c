// Registers the Rust routines with R (extendr).
void R_init_bglmm_extendr(void *dll);

void R_init_bglmm(void *dll) {
    R_init_bglmm_extendr(dll);
}
