/* svg.h: private to src/report: a growing text buffer and the few SVG plots
 * the report draws (axes with ticks, lines, points, bars, heat maps).
 *
 * Every number is printed with a fixed format ("%.2f" for coordinates,
 * "%.4g" for values), so the same data give the same bytes.
 */
#ifndef SL_REPORT_SVG_H
#define SL_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_sb {
  char *s;
  size_t n, cap;
  int oom; /* set once an allocation failed; later appends are ignored */
} sl_sb;

void sl_sb_printf(sl_sb *b, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
void sl_sb_puts(sl_sb *b, const char *s);
/* Text with & < > " escaped for XML/HTML. */
void sl_sb_esc(sl_sb *b, const char *s);
void sl_sb_free(sl_sb *b);

/* An x-y plot area inside an <svg>: data ranges map onto the inner box. */
typedef struct sl_plot {
  sl_sb *b;
  int W, H;                  /* whole picture, px */
  int ml, mr, mt, mb;        /* margins */
  double x0, x1, y0, y1;     /* data ranges */
} sl_plot;

/* Open <svg> with a title, a frame, ticks and axis labels. A range of zero
 * width is widened so that the mapping stays finite. */
void sl_plot_begin(sl_plot *p, sl_sb *b, const char *id, const char *title, int W, int H, double x0,
                   double x1, double y0, double y1, const char *xlabel, const char *ylabel);
double sl_plot_x(const sl_plot *p, double x);
double sl_plot_y(const sl_plot *p, double y);
/* A polyline through the finite points (a NaN breaks the line). */
void sl_plot_line(sl_plot *p, const double *x, const double *y, int64_t n, const char *color,
                  int dashed, const char *label);
void sl_plot_points(sl_plot *p, const double *x, const double *y, int64_t n, const char *color,
                    double r);
/* Vertical bars from y = 0 (or the bottom) at x[k] of width w. */
void sl_plot_bars(sl_plot *p, const double *x, const double *y, int64_t n, double w, const char *color);
/* A horizontal reference line with a label. */
void sl_plot_hline(sl_plot *p, double y, const char *color, const char *label);
/* Legend entries (name, colour) in one row above the plot, right-aligned. */
void sl_plot_legend(sl_plot *p, const char *const *names, const char *const *colors, int n);
void sl_plot_end(sl_plot *p);

/* Colours: a sequential map (light to dark blue) and a diverging one
 * (blue < 0 < red) of t in [0, 1]; written into buf (8 bytes: "#rrggbb"). */
void sl_color_seq(double t, char *buf);
void sl_color_div(double t, char *buf);
/* A categorical colour for series k. */
const char *sl_color_cat(int k);

/* Lower and upper bounds of finite values (NaN, NaN when none). */
void sl_range(const double *x, int64_t n, double *lo, double *hi);

#endif
