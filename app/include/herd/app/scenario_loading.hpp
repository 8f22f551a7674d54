#pragma once
// Loading what every use case starts from: the scenario (file, built-in or model preset, with
// `--set`-style overrides) and the calibration profile its predictions use.
#include <optional>
#include <string>
#include <vector>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/scenario.hpp"

namespace herd::app {

/// The scenario `file_or_name` names (a file, a built-in scenario such as "llama3-405b-16k", or a
/// model preset; empty: the built-in default, Llama 3 405B on 16,384 H100) with `overrides`
/// applied, each "path=value" as `--set` takes it ("plan.tp=4", "cluster.nic.bandwidth=200 Gbps").
/// Throws model::InputError naming the source and JSON pointer at fault.
model::Scenario load_scenario(const std::string& file_or_name, const std::vector<std::string>& overrides = {});

/// The calibration profile the predictions for `scenario` use: `file` when it is not empty (a
/// `--calibration` flag or a GUI's file chooser), else the scenario's `calibration` key, else
/// none. Throws model::InputError (model::profile_for).
std::optional<model::CalibrationProfile> calibration_profile(const model::Scenario& scenario,
                                                             const std::string& file = {});

/// `scenario` as predictions with `profile` see it: the profile's measured collectives attached to
/// its cluster (model::use_measured_collectives), so the network model costs them from the measured
/// curves (docs/models/network.md). Null profile: `scenario` as it is.
model::Scenario calibrated_scenario(model::Scenario scenario, const model::CalibrationProfile* profile);

}  // namespace herd::app
