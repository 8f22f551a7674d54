#pragma once
// Each command registers itself on the CLI11 app; `action` is run after parsing succeeded.
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "herd/cli/app.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"

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
  model::Scenario load() const;  ///< app::load_scenario; throws model::InputError
};

/// `--calibration FILE` for the commands whose predictions use the compute cost model; empty: the
/// scenario's `calibration` key (app::calibration_profile).
struct CalibrationOption {
  std::string file;
  void add_to(CLI::App& cmd);
  /// Standard input for the scenario or the profile, not both (check_stdin_once).
  void check(const std::string& scenario) const;
};

/// Progress lines "COMMAND: what done/total" on `err`, only once the work has taken more than a
/// second, and then at most twice a second (and at the end of each piece of work).
sim::Progress stderr_progress(std::ostream& err, std::string_view command);

Action add_model_command(CLI::App& app);
Action add_plan_command(CLI::App& app);
Action add_collective_command(CLI::App& app);
Action add_scenario_command(CLI::App& app);
Action add_simulate_command(CLI::App& app);
Action add_train_command(CLI::App& app);

/// `--csv FILE` for a command that prints a table: FILE checked before the run (exit 2), written
/// atomically at the end; "-" writes the CSV to standard output instead of the text, and is bad
/// input with --json (both would go to standard output).
struct CsvOption {
  std::string file;
  CLI::Option* option = nullptr;
  void add_to(CLI::App& cmd, const std::string& what);
  bool given() const { return option && option->count() > 0; }
  bool to_stdout() const { return given() && file == "-"; }
  /// Before the run: the path (check_output), and "-" against `json`.
  void check(bool json) const;
  /// After the run: `csv` to the file or standard output.
  void write(const std::string& csv, std::ostream& out) const;
};

/// Text table helpers shared by commands.
std::string pad(std::string text, std::size_t width, bool right = false);
std::string group_digits(long long value);

}  // namespace herd::cli
