#include "herd/calibrate/fit.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "herd/calibrate/sweep.hpp"
#include "herd/model/compute_cost.hpp"
#include "herd/model/error.hpp"

namespace herd::calibrate {

namespace {

// ComputeCostModel's default attention s_half, kept when one key count cannot determine it.
constexpr double kDefaultSeqHalf = 256;

bool is_compute(const Record& r) { return r.kind != RecordKind::collective; }

std::string shape_text(const Record& r) {
  switch (r.kind) {
    case RecordKind::gemm:
      return std::to_string(r.gemm.m) + "x" + std::to_string(r.gemm.n) + "x" + std::to_string(r.gemm.k) + " " +
             std::string(gemm_layout(r.op));
    case RecordKind::attention:
      return r.pass + " b" + std::to_string(r.attention.batch) + " s" + std::to_string(r.attention.seq_kv) + " q" +
             std::to_string(r.attention.heads_q) + " kv" + std::to_string(r.attention.heads_kv) + " d" +
             std::to_string(r.attention.head_dim);
    case RecordKind::elementwise: return std::to_string(r.rows) + "x" + std::to_string(r.cols);
    case RecordKind::layer: return r.layer.label();
    case RecordKind::collective: return std::to_string(static_cast<long long>(r.collective.bytes)) + " B";
  }
  return "";
}

// The workload op a record stands for, so the cost model can price it.
model::Op op_of(const Record& r) {
  model::Op op;
  op.name = r.op;  // string_view into the record, which outlives the op
  op.pass = r.pass == "backward" ? model::Pass::backward : model::Pass::forward;
  op.kind = r.kind == RecordKind::gemm ? model::OpKind::gemm
            : r.kind == RecordKind::attention ? model::OpKind::attention
                                              : model::OpKind::elementwise;
  op.gemm = r.gemm;
  op.attention = r.attention;
  op.flops = r.flops;
  op.bytes = r.bytes;
  return op;
}

template <typename Point, typename Key>
std::vector<Point> merge_points(const std::vector<Point>& points, Key key) {
  // Shapes measured more than once (other layouts, other layers): geometric mean of efficiencies.
  std::map<decltype(key(points.front())), std::pair<Point, std::vector<double>>> groups;
  for (const auto& p : points) {
    auto [it, fresh] = groups.try_emplace(key(p), p, std::vector<double>{});
    it->second.second.push_back(std::log(p.efficiency));
  }
  std::vector<Point> out;
  for (auto& [k, g] : groups) {
    double s = 0;
    for (double l : g.second) s += l;
    g.first.efficiency = std::exp(s / double(g.second.size()));
    out.push_back(g.first);
  }
  return out;
}

void summarise(FitResult& out, const std::string& op_class, std::size_t first) {
  ClassSummary s{op_class, 0, 0, 0};
  double ss = 0;
  for (std::size_t i = first; i < out.residuals.size(); ++i) {
    ss += out.residuals[i].log_residual * out.residuals[i].log_residual;
    s.max_abs_log_residual = std::max(s.max_abs_log_residual, std::fabs(out.residuals[i].log_residual));
    ++s.points;
  }
  if (s.points == 0) return;
  s.rms_log_residual = std::sqrt(ss / s.points);
  out.summary.push_back(s);
}

// Compute records of every set (compute_set has checked they share one device).
std::vector<Record> compute_records(const std::vector<MeasurementSet>& sets) {
  std::vector<Record> out;
  for (const auto& s : sets)
    for (const auto& r : s.records)
      if (is_compute(r)) out.push_back(r);
  return out;
}

// The first set with compute records; throws when another set's compute records come from another device.
const MeasurementSet* compute_set(const std::vector<MeasurementSet>& sets) {
  const MeasurementSet* found = nullptr;
  for (const auto& s : sets) {
    if (std::none_of(s.records.begin(), s.records.end(), is_compute)) continue;
    if (found && found->device.name != s.device.name)
      throw model::ValueError("/device/name", "compute measurements from two devices (" + found->device.name + ", " +
                                                  s.device.name + ") cannot make one profile");
    if (!found) found = &s;
  }
  return found;
}

void fit_collectives(const std::vector<MeasurementSet>& sets, FitResult& out) {
  // One fit per collective, scope and rank count; the name carries the rank count only when one
  // collective was measured over several ("all_reduce/intra_node", "all_gather/intra_node/4").
  std::map<std::tuple<std::string, std::string, int>, std::vector<const Record*>> groups;
  std::map<std::string, std::set<int>> rank_counts;
  for (const auto& set : sets)
    for (const auto& r : set.records)
      if (r.kind == RecordKind::collective) {
        const std::string scope = r.collective.nodes > 1 ? "inter_node" : "intra_node";
        groups[{r.op, scope, r.collective.ranks}].push_back(&r);
        rank_counts[r.op + "/" + scope].insert(r.collective.ranks);
      }
  for (auto& [key, records] : groups) {
    const auto& [op, scope, ranks] = key;
    std::string name = op + "/" + scope;
    if (rank_counts[name].size() > 1) (name += '/') += std::to_string(ranks);
    // Out-of-place times where a file has both (nccl-tests prints both; they rarely differ).
    const bool any_out = std::any_of(records.begin(), records.end(), [](const Record* r) { return !r->collective.in_place; });
    std::map<double, std::vector<double>> by_size;
    model::CollectiveFit c;
    for (const Record* r : records) {
      if (any_out && r->collective.in_place) continue;
      by_size[r->collective.bytes].push_back(r->median_s);
      c.ranks = r->collective.ranks;
      c.nodes = r->collective.nodes;
    }
    std::vector<std::pair<double, double>> points;
    for (auto& [bytes, times] : by_size) points.emplace_back(bytes, median(times));
    const AlphaBeta ab = fit_alpha_beta(points);
    c.alpha_s = ab.alpha_s;
    c.bandwidth = ab.bandwidth;
    c.rms_log_residual = ab.rms_log_residual;
    c.min_bytes = points.front().first;
    c.max_bytes = points.back().first;
    c.points = points;
    const std::size_t first = out.residuals.size();
    for (const auto& [bytes, t] : points) {
      const double fitted = ab.alpha_s + bytes / ab.bandwidth;
      out.residuals.push_back({name + " " + std::to_string(static_cast<long long>(bytes)) + " B", t, fitted, std::log(t / fitted)});
    }
    summarise(out, name, first);
    out.profile.collectives[name] = std::move(c);
  }
}

FitResult finish(FitResult& out) {
  for (const SkippedOp& s : out.skipped)
    out.profile.report["skipped"].push_back({{"op", s.op}, {"reason", s.reason}, {"calls", s.calls}, {"kernel_s", s.kernel_s}});
  for (const auto& s : out.summary)
    out.profile.report["fit"][s.op_class] = {{"points", s.points}, {"rms_log_residual", s.rms_log_residual},
                                             {"max_abs_log_residual", s.max_abs_log_residual}};
  if (!out.warnings.empty()) out.profile.report["warnings"] = out.warnings;
  return std::move(out);
}

}  // namespace

FitResult fit(const std::vector<MeasurementSet>& sets, const FitOptions& options) {
  FitResult out;
  model::CalibrationProfile& p = out.profile;
  for (const auto& s : sets) {
    p.report["sources"].push_back(s.source.empty() ? "(in memory)" : s.source);
    out.skipped.insert(out.skipped.end(), s.skipped.begin(), s.skipped.end());
  }
  const MeasurementSet* cs = compute_set(sets);
  fit_collectives(sets, out);
  if (!cs && p.collectives.empty()) throw model::ValueError("/records", "nothing to fit: no compute or collective records");
  const DeviceInfo device = cs ? cs->device : sets.front().device;
  p.gpu_name = device.name;
  p.backend = device.backend;
  p.measured_on = device.details;
  p.measured_on["peak_source"] = device.peak_source;
  p.measured_on["bandwidth_source"] = device.bandwidth_source;
  if (device.devices > 1) p.measured_on["devices"] = device.devices;
  if (!cs) return finish(out);
  if (device.peak_flops <= 0 || device.memory_bandwidth <= 0)
    throw model::ValueError("/device/peak_flops", "compute records need the device's peak_flops and memory_bandwidth");
  p.peak_flops = device.peak_flops;
  p.memory_bandwidth = device.memory_bandwidth;
  if (device.parallel_units > 0) p.parallel_units = device.parallel_units;
  const model::GpuSpec baseline = options.baseline ? *options.baseline : baseline_gpu(device);
  const int units = device.parallel_units > 0 ? device.parallel_units : baseline.sms;

  // 1. Element-wise kernels give the bandwidth efficiencies and the per-kernel overhead.
  std::vector<ElementwiseSample> samples;
  std::vector<const Record*> elementwise, gemms, attentions;
  const std::vector<Record> records = compute_records(sets);  // the pointers below point into it
  // GEMM and attention efficiencies are fractions of the device's peak, which is for one dtype
  // (BF16 on a GPU); records of another (an FP32 aten::mm, an FP8 _scaled_mm) stay out.
  const std::string dtype = fitted_dtype(device);
  std::map<std::string, SkippedOp> other_dtype;
  for (const Record& r : records) {
    const bool priced = r.kind == RecordKind::gemm || r.kind == RecordKind::attention;
    if (!priced || r.dtype.empty() || r.dtype == dtype) continue;
    const std::string op = r.impl.empty() ? r.op : r.impl;
    SkippedOp& s = other_dtype[op + " " + r.dtype];
    s.op = op;
    s.reason = r.dtype + ": the fit takes " + dtype + " records only (the device's peak is " + dtype + ")";
    double total = 0;
    for (double t : r.times_s) total += t;
    s.calls += std::max<int>(1, static_cast<int>(r.times_s.size()));
    s.kernel_s += r.times_s.empty() ? r.median_s : total;
  }
  for (auto& [key, s] : other_dtype) out.skipped.push_back(s);
  for (const Record& r : records) {
    if ((r.kind == RecordKind::gemm || r.kind == RecordKind::attention) && !r.dtype.empty() && r.dtype != dtype) continue;
    if (r.kind == RecordKind::elementwise && r.bytes > 0) elementwise.push_back(&r), samples.push_back({r.op, r.bytes, r.median_s});
    if (r.kind == RecordKind::gemm) gemms.push_back(&r);
    if (r.kind == RecordKind::attention) attentions.push_back(&r);
  }
  if (gemms.empty() && attentions.empty() && !other_dtype.empty())
    out.warnings.push_back("no " + dtype + " GEMM or attention records: the profile keeps the preset's compute efficiencies");
  double overhead = baseline.efficiency.kernel_overhead_s;
  if (!samples.empty()) {
    const ElementwiseModelFit e = fit_elementwise_model(samples);
    overhead = e.overhead_s;
    p.kernel_overhead_s = overhead;
    for (const auto& [cls, spb] : e.seconds_per_byte) {
      model::ElementwiseFit f{1 / (spb * device.memory_bandwidth), INFINITY, 0, 0};
      double ss = 0;
      int n = 0;
      for (std::size_t i = 0; i < samples.size(); ++i)
        if (samples[i].op_class == cls) {
          f.min_bytes = std::min(f.min_bytes, samples[i].bytes);
          f.max_bytes = std::max(f.max_bytes, samples[i].bytes);
          ss += e.log_residuals[i] * e.log_residuals[i];
          ++n;
        }
      f.rms_log_residual = std::sqrt(ss / n);
      p.elementwise[cls] = f;
    }
    if (p.elementwise.count("copy")) p.hbm_efficiency = p.elementwise["copy"].efficiency;
    const std::size_t first = out.residuals.size();
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const double fitted = samples[i].seconds / std::exp(e.log_residuals[i]);
      out.residuals.push_back({"elementwise " + samples[i].op_class + " " + shape_text(*elementwise[i]), samples[i].seconds,
                               fitted, e.log_residuals[i]});
    }
    summarise(out, "elementwise", first);
  }
  // 2. Compute efficiencies, net of the overhead the cost model adds to every op. A time's
  // relative noise is amplified by t / (t - overhead) in the efficiency, so each point's squared
  // log residual is weighted by ((t - overhead) / t)^2.
  auto weight = [&](const Record& r) {
    const double f = std::max(0.1, (r.median_s - overhead) / r.median_s);
    return f * f;
  };
  auto efficiency = [&](const Record& r) {
    const double net = r.median_s - overhead;
    if (net < 0.5 * r.median_s)
      out.warnings.push_back(to_string(r.kind).data() + std::string(" ") + r.op + " " + shape_text(r) +
                             ": the kernel overhead is more than half its time; its efficiency is uncertain");
    return r.flops / (device.peak_flops * std::max(net, 0.1 * r.median_s));
  };
  std::vector<model::GemmPoint> gemm_points;
  std::vector<double> gemm_weights, attention_weights;
  // A GEMM the roofline calls memory-bound says little about compute efficiency: it stays a
  // measured point but does not steer the parametric fit.
  const double hbm_efficiency = p.hbm_efficiency.value_or(baseline.efficiency.hbm);
  int memory_bound = 0;
  for (const Record* r : gemms) {
    gemm_points.push_back({r->gemm.m, r->gemm.n, r->gemm.k, efficiency(*r), 0});
    const bool bound = r->bytes / (device.memory_bandwidth * hbm_efficiency) > 0.8 * (r->median_s - overhead);
    memory_bound += bound ? 1 : 0;
    gemm_weights.push_back(bound ? 0.0 : weight(*r));
  }
  if (memory_bound > 0)
    out.warnings.push_back(std::to_string(memory_bound) + " GEMM shapes are memory-bound by the roofline; they are kept as "
                           "measured points but left out of the parametric fit");
  std::vector<model::AttentionPoint> attention_points;
  for (const Record* r : attentions) {
    attention_points.push_back({r->attention.seq_kv, r->attention.heads_q, r->pass == "backward", efficiency(*r), 0});
    attention_weights.push_back(weight(*r));
    p.attention_impl = r->impl;
  }
  // A point above the stated peak (a CPU's peak is the best time measured, overhead included)
  // raises the profile's peak to it, so every efficiency is at most 1 and the cost model, which
  // caps efficiencies at 1, still reproduces every measured time.
  double highest = 0;
  for (const auto& q : gemm_points) highest = std::max(highest, q.efficiency);
  for (const auto& q : attention_points) highest = std::max(highest, q.efficiency);
  if (highest > 1) {
    for (auto& q : gemm_points) q.efficiency /= highest;
    for (auto& q : attention_points) q.efficiency /= highest;
    p.peak_flops = device.peak_flops * highest;
    p.measured_on["peak_source"] = device.peak_source + "; raised by the fit by " + std::to_string(highest) +
                                   " to the best throughput measured net of the kernel overhead";
  }
  if (!gemm_points.empty()) {
    const double peak = p.peak_flops.value_or(device.peak_flops);
    const GemmModelFit g =
        fit_gemm_model(gemm_points, units, baseline.efficiency, gemm_weights, peak / (device.memory_bandwidth * hbm_efficiency));
    for (std::size_t i = 0; i < gemm_points.size(); ++i) gemm_points[i].residual = g.log_residuals[i];
    p.gemm_efficiency = g.reference;
    p.gemm_tile_m = g.tile_m;
    p.gemm_tile_n = g.tile_n;
    p.gemm_k_half = g.k_half;
    p.gemm_points = merge_points(gemm_points, [](const model::GemmPoint& q) { return std::tuple(q.m, q.n, q.k); });
  }
  if (!attention_points.empty()) {
    const AttentionModelFit a = fit_attention_model(attention_points, kDefaultSeqHalf, attention_weights);
    for (std::size_t i = 0; i < attention_points.size(); ++i) attention_points[i].residual = a.log_residuals[i];
    if (a.fwd_inf > 0) p.attention_fwd_efficiency = a.fwd_reference;
    if (a.bwd_inf > 0) p.attention_bwd_efficiency = a.bwd_reference;
    p.attention_seq_half = a.seq_half;
    p.attention_points = merge_points(attention_points, [](const model::AttentionPoint& q) { return std::pair(q.seq_kv, q.backward); });
  }
  // 3. Residuals of the parametric model alone (with the points, measured shapes would fit exactly).
  model::CalibrationProfile parametric = p;
  parametric.gemm_points.clear();
  parametric.attention_points.clear();
  const model::ComputeCostModel fitted(baseline, &parametric);
  for (const auto* group : {&gemms, &attentions}) {
    const std::size_t first = out.residuals.size();
    for (const Record* r : *group) {
      const double t = fitted.op_seconds(op_of(*r));
      out.residuals.push_back({std::string(to_string(r->kind)) + " " + r->op + " " + shape_text(*r), r->median_s, t,
                               std::log(r->median_s / t)});
    }
    summarise(out, group == &gemms ? "gemm" : "attention", first);
  }
  // 4. Sustained runs: a layer run back to back settles at sustained_ratio() of its first runs'
  // speed; the ops above were timed in short bursts.
  std::vector<double> ratios;
  for (const auto& set : sets)
    for (const Record& r : set.records)
      if (r.kind == RecordKind::layer && r.sustained_s > 0 && r.times_s.size() >= 20) ratios.push_back(sustained_ratio(r));
  if (!ratios.empty()) {
    p.sustained_fraction = std::min(1.0, median(ratios));
    p.report["sustained"] = {{"layers", ratios.size()}, {"fraction", *p.sustained_fraction}};
  }
  // 5. Whole layers: before (preset efficiencies) and after (this profile).
  out.layers = check_layers(sets, baseline, p);
  for (const LayerCheck& c : out.layers)
    p.report["validation"]["layers"].push_back({{"layer", c.label},
                                                {"measured_s", c.measured_s},
                                                {"predicted_default_s", c.default_s},
                                                {"predicted_calibrated_s", c.calibrated_s},
                                                {"extrapolated_ops", c.extrapolated_ops}});
  p.report["validation"]["baseline_gpu"] = baseline.name;
  return finish(out);
}

}  // namespace herd::calibrate
