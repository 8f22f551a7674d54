#include "herd/app/scenario_loading.hpp"

#include <cstdio>
#include <set>

#include "herd/model/error.hpp"

namespace herd::app {

model::Scenario load_scenario(const std::string& file_or_name, const std::vector<std::string>& overrides) {
  std::vector<model::Override> parsed;
  for (const auto& text : overrides) parsed.push_back(model::parse_override(text));
  return file_or_name.empty() ? model::default_scenario(parsed) : model::load_scenario(file_or_name, parsed);
}

std::string scenario_origin(const model::Scenario& s) {
  std::string out = s.source;
  std::set<std::string> seen;
  for (const auto& [pointer, from] : s.provenance)
    if (from.rfind("--set ", 0) == 0 && seen.insert(from).second) out += (seen.size() == 1 ? " with " : " ") + from;
  return out;
}

model::Scenario load_resolved_scenario(const nlohmann::json& resolved, const std::string& source,
                                       const std::vector<std::string>& overrides) {
  std::vector<model::Override> parsed;
  for (const auto& text : overrides) parsed.push_back(model::parse_override(text));
  return model::scenario_from_json(resolved, source, {}, parsed);
}

std::optional<model::CalibrationProfile> calibration_profile(const model::Scenario& scenario, const std::string& file) {
  return model::profile_for(scenario, file);
}

model::Scenario with_profile(const model::Scenario& scenario, const model::CalibrationProfile* profile) {
  model::Scenario s = scenario;
  if (!profile) return s;
  const std::string from = "calibration profile " + profile->source;
  if (profile->nic_efficiency) {
    s.cluster.nic_efficiency = *profile->nic_efficiency;
    s.provenance["/cluster/nic/efficiency"] = from;
  }
  if (!profile->collectives.empty()) s.provenance["/cluster/collectives"] = from;
  model::use_measured_collectives(s.cluster, *profile);
  return s;
}

ComputeLevel compute_level(const model::Scenario& scenario, const model::CalibrationProfile* profile) {
  if (profile && profile->sustained_fraction) return {*profile->sustained_fraction, "calibration profile " + profile->source};
  return {scenario.cluster.gpu.efficiency.sustained, scenario.source_of("/cluster/gpu/efficiency/sustained")};
}

nlohmann::json to_json(const ComputeLevel& level) { return {{"sustained", level.sustained}, {"origin", level.origin}}; }

std::string describe(const ComputeLevel& level) {
  char value[32];
  std::snprintf(value, sizeof value, "%.3g", level.sustained);
  return "sustained " + std::string(value) + " of the burst efficiencies (" + level.origin + ")";
}

void time_overflow(const model::Scenario& scenario) {
  std::string keys, profile;
  for (const auto& [pointer, from] : scenario.provenance) {
    if (from.rfind("--set ", 0) == 0 && keys.size() < 120) keys += (keys.empty() ? "" : ", ") + pointer;
    if (from.rfind("calibration profile ", 0) == 0 && profile.size() < 120)
      profile += (profile.empty() ? from + ": " : ", ") + pointer;
  }
  std::string culprits = keys.empty() ? std::string() : "--set: " + keys;
  if (!profile.empty()) culprits += (culprits.empty() ? "" : "; ") + profile;
  throw model::InputError(scenario.source, "",
                          "simulated time passes 64-bit nanoseconds (about 292 years): a size, rate, bandwidth or "
                          "latency out of proportion" + (culprits.empty() ? std::string() : " (" + culprits + ")"));
}

}  // namespace herd::app
