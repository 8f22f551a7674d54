#pragma once
// Everything one trial of a training run needs, as plain data: the phases of the batch schedule
// with their token rates, the failure processes with their job-wide rates, checkpoint and restart
// costs, spares. Built once from a scenario (build_run_model) or by hand in tests.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "herd/model/reliability.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/run/checkpoint.hpp"
#include "herd/sim/run/step_time.hpp"

namespace herd::sim::run {

/// One phase of the batch schedule, from `start_tokens` until `end_tokens`.
struct Phase {
  double start_tokens = 0;
  double end_tokens = std::numeric_limits<double>::infinity();
  std::int64_t seq_len = 0;
  std::int64_t global_batch = 0;   ///< sequences per step
  double step_time_s = 0;          ///< with every DP replica present
  int gpus = 0;
  int dp = 1;
  double tokens_per_step() const { return double(seq_len) * double(global_batch); }
  double tokens_per_s() const { return tokens_per_step() / step_time_s; }
};

/// The most interruptions expected within one recovery and step (rate x window) a scenario may
/// ask for: beyond it the job makes no progress (e^10 restarts per step survived) and is refused.
/// Llama 3 405B's 16K-GPU job sits near 0.1 (an interruption every ~3 h; arXiv:2407.21783).
inline constexpr double kMaxInterruptionsPerWindow = 10;

/// A failure class with its rate for the whole job.
struct FailureProcess {
  std::string name, category;
  double rate_per_s = 0;           ///< job-wide: class rate x component count x multipliers
  model::Distribution distribution = model::Distribution::exponential;
  double weibull_shape = 1;
  double detection_s = 0;
  bool replaces_node = false;
};

struct RunModel {
  std::string name;
  std::vector<Phase> phases;       ///< in token order; the first starts at 0
  double token_budget = 0;         ///< 0: no budget (window only)
  double window_s = 0;             ///< 0: run until the budget is trained
  std::vector<FailureProcess> failures;
  double planned_rate_per_s = 0;
  double detection_s = 0;          ///< default detection time (classes may have their own)
  double relaunch_s = 0;           ///< relaunch + communicator set-up for the job's GPUs
  model::CheckpointMode checkpoint_mode = model::CheckpointMode::sync;
  CheckpointCost checkpoint;
  double interval_s = 0;           ///< the scenario's interval; 0: the simulated optimum
  model::SpareSpec spares;
  int dp = 1;                      ///< DP replicas of the job's plan
  int replicas_per_node = 1;       ///< DP replicas a node failure takes away when shrinking
  double allocated_gpus = 0;       ///< GPUs the job holds for the whole run (GPU-hours)

  /// Tokens after `useful_s` seconds of training from `tokens` at `capacity` (fraction of DP replicas).
  double tokens_after(double tokens, double useful_s, double capacity) const;
  /// Seconds of training from `from` to `to` tokens at `capacity`.
  double useful_to_reach(double from, double to, double capacity) const;
  /// Failure-free seconds to train `tokens` from 0 with every replica.
  double ideal_time(double tokens) const;
  /// Index of the phase training token `tokens`.
  std::size_t phase_at(double tokens) const;
  /// Mean time between unexpected interruptions of the job (1 / sum of rates), seconds.
  double mtbf_s() const;
  /// Recovery after an unexpected failure detected in `detection_s`: detection + relaunch + load.
  double recovery_s(double detect_s) const { return detect_s + relaunch_s + checkpoint.load_s; }
};

/// Settings of `run` that are not part of the model of one trial.
struct MonteCarloSettings {
  int trials = 1000;
  std::uint64_t seed = 1;
};

/// The run model of a scenario: phases from run.batch_schedule (each phase's scenario is the base
/// with the phase's seq_len, global batch and `set` overrides, timed by `step_time`), failures from
/// the reliability section scaled by the cluster's component counts, checkpoint costs.
/// Throws model::InputError (bad input, or neither run.tokens nor run.window given).
RunModel build_run_model(const model::Scenario& base, const StepTimeFn& step_time);
/// The scenario of each batch-schedule phase.
std::vector<model::Scenario> phase_scenarios(const model::Scenario& base);
MonteCarloSettings monte_carlo_settings(const model::Scenario& base);

}  // namespace herd::sim::run
