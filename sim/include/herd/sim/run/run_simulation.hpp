#pragma once
// A training run, Monte Carlo over failure histories: time-to-train, effective training time,
// interruptions by category, time lost by cause, GPU-hours, and the checkpoint interval used next
// to the simulated optimum and Young/Daly. Trials run in parallel (oneTBB); the result depends on
// the seed only, not on the number of threads.
#include <cstdint>
#include <string>
#include <vector>

#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/run/run_model.hpp"
#include "herd/sim/run/step_time.hpp"
#include "herd/sim/run/trial.hpp"

namespace herd::sim::run {

struct Distribution4 {
  double mean = 0, p10 = 0, p50 = 0, p90 = 0;
};
/// Mean and percentiles (linear interpolation between order statistics).
Distribution4 summarize(std::vector<double> values);

struct CategoryCount {
  std::string name;
  double mean = 0;  ///< per trial
};

struct RunReport {
  std::string name;
  std::string step_time_source;
  std::vector<Phase> phases;
  int trials = 0;
  std::uint64_t seed = 0;
  double token_budget = 0, window_s = 0;
  double ideal_s = 0;                  ///< failure-free time to train the budget (0 with only a window)
  Distribution4 elapsed_s;             ///< time-to-train (window: the window)
  Distribution4 effective_training_time;
  Distribution4 tokens;
  double planned = 0, unexpected = 0;  ///< mean per trial
  double unexpected_stderr = 0;        ///< standard error of `unexpected`
  double during_recovery = 0;
  std::vector<CategoryCount> by_category;  ///< first-seen order of the failure classes
  std::vector<CategoryCount> by_class;
  TimeLost lost;                       ///< mean per trial, seconds
  double checkpoints = 0;              ///< mean durable checkpoints per trial
  double fewest_replicas = 0;          ///< mean of each trial's smallest DP width
  double gpu_hours = 0;                ///< mean elapsed x allocated GPUs
  double allocated_gpus = 0;
  model::CheckpointMode checkpoint_mode = model::CheckpointMode::sync;
  CheckpointCost checkpoint;
  double checkpoint_interval_s = 0;    ///< used
  bool interval_given = false;         ///< from the scenario (else the simulated optimum is used)
  double optimal_interval_s = 0;       ///< simulated optimum
  double young_interval_s = 0, daly_interval_s = 0;
  double mtbf_s = 0;                   ///< unexpected interruptions of the job
  double recovery_s = 0;               ///< detection + relaunch + load with the default detection
  int unfinished_trials = 0;
};

class RunSimulation {
 public:
  /// Builds the run model of `scenario`, timing each phase with `step_time`. Throws model::InputError.
  RunSimulation(const model::Scenario& scenario, StepTimeSource step_time);
  /// For tests and tools that build a model by hand.
  explicit RunSimulation(RunModel model, std::string step_time_source = "given");

  const RunModel& model() const { return model_; }

  /// Trials 0..n-1 with `interval_s` between checkpoints, in parallel, in trial order.
  std::vector<TrialResult> trials(std::uint64_t seed, int n, double interval_s) const;
  /// Mean elapsed / mean failure-free time of trials 0..n-1: minimised by the best interval.
  double overhead(std::uint64_t seed, int n, double interval_s) const;
  /// The interval minimising `overhead`, found by golden-section search on log(interval) with the
  /// same failure histories at every candidate (common random numbers). Reports each iteration to
  /// `control` and throws Cancelled when it asks to stop (checked between iterations).
  double optimal_interval(std::uint64_t seed, int n, const Control& control = {}) const;
  /// The whole analysis: optimum, then `trials` at the scenario's interval (or the optimum).
  /// Reports each batch of trials to `control`; throws Cancelled when it asks to stop (checked
  /// between iterations and batches).
  RunReport run(int trials, std::uint64_t seed, const Control& control = {}) const;
  /// One trial with its events, at the interval `run` would use.
  RunTimeline timeline(std::uint64_t seed, std::uint64_t trial, double interval_s) const;

 private:
  RunModel model_;
  std::string step_time_source_;
};

}  // namespace herd::sim::run
