#pragma once
// Loading what every use case starts from: the scenario (file, built-in or model preset, with
// `--set`-style overrides) and the calibration profile its predictions use.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/scenario.hpp"

namespace herd::app {

/// The scenario `file_or_name` names (a file, a built-in scenario such as "llama3-405b-16k", or a
/// model preset; empty: the built-in default, Llama 3 405B on 16,384 H100) with `overrides`
/// applied, each "path=value" as `--set` takes it ("plan.tp=4", "cluster.nic.bandwidth=200 Gbps").
/// Throws model::InputError naming the source and JSON pointer at fault.
model::Scenario load_scenario(const std::string& file_or_name, const std::vector<std::string>& overrides = {});
/// Where `s` came from, as a header shows it: its source and the overrides applied to it, by key
/// ("built-in llama3-8b with --set cluster.num_gpus=32 --set plan.tp=8"). A scenario's name stays
/// as its file wrote it, so this is what tells a changed GPU count or model.
std::string scenario_origin(const model::Scenario& s);
/// A resolved scenario (model::Scenario::resolved, as a saved result carries it) with `overrides`
/// ("plan.tp=4") on top; `source` names it in errors. Throws model::InputError.
model::Scenario load_resolved_scenario(const nlohmann::json& resolved, const std::string& source,
                                       const std::vector<std::string>& overrides = {});

/// The calibration profile the predictions for `scenario` use: `file` when it is not empty (a
/// `--calibration` flag or a GUI's file chooser), else the scenario's `calibration` key, else
/// none. Throws model::InputError (model::profile_for).
std::optional<model::CalibrationProfile> calibration_profile(const model::Scenario& scenario,
                                                             const std::string& file = {});

/// `scenario` as predictions with `profile` see it, beyond the compute cost model: the profile's NIC
/// efficiency (model::CalibrationProfile::nic_efficiency) and its measured collectives attached to
/// the cluster (model::use_measured_collectives), so the network model costs them from the measured
/// curves (docs/models/network.md). Null profile: `scenario` as it is.
model::Scenario with_profile(const model::Scenario& scenario, const model::CalibrationProfile* profile);

/// Simulated time past 64-bit nanoseconds (engine::TimeOverflow) is the scenario's fault: an input
/// error naming the scenario and the keys --set changed, the likeliest culprits.
[[noreturn]] void time_overflow(const model::Scenario& scenario);

/// The compute level a prediction uses: the fraction of the burst GEMM and attention efficiencies
/// the GPUs keep over a long run (`cluster.gpu.efficiency.sustained`, or a profile's
/// sustained_fraction), and where that value comes from.
struct ComputeLevel {
  double sustained = 1;
  /// "calibration profile <file>", "preset <GPU>" (the GPU preset's default), "--set <key>=<value>",
  /// or the scenario that states it.
  std::string origin;
};
ComputeLevel compute_level(const model::Scenario& scenario, const model::CalibrationProfile* profile);
/// {"sustained": ..., "origin": ...}
nlohmann::json to_json(const ComputeLevel& level);
/// "sustained 0.80 of the burst efficiencies (preset H100 SXM5 80GB)"
std::string describe(const ComputeLevel& level);

}  // namespace herd::app
