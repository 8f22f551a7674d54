// herd-calibrate compare: whole layers measured against Herd's prediction before and after a
// profile, for any raw file (e.g. layers the profile was not fitted on: a held-out check).
#include <memory>
#include <ostream>

#include "calibrate_commands.hpp"
#include "herd/calibrate/cli.hpp"
#include "herd/cli/files.hpp"
#include "herd/model/csv.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"

namespace herd::calibrate::cli {

namespace {
struct CompareCommand {
  std::string profile, gpu_preset, csv;
  std::vector<std::string> inputs;
};

// One row per layer: the times of the table in seconds, the errors as fractions (predicted / measured - 1).
std::string layer_checks_csv(const std::vector<LayerCheck>& layers) {
  using model::csv_number;
  model::CsvTable table(
      {"layer", "measured_s", "preset_s", "preset_error", "calibrated_s", "calibrated_error", "extrapolated_ops"});
  for (const auto& l : layers)
    table.add_row({l.label, csv_number(l.measured_s), csv_number(l.default_s),
                   csv_number(l.default_s / l.measured_s - 1), csv_number(l.calibrated_s),
                   csv_number(l.calibrated_s / l.measured_s - 1), std::to_string(l.extrapolated_ops)});
  return table.text();
}
}  // namespace

Action add_compare_command(CLI::App& app) {
  auto c = std::make_shared<CompareCommand>();
  auto* cmd = app.add_subcommand("compare", "Measured whole layers against Herd's prediction, before and after a profile");
  cmd->add_option("profile", c->profile, "Calibration profile (-: standard input)")
      ->required()
      ->check(herd::cli::input_file())
      ->type_name("PROFILE");
  cmd->add_option("raw", c->inputs, "Raw measurement files with layer records (-: standard input)")
      ->required()
      ->check(herd::cli::input_file())
      ->type_name("FILE");
  cmd->add_option("--gpu-preset", c->gpu_preset,
                  "GPU preset for the prediction before calibration (default: by device name)")
      ->type_name("GPU");
  auto* csv =
      cmd->add_option("--csv", c->csv, "Write the layer table as CSV to FILE (-: standard output, instead of the text)")
          ->type_name("FILE");
  return [c, csv](Streams io) {
    const bool to_csv = csv->count() > 0;
    if (to_csv) herd::cli::check_output(c->csv, "--csv");
    std::vector<std::string> inputs = c->inputs;
    inputs.push_back(c->profile);
    herd::cli::check_stdin_once(inputs, "raw");
    const model::CalibrationProfile profile = model::load_calibration_profile(c->profile);
    std::vector<MeasurementSet> sets;
    for (const auto& f : c->inputs) sets.push_back(load_measurements(f));
    const model::GpuSpec baseline = c->gpu_preset.empty() ? baseline_gpu(sets.front().device) : gpu_preset(c->gpu_preset);
    const auto layers = check_layers(sets, baseline, profile);
    if (layers.empty())
      throw model::InputError(model::source_name(c->inputs.front()), "/records", "no layer records to compare");
    if (to_csv) herd::cli::write_output(c->csv, layer_checks_csv(layers), io.out);
    const std::string warning = model::profile_mismatch(profile, baseline);
    if (to_csv && c->csv == herd::cli::kStdoutFile) {
      if (!warning.empty()) io.err << "herd-calibrate: warning: " << warning << "\n";
      return kExitOk;
    }
    io.out << "Before: " << baseline.name << " with its preset (or default) efficiencies; after: " << model::source_name(c->profile) << "\n";
    print_layer_checks(io.out, layers);
    if (!warning.empty()) io.out << "warning: " << warning << "\n";
    return kExitOk;
  };
}

}  // namespace herd::calibrate::cli
