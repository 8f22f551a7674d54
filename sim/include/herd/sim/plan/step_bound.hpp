#pragma once
// A cheap lower bound on a layout's simulated step time, for pruning a search: what each pipeline
// stage must compute, at the compute cost model's own op durations, plus the pipeline's fill and
// drain that no schedule avoids. Communication is taken as free and never slows compute, so the
// simulation can only be slower (the planner checks it on every layout it simulates).
//
// For pipeline rank s with M micro-batches, W_s its compute work in the step (every forward,
// backward, recomputation and the optimizer), f_j / b_j the forward / backward of one micro-batch
// on a chunk of rank j:
//   head_s = sum_{j<s} f_j(first chunk)    — micro-batch 0 must cross ranks 0..s-1 before s starts
//   tail_s = sum_{j<s} min_c b_j(c)        — its last backward must still cross ranks s-1..0
//   T >= max_s max(head_s + W_s, head_s + W_s - opt_s + tail_s)
// and T >= sum_c (f_c + b_c) over every chunk c: one micro-batch's forward through the whole
// model and its backward back (with few micro-batches and many virtual stages, the binding one).
// (tail_s is 0 under zero-bubble, whose last op on a rank may be a deferred weight gradient).
// A rank's data-parallel collectives run one after another on its DP stream, so T is also at
// least their sum, each at the least time the fabric allows: a group of n ranks, `local` of them
// in one node, must move (n - local) / n of the buffer through the node's NICs, which the local
// members share: t >= (n - local) / n x bytes / (local x NIC line rate). Groups inside one node
// count as free.
// For V = 1 and equal stages this is the 1F1B time (M + p - 1)(f + b); with V chunks the fill
// shrinks to (p - 1)(f + b) / V, the interleaved schedule's.
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/compute_cost.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::sim::plan {

class StepBound {
 public:
  /// `profile` may be null (the GPU preset's efficiencies), as for the step simulation.
  /// The cluster's GPU count does not matter (each layout brings its own).
  StepBound(const model::TransformerSpec& m, const model::ClusterSpec& cluster, const model::CalibrationProfile* profile);

  /// Seconds; thread-safe (per-layer costs are memoised by the keys they depend on).
  double lower_bound_s(const model::PlanSpec& p) const;

  /// Compute work of the busiest pipeline rank alone (no fill or drain), seconds.
  double busiest_rank_work_s(const model::PlanSpec& p) const;

  /// Seconds of compute-stream kernels in one step, one GPU of each pipeline rank summed, split by
  /// the roofline the power model uses (docs/models/power.md): compute-bound when the FLOPs at the
  /// dense BF16 peak take at least as long as the HBM bytes at full bandwidth.
  struct KernelSeconds {
    double compute_bound = 0, memory_bound = 0;
  };
  KernelSeconds kernel_seconds(const model::PlanSpec& p) const;

 private:
  struct PassTimes {
    double forward = 0, backward = 0, backward_input = 0;  // input: without weight gradients
    double forward_compute_bound = 0, backward_compute_bound = 0;  // of forward, backward
  };
  struct LayerTimes {
    PassTimes layer, embedding, output;
  };
  using Key = std::tuple<int, int, int, int, bool, bool, int, bool, int, int, int, long long>;
  const LayerTimes& layer_times(const model::PlanSpec& p) const;
  struct Stages;
  Stages stages(const model::PlanSpec& p) const;

  /// Least seconds per byte of a DP x CP collective under p's rank layout (0: inside a node).
  double dp_seconds_per_byte(const model::PlanSpec& p) const;

  model::TransformerSpec model_;
  int gpus_per_node_ = 8;
  double nic_bandwidth_ = 0;
  double peak_flops_ = 0, hbm_bandwidth_ = 0;
  model::ComputeCostModel cost_;
  mutable std::mutex mutex_;
  mutable std::map<Key, std::unique_ptr<LayerTimes>> cache_;
};

/// A second, dearer bound (a lowering and the layout's prepared network, cached per rank layout,
/// instead of a simulation): the step replayed as the executor runs it, every op at its least
/// duration. Each stage's driver issues its work's ops in order; it starts a run of compute ops
/// when the compute stream is free and their dependencies have ended, and goes on past the run; it
/// waits at a receive for the matching send to have arrived, at a drain for every stream. An op
/// starts once issued, its stream is free (streams run their ops in issue order) and its
/// dependencies have ended. A compute op takes its uncontended time (communication kernels only
/// slow it); an op that leaves its node takes its latency plus its bytes over the least of its
/// rate bound and, for each contended slot it loads, the slot's capacity over its weight (what
/// shares them only slows it); one inside a node its fixed time. The replay is the simulation
/// without contention: every start no later, every duration no longer, so its makespan is a lower
/// bound, equal to the simulated step where nothing contends. Cost: one pass over the step's ops
/// (a few per cent of a simulation's).
double replay_lower_bound_s(const model::Scenario& s, const StepSimulator& simulator, const model::ComputeCostModel& cost);

}  // namespace herd::sim::plan
