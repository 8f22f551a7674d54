#include "herd/app/simulate_use_case.hpp"

#include <optional>

#include "herd/app/scenario_loading.hpp"
#include "herd/engine/time_overflow.hpp"
#include "herd/model/error.hpp"

namespace herd::app {

SimulateResult simulate(const SimulateRequest& request, const sim::Control& control) {
  SimulateResult result;
  const std::optional<model::CalibrationProfile> profile = calibration_profile(request.scenario, request.calibration_file);
  const model::Scenario s = with_profile(request.scenario, profile ? &*profile : nullptr);
  result.level = compute_level(s, profile ? &*profile : nullptr);
  sim::StepOptions options;
  options.per_rank = request.per_rank;
  options.trace = request.trace;
  if (profile) {
    options.calibration = &*profile;
    result.calibration_warning = model::profile_mismatch(*profile, s.cluster.gpu);
  }
  // A fabric that cannot be built is the scenario's fault: input at fault (exit code 2).
  try {
    result.report = request.simulator ? request.simulator->simulate(s, options, control)
                                      : sim::simulate_step(s, options, control);
  } catch (const model::ValueError& e) {
    s.fail(e.pointer(), e.message());
  } catch (const engine::TimeOverflow&) {
    time_overflow(s);
  }
  return result;
}

nlohmann::json to_json(const SimulateResult& result) {
  nlohmann::json j = sim::step_report_json(result.report);
  j["compute_level"] = to_json(result.level);
  return j;
}

}  // namespace herd::app
