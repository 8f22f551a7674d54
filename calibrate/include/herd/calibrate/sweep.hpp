#pragma once
// What to measure: the distinct ops of the workload model's layer programs for the chosen models
// and plans (GEMM M/N/K with their operand layout, attention sequence and heads, element-wise
// sizes), a memory-bandwidth probe, and the whole layers, as records with no times yet.
#include <string>
#include <string_view>
#include <vector>

#include "herd/calibrate/layer_dims.hpp"
#include "herd/calibrate/measurement.hpp"
#include "herd/model/workload.hpp"

namespace herd::calibrate {

/// How a GEMM's operands are stored, from its workload op name: "nn" (forward, y = x W),
/// "nt" (*_dgrad, dx = dy W^T), "tn" (*_wgrad, dW = x^T dy). For records, which carry only the name.
std::string_view gemm_layout(std::string_view op_name);
/// The same for a workload op: "tn" when it is a weight gradient (Op::weight_gradient).
std::string_view gemm_layout(const model::Op& op);

/// The layers to take ops from: the shard of `m` under `p` at every TP degree in `tps` that divides
/// the heads and MLP width, for every sequence length seq_len x fraction (rounded to a multiple of 16
/// and at least 16; duplicates dropped). Throws model::ValueError when none is valid.
std::vector<LayerDims> sweep_layers(const model::TransformerSpec& m, const model::PlanSpec& p, const std::vector<int>& tps,
                                    std::int64_t seq_len, const std::vector<double>& seq_fractions);

struct SweepPlan {
  std::vector<LayerDims> layers;
  std::vector<double> copy_bytes;  ///< bytes moved (read + written) by each copy probe
  bool whole_layers = true;        ///< also time each layer forward + backward end to end
  std::string dtype = "bf16";      ///< "bf16" (CUDA) or "fp32" (CPU); copy sizes use its width
};

/// Distinct records in program order: each op once per (shape, layout or pass); element-wise ops
/// under their elementwise_class(); FLOPs and bytes as model::layer_program counts them.
std::vector<Record> plan_records(const SweepPlan& plan);

}  // namespace herd::calibrate
