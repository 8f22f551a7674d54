#pragma once
// herd-calibrate's commands: each registers itself on the CLI11 app and returns what to run.
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "herd/calibrate/fit.hpp"

namespace herd::calibrate::cli {

struct Streams {
  std::ostream& out;
  std::ostream& err;
};

using Action = std::function<int(Streams)>;

/// "cuda" when this build has the CUDA backend and a GPU is visible, else "cpu".
std::string default_backend();

Action add_measure_command(CLI::App& app);
Action add_import_nccl_tests_command(CLI::App& app);
Action add_import_kineto_command(CLI::App& app);
Action add_fit_command(CLI::App& app);
Action add_fit_runs_command(CLI::App& app);
Action add_self_test_command(CLI::App& app);
Action add_compare_command(CLI::App& app);

/// The whole-layer table: measured, predicted with the preset, predicted with the profile.
void print_layer_checks(std::ostream& out, const std::vector<LayerCheck>& layers);
/// What was left out, by op, most kernel time first: at most `max_lines` lines, then a count of the rest.
void print_skipped(std::ostream& out, const std::vector<SkippedOp>& skipped, std::size_t max_lines = 20);
/// A GPU preset by name (throws model::InputError naming --gpu-preset when unknown).
model::GpuSpec gpu_preset(const std::string& name);

}  // namespace herd::calibrate::cli
