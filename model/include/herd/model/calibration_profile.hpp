#pragma once
// A calibration profile: efficiencies fitted to measurements on a real device (written by
// herd-calibrate, read by the compute cost model and the network model). Format
// "herd-calibration", version 2 (version 1 files are still read), documented in
// docs/calibration.md. Every field is optional: what is absent keeps the GPU preset's default.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/hardware.hpp"

namespace herd::model {

struct Scenario;
struct GpuSpec;

inline constexpr int kCalibrationProfileVersion = 2;

/// One measured GEMM: shape, the fraction of the profile's peak it reached, and the fit's
/// residual ln(measured / parametric) at that shape.
struct GemmPoint {
  std::int64_t m = 0, n = 0, k = 0;
  double efficiency = 0;
  double residual = 0;
};

/// One measured fused-attention call: keys per query row and the fraction of peak reached.
struct AttentionPoint {
  std::int64_t seq_kv = 0;
  int heads_q = 0;
  bool backward = false;
  double efficiency = 0;
  double residual = 0;
};

/// One class of element-wise kernel ("rmsnorm", "rope_bwd", "copy", ...): the fraction of the
/// profile's memory bandwidth it reaches (bytes as the workload model counts them) and the range
/// of sizes it was measured over.
struct ElementwiseFit {
  double efficiency = 0;
  double min_bytes = 0, max_bytes = 0;
  double rms_log_residual = 0;
};

/// Fit of one collective at one scope (nccl-tests conventions: `bytes` is the buffer size, time
/// is per call). t(S) = alpha + S / bandwidth outside the measured range; inside it, the measured
/// (bytes, seconds) medians interpolated log-log (NCCL's bandwidth ramps with size, which one
/// alpha-beta line does not follow; docs/calibration.md shows the residuals).
struct CollectiveFit {
  double alpha_s = 0;
  double bandwidth = 0;                 ///< bytes/s of algorithm bandwidth at large sizes
  double min_bytes = 0, max_bytes = 0;  ///< measured range
  int ranks = 0, nodes = 0;             ///< 0 when unknown
  std::vector<std::pair<double, double>> points;  ///< (bytes, seconds), ascending bytes
  double rms_log_residual = 0;          ///< of the alpha-beta line over the points
  bool operator==(const CollectiveFit&) const = default;
};

struct CalibrationProfile {
  std::string source;          ///< the file it came from
  std::string gpu_name;        ///< device name as the driver (or OS) reports it
  std::string backend;         ///< "cuda", "cpu", "nccl-tests", "kineto" ("" when unknown)
  nlohmann::json measured_on;  ///< driver, CUDA/cuBLAS/NCCL versions, clocks, date
  /// The peaks the efficiencies below are fractions of. When set, the cost model keeps the
  /// measured throughput (efficiency x this peak) whatever the preset's peak is.
  std::optional<double> peak_flops;        ///< FLOP/s
  std::optional<double> memory_bandwidth;  ///< bytes/s
  std::optional<int> parallel_units;       ///< SMs (CPU: worker threads) for wave quantisation
  // Parametric compute model (see ComputeCostModel); absent fields keep the preset's value.
  std::optional<double> gemm_efficiency;   ///< at the 8192^3 reference shape, as in the GPU preset
  std::optional<int> gemm_tile_m, gemm_tile_n, gemm_k_half;
  std::optional<double> attention_fwd_efficiency, attention_bwd_efficiency;  ///< at 8K keys
  std::optional<double> attention_seq_half;
  std::string attention_impl;              ///< the kernel measured ("herd-flash-wmma", "flash_fwd", ...)
  std::optional<double> hbm_efficiency;    ///< element-wise ops without a class of their own
  std::optional<double> kernel_overhead_s;
  /// Speed of a layer run back to back once the device settled, over its speed in the first runs
  /// (power and thermal limits lowering the clocks); scales the GEMM and attention efficiencies,
  /// which come from short runs. At most 1.
  std::optional<double> sustained_fraction;
  std::vector<GemmPoint> gemm_points;      ///< measured shapes, for interpolation
  std::vector<AttentionPoint> attention_points;
  std::map<std::string, ElementwiseFit> elementwise;  ///< by elementwise_class()
  std::map<std::string, CollectiveFit> collectives;   ///< "all_reduce/intra_node", "all_gather/inter_node", ...
  /// Fraction of the NIC line rate the scale-out network carries (replaces `cluster.nic.efficiency`;
  /// fitted from training runs by herd-calibrate fit-runs when the runs can tell it apart). At most 1.
  std::optional<double> nic_efficiency;
  /// Free-form sections written by herd-calibrate and passed through: "fit" (residual summary
  /// per op class), "validation" (measured vs predicted whole-layer times), "sources".
  nlohmann::json report = nlohmann::json::object();
};

/// The element-wise kernel class a workload op name belongs to: "attn_norm", "mlp_norm" and
/// "final_norm" are "rmsnorm" (their backward "rmsnorm_bwd"); other names are their own class.
std::string_view elementwise_class(std::string_view op_name);

/// Seconds for one call of a fitted collective with a `bytes` buffer (see CollectiveFit).
double collective_seconds(const CollectiveFit& fit, double bytes);
/// True when `bytes` lies outside the measured range by more than a factor of 2.
bool collective_extrapolated(const CollectiveFit& fit, double bytes);
/// The fit among `fits` for collective `op` ("all_reduce", model::to_string(Collective)) over
/// `ranks` ranks on `nodes` nodes: the one named "op/intra_node" (one node) or "op/inter_node",
/// or that name followed by "/ranks" (how herd-calibrate names a collective measured over several
/// rank counts), whose recorded rank count, and node count across nodes, match where recorded.
/// Null when there is none.
const CollectiveFit* find_collective_fit(const CollectiveFits& fits, std::string_view op, int ranks, int nodes);
/// The profile's measured collectives attached to `cluster` (ClusterSpec::measured_collectives),
/// so the network model costs them from the measured curves; a profile without any leaves it as
/// it is.
void use_measured_collectives(ClusterSpec& cluster, const CalibrationProfile& profile);

/// Parses a profile document. Throws ValueError with the JSON pointer at fault.
CalibrationProfile calibration_profile_from_json(const nlohmann::json& doc);
/// Reads a profile file. Throws InputError naming the file and pointer.
CalibrationProfile load_calibration_profile(const std::filesystem::path& file);
/// The document form (what herd-calibrate writes), always the current version.
nlohmann::json to_json(const CalibrationProfile& profile);

/// The profile a prediction for `scenario` uses: the file `cli_override` names when it is not
/// empty (relative to the working directory), else the scenario's `calibration` key (relative to
/// the scenario file, or to the working directory when it came from --set), else none.
/// Throws InputError: an unreadable or invalid override names that file; an unreadable profile
/// named by the scenario names the scenario's source and the pointer "/calibration".
std::optional<CalibrationProfile> profile_for(const Scenario& scenario, const std::string& cli_override);

/// A one-line warning when the profile was measured on a device other than `gpu` (its name
/// shares no model token such as "H100" with the preset's), else "".
std::string profile_mismatch(const CalibrationProfile& profile, const GpuSpec& gpu);

}  // namespace herd::model
