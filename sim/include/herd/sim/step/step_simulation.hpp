#pragma once
// One training step of the whole cluster, simulated: every pipeline stage runs its lowered program
// (sim/step/step_program.hpp) on streams, collectives go through a CommModel, pipeline transfers
// arrive when the network delivers them. Symmetric mode simulates one GPU per pipeline stage and
// counts its traffic for every copy; per-rank mode simulates every GPU (for stragglers).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/memory.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/step/comm_model.hpp"

namespace herd::sim {

struct StepOptions {
  bool per_rank = false;  ///< simulate every GPU instead of one per pipeline stage
  bool trace = false;     ///< record spans for --trace
  const model::CalibrationProfile* calibration = nullptr;
  /// What-ifs (per-rank mode): global rank -> fraction slower (0.2 = every compute op takes 1.2x).
  std::vector<std::pair<int, double>> slow_ranks;
};

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

struct TraceSpan {
  int rank = 0;              ///< simulated rank (symmetric mode: the pipeline stage)
  model::Stream stream = model::Stream::compute;
  const model::Op* op = nullptr;
  double start_s = 0, end_s = 0;
  double bytes = 0;
  CommGroup group = CommGroup::tp;
  int microbatch = -1, chunk = -1;
  bool backward = false;
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
  int simulated_ranks = 0;
  std::uint64_t events = 0;
  std::vector<TraceSpan> trace;
  std::shared_ptr<const StepPlan> plan;  ///< the lowered step; owns the ops the trace points to
};

/// The what-ifs a scenario asks for (`whatif.*`): stragglers become slow ranks; stragglers or
/// degraded NICs switch on per-rank mode. Everything else is left at its default.
StepOptions step_options_for(const model::Scenario& s);

/// Simulates one step. `comm` may be null: the closed-form (uncontended) model is used then.
/// Re-entrant: no shared state; many may run at once on different threads.
StepReport simulate_step(const model::Scenario& s, const StepOptions& options = {}, CommModel* comm = nullptr);

}  // namespace herd::sim
