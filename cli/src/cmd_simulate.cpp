// herd simulate: one training step on the whole cluster — step time, MFU, where the time goes.
#include <cmath>
#include <cstdio>
#include <ostream>

#include "commands.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/model/io.hpp"
#include "herd/model/units.hpp"

namespace herd::cli {

namespace {

struct SimulateCommand {
  ScenarioOptions options;
  bool json = false;
  bool per_rank = false;
  std::string trace, trace_ranks, trace_streams;
  CsvOption csv;
  CalibrationOption calibration;
};

void print_power(std::ostream& out, const model::Scenario& s, const sim::StepPower& p) {
  using model::format_power;
  char line[320];
  out << "\nPower          IT: " << p.gpus << " GPUs, " << p.servers << " servers, " << p.switches << " switches";
  // The limit that holds: the what-if cap where it is below the boards' own limit.
  const double board = s.cluster.gpu.power_limit_w;
  if (s.whatif.power_cap_w > 0 && s.whatif.power_cap_w < board) out << "; GPUs capped at " << format_power(s.whatif.power_cap_w);
  else if (board < s.cluster.gpu.tdp_watts) out << "; GPUs limited to " << format_power(board);
  if (s.whatif.power_floor_w > 0) out << "; floor " << format_power(s.whatif.power_floor_w);
  out << "\n";
  const std::string window = model::format_time(p.window_s);
  std::snprintf(line, sizeof line, "  mean %s · peak %s · min %s (%s windows)\n", format_power(p.mean_w).c_str(),
                format_power(p.peak_w).c_str(), format_power(p.min_w).c_str(), window.c_str());
  out << line;
  std::snprintf(line, sizeof line, "  largest swing %s (peak at %s, low at %s into the step) · fastest ramp %s%s in %s (%s/s)\n",
                format_power(p.swing_w).c_str(), model::format_time(p.peak_at_s).c_str(),
                model::format_time(p.min_at_s).c_str(), p.ramp_w >= 0 ? "+" : "-", format_power(std::fabs(p.ramp_w)).c_str(),
                window.c_str(), format_power(std::fabs(p.ramp_w_per_s())).c_str());
  out << line;
  std::snprintf(line, sizeof line, "  energy per step %s IT, %s at the facility (PUE %.2f) · %.3g J per token\n",
                model::format_energy(p.it_energy_j).c_str(), model::format_energy(p.facility_energy_j).c_str(), p.pue,
                p.energy_per_token_j);
  out << line;
  const double gpu = std::max(p.gpu_energy_j, 1e-30);
  std::snprintf(line, sizeof line, "  GPU energy: compute-bound %.0f%% · memory-bound %.0f%% · communication %.0f%% · waiting %.0f%%\n",
                100 * p.gpu_energy_by_state_j[0] / gpu, 100 * p.gpu_energy_by_state_j[1] / gpu,
                100 * p.gpu_energy_by_state_j[2] / gpu, 100 * p.gpu_energy_by_state_j[3] / gpu);
  out << line;
}

void print_baseline(std::ostream& out, const app::SimulateResult& result) {
  const auto& b = *result.baseline;
  const auto& r = result.report;
  char line[320];
  auto change = [](double now, double before) { return before != 0 ? 100 * (now / before - 1) : 0.0; };
  out << "\nWhat-if        " << result.whatifs << ", against the same step without "
      << (result.whatifs.find(" and ") != std::string::npos || result.whatifs.find(',') != std::string::npos ? "them" : "it")
      << (b.per_rank ? " (both simulated per rank)" : "") << "\n";
  std::snprintf(line, sizeof line, "  step time %s vs %s (%+.1f%%) · MFU %.1f%% vs %.1f%%\n", model::format_time(r.step_time_s).c_str(),
                model::format_time(b.step_time_s).c_str(), change(r.step_time_s, b.step_time_s), 100 * r.mfu, 100 * b.mfu);
  out << line;
  if (result.power && b.power) {
    const auto& p = *result.power;
    const auto& q = *b.power;
    std::snprintf(line, sizeof line, "  energy per token %.3g vs %.3g J (%+.1f%%) · swing %s vs %s · peak %s vs %s\n",
                  p.energy_per_token_j, q.energy_per_token_j, change(p.energy_per_token_j, q.energy_per_token_j),
                  model::format_power(p.swing_w).c_str(), model::format_power(q.swing_w).c_str(),
                  model::format_power(p.peak_w).c_str(), model::format_power(q.peak_w).c_str());
    out << line;
  }
}

void print_text(std::ostream& out, const model::Scenario& s, const sim::StepReport& r, const app::ComputeLevel& level) {
  using model::format_time;
  const auto& p = s.plan;
  char line[256];
  out << s.name << "\n  from " << app::scenario_origin(s) << "\n";
  const bool overlap = p.tp_comm_overlap && p.sequence_parallel && p.tp > 1;
  std::snprintf(line, sizeof line, "  TP %d%s · CP %d · PP %d (V %d, %s) · DP %d (%s) · %lld micro-batches of %d · %d GPUs\n",
                p.tp, overlap ? " (overlapped)" : "", p.cp, p.pp, p.virtual_stages,
                std::string(model::to_string(p.schedule)).c_str(), p.dp,
                std::string(model::to_string(p.dp_sharding)).c_str(), static_cast<long long>(p.microbatches()),
                p.micro_batch, p.gpus());
  out << line;
  out << "  compute level: " << app::describe(level) << "\n\n";
  std::snprintf(line, sizeof line,
                "Step time      %s\nTokens/s       %s\nTFLOP/s/GPU    %.1f (model)\nMFU            %.1f%%\nHFU            %.1f%%\n",
                format_time(r.step_time_s).c_str(), model::format_count(r.tokens_per_s).c_str(), r.tflops_per_gpu,
                100 * r.mfu, 100 * r.hfu);
  out << line;
  const auto& b = r.breakdown;
  out << "\nWhere the time goes (stage " << r.critical_stage << ", which finishes last)\n";
  const std::pair<const char*, double> parts[] = {
      {"compute", b.compute_s},           {"optimizer", b.optimizer_s},   {"exposed TP comm", b.exposed_tp_s},
      {"exposed CP comm", b.exposed_cp_s}, {"exposed PP comm", b.exposed_pp_s}, {"exposed DP comm", b.exposed_dp_s},
      {"pipeline bubble", b.bubble_s},     {"other", b.other_s}};
  for (const auto& [name, t] : parts) {
    std::snprintf(line, sizeof line, "  %-18s %10s  %5.1f%%\n", name, format_time(t).c_str(), 100 * t / r.step_time_s);
    out << line;
  }
  out << "\nBottleneck     " << r.bottleneck << "\n";
  const auto& worst = r.memory.stages[static_cast<std::size_t>(r.memory.largest_stage)];
  std::snprintf(line, sizeof line, "Memory         %s: stage %d needs %.1f of %.1f GiB\n", r.fits ? "fits" : "DOES NOT FIT",
                worst.stage, worst.total() / double(1ULL << 30), r.memory.capacity_bytes / double(1ULL << 30));
  out << line;
}

}  // namespace

Action add_simulate_command(CLI::App& app) {
  auto state = std::make_shared<SimulateCommand>();
  auto* cmd = app.add_subcommand("simulate", "Simulate one training step: step time, MFU, breakdown, memory");
  state->options.add_to(*cmd);
  cmd->add_flag("--json", state->json, "Print the report as JSON (schema in docs/cli.md)");
  cmd->add_flag("--per-rank", state->per_rank, "Simulate every GPU instead of one per pipeline stage");
  auto* trace = cmd->add_option("--trace", state->trace, "Write a Chrome/Perfetto trace of the step to FILE, as it runs")
                    ->type_name("FILE");
  auto* trace_ranks = cmd->add_option("--trace-ranks", state->trace_ranks,
                                      "Keep only these simulated ranks in the trace, e.g. 0-7,128 (default: all)")
                          ->type_name("LIST");
  auto* trace_streams = cmd->add_option("--trace-streams", state->trace_streams,
                                        "Keep only these streams in the trace: compute, tp_comm, cp_comm, pp_comm, dp_comm (default: all)")
                            ->type_name("LIST");
  trace_ranks->needs(trace);
  trace_streams->needs(trace);
  state->csv.add_to(*cmd, "every figure (figure,value; the breakdown, each stage, power)");
  state->calibration.add_to(*cmd);
  return [state, trace, trace_ranks, trace_streams](Streams io) {
    if (trace->count() > 0) model::check_output_path(state->trace, "--trace");
    state->csv.check(state->json);
    // An empty list is a list naming nothing, not "all".
    if (trace_ranks->count() > 0 && state->trace_ranks.empty()) throw model::InputError("--trace-ranks", "", "names no rank");
    if (trace_streams->count() > 0 && state->trace_streams.empty())
      throw model::InputError("--trace-streams", "", "names no stream");
    app::SimulateRequest request;
    state->calibration.check(state->options.scenario);
    request.scenario = state->options.load();
    request.per_rank = state->per_rank;
    if (trace->count() > 0) request.trace_file = state->trace;
    request.trace_ranks = state->trace_ranks;
    request.trace_streams = state->trace_streams;
    request.calibration_file = state->calibration.file;
    const app::SimulateResult result = app::simulate(request, {stderr_progress(io.err, "herd simulate"), {}});
    if (!result.calibration_warning.empty()) io.err << "herd: warning: " << result.calibration_warning << "\n";
    if (!result.memory_warning.empty())
      io.err << "herd: " << result.memory_warning << "; the step below is what it would take if it did (exit code 3)\n";
    state->csv.write(app::to_csv(result), io.out);
    if (state->json) io.out << app::to_json(result).dump(2) << "\n";
    else if (!state->csv.to_stdout()) {
      if (!result.memory_warning.empty())
        io.out << "DOES NOT FIT: " << result.memory_warning << ".\nThe figures below assume it did.\n\n";
      print_text(io.out, request.scenario, result.report, result.level);
      if (result.baseline) print_baseline(io.out, result);
      if (result.power) print_power(io.out, request.scenario, *result.power);
      else io.out << "\nPower          not computed: per-rank steps of more than " << app::kPowerPerRankLimit
                  << " GPUs need --trace (or symmetric mode)\n";
    }
    return result.memory_warning.empty() ? kExitOk : kExitNoLayout;
  };
}

}  // namespace herd::cli
