// herd collective: one NCCL collective over the plan's groups, simulated on the scenario's fabric,
// printed in nccl-tests' columns (size, count, type, time, algbw, busbw) with the algorithm the
// model chose, how many groups ran at once and the link that held them back.
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "herd/app/collective_inputs.hpp"
#include "herd/app/collective_use_case.hpp"
#include "herd/model/error.hpp"

namespace herd::cli {

namespace {

struct CollectiveCommand {
  ScenarioOptions options;
  std::string op = "all_reduce";
  std::string group = "dp";
  std::string bytes = "1GiB";
  std::string sweep;
  app::SizeFlags size_flags;
  std::string dtype = "float";
  CsvOption csv;
  bool concurrent = false;
  bool json = false;
  CalibrationOption calibration;
};

std::string fixed(double value, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

void print_text(std::ostream& out, const app::CollectiveReport& report) {
  const auto& g = report.groups.front();
  const std::size_t total = report.groups_total;
  out << report.scenario << "\n";
  out << report.op << " over "
      << (report.group.find_first_of("0123456789") == 0 ? "ranks " + report.group : report.group + " groups") << ": "
      << report.groups.size() << " of " << total << " group" << (total == 1 ? "" : "s") << " of " << g.size()
      << " ranks running concurrently" << (report.concurrent || total == 1 ? "" : " (--concurrent runs them all)")
      << "\n\n";
  // With a measured curve for this collective, the profile's time sits beside the simulated one.
  const bool profile = report.measured;
  if (!report.calibration.empty())
    out << "calibration: " << report.calibration
        << (profile ? " (time: simulated on the measured curve; profile: measured)" : " (no measured curve for this collective and group)")
        << "\n\n";
  std::vector<std::string> head{"size", "count", "type", "time(us)"};
  std::vector<std::size_t> width{12, 11, 8, 11};
  if (profile) head.push_back("profile(us)"), width.push_back(11);
  const std::size_t numbers = head.size() + 2;  // right-aligned: up to busbw
  for (const char* h : {"algbw(GB/s)", "busbw(GB/s)", "algorithm", "proto", "ch", "groups"}) head.push_back(h);
  for (const std::size_t w : {11, 11, 12, 6, 3, 6}) width.push_back(w);
  auto right = [&](std::size_t i) { return i < numbers || i > numbers + 1; };
  for (std::size_t i = 0; i < head.size(); ++i) out << ' ' << pad(head[i], width[i], right(i));
  out << "  bottleneck\n";
  for (const app::CollectiveRow& row : report.rows) {
    const auto& r = row.result;
    std::vector<std::string> cells{std::to_string(static_cast<long long>(row.bytes)),
                                   std::to_string(static_cast<long long>(row.bytes / report.type_bytes)), report.dtype,
                                   fixed(r.time_s() * 1e6, 1)};
    if (profile) cells.push_back(r.measured_time_s > 0 ? fixed(r.measured_time_s * 1e6, 1) : "-");
    for (std::string cell : {fixed(r.algbw() / 1e9, 2), fixed(r.busbw() / 1e9, 2), std::string(sim::to_string(r.algorithm)),
                             std::string(sim::to_string(r.protocol)), std::to_string(r.channels), std::to_string(r.groups)})
      cells.push_back(std::move(cell));
    for (std::size_t i = 0; i < cells.size(); ++i) out << ' ' << pad(cells[i], width[i], right(i));
    out << "  " << (r.bottleneck_name.empty() ? "-" : r.bottleneck_name) << "\n";
  }
}

int run_command(const CollectiveCommand& c, bool bytes_given, Streams io) {
  if (c.size_flags.given() && (bytes_given || !c.sweep.empty()))
    throw model::InputError(bytes_given ? "--bytes" : "--sweep", "",
                            "takes no nccl-tests size flags (-b, -e, -f, -i) with it: give the sizes one way");
  c.csv.check(c.json);
  app::CollectiveRequest request;
  request.op = c.op;
  request.group = c.group;
  request.sizes = c.size_flags.given() ? app::parse_size_flags(c.size_flags)
                  : c.sweep.empty()    ? std::vector<double>{app::parse_size("--bytes", c.bytes)}
                                       : app::parse_sweep(c.sweep);
  c.calibration.check(c.options.scenario);
  request.scenario = c.options.load();
  request.dtype = c.dtype;
  request.concurrent = c.concurrent;
  request.calibration_file = c.calibration.file;
  const app::CollectiveReport report = app::collective(request, {stderr_progress(io.err, "herd collective"), {}});
  if (!report.calibration_warning.empty()) io.err << "herd: warning: " << report.calibration_warning << "\n";
  c.csv.write(app::to_csv(report), io.out);
  if (c.json) io.out << app::to_json(report).dump(2) << "\n";
  else if (!c.csv.to_stdout()) print_text(io.out, report);
  return kExitOk;
}

}  // namespace

Action add_collective_command(CLI::App& app) {
  auto state = std::make_shared<CollectiveCommand>();
  auto* cmd = app.add_subcommand("collective", "Simulate an NCCL collective over the plan's groups (nccl-tests columns)");
  state->options.add_to(*cmd);
  cmd->add_option("--op", state->op, "all_reduce, all_gather, reduce_scatter, broadcast, reduce, all_to_all, send_recv")
      ->capture_default_str()
      ->type_name("OP");
  cmd->add_option("--group", state->group, "dp, tp, pp, cp, all, or ranks such as 0-7 or 0,128,256")
      ->capture_default_str()
      ->type_name("GROUP");
  auto* bytes = cmd->add_option("--bytes", state->bytes, "Size per rank, nccl-tests convention (1GiB, 128M, 8K, 4096)")
                    ->capture_default_str()
                    ->type_name("SIZE");
  cmd->add_option("--sweep", state->sweep, "Sizes MIN:MAX, doubling (e.g. 8B:16GiB)")
      ->excludes(bytes)
      ->type_name("MIN:MAX");
  cmd->add_option("-b,--minbytes", state->size_flags.min_bytes,
                  "As nccl-tests: smallest size (K, M, G, T: powers of 1024)")
      ->type_name("SIZE");
  cmd->add_option("-e,--maxbytes", state->size_flags.max_bytes, "As nccl-tests: largest size")->type_name("SIZE");
  cmd->add_option("-f,--stepfactor", state->size_flags.step_factor,
                  "As nccl-tests: multiply each size by F (default 2)")
      ->type_name("F");
  cmd->add_option("-i,--stepbytes", state->size_flags.step_bytes,
                  "As nccl-tests: add this many bytes to each size instead")
      ->type_name("SIZE");
  cmd->add_option("--dtype", state->dtype, "Element type for the count column")
      ->capture_default_str()
      ->type_name("TYPE");
  cmd->add_flag("--concurrent", state->concurrent, "Run every group of that kind at once, as a training step does");
  cmd->add_flag("--json", state->json, "Print the results as JSON (schema in docs/models/network.md)");
  state->csv.add_to(*cmd, "the table, one row per size,");
  state->calibration.add_to(*cmd);
  return [state, bytes](Streams io) { return run_command(*state, bytes->count() > 0, io); };
}

}  // namespace herd::cli
