/* A native kernel that crashes on rows of exactly 7 logits (and answers softmax correctly otherwise):
 * the audit must survive it, restart its child and name the row. For the tests and the README. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

int softmax_audit_softmax(const double *x, size_t n, double *out) {
    if (n == 7) abort();
    double m = -INFINITY, s = 0;
    for (size_t i = 0; i < n; i++) if (x[i] > m) m = x[i];
    for (size_t i = 0; i < n; i++) { out[i] = exp(x[i] - m); s += out[i]; }
    for (size_t i = 0; i < n; i++) out[i] /= s;
    return 0;
}
