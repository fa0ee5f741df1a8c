/* svg.c: the text buffer and the SVG plots of the report (svg.h).
 *
 * Plain SVG 1.1 with presentation attributes, no scripts: a browser, an
 * image viewer and a text editor all read it. Ticks are "nice" numbers
 * (1, 2, 5 x 10^k), about five per axis.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

static int sb_grow(sl_sb *b, size_t need) {
  if (b->oom) return -1;
  if (b->n + need + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + need + 1) cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) { b->oom = 1; return -1; }
  b->s = s;
  b->cap = cap;
  return 0;
}

void sl_sb_printf(sl_sb *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (k < 0 || sb_grow(b, (size_t)k)) return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)k;
}

void sl_sb_puts(sl_sb *b, const char *s) {
  size_t k = strlen(s);
  if (sb_grow(b, k)) return;
  memcpy(b->s + b->n, s, k + 1);
  b->n += k;
}

void sl_sb_esc(sl_sb *b, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '&': sl_sb_puts(b, "&amp;"); break;
    case '<': sl_sb_puts(b, "&lt;"); break;
    case '>': sl_sb_puts(b, "&gt;"); break;
    case '"': sl_sb_puts(b, "&quot;"); break;
    default:
      if (sb_grow(b, 1)) return;
      b->s[b->n++] = *s;
      b->s[b->n] = 0;
    }
  }
}

void sl_sb_free(sl_sb *b) {
  free(b->s);
  memset(b, 0, sizeof *b);
}

void sl_range(const double *x, int64_t n, double *lo, double *hi) {
  double a = NAN, z = NAN;
  for (int64_t k = 0; k < n; k++) {
    if (!isfinite(x[k])) continue;
    if (!(x[k] >= a)) a = x[k];
    if (!(x[k] <= z)) z = x[k];
  }
  *lo = a;
  *hi = z;
}

double sl_plot_x(const sl_plot *p, double x) {
  return p->ml + (x - p->x0) / (p->x1 - p->x0) * (p->W - p->ml - p->mr);
}
double sl_plot_y(const sl_plot *p, double y) {
  return p->H - p->mb - (y - p->y0) / (p->y1 - p->y0) * (p->H - p->mt - p->mb);
}

/* A tick step of 1, 2 or 5 x 10^k giving about n ticks over span. */
static double nice_step(double span, int n) {
  double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void fix_range(double *a, double *b) {
  if (!isfinite(*a) || !isfinite(*b)) { *a = 0; *b = 1; }
  if (*b - *a < 1e-12 * (fabs(*a) + fabs(*b)) || *b <= *a) {
    double d = fabs(*a) > 0 ? 0.5 * fabs(*a) : 0.5;
    *a -= d;
    *b += d;
  }
}

static void fmt_tick(char *buf, size_t n, double v, double step) {
  if (fabs(v) < 1e-9 * step) v = 0;
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  if (fabs(v) >= 1e5 || (v != 0 && fabs(v) < 1e-4)) snprintf(buf, n, "%.2g", v);
  else snprintf(buf, n, "%.*f", dec, v);
}

void sl_plot_begin(sl_plot *p, sl_sb *b, const char *id, const char *title, int W, int H, double x0,
                   double x1, double y0, double y1, const char *xlabel, const char *ylabel) {
  fix_range(&x0, &x1);
  fix_range(&y0, &y1);
  *p = (sl_plot){b, W, H, 62, 16, 38, 44, x0, x1, y0, y1}; /* top: title, then a legend row */
  sl_sb_printf(b, "<svg class=\"plot\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n<title>", id, W, H, W, H);
  sl_sb_esc(b, title);
  sl_sb_printf(b, "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);
  sl_sb_printf(b, "<text x=\"%d\" y=\"16\" class=\"t\">", p->ml);
  sl_sb_esc(b, title);
  sl_sb_puts(b, "</text>\n");
  double xs = nice_step(x1 - x0, 5), ys = nice_step(y1 - y0, 5);
  char t[32];
  sl_sb_puts(b, "<g class=\"ax\">\n");
  for (double v = ceil(x0 / xs - 1e-9) * xs; v <= x1 + 1e-9 * xs; v += xs) {
    double X = sl_plot_x(p, v);
    fmt_tick(t, sizeof t, v, xs);
    sl_sb_printf(b, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
                 "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                 X, p->mt, X, H - p->mb, X, H - p->mb + 14, t);
  }
  for (double v = ceil(y0 / ys - 1e-9) * ys; v <= y1 + 1e-9 * ys; v += ys) {
    double Y = sl_plot_y(p, v);
    fmt_tick(t, sizeof t, v, ys);
    sl_sb_printf(b, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>"
                 "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                 p->ml, Y, W - p->mr, Y, p->ml - 4, Y + 4, t);
  }
  sl_sb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888888\"/>\n",
               p->ml, p->mt, W - p->ml - p->mr, H - p->mt - p->mb);
  sl_sb_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", p->ml + (W - p->ml - p->mr) / 2.0, H - 8);
  sl_sb_esc(b, xlabel);
  sl_sb_printf(b, "</text>\n<text transform=\"translate(14,%.1f) rotate(-90)\" text-anchor=\"middle\">",
               p->mt + (H - p->mt - p->mb) / 2.0);
  sl_sb_esc(b, ylabel);
  sl_sb_puts(b, "</text>\n</g>\n");
}

void sl_plot_line(sl_plot *p, const double *x, const double *y, int64_t n, const char *color,
                  int dashed, const char *label) {
  int open = 0;
  for (int64_t k = 0; k < n; k++) {
    if (!isfinite(x[k]) || !isfinite(y[k])) {
      if (open) sl_sb_puts(p->b, "\"/>\n");
      open = 0;
      continue;
    }
    if (!open) {
      sl_sb_printf(p->b, "<polyline class=\"d\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"", color,
                   dashed ? " stroke-dasharray=\"5,3\"" : "");
      open = 1;
    }
    sl_sb_printf(p->b, "%.2f,%.2f ", sl_plot_x(p, x[k]), sl_plot_y(p, y[k]));
  }
  if (open) sl_sb_puts(p->b, "\"/>\n");
  if (label && n > 0 && isfinite(x[n - 1]) && isfinite(y[n - 1])) {
    sl_sb_printf(p->b, "<text x=\"%.2f\" y=\"%.2f\" fill=\"%s\" class=\"s\">", sl_plot_x(p, x[n - 1]) - 2,
                 sl_plot_y(p, y[n - 1]) - 4, color);
    sl_sb_esc(p->b, label);
    sl_sb_puts(p->b, "</text>\n");
  }
}

void sl_plot_points(sl_plot *p, const double *x, const double *y, int64_t n, const char *color, double r) {
  sl_sb_printf(p->b, "<g class=\"d\" fill=\"%s\" fill-opacity=\"0.6\">", color);
  for (int64_t k = 0; k < n; k++)
    if (isfinite(x[k]) && isfinite(y[k]))
      sl_sb_printf(p->b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\"/>", sl_plot_x(p, x[k]), sl_plot_y(p, y[k]), r);
  sl_sb_puts(p->b, "</g>\n");
}

void sl_plot_bars(sl_plot *p, const double *x, const double *y, int64_t n, double w, const char *color) {
  double base = p->y0 > 0 ? p->y0 : p->y1 < 0 ? p->y1 : 0, Y0 = sl_plot_y(p, base);
  sl_sb_printf(p->b, "<g class=\"d\" fill=\"%s\">", color);
  for (int64_t k = 0; k < n; k++) {
    if (!isfinite(x[k]) || !isfinite(y[k])) continue;
    double xa = sl_plot_x(p, x[k] - w / 2), xb = sl_plot_x(p, x[k] + w / 2), Y = sl_plot_y(p, y[k]);
    double top = Y < Y0 ? Y : Y0, h = fabs(Y0 - Y);
    sl_sb_printf(p->b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>", xa, top,
                 xb - xa > 0.5 ? xb - xa : 0.5, h);
  }
  sl_sb_puts(p->b, "</g>\n");
}

void sl_plot_hline(sl_plot *p, double y, const char *color, const char *label) {
  if (!isfinite(y)) return;
  double Y = sl_plot_y(p, y);
  sl_sb_printf(p->b, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"%s\" stroke-dasharray=\"4,3\"/>",
               p->ml, Y, p->W - p->mr, Y, color);
  if (label) {
    sl_sb_printf(p->b, "<text x=\"%d\" y=\"%.2f\" fill=\"%s\" class=\"s\" text-anchor=\"end\">", p->W - p->mr - 2,
                 Y - 3, color);
    sl_sb_esc(p->b, label);
    sl_sb_puts(p->b, "</text>");
  }
  sl_sb_puts(p->b, "\n");
}

void sl_plot_legend(sl_plot *p, const char *const *names, const char *const *colors, int n) {
  /* one row between the title and the plot, right-aligned */
  double w = 0;
  for (int k = 0; k < n; k++) w += 20 + 6.2 * (double)strlen(names[k]);
  double x = p->W - p->mr - w;
  if (x < p->ml) x = p->ml;
  for (int k = 0; k < n; k++) {
    sl_sb_printf(p->b, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                 "<text x=\"%.1f\" y=\"%d\" class=\"s\">", x, p->mt - 14, colors[k], x + 13, p->mt - 5);
    sl_sb_esc(p->b, names[k]);
    sl_sb_puts(p->b, "</text>\n");
    x += 20 + 6.2 * (double)strlen(names[k]);
  }
}

void sl_plot_end(sl_plot *p) { sl_sb_puts(p->b, "</svg>\n"); }

static void lerp(const double (*stops)[3], int ns, double t, char *buf) {
  if (!isfinite(t)) { snprintf(buf, 8, "#dddddd"); return; }
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  double s = t * (ns - 1);
  int k = (int)s;
  if (k >= ns - 1) k = ns - 2;
  double f = s - k;
  int c[3];
  for (int i = 0; i < 3; i++) c[i] = (int)lround(stops[k][i] + f * (stops[k + 1][i] - stops[k][i]));
  snprintf(buf, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

void sl_color_seq(double t, char *buf) {
  static const double st[4][3] = {{247, 251, 255}, {158, 202, 225}, {49, 130, 189}, {8, 48, 107}};
  lerp(st, 4, t, buf);
}
void sl_color_div(double t, char *buf) {
  static const double st[5][3] = {{33, 102, 172}, {146, 197, 222}, {247, 247, 247}, {244, 165, 130}, {178, 24, 43}};
  lerp(st, 5, t, buf);
}
const char *sl_color_cat(int k) {
  static const char *c[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  return c[((k % 8) + 8) % 8];
}
