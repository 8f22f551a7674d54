#pragma once
// Fitting Herd's cost model to measurements (equations in docs/calibration.md):
//  * element-wise kernels: t = overhead + bytes / (bandwidth x efficiency[class]), one shared
//    overhead and one efficiency per class, by linear least squares on relative error;
//  * GEMMs: efficiency = e_inf x wave(m, n; tile, units) x k / (k + k_half), where
//    wave = tiles / (ceil(tiles / units) x units), by least squares in log space (e_inf in closed
//    form, k_half by a log-spaced scan refined by golden section, tiles from a candidate set);
//  * attention: efficiency = e[pass] x s_kv / (s_kv + s_half), least squares in log space;
//  * collectives: per (collective, scope), the alpha-beta line through the smallest and largest
//    measured sizes (latency and asymptotic bandwidth), and the measured points for interpolation.
// Compute efficiencies are net of the kernel overhead: efficiency = FLOPs / (peak x (t - overhead)),
// so the cost model (roofline + overhead) reproduces each measured time.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "herd/calibrate/measurement.hpp"
#include "herd/model/calibration_profile.hpp"
#include "herd/model/compute_cost.hpp"
#include "herd/model/hardware.hpp"

namespace herd::calibrate {

struct GemmModelFit {
  double e_inf = 0;          ///< asymptote
  double reference = 0;      ///< efficiency at 8192^3 (what the profile stores)
  int tile_m = 0, tile_n = 0, k_half = 0;
  std::vector<double> log_residuals;  ///< ln(measured / fitted), per point
};
/// Fits the GEMM model with `units` parallel units (SMs). With fewer than 4 distinct shapes only
/// e_inf is fitted and the tiles and k_half of `fixed` are kept; other tiles replace fixed's only
/// when they fit clearly better. `weights` (one per point, default 1) weigh the squared log
/// residuals. `flops_per_byte` (peak over usable memory bandwidth) enables split-K in the shape
/// model (model::gemm_shape_efficiency); 0 leaves it out. Throws model::ValueError when empty.
GemmModelFit fit_gemm_model(const std::vector<model::GemmPoint>& points, int units, const model::ComputeEfficiency& fixed,
                            const std::vector<double>& weights = {}, double flops_per_byte = 0);

struct AttentionModelFit {
  double fwd_inf = 0, bwd_inf = 0;        ///< asymptotes (0 when that pass was not measured)
  double fwd_reference = 0, bwd_reference = 0;  ///< at 8192 keys (what the profile stores)
  double seq_half = 0;
  std::vector<double> log_residuals;
};
/// With fewer than 2 distinct key counts only the asymptotes are fitted and `fixed_seq_half` is kept.
AttentionModelFit fit_attention_model(const std::vector<model::AttentionPoint>& points, double fixed_seq_half,
                                      const std::vector<double>& weights = {});

struct ElementwiseSample {
  std::string op_class;
  double bytes = 0, seconds = 0;
};
struct ElementwiseModelFit {
  double overhead_s = 0;
  std::map<std::string, double> seconds_per_byte;  ///< 1 / (bandwidth x efficiency)
  std::vector<double> log_residuals;
};
/// Throws model::ValueError when empty.
ElementwiseModelFit fit_elementwise_model(const std::vector<ElementwiseSample>& samples);

struct AlphaBeta {
  double alpha_s = 0, bandwidth = 0;
  double rms_log_residual = 0;  ///< of the line over all points
};
/// `points` are (bytes, seconds). Throws model::ValueError with fewer than 2 distinct sizes.
AlphaBeta fit_alpha_beta(std::vector<std::pair<double, double>> points);

/// One measured point against the fitted model.
struct Residual {
  std::string what;   ///< "gemm qkv_proj 8192x2304x16384 nn", "all_reduce/intra_node 1048576 B", ...
  double measured_s = 0, fitted_s = 0;
  double log_residual = 0;  ///< ln(measured / fitted)
};
struct ClassSummary {
  std::string op_class;  ///< "gemm", "attention", "elementwise", "all_reduce/intra_node", ...
  int points = 0;
  double rms_log_residual = 0, max_abs_log_residual = 0;
};
/// A whole layer, measured and predicted (sum of its compute ops' op_seconds, run one after another).
struct LayerCheck {
  std::string label;
  double measured_s = 0, default_s = 0, calibrated_s = 0;
  int extrapolated_ops = 0;  ///< ops of the layer outside the calibrated domain
};

struct FitOptions {
  /// The GPU whose preset efficiencies give the "before calibration" prediction and the fixed
  /// parameters of under-determined fits. Default: the GPU preset matching the device name, else
  /// the measured device's peaks with default efficiencies.
  std::optional<model::GpuSpec> baseline;
};

struct FitResult {
  model::CalibrationProfile profile;
  std::vector<Residual> residuals;
  std::vector<ClassSummary> summary;
  std::vector<LayerCheck> layers;
  std::vector<std::string> warnings;
  /// What the importers skipped and the GEMM and attention records of another dtype than
  /// fitted_dtype(device), which the fit leaves out; also in the profile's report.skipped.
  std::vector<SkippedOp> skipped;
};

/// Fits everything the sets hold: compute from the records of the set(s) with compute records
/// (which must share one device), collectives from all sets. Throws model::ValueError when there is
/// nothing to fit, or compute records come without a device peak.
FitResult fit(const std::vector<MeasurementSet>& sets, const FitOptions& options = {});

/// The GPU preset whose name shares a product token ("H100", "A100" + memory size) with
/// `device_name`, if any.
std::optional<model::GpuSpec> matching_gpu_preset(const std::string& device_name);
/// The measured device as a GpuSpec (peaks from `d`, default efficiencies).
model::GpuSpec measured_gpu_spec(const DeviceInfo& d);

/// The "before calibration" GPU for a device: the matching preset, else measured_gpu_spec.
model::GpuSpec baseline_gpu(const DeviceInfo& device);

/// Seconds the cost model predicts for a whole layer forward + backward: its compute ops one
/// after another (no collectives: the layer measured is a single-rank shard). Counts the ops
/// outside the calibrated domain into `extrapolated_ops` when given.
double predicted_layer_seconds(const model::ComputeCostModel& cost, const LayerDims& d, int* extrapolated_ops = nullptr);

/// Every layer record of `sets`, measured, predicted with `baseline`'s own efficiencies, and
/// predicted with `profile` (which need not come from these sets: a held-out check).
std::vector<LayerCheck> check_layers(const std::vector<MeasurementSet>& sets, const model::GpuSpec& baseline,
                                     const model::CalibrationProfile& profile);

}  // namespace herd::calibrate
