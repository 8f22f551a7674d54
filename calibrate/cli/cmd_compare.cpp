// herd-calibrate compare: whole layers measured against Herd's prediction before and after a
// profile, for any raw file (e.g. layers the profile was not fitted on: a held-out check).
#include <memory>
#include <ostream>

#include "calibrate_commands.hpp"
#include "herd/calibrate/cli.hpp"
#include "herd/model/error.hpp"

namespace herd::calibrate::cli {

namespace {
struct CompareCommand {
  std::string profile, gpu_preset;
  std::vector<std::string> inputs;
};
}  // namespace

Action add_compare_command(CLI::App& app) {
  auto c = std::make_shared<CompareCommand>();
  auto* cmd = app.add_subcommand("compare", "Measured whole layers against Herd's prediction, before and after a profile");
  cmd->add_option("profile", c->profile, "Calibration profile")->required()->check(CLI::ExistingFile);
  cmd->add_option("raw", c->inputs, "Raw measurement files with layer records")->required()->check(CLI::ExistingFile);
  cmd->add_option("--gpu-preset", c->gpu_preset, "GPU preset for the prediction before calibration (default: by device name)");
  return [c](Streams io) {
    const model::CalibrationProfile profile = model::load_calibration_profile(c->profile);
    std::vector<MeasurementSet> sets;
    for (const auto& f : c->inputs) sets.push_back(load_measurements(f));
    const model::GpuSpec baseline = c->gpu_preset.empty() ? baseline_gpu(sets.front().device) : gpu_preset(c->gpu_preset);
    const auto layers = check_layers(sets, baseline, profile);
    if (layers.empty()) throw model::InputError(c->inputs.front(), "/records", "no layer records to compare");
    io.out << "Before: " << baseline.name << " with its preset (or default) efficiencies; after: " << c->profile << "\n";
    print_layer_checks(io.out, layers);
    const std::string warning = model::profile_mismatch(profile, baseline);
    if (!warning.empty()) io.out << "warning: " << warning << "\n";
    return kExitOk;
  };
}

}  // namespace herd::calibrate::cli
