#pragma once
// `herd-calibrate fit-runs`: a calibration from training runs a team already has. Each run is a
// scenario (with overrides) and its measured step time; a small, declared set of physical
// parameters is fitted by least squares through the step simulator itself, per GPU kind, within
// physical bounds. The result carries each run's residual, its leave-one-out error, each
// parameter's uncertainty and warnings for what the runs cannot identify, and a calibration
// profile per GPU kind that `--calibration` reads. Model and method: docs/calibration.md.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"

namespace herd::app {

/// The parameters fit-runs may fit, each per GPU kind.
enum class FitParameter {
  sustained,  ///< cluster.gpu.efficiency.sustained: the fraction of the burst GEMM and attention speed kept
  attention,  ///< a factor on cluster.gpu.efficiency.attention_fwd and attention_bwd
  network,    ///< cluster.nic.efficiency: the fraction of NIC line rate the scale-out network carries
};
std::string_view to_string(FitParameter p);

/// One measured training run.
struct MeasuredRun {
  std::string name;
  model::Scenario scenario;
  double step_time_s = 0;   ///< measured; a throughput given instead is converted with the scenario's tokens per step
  double uncertainty = 0;   ///< relative one-sigma error of the measurement; 0: not given
  std::string source;       ///< where the figure comes from (free text)
};

/// A runs file (format "herd-runs", docs/calibration.md): the runs and the parameters to fit.
struct RunsFile {
  std::string file;
  std::string description;
  std::vector<MeasuredRun> runs;
  std::vector<FitParameter> parameters;
};

/// Reads a runs file; scenarios are named relative to it (or built-in names). Throws
/// model::InputError naming the file (or the scenario at fault) and the JSON pointer.
RunsFile load_runs_file(const std::filesystem::path& file);

struct FitRunsRequest {
  std::vector<MeasuredRun> runs;
  std::vector<FitParameter> parameters{FitParameter::sustained};
  bool leave_one_out = true;  ///< refit without each run in turn and predict it
  std::string description;    ///< written into the profiles' report
};

struct FittedParameter {
  std::string gpu;  ///< GPU kind (the preset's name)
  FitParameter parameter = FitParameter::sustained;
  std::string key;                 ///< the scenario key it sets
  double initial = 0, value = 0;   ///< the runs' own value, the fitted one
  double lower = 0, upper = 0;     ///< physical bounds
  double sigma = 0;                ///< one-sigma uncertainty from the fit's covariance
  bool identified = true;          ///< false: kept at `initial`, not written to the profile
  bool at_bound = false;
};

struct RunFit {
  std::string name, gpu;
  double measured_s = 0;
  double initial_s = 0;   ///< simulated with the runs' own parameters (the presets')
  double fitted_s = 0;    ///< simulated with the fitted parameters
  double loo_s = 0;       ///< simulated with the parameters fitted without this run (0: not computed)
  /// Throughput errors (measured / simulated - 1; positive: the simulation is too fast).
  double initial_error() const { return measured_s / initial_s - 1; }
  double fitted_error() const { return measured_s / fitted_s - 1; }
  double loo_error() const { return loo_s > 0 ? measured_s / loo_s - 1 : 0; }
};

struct FitRunsResult {
  std::vector<FittedParameter> parameters;
  std::vector<RunFit> runs;
  std::vector<std::string> warnings;
  std::map<std::string, model::CalibrationProfile> profiles;  ///< by GPU kind
  int simulations = 0;
  double rms_residual = 0;       ///< of ln(simulated / measured) at the fit
  double loo_mean_abs_error = 0; ///< mean |leave-one-out throughput error| (0 when not computed)
};

/// The fit. Reports simulations done to `control`. Throws model::InputError for a run whose
/// scenario cannot be simulated (naming it), sim::Cancelled on stop.
FitRunsResult fit_runs(const FitRunsRequest& request, const sim::Control& control = {});

nlohmann::json to_json(const FitRunsResult& result);

}  // namespace herd::app
