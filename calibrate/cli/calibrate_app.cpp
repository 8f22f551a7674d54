#include <iostream>
#include <map>

#include "calibrate_commands.hpp"
#include "herd/calibrate/cli.hpp"
#include "herd/cli/parse_errors.hpp"
#include "herd/model/error.hpp"
#if HERD_CALIBRATE_WITH_CUDA
#include "herd/calibrate/cuda_backend.hpp"
#endif

namespace herd::calibrate {

bool built_with_cuda() { return HERD_CALIBRATE_WITH_CUDA != 0; }

std::string cli::default_backend() {
#if HERD_CALIBRATE_WITH_CUDA
  if (cuda::device_count() > 0) return "cuda";
#endif
  return "cpu";
}

int run_calibrate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"herd-calibrate: measure a GPU (or this CPU), fit Herd's cost model, write a calibration profile",
               "herd-calibrate"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "herd-calibrate 0.1.0");
  std::map<CLI::App*, cli::Action> actions;
  auto add = [&](cli::Action (*register_command)(CLI::App&)) {
    const std::size_t before = app.get_subcommands({}).size();
    cli::Action action = register_command(app);
    actions[app.get_subcommands({})[before]] = std::move(action);
  };
  add(cli::add_measure_command);
  add(cli::add_import_nccl_tests_command);
  add(cli::add_import_kineto_command);
  add(cli::add_fit_command);
  add(cli::add_fit_runs_command);
  add(cli::add_self_test_command);
  add(cli::add_compare_command);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForVersion&) {
    out << "herd-calibrate 0.1.0\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      out << app.help();
      return kExitOk;
    }
    err << "herd-calibrate: " << herd::cli::explain_parse_error(app, args, e, "herd-calibrate", "[options]") << "\n";
    return kExitBadInput;
  }
  for (auto& [cmd, action] : actions) {
    if (!cmd->parsed()) continue;
    try {
      return action(cli::Streams{out, err});
    } catch (const model::InputError& e) {
      err << "herd-calibrate: " << e.what() << "\n";
      return kExitBadInput;
    } catch (const model::ValueError& e) {
      err << "herd-calibrate: " << e.what() << "\n";
      return kExitBadInput;
    } catch (const std::exception& e) {
      err << "herd-calibrate: " << e.what() << "\n";
      return kExitFailure;
    }
  }
  return kExitFailure;
}

}  // namespace herd::calibrate
