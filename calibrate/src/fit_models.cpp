// The four model fits of fit.hpp. Parameters that enter non-linearly (k_half, s_half) are found
// by a scan over a log-spaced grid refined by golden-section search; the scale factors then
// follow in closed form (the mean of the log residuals), so each fit is deterministic.
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "herd/calibrate/fit.hpp"
#include "herd/model/compute_cost.hpp"
#include "herd/model/error.hpp"

namespace herd::calibrate {

namespace {

double mean(const std::vector<double>& v, const std::vector<double>& w) {
  double s = 0, total = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += w[i] * v[i], total += w[i];
  return total > 0 ? s / total : 0;
}

std::vector<double> weights_or_ones(const std::vector<double>& w, std::size_t n) {
  return w.size() == n ? w : std::vector<double>(n, 1.0);
}

// Minimises f over [lo, hi] (in log2 units): a scan at quarter steps, then golden section around the best.
double minimise_log2(double lo, double hi, const std::function<double(double)>& f) {
  double best = lo, best_value = f(lo);
  for (double x = lo + 0.25; x <= hi + 1e-9; x += 0.25)
    if (const double v = f(x); v < best_value - 1e-15) best = x, best_value = v;
  double a = std::max(lo, best - 0.25), b = std::min(hi, best + 0.25);
  const double phi = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 60; ++i) {
    const double c = b - phi * (b - a), d = a + phi * (b - a);
    if (f(c) < f(d)) b = d;
    else a = c;
  }
  const double refined = (a + b) / 2;
  return f(refined) < best_value ? refined : best;
}

// Log residuals of `log_eff` against `log_base` after removing their weighted mean (the
// closed-form scale).
std::vector<double> centred(const std::vector<double>& log_eff, const std::vector<double>& log_base,
                            const std::vector<double>& w, double& scale) {
  std::vector<double> r(log_eff.size());
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = log_eff[i] - log_base[i];
  scale = mean(r, w);
  for (double& x : r) x -= scale;
  return r;
}

double sum_squares(const std::vector<double>& r, const std::vector<double>& w) {
  double s = 0;
  for (std::size_t i = 0; i < r.size(); ++i) s += w[i] * r[i] * r[i];
  return s;
}

// A candidate replaces the incumbent only when it lowers the weighted squared error by more
// than this fraction, so shapes that cannot tell candidates apart keep the preset's choice.
constexpr double kBetterBy = 0.02;

}  // namespace

GemmModelFit fit_gemm_model(const std::vector<model::GemmPoint>& points, int units, const model::ComputeEfficiency& fixed,
                            const std::vector<double>& weights, double flops_per_byte) {
  if (points.empty()) throw model::ValueError("/records", "no GEMM measurements to fit");
  units = std::max(1, units);
  const std::vector<double> w = weights_or_ones(weights, points.size());
  std::vector<double> log_eff;
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> shapes;
  for (const auto& p : points) {
    log_eff.push_back(std::log(p.efficiency));
    shapes.insert({p.m, p.n, p.k});
  }
  // ln(e / e_inf) of the shape model. With split-K it depends on e_inf itself (the fix-up's share
  // grows with the main loop's speed), so the scale is found by fixed-point iteration; without, the
  // first pass is exact.
  auto residuals = [&](int tm, int tn, double k_half, double& log_scale) {
    double e_inf = 1;
    std::vector<double> r;
    for (int pass = 0; pass < (flops_per_byte > 0 ? 4 : 1); ++pass) {
      std::vector<double> base;
      for (const auto& p : points)
        base.push_back(std::log(model::gemm_shape_efficiency({p.m, p.n, p.k}, e_inf, tm, tn, k_half, units, flops_per_byte) / e_inf));
      r = centred(log_eff, base, w, log_scale);
      e_inf = std::exp(log_scale);
    }
    return r;
  };
  GemmModelFit fit{0, 0, fixed.gemm_tile_m, fixed.gemm_tile_n, fixed.gemm_k_half, {}};
  if (shapes.size() >= 4) {
    // The preset's tiles come first, so they win ties (shapes that cannot tell tiles apart).
    std::vector<std::pair<int, int>> tiles{{fixed.gemm_tile_m, fixed.gemm_tile_n}};
    for (int tm : {64, 128, 256})
      for (int tn : {64, 128, 256})
        if (tm != fixed.gemm_tile_m || tn != fixed.gemm_tile_n) tiles.emplace_back(tm, tn);
    double best = INFINITY;
    for (const auto& [tm, tn] : tiles) {
      double scale = 0;
      const double log2_k = minimise_log2(0, 15, [&](double x) { return sum_squares(residuals(tm, tn, std::exp2(x), scale), w); });
      const int k_half = std::max(1, static_cast<int>(std::lround(std::exp2(log2_k))));
      const double sse = sum_squares(residuals(tm, tn, k_half, scale), w);
      if (sse < best * (1 - kBetterBy)) best = sse, fit.tile_m = tm, fit.tile_n = tn, fit.k_half = k_half;
    }
  }
  double log_scale = 0;
  fit.log_residuals = residuals(fit.tile_m, fit.tile_n, fit.k_half, log_scale);
  fit.e_inf = std::exp(log_scale);
  fit.reference = model::gemm_shape_efficiency({model::kReferenceGemm, model::kReferenceGemm, model::kReferenceGemm}, fit.e_inf,
                                               fit.tile_m, fit.tile_n, fit.k_half, units, flops_per_byte);
  return fit;
}

AttentionModelFit fit_attention_model(const std::vector<model::AttentionPoint>& points, double fixed_seq_half,
                                      const std::vector<double>& weights) {
  if (points.empty()) throw model::ValueError("/records", "no attention measurements to fit");
  const std::vector<double> w = weights_or_ones(weights, points.size());
  std::set<std::int64_t> lengths;
  for (const auto& p : points) lengths.insert(p.seq_kv);
  // Both passes share s_half; each has its own asymptote (the mean of its own log residuals).
  auto residuals = [&](double s_half, double& log_fwd, double& log_bwd) {
    std::vector<double> r[2], rw[2];
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto& p = points[i];
      r[p.backward].push_back(std::log(p.efficiency) - std::log(double(p.seq_kv) / (double(p.seq_kv) + s_half)));
      rw[p.backward].push_back(w[i]);
    }
    log_fwd = mean(r[0], rw[0]);
    log_bwd = mean(r[1], rw[1]);
    std::vector<double> out;
    for (const auto& p : points) {
      const double base = std::log(double(p.seq_kv) / (double(p.seq_kv) + s_half));
      out.push_back(std::log(p.efficiency) - base - (p.backward ? log_bwd : log_fwd));
    }
    return out;
  };
  AttentionModelFit fit;
  fit.seq_half = fixed_seq_half;
  double log_fwd = 0, log_bwd = 0;
  if (lengths.size() >= 2)
    fit.seq_half =
        std::exp2(minimise_log2(0, 17, [&](double x) { return sum_squares(residuals(std::exp2(x), log_fwd, log_bwd), w); }));
  fit.log_residuals = residuals(fit.seq_half, log_fwd, log_bwd);
  const bool has_fwd = std::any_of(points.begin(), points.end(), [](const auto& p) { return !p.backward; });
  const bool has_bwd = std::any_of(points.begin(), points.end(), [](const auto& p) { return p.backward; });
  const double at_ref = double(model::kReferenceAttentionSeq) / (double(model::kReferenceAttentionSeq) + fit.seq_half);
  fit.fwd_inf = has_fwd ? std::exp(log_fwd) : 0;
  fit.bwd_inf = has_bwd ? std::exp(log_bwd) : 0;
  fit.fwd_reference = fit.fwd_inf * at_ref;
  fit.bwd_reference = fit.bwd_inf * at_ref;
  return fit;
}

namespace {
// Solves the n x n system a x = b by Gaussian elimination with partial pivoting; false if singular.
bool solve(std::vector<std::vector<double>> a, std::vector<double> b, std::vector<double>& x) {
  const std::size_t n = b.size();
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[pivot][c])) pivot = r;
    if (std::fabs(a[pivot][c]) < 1e-12 * std::max(1.0, std::fabs(a[c][c]))) return false;
    std::swap(a[c], a[pivot]);
    std::swap(b[c], b[pivot]);
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = a[r][c] / a[c][c];
      for (std::size_t k = c; k < n; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  x.assign(n, 0);
  for (std::size_t c = n; c-- > 0;) {
    double s = b[c];
    for (std::size_t k = c + 1; k < n; ++k) s -= a[c][k] * x[k];
    x[c] = s / a[c][c];
  }
  return true;
}
}  // namespace

ElementwiseModelFit fit_elementwise_model(const std::vector<ElementwiseSample>& samples) {
  if (samples.empty()) throw model::ValueError("/records", "no element-wise measurements to fit");
  std::map<std::string, std::size_t> column;
  for (const auto& s : samples) column.emplace(s.op_class, 0);
  std::size_t next = 1;  // column 0 is the overhead
  for (auto& [name, c] : column) c = next++;
  // Weighted least squares on relative error: each row (1, bytes at its class) / t, target 1.
  std::vector<std::vector<double>> normal(next, std::vector<double>(next, 0));
  std::vector<double> rhs(next, 0), x;
  for (const auto& s : samples) {
    const std::size_t c = column[s.op_class];
    const double w0 = 1 / s.seconds, w1 = s.bytes / s.seconds;
    normal[0][0] += w0 * w0;
    normal[0][c] += w0 * w1;
    normal[c][0] += w0 * w1;
    normal[c][c] += w1 * w1;
    rhs[0] += w0;
    rhs[c] += w1;
  }
  const bool solved = solve(normal, rhs, x);
  bool usable = solved && x[0] >= 0;
  for (std::size_t c = 1; usable && c < next; ++c) usable = x[c] > 0;
  ElementwiseModelFit fit;
  if (usable) {
    fit.overhead_s = x[0];
    for (const auto& [name, c] : column) fit.seconds_per_byte[name] = x[c];
  } else {
    // Sizes that cannot separate a shared overhead from the bandwidth: no overhead, one rate per class.
    for (const auto& [name, c] : column) {
      double num = 0, den = 0;
      for (const auto& s : samples)
        if (s.op_class == name) num += s.bytes / s.seconds, den += (s.bytes / s.seconds) * (s.bytes / s.seconds);
      fit.seconds_per_byte[name] = num / den;
    }
  }
  for (const auto& s : samples)
    fit.log_residuals.push_back(std::log(s.seconds / (fit.overhead_s + s.bytes * fit.seconds_per_byte[s.op_class])));
  return fit;
}

AlphaBeta fit_alpha_beta(std::vector<std::pair<double, double>> points) {
  std::sort(points.begin(), points.end());
  if (points.size() < 2 || points.front().first == points.back().first)
    throw model::ValueError("/records", "a collective needs at least two message sizes to fit");
  const auto [s0, t0] = points.front();
  const auto [s1, t1] = points.back();
  AlphaBeta fit;
  // The line through the extremes: latency from the smallest size, bandwidth from the largest.
  fit.bandwidth = t1 > t0 ? (s1 - s0) / (t1 - t0) : s1 / t1;
  fit.alpha_s = t0 - s0 / fit.bandwidth;
  if (fit.alpha_s < 0) fit.alpha_s = 0, fit.bandwidth = s1 / t1;
  double ss = 0;
  for (const auto& [s, t] : points) {
    const double r = std::log(t / (fit.alpha_s + s / fit.bandwidth));
    ss += r * r;
  }
  fit.rms_log_residual = std::sqrt(ss / double(points.size()));
  return fit;
}

}  // namespace herd::calibrate
