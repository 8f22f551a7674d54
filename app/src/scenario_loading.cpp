#include "herd/app/scenario_loading.hpp"

namespace herd::app {

model::Scenario load_scenario(const std::string& file_or_name, const std::vector<std::string>& overrides) {
  std::vector<model::Override> parsed;
  for (const auto& text : overrides) parsed.push_back(model::parse_override(text));
  return file_or_name.empty() ? model::default_scenario(parsed) : model::load_scenario(file_or_name, parsed);
}

std::optional<model::CalibrationProfile> calibration_profile(const model::Scenario& scenario, const std::string& file) {
  return model::profile_for(scenario, file);
}

model::Scenario calibrated_scenario(model::Scenario scenario, const model::CalibrationProfile* profile) {
  if (profile) model::use_measured_collectives(scenario.cluster, *profile);
  return scenario;
}

}  // namespace herd::app
