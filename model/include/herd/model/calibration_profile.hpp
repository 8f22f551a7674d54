#pragma once
// A calibration profile: efficiencies fitted to measurements on a real GPU (written by
// herd-calibrate, read by the compute cost model). Format "herd-calibration" version 1, documented
// in docs/calibration.md. Every field is optional: what is absent keeps the GPU preset's default.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace herd::model {

/// One measured GEMM: shape and the fraction of the dense BF16 peak it reached.
struct GemmPoint {
  std::int64_t m = 0, n = 0, k = 0;
  double efficiency = 0;
};

/// One measured fused-attention call: keys per query row and the fraction of peak reached.
struct AttentionPoint {
  std::int64_t seq_kv = 0;
  int heads_q = 0;
  bool backward = false;
  double efficiency = 0;
};

/// Alpha-beta fit of one collective at one scope: t(S) = alpha + S / bandwidth (algbw).
struct CollectiveFit {
  double alpha_s = 0;
  double bandwidth = 0;  ///< bytes/s of algorithm bandwidth at large sizes
  double min_bytes = 0, max_bytes = 0;  ///< measured range
};

struct CalibrationProfile {
  std::string source;     ///< the file it came from
  std::string gpu_name;   ///< as the driver reports it
  nlohmann::json measured_on;  ///< driver, CUDA/cuBLAS/NCCL versions, clocks, date
  // Parametric compute model (see ComputeCostModel); absent fields keep the preset's value.
  std::optional<double> gemm_efficiency;       ///< asymptotic, as in the GPU preset
  std::optional<int> gemm_tile_m, gemm_tile_n, gemm_k_half;
  std::optional<double> attention_fwd_efficiency, attention_bwd_efficiency;
  std::optional<double> attention_seq_half;
  std::optional<double> hbm_efficiency;
  std::optional<double> kernel_overhead_s;
  std::vector<GemmPoint> gemm_points;           ///< raw measured shapes, for interpolation
  std::vector<AttentionPoint> attention_points;
  std::map<std::string, CollectiveFit> collectives;  ///< "all_reduce/intra_node", "all_gather/inter_node", ...
};

/// Parses a profile document. Throws ValueError with the JSON pointer at fault.
CalibrationProfile calibration_profile_from_json(const nlohmann::json& doc);
/// Reads a profile file. Throws InputError naming the file and pointer.
CalibrationProfile load_calibration_profile(const std::filesystem::path& file);
/// The document form (what herd-calibrate writes).
nlohmann::json to_json(const CalibrationProfile& profile);

}  // namespace herd::model
