// herd-calibrate fit-runs: measured training runs -> a calibration profile per GPU kind, fitted
// through the step simulator, with each run's residual, leave-one-out error and the parameters'
// uncertainties (docs/calibration.md, "Calibrating from training runs").
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <memory>
#include <set>
#include <ostream>

#include "calibrate_commands.hpp"
#include "herd/app/fit_runs_use_case.hpp"
#include "herd/calibrate/cli.hpp"
#include "herd/cli/files.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"

namespace herd::calibrate::cli {

namespace {

struct FitRunsCommand {
  std::string runs_file, output, json_file;
  std::vector<std::string> parameters;
  bool no_leave_one_out = false;
};

std::string signed_pct(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.1f %%", 100 * x);
  return text;
}

// Where the profile of `gpu` goes: `output` itself when the runs hold one GPU kind, else
// `output` with the kind appended ("fit.json" -> "fit-h100-sxm5-80gb.json").
std::string output_for(const std::string& output, const std::string& gpu, std::size_t kinds) {
  if (kinds == 1) return output;
  std::string slug;
  for (char c : gpu) slug += std::isalnum(static_cast<unsigned char>(c)) ? char(std::tolower(static_cast<unsigned char>(c))) : '-';
  const std::filesystem::path p(output);
  return (p.parent_path() / (p.stem().string() + "-" + slug + p.extension().string())).string();
}

void print_result(std::ostream& out, const app::FitRunsResult& r) {
  char line[320];
  out << "Parameters (per GPU kind)                         initial     fitted   ± 1 sigma   bounds\n";
  for (const auto& p : r.parameters) {
    const std::string name = std::string(app::to_string(p.parameter)) + " (" + p.gpu + ")";
    char sigma[32] = "-";
    if (std::isfinite(p.sigma)) std::snprintf(sigma, sizeof sigma, "%.4f", p.sigma);
    if (p.identified)
      std::snprintf(line, sizeof line, "  %-46s %8.3f   %8.3f   %9s   [%.2f, %.2f]%s\n", name.c_str(), p.initial, p.value,
                    sigma, p.lower, p.upper, p.at_bound ? "  at bound" : "");
    else
      std::snprintf(line, sizeof line, "  %-46s %8.3f   not identified, kept\n", name.c_str(), p.initial);
    out << line;
  }
  out << "\nRuns (throughput error: measured / simulated - 1)    measured    initial     fitted  leave-one-out\n";
  for (const auto& f : r.runs) {
    std::snprintf(line, sizeof line, "  %-46s %9.3f s  %9s  %9s  %9s\n", f.name.c_str(), f.measured_s,
                  signed_pct(f.initial_error()).c_str(), signed_pct(f.fitted_error()).c_str(),
                  f.loo_s > 0 ? signed_pct(f.loo_error()).c_str() : "-");
    out << line;
  }
  std::snprintf(line, sizeof line, "\nrms residual %.2f %%; leave-one-out mean |error| %.2f %%; %d step simulations\n",
                100 * r.rms_residual, 100 * r.loo_mean_abs_error, r.simulations);
  out << line;
  for (const auto& w : r.warnings) out << "warning: " << w << "\n";
}

}  // namespace

Action add_fit_runs_command(CLI::App& app) {
  auto c = std::make_shared<FitRunsCommand>();
  auto* cmd = app.add_subcommand("fit-runs",
                                 "Fit the compute level (and, where the runs tell them apart, attention and network "
                                 "efficiencies) to measured training runs through the step simulator");
  cmd->add_option("runs", c->runs_file,
                  "Runs file (format herd-runs: scenarios and their measured step times; -: standard input)")
      ->required()
      ->check(herd::cli::input_file())
      ->type_name("FILE");
  cmd->add_option("-o,--output", c->output,
                  "Calibration profile to write (one per GPU kind, the kind appended, when the runs span several; -: "
                  "standard output, one GPU kind only, the text going to standard error)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--parameters", c->parameters, "Parameters to fit: sustained, attention, network (default: the runs file's, else sustained)")
      ->delimiter(',')
      ->type_name("LIST");
  cmd->add_flag("--no-leave-one-out", c->no_leave_one_out, "Skip the leave-one-out refits");
  auto* json_option =
      cmd->add_option("--json", c->json_file, "Also write the fit (parameters, runs, warnings) as JSON")->type_name("FILE");
  return [c, json_option](Streams io) {
    // The profiles of several GPU kinds go beside --output, in its directory: checking it checks them.
    herd::cli::check_output(c->output, "--output");
    if (json_option->count() > 0) model::check_output_path(c->json_file, "--json");
    const bool to_stdout = c->output == herd::cli::kStdoutFile;
    const app::RunsFile file = app::load_runs_file(c->runs_file);
    std::set<std::string> kinds;
    for (const auto& run : file.runs) kinds.insert(run.scenario.cluster.gpu.name);
    if (to_stdout && kinds.size() > 1)
      throw model::InputError("--output", "",
                              "the runs span " + std::to_string(kinds.size()) +
                                  " GPU kinds, one profile each: give -o FILE (the kind is appended to each), not -");
    app::FitRunsRequest request;
    request.runs = file.runs;
    request.parameters = file.parameters;
    request.description = file.description.empty() ? file.file : file.description + " (" + file.file + ")";
    if (!c->parameters.empty()) {
      request.parameters.clear();
      for (const auto& name : c->parameters) {
        bool known = false;
        for (auto p : {app::FitParameter::sustained, app::FitParameter::attention, app::FitParameter::network})
          if (app::to_string(p) == name) {
            known = true;
            if (std::find(request.parameters.begin(), request.parameters.end(), p) == request.parameters.end())
              request.parameters.push_back(p);
          }
        if (!known)
          throw model::InputError("--parameters", "",
                                  "unknown parameter '" + name + "' (expected sustained, attention, network)");
      }
    }
    request.leave_one_out = !c->no_leave_one_out;
    const sim::Control control{[&io](std::string_view what, int done, int total) {
                                 if (!what.empty()) io.err << "\rherd-calibrate fit-runs: " << what << " " << done << "/" << total << "   " << std::flush;
                               },
                               {}};
    const app::FitRunsResult r = app::fit_runs(request, control);
    io.err << "\r" << std::string(72, ' ') << "\r";
    std::vector<std::pair<std::string, std::string>> writes;
    for (const auto& [gpu, profile] : r.profiles)
      writes.emplace_back(output_for(c->output, gpu, r.profiles.size()), model::to_json(profile).dump(1) + "\n");
    for (const auto& [path, text] : writes) herd::cli::write_output(path, text, io.out);
    if (!c->json_file.empty()) model::write_file_atomically(c->json_file, app::to_json(r).dump(1) + "\n");
    std::ostream& out = to_stdout ? io.err : io.out;
    print_result(out, r);
    for (const auto& [path, text] : writes) out << "wrote " << model::output_name(path) << "\n";
    return kExitOk;
  };
}

}  // namespace herd::calibrate::cli
