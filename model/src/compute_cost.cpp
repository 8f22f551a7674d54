#include "herd/model/compute_cost.hpp"

#include <algorithm>
#include <cmath>

namespace herd::model {

namespace {

double log_distance(const GemmShape& a, const GemmPoint& b) {
  const double dm = std::log(double(a.m) / double(b.m)), dn = std::log(double(a.n) / double(b.n)),
               dk = std::log(double(a.k) / double(b.k));
  return std::sqrt(dm * dm + dn * dn + dk * dk);
}

// Measured shapes within a factor of ~2 (log distance < ln 2) correct the parametric model by their
// measured / predicted ratio, weighted by inverse distance.
constexpr double kNear = 0.6931471805599453;

}  // namespace

double gemm_shape_efficiency(const GemmShape& s, double e_inf, int tile_m, int tile_n, double k_half, int units,
                             double flops_per_byte) {
  units = std::max(1, units);
  const double tiles =
      std::ceil(double(s.m) / tile_m) * std::ceil(double(s.n) / tile_n) * double(std::max<std::int64_t>(1, s.batch));
  const double k = double(s.k);
  // Data-parallel tiles, and split-K when they do not fill the units.
  const int max_split = flops_per_byte > 0 && tiles < units ? static_cast<int>(std::ceil(units / tiles)) : 1;
  double best = 0;
  for (int split = 1; split <= max_split; ++split) {
    const double work = tiles * split;
    const double wave = work / (std::ceil(work / units) * units);
    const double k_slice = std::ceil(k / split);
    const double main_loop = e_inf * wave * k_slice / (k_slice + k_half);
    const double fixup = 4.0 * (split - 1) * flops_per_byte / k;
    best = std::max(best, 1.0 / (1.0 / main_loop + fixup));
  }
  // Stream-K hybrid: the full waves run data-parallel; the last, partial wave's main-loop
  // iterations are spread evenly over every unit, each unit paying one main-loop start-up, and the
  // partial FP32 tiles (one per unit) written and read back.
  const double full_waves = std::floor(tiles / units), rest = tiles - full_waves * units;
  if (flops_per_byte > 0 && rest > 0) {
    const double per_unit = full_waves * (k + k_half) + rest * k / units + k_half;
    const double main_loop = e_inf * (tiles * k / units) / per_unit;
    const double fixup = double(units) * tile_m * tile_n * 8.0 * flops_per_byte / (2.0 * double(s.m) * double(s.n) * k *
                                                                                   double(std::max<std::int64_t>(1, s.batch)));
    best = std::max(best, 1.0 / (1.0 / main_loop + fixup));
  }
  return best;
}

ComputeCostModel::ComputeCostModel(const GpuSpec& gpu, const CalibrationProfile* profile) {
  const ComputeEfficiency& e = gpu.efficiency;
  peak_ = gpu.peak_bf16_flops;
  hbm_ = gpu.hbm_bandwidth;
  sms_ = std::max(1, gpu.sms);
  hbm_eff_ = e.hbm;
  overhead_ = e.kernel_overhead_s;
  tile_m_ = e.gemm_tile_m;
  tile_n_ = e.gemm_tile_n;
  k_half_ = e.gemm_k_half;
  double gemm_ref = e.gemm, att_fwd = e.attention_fwd, att_bwd = e.attention_bwd;
  // FlashAttention-2 runs at the GPU's ratio of it to the fused kernel, whatever sets the latter.
  flash2_fwd_ratio_ = e.flash2_fwd / e.attention_fwd;
  flash2_bwd_ratio_ = e.flash2_bwd / e.attention_bwd;
  // Efficiencies from short runs, lowered to the speed the device keeps when it runs for long; a
  // profile's own sustained fraction replaces the scenario's.
  // A power cap (whatif.power_cap) lowers the clock of compute-bound kernels on top of that.
  const double sustained =
      (profile && profile->sustained_fraction ? *profile->sustained_fraction : e.sustained) * gpu.clock_factor;
  if (profile) {
    calibrated_ = true;
    // A profile's efficiencies are fractions of the peaks it states (the device it was measured
    // on); rescaling them to this GPU's peaks keeps the measured throughput itself.
    const double flop_scale = profile->peak_flops ? *profile->peak_flops / peak_ : 1.0;
    const double byte_scale = profile->memory_bandwidth ? *profile->memory_bandwidth / hbm_ : 1.0;
    if (profile->gemm_efficiency) gemm_ref = *profile->gemm_efficiency * flop_scale;
    tile_m_ = profile->gemm_tile_m.value_or(tile_m_);
    tile_n_ = profile->gemm_tile_n.value_or(tile_n_);
    k_half_ = profile->gemm_k_half.value_or(k_half_);
    sms_ = std::max(1, profile->parallel_units.value_or(sms_));
    if (profile->attention_fwd_efficiency) att_fwd = *profile->attention_fwd_efficiency * flop_scale;
    if (profile->attention_bwd_efficiency) att_bwd = *profile->attention_bwd_efficiency * flop_scale;
    seq_half_ = profile->attention_seq_half.value_or(seq_half_);
    if (profile->hbm_efficiency) hbm_eff_ = *profile->hbm_efficiency * byte_scale;
    overhead_ = profile->kernel_overhead_s.value_or(overhead_);
    gemm_points_ = profile->gemm_points;
    attention_points_ = profile->attention_points;
    // The cap on efficiency is the profile's peak: a measured device faster than this preset
    // keeps its throughput.
    max_efficiency_ = std::max(1.0, flop_scale);
    for (auto& p : gemm_points_) p.efficiency *= flop_scale * sustained;
    for (auto& p : attention_points_) p.efficiency *= flop_scale * sustained;
    elementwise_ = profile->elementwise;
    for (auto& [name, fit] : elementwise_) fit.efficiency *= byte_scale;
  }
  gemm_ref *= sustained;
  att_fwd *= sustained;
  att_bwd *= sustained;
  // Anchor the asymptotes so the reference shapes reproduce the quoted efficiencies.
  // The shape model is monotonic in e_inf but not proportional to it (the split-K and stream-K
  // fix-ups cost memory time), so e_inf is found by bisection.
  double lo = 0, hi = 4 * std::max(gemm_ref, 1e-3);
  for (int i = 0; i < 100; ++i) {
    gemm_inf_ = (lo + hi) / 2;
    (parametric_gemm({kReferenceGemm, kReferenceGemm, kReferenceGemm}) < gemm_ref ? lo : hi) = gemm_inf_;
  }
  gemm_inf_ = (lo + hi) / 2;
  att_fwd_inf_ = att_fwd * (kReferenceAttentionSeq + seq_half_) / kReferenceAttentionSeq;
  att_bwd_inf_ = att_bwd * (kReferenceAttentionSeq + seq_half_) / kReferenceAttentionSeq;
}

double ComputeCostModel::parametric_gemm(const GemmShape& s) const {
  return gemm_shape_efficiency(s, gemm_inf_, tile_m_, tile_n_, k_half_, sms_, peak_ / (hbm_ * hbm_eff_));
}

double ComputeCostModel::parametric_attention(std::int64_t seq_kv, bool backward) const {
  return (backward ? att_bwd_inf_ : att_fwd_inf_) * double(seq_kv) / (double(seq_kv) + seq_half_);
}

double ComputeCostModel::gemm_efficiency(const GemmShape& s) const {
  const double predicted = parametric_gemm(s);
  double weight_sum = 0, ratio_sum = 0;
  for (const auto& p : gemm_points_) {
    const double d = log_distance(s, p);
    if (d >= kNear) continue;
    if (d < 1e-9) return std::min(max_efficiency_, p.efficiency);
    const double w = 1.0 / d;
    weight_sum += w;
    ratio_sum += w * p.efficiency / parametric_gemm({p.m, p.n, p.k});
  }
  const double corrected = weight_sum > 0 ? predicted * ratio_sum / weight_sum : predicted;
  return std::clamp(corrected, 1e-3, max_efficiency_);
}

double ComputeCostModel::attention_efficiency(const AttentionShape& a, bool backward) const {
  const double kernel = a.kernel == AttentionKernel::flash2 ? (backward ? flash2_bwd_ratio_ : flash2_fwd_ratio_) : 1.0;
  const double predicted = parametric_attention(a.seq_kv, backward);
  double weight_sum = 0, ratio_sum = 0;
  for (const auto& p : attention_points_) {
    if (p.backward != backward) continue;
    const double d = std::fabs(std::log(double(a.seq_kv) / double(p.seq_kv)));
    if (d >= kNear) continue;
    if (d < 1e-9) return std::min(max_efficiency_, p.efficiency * kernel);
    weight_sum += 1.0 / d;
    ratio_sum += (1.0 / d) * p.efficiency / parametric_attention(p.seq_kv, backward);
  }
  const double corrected = weight_sum > 0 ? predicted * ratio_sum / weight_sum : predicted;
  return std::clamp(corrected * kernel, 1e-3, max_efficiency_);
}

const ElementwiseFit* ComputeCostModel::elementwise_fit(const Op& op) const {
  auto it = elementwise_.find(std::string(elementwise_class(op.name)));
  if (it == elementwise_.end()) it = elementwise_.find("copy");  // the class hbm_efficiency comes from
  return it == elementwise_.end() ? nullptr : &it->second;
}

bool ComputeCostModel::extrapolated(const Op& op) const {
  if (!calibrated_ || op.kind == OpKind::collective) return false;
  if (op.kind == OpKind::gemm) {
    return std::none_of(gemm_points_.begin(), gemm_points_.end(),
                        [&](const GemmPoint& p) { return log_distance(op.gemm, p) < kNear; });
  }
  if (op.kind == OpKind::attention) {
    const bool bwd = op.pass == Pass::backward;
    return std::none_of(attention_points_.begin(), attention_points_.end(), [&](const AttentionPoint& p) {
      return p.backward == bwd && std::fabs(std::log(double(op.attention.seq_kv) / double(p.seq_kv))) < kNear;
    });
  }
  const ElementwiseFit* fit = elementwise_fit(op);
  return !fit || op.bytes < fit->min_bytes / 2 || op.bytes > fit->max_bytes * 2;
}

double ComputeCostModel::op_seconds(const Op& op) const {
  if (op.kind == OpKind::collective) return 0;
  double compute = 0;
  switch (op.kind) {
    case OpKind::gemm: compute = op.flops / (peak_ * gemm_efficiency(op.gemm)); break;
    case OpKind::attention: compute = op.flops / (peak_ * attention_efficiency(op.attention, op.pass == Pass::backward)); break;
    default: break;  // element-wise work is bound by memory traffic
  }
  // Element-wise kernels of a measured class run at their own fitted fraction of the bandwidth.
  const auto class_fit = op.kind == OpKind::elementwise ? elementwise_.find(std::string(elementwise_class(op.name)))
                                                        : elementwise_.end();
  const double efficiency = class_fit != elementwise_.end() ? class_fit->second.efficiency : hbm_eff_;
  const double memory = op.bytes / (hbm_ * efficiency);
  return std::max(compute, memory) + overhead_;
}

}  // namespace herd::model
