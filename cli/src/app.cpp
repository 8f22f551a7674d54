#include "herd/cli/app.hpp"

#include <iostream>
#include <map>

#include "commands.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/cli/files.hpp"
#include "herd/cli/parse_errors.hpp"
#include "herd/model/error.hpp"

namespace herd::cli {

void ScenarioOptions::add_to(CLI::App& cmd) {
  cmd.add_option("scenario", scenario,
                 "Scenario file (-: read from standard input), built-in scenario or model preset (default: "
                 "llama3-405b-16k, Llama 3 405B on 16,384 H100)")
      ->type_name("SCENARIO");
  cmd.add_option("--set", sets, "Override any key: --set plan.tp=4 --set cluster.nic.bandwidth='200 Gbps'")
      ->take_all()
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
}

model::Scenario ScenarioOptions::load() const { return app::load_scenario(scenario, sets); }

void CalibrationOption::add_to(CLI::App& cmd) {
  cmd.add_option("--calibration", file,
                 "Calibration profile from herd-calibrate (default: the scenario's `calibration` key)")
      ->type_name("FILE");
}

void CalibrationOption::check(const std::string& scenario) const { check_stdin_once({scenario, file}, "--calibration"); }

void CsvOption::add_to(CLI::App& cmd, const std::string& what) {
  option = cmd.add_option("--csv", file, "Write " + what + " as CSV to FILE (-: standard output, instead of the text)")
               ->type_name("FILE");
}

void CsvOption::check(bool json) const {
  if (!given()) return;
  check_output(file, "--csv");
  if (to_stdout() && json) throw model::InputError("--csv", "", "- (standard output) already carries --json");
}

void CsvOption::write(const std::string& csv, std::ostream& out) const {
  if (given()) write_output(file, csv, out);
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"Herd: cluster simulator and capacity planner for training dense Transformers", "herd"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "herd 0.1.0");
  std::map<CLI::App*, Action> actions;
  auto add = [&](Action (*register_command)(CLI::App&)) {
    const std::size_t before = app.get_subcommands({}).size();
    Action action = register_command(app);
    actions[app.get_subcommands({})[before]] = std::move(action);
  };
  add(add_model_command);
  add(add_collective_command);
  add(add_scenario_command);
  add(add_plan_command);
  add(add_simulate_command);
  add(add_train_command);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    out << "herd 0.1.0\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      out << app.help();
      return kExitOk;
    }
    err << "herd: " << explain_parse_error(app, args, e, "herd", "[SCENARIO] [--set k=v]... [options]") << "\n";
    return kExitBadInput;
  }
  for (auto& [cmd, action] : actions) {
    if (!cmd->parsed()) continue;
    try {
      return action(Streams{out, err});
    } catch (const model::InputError& e) {
      err << "herd: " << e.what() << "\n";
      return kExitBadInput;
    } catch (const std::exception& e) {
      err << "herd: " << e.what() << "\n";
      return kExitFailure;
    }
  }
  return kExitFailure;
}

std::string pad(std::string text, std::size_t width, bool right) {
  if (text.size() >= width) return text;
  return right ? std::string(width - text.size(), ' ') + text : text + std::string(width - text.size(), ' ');
}

std::string group_digits(long long value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

}  // namespace herd::cli
