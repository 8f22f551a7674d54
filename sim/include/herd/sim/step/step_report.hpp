#pragma once
// What a simulated training step reports: step time, throughput, MFU/HFU, where the time went on
// the rank that finished last, memory per stage and, on request, every op as a trace span. Plain
// values only (no references into the simulation), so a report may cross threads and outlive
// everything that produced it.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/memory.hpp"
#include "herd/model/workload.hpp"
#include "herd/sim/step/step_program.hpp"

namespace herd::sim {

/// Where the step time goes on the rank that finishes last; the parts add up to step_time_s.
struct StepBreakdown {
  double compute_s = 0;      ///< forward, backward and recomputation kernels
  double optimizer_s = 0;
  double exposed_tp_s = 0;   ///< waiting for tensor-parallel collectives
  double exposed_cp_s = 0;
  double exposed_pp_s = 0;   ///< waiting for a pipeline transfer already under way
  double exposed_dp_s = 0;   ///< waiting for data-parallel gathers and reductions
  double bubble_s = 0;       ///< waiting for the previous/next stage to produce its output
  double other_s = 0;
  double total() const {
    return compute_s + optimizer_s + exposed_tp_s + exposed_cp_s + exposed_pp_s + exposed_dp_s + bubble_s + other_s;
  }
};

/// An op that appears in the trace, described by value.
struct TraceOp {
  std::string_view name;  ///< "qkv_proj", "dp_reduce_scatter_grads", ... (static storage)
  model::OpKind kind = model::OpKind::elementwise;
  model::Pass pass = model::Pass::forward;
  model::Collective collective = model::Collective::all_reduce;
  model::GemmShape gemm;
  model::AttentionShape attention;
  double flops = 0;      ///< hardware FLOPs
  double hbm_bytes = 0;  ///< HBM bytes read + written
};

/// One op on one stream of one simulated rank.
struct TraceSpan {
  int rank = 0;  ///< simulated rank: the pipeline stage in symmetric mode, the global rank per rank
  model::Stream stream = model::Stream::compute;
  int op = 0;    ///< index into StepReport::trace_ops
  double start_s = 0, end_s = 0;
  double bytes = 0;  ///< communication: collective size or message
  CommGroup group = CommGroup::tp;
  int microbatch = -1, chunk = -1;
  bool backward = false;
  int layer = -1;    ///< model layer (0-based; -1: embedding, output, pipeline and data-parallel ops)
};

struct StepReport {
  std::string scenario;
  double step_time_s = 0;
  double tokens_per_step = 0;
  double tokens_per_s = 0;
  double model_flops_per_step = 0;
  double hardware_flops_per_step = 0;
  double tflops_per_gpu = 0;  ///< model TFLOP/s per GPU
  double mfu = 0;             ///< model FLOPs / (time x GPUs x dense BF16 peak)
  double hfu = 0;             ///< hardware FLOPs (with recomputation) / same
  StepBreakdown breakdown;
  int critical_rank = 0, critical_stage = 0;
  std::string bottleneck;     ///< the largest part of the breakdown after compute, in words
  std::vector<double> stage_finish_s;  ///< when each pipeline stage finished its step
  model::MemoryReport memory;
  bool fits = false;
  bool per_rank = false;      ///< every GPU simulated (else one per pipeline stage)
  int simulated_ranks = 0;
  std::uint64_t events = 0;         ///< events run, counting those of replicated periods
  std::uint64_t replicated_periods = 0;  ///< steady-state periods replicated, not simulated (StepOptions::skip_repeats)
  std::vector<TraceSpan> trace;     ///< with StepOptions::trace, in completion order
  std::vector<TraceOp> trace_ops;   ///< what the spans' ops are
  std::shared_ptr<const StepPlan> plan;  ///< the lowered step (immutable)
};

/// The step's invariant: each nanosecond of the critical rank's step is in at most one part of its
/// breakdown (busy, or waiting for one reason), so the parts add up to no more than the step.
/// A breakdown over the step is a bug that would print wrong numbers: invariant failure (abort),
/// naming `who`.
void check_breakdown(const StepBreakdown& b, double step_time_s, const std::string& who);

/// The breakdown as `herd simulate --json` prints it, and back.
nlohmann::json breakdown_json(const StepBreakdown& b);
StepBreakdown breakdown_from_json(const nlohmann::json& j);

/// The JSON object `herd simulate --json` prints (schema in docs/cli.md).
nlohmann::json step_report_json(const StepReport& report);

std::string_view to_string(CommGroup g);

}  // namespace herd::sim
