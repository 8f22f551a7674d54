#pragma once
// `herd train`: how long the whole run takes and what failures, checkpoints and restarts cost,
// Monte Carlo over failure histories (model and defaults: docs/models/reliability.md); and two
// runs side by side (`--compare`).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/app/scenario_loading.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/power/run_power.hpp"
#include "herd/sim/run/run_simulation.hpp"
#include "herd/sim/run/timeline.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::app {

struct TrainRequest {
  model::Scenario scenario;
  std::optional<int> trials;          ///< Monte Carlo trials; default: the scenario's run.trials
  std::optional<std::uint64_t> seed;  ///< seed of the trials; default: the scenario's run.seed
  bool timeline = false;              ///< also return trial 0's events
  bool power = true;                  ///< what the run draws and costs (TrainResult::power, energy)
  std::string calibration_file;       ///< empty: the scenario's `calibration` key, if any
  /// A platform shared with other calls for the phases' step simulations. Null: one of this
  /// call's own, shared by all its phases.
  const sim::StepSimulator* simulator = nullptr;
};

struct TrainResult {
  sim::run::RunReport report;
  /// Trial 0 at the interval the report used (sim::run::timeline_chrome_json); when asked.
  std::optional<sim::run::RunTimeline> timeline;
  ComputeLevel level;  ///< the compute level the step simulations used, and where it came from
  /// The cluster's power in each part of the run (sim::run_power_series draws it through `timeline`)
  /// and the run's mean energy and cost; when asked (TrainRequest::power).
  std::optional<sim::RunPowerLevels> power;
  std::optional<sim::RunEnergy> energy;
  /// A phase's plan does not fit in memory: what to tell the user first ("" when every phase fits).
  std::string memory_warning;
};

/// Each phase's step time is the scenario's given one (run.step_time, sim::run::prefer_given_step_time),
/// else the phase's step simulation with the scenario's what-ifs and calibration profile. Reports
/// the step simulations, the search for the optimal checkpoint interval and the trials to
/// `control`. Throws model::InputError for a run that cannot be modelled (no token budget nor
/// window, an unreadable calibration profile), sim::Cancelled when `control` asks to stop.
TrainResult train(const TrainRequest& request, const sim::Control& control = {});

/// The `herd train --json` object (schema in docs/models/reliability.md, "Output").
nlohmann::json to_json(const TrainResult& result);
/// `herd train --csv`: "figure,value", one row per figure of to_json (model::json_figures:
/// "time_to_train_days.p90", "phases.0.step_time_s", "energy.cost", ...).
std::string to_csv(const TrainResult& result);

struct TrainComparison {
  TrainResult a, b;
};

/// Two runs, one after the other on one platform (unless the requests bring theirs); the caller
/// gives both the same settings and overrides. Throws as train().
TrainComparison compare(const TrainRequest& a, const TrainRequest& b, const sim::Control& control = {});

/// The `herd train --compare --json` object: {"a": report, "b": report}.
nlohmann::json to_json(const TrainComparison& comparison);
/// `herd train --timeline FILE`: trial 0's timeline as Chrome trace-event JSON (Perfetto opens
/// it; with the cluster's power as a counter track when the result has it), carrying the run's
/// `--json` object under "herd_run_report", so that the file alone shows the run (herd-gui).
std::string run_timeline_file(const TrainResult& result, const std::string& title);

/// A training run read back from a file `herd train` wrote.
struct SavedRun {
  std::string label;   ///< the scenario's name; "A: name" and "B: name" for a comparison
  TrainResult result;  ///< report, compute level, power and energy; `timeline` when the file has it
};
/// Whether `doc` is such a file: `--timeline FILE` (a Chrome trace with "herd_run_timeline"),
/// `--json` (an object with "time_to_train_days") or `--compare --json` ({"a": ..., "b": ...}).
bool is_saved_run(const nlohmann::json& doc);
/// The runs `doc` holds (one, or A and B). Throws model::InputError naming `source` and the JSON
/// pointer of what cannot be read.
std::vector<SavedRun> read_saved_runs(const nlohmann::json& doc, const std::string& source);

/// `herd train --compare --csv`: "figure,a,b", the figures of both runs as to_csv(TrainResult)
/// names them (A's order, then those only B has); a figure one run lacks is empty there.
std::string to_csv(const TrainComparison& comparison);

}  // namespace herd::app
