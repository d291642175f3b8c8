#ifndef SOFTMAX_AUDIT_CMPFR_SHIM_H
#define SOFTMAX_AUDIT_CMPFR_SHIM_H

// MPFR's public header. Several of its entry points are function-like macros that Swift cannot
// call; the inline functions below give the few we need a real symbol.
#include <stdio.h>
#include <mpfr.h>

// mpfr_get_exp is a function, but MPFR_EXP (the raw exponent, valid for regular numbers only) is a
// macro; this one reads the exponent of a regular (non-zero, finite) value without a flag check.
static inline long cmpfr_exponent(mpfr_srcptr x) { return (long)mpfr_get_exp(x); }

// mpfr_sgn is a macro in mpfr.h (it reads the sign and the zero/NaN flags in place).
static inline int cmpfr_sign(mpfr_srcptr x) { return mpfr_sgn(x); }

// mpfr_get_prec is declared as a function but redefined as a macro under some builds.
static inline long cmpfr_precision(mpfr_srcptr x) { return (long)mpfr_get_prec(x); }

// MPFR's exponent-range limits are macros (MPFR_EMIN_MIN / MPFR_EMAX_MAX) over a build setting.
static inline long cmpfr_emin_min(void) { return (long)mpfr_get_emin_min(); }
static inline long cmpfr_emax_max(void) { return (long)mpfr_get_emax_max(); }

// GMP's allocator hook is a macro (mp_set_memory_functions -> __gmp_set_memory_functions); the leak
// tests route MPFR's allocations through counting functions with it.
static inline void cmpfr_set_memory_functions(void *(*allocate)(size_t), void *(*reallocate)(void *, size_t, size_t),
                                              void (*release)(void *, size_t)) {
    mp_set_memory_functions(allocate, reallocate, release);
}

#endif
