#pragma once
// What a whole training run draws and costs: each phase's steps at their simulated power, the
// cluster waiting through checkpoint stalls and failure detection, idle while the job is down
// (restarts, spares, checkpoint loads, planned maintenance) (docs/models/power.md).
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/sim/power/step_power.hpp"
#include "herd/sim/run/run_simulation.hpp"
#include "herd/sim/run/timeline.hpp"

namespace herd::sim {

/// The cluster's IT power in each part of a run, watts.
struct RunPowerLevels {
  std::vector<double> train_mean_w;  ///< per batch-schedule phase: mean over its step
  std::vector<double> train_peak_w;  ///< per phase: highest window mean of its step
  std::vector<double> train_min_w;   ///< per phase: lowest window mean of its step
  std::vector<double> train_gpu_w;   ///< per phase: the GPUs' share of the mean
  double stalled_w = 0;  ///< the job up, every GPU waiting: checkpoint stalls, failure detection
  double down_w = 0;     ///< no job: every GPU idle, servers and switches on
  double stalled_gpu_w = 0, down_gpu_w = 0;  ///< the GPUs' share
  double pue = 1;
  double price_per_mwh = 0;
  /// The level of a timeline span (train spans: their phase's mean).
  double level_w(run::SpanKind kind, int phase) const;
};

/// Levels from each phase's step power (in phase order; one entry serves every phase) and the setup.
RunPowerLevels run_power_levels(const std::vector<StepPower>& phases, const PowerSetup& setup, double price_per_mwh);

struct RunEnergy {
  double it_energy_j = 0, facility_energy_j = 0, gpu_energy_j = 0;
  double cost = 0;            ///< facility energy x price
  double train_j = 0, stalled_j = 0, down_j = 0;  ///< IT energy by part of the run
  double mean_it_w = 0;       ///< over the run's elapsed time
  double mean_gpu_w = 0;      ///< per GPU, over the run's GPU-hours
  /// Swings of the cluster's IT power (positive: a drop from training to the state).
  double checkpoint_drop_w = 0;  ///< the step's peak window down to every GPU waiting
  double restart_drop_w = 0;     ///< the step's peak window down to idle
  double step_swing_w = 0;       ///< within a step, largest over the phases
};

/// Mean energy of the report's trials (mean times by part of the run x the levels).
RunEnergy run_energy(const run::RunReport& report, const RunPowerLevels& levels);

/// The cluster's IT power through a timeline: one point per span start (a step function), and a
/// last point at its end.
struct PowerPoint {
  double t_s = 0, w = 0;
};
std::vector<PowerPoint> run_power_series(const run::RunTimeline& timeline, const RunPowerLevels& levels);

nlohmann::json run_energy_json(const RunEnergy& e, const RunPowerLevels& levels);
/// What run_energy_json wrote: the energy, and the levels it names (not the GPUs' shares of them,
/// which it does not write). Throws nlohmann::json::exception for what it cannot read.
std::pair<RunEnergy, RunPowerLevels> run_energy_from_json(const nlohmann::json& j);

/// A run timeline's Chrome trace (run::timeline_chrome_json) with the cluster's IT power as a
/// counter track ("cluster power (IT)", MW) in the run's process.
std::string timeline_chrome_json_with_power(const run::RunTimeline& timeline, const std::string& title,
                                            const RunPowerLevels& levels);

}  // namespace herd::sim
