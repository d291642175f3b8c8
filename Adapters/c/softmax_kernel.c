/* An example native kernel for `softmax-audit native`: the standard algorithms in double and float.
 *
 *     cc -O2 -shared -fPIC -o libsoftmax_kernel.so Adapters/c/softmax_kernel.c -lm
 *     softmax-audit native --library ./libsoftmax_kernel.so --name example-c
 *
 * One symbol per function and format (softmax_audit_<function>[_<format>]); each returns 0 when it
 * has answered, anything else for "unsupported". In float the values arrive as doubles that are
 * floats, and the answers must be floats too. */
#include <math.h>
#include <stddef.h>

/* exp(x - max) / sum, by division. */
int softmax_audit_softmax(const double *x, size_t n, double *out) {
    double m = -INFINITY, s = 0;
    for (size_t i = 0; i < n; i++) if (x[i] > m) m = x[i];
    for (size_t i = 0; i < n; i++) { out[i] = exp(x[i] - m); s += out[i]; }
    for (size_t i = 0; i < n; i++) out[i] /= s;
    return 0;
}

int softmax_audit_softmax_float(const double *x, size_t n, double *out) {
    float m = -INFINITY, s = 0;
    for (size_t i = 0; i < n; i++) if ((float)x[i] > m) m = (float)x[i];
    for (size_t i = 0; i < n; i++) { float e = expf((float)x[i] - m); out[i] = e; s += e; }
    for (size_t i = 0; i < n; i++) out[i] = (float)out[i] / s;
    return 0;
}

/* max + log1p(sum of the others' exp(x - max)) (Blanchard, Higham and Higham's Algorithm 4.1). */
static double shifted_sum(const double *x, size_t n, double *m, size_t *k) {
    *m = x[0];
    *k = 0;
    for (size_t i = 1; i < n; i++) if (x[i] > *m) { *m = x[i]; *k = i; }
    double s = 0;
    for (size_t i = 0; i < n; i++) if (i != *k) s += exp(x[i] - *m);
    return s;
}

int softmax_audit_logsumexp(const double *x, size_t n, double *out) {
    double m;
    size_t k;
    double s = shifted_sum(x, n, &m, &k);
    if (isinf(m)) { out[0] = m; return 0; }
    out[0] = m + log1p(s);
    return 0;
}

int softmax_audit_log_softmax(const double *x, size_t n, double *out) {
    double m;
    size_t k;
    double l = log1p(shifted_sum(x, n, &m, &k));
    for (size_t i = 0; i < n; i++) out[i] = (x[i] - m) - l;
    return 0;
}

/* (max - x_t) + log1p(s): two non-negative terms. */
int softmax_audit_cross_entropy(const double *x, size_t n, size_t label, double *out) {
    double m;
    size_t k;
    double s = shifted_sum(x, n, &m, &k);
    out[0] = (m - x[label]) + log1p(s);
    return 0;
}

/* p - onehot(t), with p_t - 1 formed as -(the others' sum) / sum. */
int softmax_audit_cross_entropy_gradient(const double *x, size_t n, size_t label, double *out) {
    double m = -INFINITY, s = 0, others = 0;
    for (size_t i = 0; i < n; i++) if (x[i] > m) m = x[i];
    for (size_t i = 0; i < n; i++) {
        out[i] = exp(x[i] - m);
        s += out[i];
        if (i != label) others += out[i];
    }
    for (size_t i = 0; i < n; i++) out[i] /= s;
    out[label] = -others / s;
    return 0;
}

/* 1/(1 + exp(-x)) for x >= 0, exp(x)/(1 + exp(x)) below. */
int softmax_audit_sigmoid(const double *x, size_t n, double *out) {
    for (size_t i = 0; i < n; i++) {
        double t = exp(-fabs(x[i]));
        out[i] = x[i] >= 0 ? 1 / (1 + t) : t / (1 + t);
    }
    return 0;
}

/* -log1p(exp(-x)) for x >= 0, x - log1p(exp(x)) below. */
int softmax_audit_log_sigmoid(const double *x, size_t n, double *out) {
    for (size_t i = 0; i < n; i++) {
        double t = exp(-fabs(x[i]));
        out[i] = x[i] >= 0 ? -log1p(t) : x[i] - log1p(t);
    }
    return 0;
}
