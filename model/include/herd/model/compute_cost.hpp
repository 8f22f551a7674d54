#pragma once
// How long a compute op takes on one GPU: a roofline, max(FLOPs / (peak x efficiency(shape)),
// bytes / (HBM bandwidth x efficiency)), plus a fixed kernel overhead. Efficiencies come from the
// GPU preset (cited defaults) or a calibration profile. Equations in docs/models/compute.md.
#include <map>
#include <optional>
#include <string>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/hardware.hpp"
#include "herd/model/workload.hpp"

namespace herd::model {

/// Shape of the reference GEMM the preset's `efficiency.gemm` was measured at (8192^3, hardware.md).
inline constexpr std::int64_t kReferenceGemm = 8192;
/// Keys per query row at which the preset's attention efficiencies are given (FlashAttention papers, 8K).
inline constexpr std::int64_t kReferenceAttentionSeq = 8192;

/// The GEMM shape model the cost model and the calibration fit share: the fraction of peak of the
/// fastest of the decompositions GEMM libraries choose among (cuBLASLt split-K; CUTLASS stream-K,
/// Osama et al., PPoPP'23). Output tiles of tile_m x tile_n run on `units` SMs and a main loop over
/// k costs as k + k_half.
/// - Data-parallel: waves of tiles, a last, partly filled wave costing a whole one:
///   e = e_inf x wave x k / (k + k_half), wave = tiles / (ceil(tiles / units) x units).
/// - Split-K (tiles < units): s <= ceil(units / tiles) slices of ceil(k / s), and the s - 1 partial
///   FP32 tiles written and read back: 1/e = 1/(e_inf x wave(s) x k_s/(k_s + k_half)) + 4 (s-1) B / k.
/// - Stream-K hybrid: full waves data-parallel, the rest's iterations spread over every unit (one
///   start-up each) and one partial FP32 tile per unit written and read back.
/// B = `flops_per_byte`: peak FLOP/s over usable HBM bytes/s; 0 keeps data-parallel only.
double gemm_shape_efficiency(const GemmShape& shape, double e_inf, int tile_m, int tile_n, double k_half, int units,
                             double flops_per_byte);

class ComputeCostModel {
 public:
  /// `profile` may be null (preset defaults). The model keeps a copy of what it needs.
  explicit ComputeCostModel(const GpuSpec& gpu, const CalibrationProfile* profile = nullptr);

  /// Seconds for one compute op (collectives cost 0 here: the network model times them).
  double op_seconds(const Op& op) const;

  /// Fraction of the BF16 peak a GEMM reaches: gemm_shape_efficiency with e_inf chosen so that
  /// the 8192^3 reference reaches the preset's efficiency; corrected by nearby measured shapes.
  double gemm_efficiency(const GemmShape& shape) const;
  /// Fraction of peak for fused causal attention: e_inf x s_kv / (s_kv + s_half) (same anchoring),
  /// corrected by nearby measured points; FlashAttention-2 (shape.kernel) at the GPU's
  /// efficiency.flash2 / efficiency.attention ratio of that.
  double attention_efficiency(const AttentionShape& shape, bool backward) const;
  /// True when a calibration profile is in use but this shape is far from every measured one
  /// (GEMM, attention: no measured shape within a factor of 2; element-wise: its class was not
  /// measured, or the op's bytes lie outside the measured range by more than a factor of 2).
  bool extrapolated(const Op& op) const;

  double peak_flops() const { return peak_; }
  double hbm_bandwidth() const { return hbm_; }

 private:
  double parametric_gemm(const GemmShape& s) const;
  double parametric_attention(std::int64_t seq_kv, bool backward) const;
  const ElementwiseFit* elementwise_fit(const Op& op) const;

  double peak_ = 0, hbm_ = 0, hbm_eff_ = 0, overhead_ = 0;
  int sms_ = 1, tile_m_ = 128, tile_n_ = 256, k_half_ = 128;
  double gemm_inf_ = 0, att_fwd_inf_ = 0, att_bwd_inf_ = 0, seq_half_ = 256;
  double flash2_fwd_ratio_ = 1, flash2_bwd_ratio_ = 1;  ///< FlashAttention-2 over the fused kernel
  double max_efficiency_ = 1;  ///< of this GPU's peak; a profile's peak over it raises it
  std::vector<GemmPoint> gemm_points_;
  std::vector<AttentionPoint> attention_points_;
  std::map<std::string, ElementwiseFit> elementwise_;
  bool calibrated_ = false;
};

}  // namespace herd::model
