// herd-calibrate import-nccl-tests / import-kineto: measurements users already have, as raw records.
#include <map>
#include <memory>
#include <ostream>

#include "calibrate_commands.hpp"
#include "herd/calibrate/cli.hpp"
#include "herd/calibrate/import.hpp"
#include "herd/cli/files.hpp"
#include "herd/model/io.hpp"

namespace herd::calibrate::cli {

namespace {
struct ImportCommand {
  std::vector<std::string> inputs;
  std::string collective, output;
};
}  // namespace

Action add_import_nccl_tests_command(CLI::App& app) {
  auto c = std::make_shared<ImportCommand>();
  auto* cmd = app.add_subcommand("import-nccl-tests", "Read nccl-tests output (all_reduce_perf etc., as printed)");
  cmd->add_option("files", c->inputs, "nccl-tests output files (-: standard input)")
      ->required()
      ->check(herd::cli::input_file())
      ->type_name("FILE");
  cmd->add_option("--collective", c->collective,
                  "all_reduce, all_gather, reduce_scatter, broadcast, reduce, send_recv or all_to_all (default: "
                  "from the output or the file name)")
      ->check(CLI::IsMember({"all_reduce", "all_gather", "reduce_scatter", "broadcast", "reduce", "send_recv", "all_to_all"}))
      ->type_name("NAME");
  cmd->add_option("-o,--output", c->output, "Raw measurement file to write (-: standard output, the text going to standard error)")->required()->type_name("FILE");
  return [c](Streams io) {
    herd::cli::check_output(c->output, "--output");
    herd::cli::check_stdin_once(c->inputs, "files");
    std::ostream& text = c->output == herd::cli::kStdoutFile ? io.err : io.out;
    MeasurementSet all;
    for (const auto& file : c->inputs) {
      MeasurementSet s = import_nccl_tests_file(file, c->collective);
      if (all.records.empty()) all.device = s.device;
      all.device.devices = std::max(all.device.devices, s.device.devices);
      for (auto& r : s.records) all.records.push_back(std::move(r));
      for (auto& n : s.notes) all.notes.push_back(std::move(n));
    }
    herd::cli::write_output(c->output, to_json(all).dump(1) + "\n", io.out);
    text << "wrote " << all.records.size() << " collective records to " << model::output_name(c->output) << "\n";
    return kExitOk;
  };
}

Action add_import_kineto_command(CLI::App& app) {
  auto c = std::make_shared<ImportCommand>();
  auto* cmd = app.add_subcommand("import-kineto", "Read a PyTorch profiler trace (record_shapes=True): GEMM and attention kernels");
  cmd->add_option("trace", c->inputs, "Chrome trace JSON written by torch.profiler (-: standard input)")
      ->required()
      ->expected(1)
      ->check(herd::cli::input_file())
      ->type_name("FILE");
  cmd->add_option("-o,--output", c->output, "Raw measurement file to write (-: standard output, the text going to standard error)")->required()->type_name("FILE");
  return [c](Streams io) {
    herd::cli::check_output(c->output, "--output");
    std::ostream& text = c->output == herd::cli::kStdoutFile ? io.err : io.out;
    const MeasurementSet s = import_kineto_file(c->inputs.front());
    herd::cli::write_output(c->output, to_json(s).dump(1) + "\n", io.out);
    text << "wrote " << s.records.size() << " records from " << s.source << " to " << model::output_name(c->output) << "\n";
    // Records and calls per dtype: only BF16 ones enter the fit (fitted_dtype).
    std::map<std::string, std::pair<int, int>> by_dtype;
    for (const auto& r : s.records) {
      auto& [records, calls] = by_dtype[r.dtype];
      ++records;
      calls += static_cast<int>(r.times_s.size());
    }
    for (const auto& [dtype, n] : by_dtype)
      text << "  " << dtype << ": " << n.first << " records (" << n.second << " calls)"
             << (dtype == fitted_dtype(s.device) ? "" : "; left out of the fit, which takes " + fitted_dtype(s.device) + " only")
             << "\n";
    if (!s.skipped.empty()) print_skipped(text, s.skipped);
    for (const auto& n : s.notes) io.err << "herd-calibrate: " << n << "\n";
    return kExitOk;
  };
}

}  // namespace herd::calibrate::cli
