/* An example native kernel for `softmax-audit native`: the standard algorithms in double (and softmax in
 * float), every form of the ABI: a row, a row and a label, a row and a paired vector (KL, binary
 * cross-entropy) and a batch (F.cross_entropy's loss and its gradient).
 *
 *     cc -O2 -shared -fPIC -o libsoftmax_kernel.so Adapters/c/softmax_kernel.c -lm
 *     softmax-audit native --library ./libsoftmax_kernel.so --name example-c
 *
 * One symbol per function and format (softmax_audit_<function>[_<format>]); each returns 0 when it
 * has answered, anything else for "unsupported". In float the values arrive as doubles that are
 * floats, and the answers must be floats too. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

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

/* KL(q || softmax(x)) = sum over q > 0 of q (log q - log-softmax), the log-softmax by log1p. */
int softmax_audit_kl_divergence(const double *x, const double *q, size_t n, double *out) {
    double m;
    size_t k;
    double l = log1p(shifted_sum(x, n, &m, &k)), total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(q[i] > 0)) continue;
        double g = m - x[i];  /* inf when the spread overflows: then q m - q x, whose terms do not (q <= 1) */
        total += isinf(g) && isfinite(x[i]) ? q[i] * m - q[i] * x[i] + q[i] * (log(q[i]) + l)
                                            : q[i] * (log(q[i]) + (g + l));
    }
    out[0] = total;
    return 0;
}

/* Its gradient p sum(q) - q, p the shifted softmax. */
int softmax_audit_kl_divergence_gradient(const double *x, const double *q, size_t n, double *out) {
    double total = 0;
    for (size_t i = 0; i < n; i++) total += q[i];
    softmax_audit_softmax(x, n, out);
    for (size_t i = 0; i < n; i++) out[i] = out[i] * total - q[i];
    return 0;
}

/* softplus(x) = log(1 + exp(x)) and sigma(x), by sign. */
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x) {
    double t = exp(-fabs(x));
    return x >= 0 ? 1 / (1 + t) : t / (1 + t);
}

/* Binary cross-entropy with logits, (1 - y) softplus(x) + w y softplus(-x), per element. */
int softmax_audit_binary_cross_entropy(const double *x, const double *y, size_t n, double w, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = (1 - y[i]) * softplus(x[i]) + w * y[i] * softplus(-x[i]);
    return 0;
}

/* Its gradient (1 - y) sigma(x) - w y sigma(-x). */
int softmax_audit_binary_cross_entropy_gradient(const double *x, const double *y, size_t n, double w, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = (1 - y[i]) * sigmoid(x[i]) - w * y[i] * sigmoid(-x[i]);
    return 0;
}

/* F.cross_entropy's weights for row i: a_c = w_c ((1 - eps) t_c + eps/C), divided by d. */
static void loss_weights(size_t i, size_t classes, const int64_t *labels, const double *targets,
                         const double *weight, double eps, double d, double *a) {
    for (size_t c = 0; c < classes; c++) {
        double t = labels ? (labels[i] == (int64_t)c ? 1 - eps : 0) : (1 - eps) * targets[i * classes + c];
        a[c] = (weight ? weight[c] : 1) * (t + eps / (double)classes) / d;
    }
}

/* The mean's divisor: the label weights of the rows not ignored, or the number of rows. */
static double loss_divisor(size_t rows, const int64_t *labels, const double *weight, int64_t ignore) {
    if (!labels) return (double)rows;
    double d = 0;
    for (size_t i = 0; i < rows; i++) if (labels[i] != ignore) d += weight ? weight[labels[i]] : 1;
    return d;
}

/* The loss: per row sum of a_c ((max - x_c) + log1p(s)), each weight divided by the mean's divisor first
 * (no term overflows where the result does not); reduction 0 none, 1 sum, 2 mean. Rows of up to 4096
 * classes (unsupported beyond). */
int softmax_audit_cross_entropy_loss(const double *x, size_t rows, size_t classes, const int64_t *labels,
                                     const double *targets, const double *weight, int64_t ignore, double eps,
                                     int reduction, double *out) {
    double a[4096], total = 0;
    if (classes > 4096) return 1;
    double d = reduction == 2 ? loss_divisor(rows, labels, weight, ignore) : 1;
    double scale = d != 0 ? d : 1;
    for (size_t i = 0; i < rows; i++) {
        double row = 0;
        if (!(labels && labels[i] == ignore)) {
            const double *r = x + i * classes;
            double m;
            size_t k;
            double l = log1p(shifted_sum(r, classes, &m, &k));
            loss_weights(i, classes, labels, targets, weight, eps, scale, a);
            for (size_t c = 0; c < classes; c++) {
                if (a[c] == 0) continue;
                double g = m - r[c];
                row += isinf(g) && isfinite(r[c]) ? a[c] * m - a[c] * r[c] + a[c] * l : a[c] * (g + l);
            }
        }
        if (reduction == 0) out[i] = row; else total += row;
    }
    if (reduction != 0) out[0] = reduction == 2 && d == 0 ? total / d : total;
    return 0;
}

/* Its gradient (p_j sum(a) - a_j) / D per row, each weight divided by D first; ignored rows 0. */
int softmax_audit_cross_entropy_loss_gradient(const double *x, size_t rows, size_t classes, const int64_t *labels,
                                              const double *targets, const double *weight, int64_t ignore,
                                              double eps, int reduction, double *out) {
    double a[4096];
    if (classes > 4096) return 1;
    double d = reduction == 2 ? loss_divisor(rows, labels, weight, ignore) : 1;
    for (size_t i = 0; i < rows; i++) {
        double *g = out + i * classes;
        if (labels && labels[i] == ignore) { for (size_t c = 0; c < classes; c++) g[c] = 0; continue; }
        if (d == 0) { for (size_t c = 0; c < classes; c++) g[c] = NAN; continue; }
        loss_weights(i, classes, labels, targets, weight, eps, d, a);
        double total = 0;
        for (size_t c = 0; c < classes; c++) total += a[c];
        softmax_audit_softmax(x + i * classes, classes, g);
        for (size_t c = 0; c < classes; c++) g[c] = g[c] * total - a[c];
    }
    return 0;
}
