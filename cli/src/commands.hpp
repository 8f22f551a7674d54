#pragma once
// Each command registers itself on the CLI11 app; `action` is run after parsing succeeded.
#include <functional>
#include <optional>
#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "herd/cli/app.hpp"
#include "herd/model/calibration_profile.hpp"
#include "herd/model/scenario.hpp"

namespace herd::cli {

struct Streams {
  std::ostream& out;
  std::ostream& err;
};

using Action = std::function<int(Streams)>;

/// Options every scenario-reading command takes: SCENARIO (file, built-in or model preset) and --set.
struct ScenarioOptions {
  std::string scenario;
  std::vector<std::string> sets;
  void add_to(CLI::App& cmd);
  model::Scenario load() const;  ///< throws model::InputError
};

/// `--calibration FILE` for the commands whose predictions use the compute cost model.
struct CalibrationOption {
  std::string file;
  void add_to(CLI::App& cmd);
  /// The profile to use: the flag's file, else the scenario's `calibration` key; nullopt when neither.
  std::optional<model::CalibrationProfile> load(const model::Scenario& s) const;
};

Action add_model_command(CLI::App& app);
Action add_collective_command(CLI::App& app);
Action add_scenario_command(CLI::App& app);
Action add_simulate_command(CLI::App& app);
Action add_train_command(CLI::App& app);

/// Text table helpers shared by commands.
std::string pad(std::string text, std::size_t width, bool right = false);
std::string group_digits(long long value);

}  // namespace herd::cli
