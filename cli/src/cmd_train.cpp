// herd train: how long the whole run takes and what failures, checkpoints and restarts cost,
// Monte Carlo over failure histories (model and defaults: docs/models/reliability.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <ostream>

#include "commands.hpp"
#include "herd/cli/files.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/app/train_use_case.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/model/units.hpp"

namespace herd::cli {

namespace {

namespace run = sim::run;

struct TrainCommand {
  ScenarioOptions options;
  std::optional<int> trials;
  std::optional<std::uint64_t> seed;
  bool json = false;
  std::string timeline;
  std::vector<std::string> compare;
  CsvOption csv;
  CalibrationOption calibration;
};

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Durations with a unit that keeps 3 significant digits readable ("6.35 min", "37.4 d").
std::string duration(double s) {
  static constexpr std::pair<double, const char*> kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}, {1e-3, "ms"}};
  if (!std::isfinite(s)) return "none";
  for (const auto& [size, unit] : kUnits)
    if (s >= 2 * size || size == 1e-3) {
      const double v = s / size;
      return fixed(v, v < 10 ? 2 : v < 100 ? 1 : 0) + " " + unit;
    }
  return "0 s";
}

std::string percent(double v) { return fixed(100.0 * v, 1) + "%"; }
std::string days(double s) { return fixed(s / 86400.0, 2) + " d"; }
std::string hours(double s) { return fixed(s / 3600.0, 1) + " h"; }

void print_report(std::ostream& out, const run::RunReport& r) {
  using model::format_bytes, model::format_count;
  out << r.name << "\n";
  out << "Step time   " << r.step_time_source << "\n";
  out << "  " << pad("phase", 6) << pad("from tokens", 13, true) << pad("seq", 8, true) << pad("batch", 8, true)
      << pad("tokens/step", 13, true) << pad("step time", 11, true) << pad("GPUs", 8, true) << "\n";
  for (std::size_t i = 0; i < r.phases.size(); ++i) {
    const auto& p = r.phases[i];
    out << "  " << pad(std::to_string(i), 6) << pad(format_count(p.start_tokens), 13, true)
        << pad(std::to_string(p.seq_len), 8, true) << pad(std::to_string(p.global_batch), 8, true)
        << pad(format_count(p.tokens_per_step()), 13, true) << pad(duration(p.step_time_s), 11, true)
        << pad(group_digits(p.gpus), 8, true) << "\n";
  }
  out << "Run         ";
  if (r.window_s > 0) out << "window " << days(r.window_s);
  if (r.token_budget > 0) out << (r.window_s > 0 ? ", " : "") << format_count(r.token_budget) << " tokens (failure-free " << days(r.ideal_s) << ")";
  out << "; " << r.trials << " trials, seed " << r.seed << "\n";
  const auto& e = r.elapsed_s;
  out << "Time to train            mean " << days(e.mean) << " · p10 " << days(e.p10) << " · p50 " << days(e.p50)
      << " · p90 " << days(e.p90) << (r.unfinished_trials ? " (" + std::to_string(r.unfinished_trials) + " trials unfinished)" : "")
      << "\n";
  if (r.window_s > 0) out << "Tokens trained           mean " << format_count(r.tokens.mean) << "\n";
  const auto& ett = r.effective_training_time;
  out << "Effective training time  " << percent(ett.mean) << " (p10 " << percent(ett.p10) << ", p90 " << percent(ett.p90) << ")\n";
  out << "GPU-hours                " << format_count(r.gpu_hours) << " (" << group_digits(static_cast<long long>(r.allocated_gpus))
      << " GPUs)\n";
  out << "Interruptions            unexpected " << fixed(r.unexpected, 1) << " ± " << fixed(r.unexpected_stderr, 1)
      << " · planned " << fixed(r.planned, 1) << " · during recovery " << fixed(r.during_recovery, 1) << "\n ";
  for (const auto& c : r.by_category) out << "  " << c.name << " " << fixed(c.mean, 1);
  const auto& l = r.lost;
  out << "\nTime lost per run        lost work " << hours(l.lost_work) << " · checkpoint stalls " << hours(l.checkpoint_stalls)
      << " · detection " << hours(l.detection) << " · restarts " << hours(l.restart) << "\n"
      << "                         checkpoint loads " << hours(l.checkpoint_load) << " · spare waits " << hours(l.spare_wait)
      << " · planned " << hours(l.planned) << " · fewer replicas " << hours(l.degraded) << "\n";
  out << "Checkpoint               " << format_bytes(r.checkpoint.total_bytes) << " (" << format_bytes(r.checkpoint.per_gpu_bytes)
      << " per GPU), " << (r.checkpoint_mode == model::CheckpointMode::async ? "async" : "sync") << ": write "
      << duration(r.checkpoint.write_s) << ", stall " << duration(r.checkpoint.stall_s) << ", load "
      << duration(r.checkpoint.load_s) << "; recovery " << duration(r.recovery_s) << "\n";
  out << "Checkpoint interval      " << duration(r.checkpoint_interval_s) << (r.interval_given ? " (given)" : " (simulated optimum)")
      << " · simulated optimum " << duration(r.optimal_interval_s) << " · Young " << duration(r.young_interval_s)
      << " · Daly " << duration(r.daly_interval_s) << " · MTBF " << duration(r.mtbf_s) << "\n";
}

void print_energy(std::ostream& out, const sim::RunEnergy& e, const sim::RunPowerLevels& l) {
  using model::format_energy, model::format_power;
  char line[320];
  std::snprintf(line, sizeof line, "Energy to train          %s at the facility (PUE %.2f) · %s IT · GPUs %s; cost %s at %s per MWh\n",
                format_energy(e.facility_energy_j).c_str(), l.pue, format_energy(e.it_energy_j).c_str(),
                format_energy(e.gpu_energy_j).c_str(), model::format_count(e.cost).c_str(), fixed(l.price_per_mwh, 0).c_str());
  out << line;
  const auto [lo, hi] = std::minmax_element(l.train_mean_w.begin(), l.train_mean_w.end());
  const std::string training = *lo == *hi ? format_power(*lo) : format_power(*lo) + " to " + format_power(*hi) + " by phase";
  std::snprintf(line, sizeof line, "Power                    mean %s IT · %s per GPU on average · training %s, stalled %s, down %s\n",
                format_power(e.mean_it_w).c_str(), format_power(e.mean_gpu_w).c_str(), training.c_str(),
                format_power(l.stalled_w).c_str(), format_power(l.down_w).c_str());
  out << line;
  std::snprintf(line, sizeof line, "Power swings             within a step %s · into a checkpoint stall %s · into a restart %s\n",
                format_power(e.step_swing_w).c_str(), format_power(e.checkpoint_drop_w).c_str(),
                format_power(e.restart_drop_w).c_str());
  out << line;
}

void print_comparison(std::ostream& out, const std::vector<std::string>& names, const app::TrainComparison& c) {
  const run::RunReport &a = c.a.report, &b = c.b.report;
  auto row = [&](const std::string& what, const std::string& x, const std::string& y) {
    out << pad(what, 26) << pad(x, 18, true) << pad(y, 18, true) << "\n";
  };
  out << "A: " << names[0] << " (" << a.name << ")\nB: " << names[1] << " (" << b.name << ")\n\n";
  row("", "A", "B");
  row("time to train (mean)", days(a.elapsed_s.mean), days(b.elapsed_s.mean));
  row("time to train (p10)", days(a.elapsed_s.p10), days(b.elapsed_s.p10));
  row("time to train (p90)", days(a.elapsed_s.p90), days(b.elapsed_s.p90));
  row("failure-free", days(a.ideal_s), days(b.ideal_s));
  row("effective training time", percent(a.effective_training_time.mean), percent(b.effective_training_time.mean));
  row("GPU-hours", model::format_count(a.gpu_hours), model::format_count(b.gpu_hours));
  row("unexpected interruptions", fixed(a.unexpected, 1), fixed(b.unexpected, 1));
  row("planned interruptions", fixed(a.planned, 1), fixed(b.planned, 1));
  row("time lost", hours(a.lost.total()), hours(b.lost.total()));
  row("checkpoint interval", duration(a.checkpoint_interval_s), duration(b.checkpoint_interval_s));
  row("checkpoint stall", duration(a.checkpoint.stall_s), duration(b.checkpoint.stall_s));
  if (!c.a.energy || !c.b.energy) return;
  const sim::RunEnergy &ea = *c.a.energy, &eb = *c.b.energy;
  row("energy (facility)", model::format_energy(ea.facility_energy_j), model::format_energy(eb.facility_energy_j));
  row("energy cost", model::format_count(ea.cost), model::format_count(eb.cost));
  row("mean power (IT)", model::format_power(ea.mean_it_w), model::format_power(eb.mean_it_w));
  row("swing within a step", model::format_power(ea.step_swing_w), model::format_power(eb.step_swing_w));
}

app::TrainRequest request_for(model::Scenario s, const TrainCommand& cmd) {
  app::TrainRequest request;
  request.scenario = std::move(s);
  request.trials = cmd.trials;
  request.seed = cmd.seed;
  request.timeline = !cmd.timeline.empty();
  request.calibration_file = cmd.calibration.file;
  return request;
}

int execute(const TrainCommand& cmd, Streams io) {
  const sim::Control control{stderr_progress(io.err, "herd train"), {}};
  if (!cmd.compare.empty()) {
    const app::TrainRequest a = request_for(app::load_scenario(cmd.compare[0], cmd.options.sets), cmd);
    const app::TrainRequest b = request_for(app::load_scenario(cmd.compare[1], cmd.options.sets), cmd);
    const app::TrainComparison comparison = app::compare(a, b, control);
    cmd.csv.write(app::to_csv(comparison), io.out);
    if (cmd.json) io.out << app::to_json(comparison).dump(2) << "\n";
    else if (!cmd.csv.to_stdout()) print_comparison(io.out, cmd.compare, comparison);
    return kExitOk;
  }
  const app::TrainRequest request = request_for(cmd.options.load(), cmd);
  const app::TrainResult result = app::train(request, control);
  const auto& report = result.report;
  const bool none_finished = report.trials > 0 && report.unfinished_trials == report.trials;
  if (!result.memory_warning.empty())
    io.err << "herd: " << result.memory_warning << "; the run below is what it would take if it did (exit code 3)\n";
  if (none_finished)
    io.err << "herd: no trial finished the run (the failures outpace the recoveries); the times below are where the trials stopped (exit code 3)\n";
  if (result.timeline) {
    const std::string title = request.scenario.name + " (trial 0)";
    model::write_file_atomically(cmd.timeline, app::run_timeline_file(result, title));
  }
  cmd.csv.write(app::to_csv(result), io.out);
  if (cmd.json) io.out << app::to_json(result).dump(2) << "\n";
  else if (!cmd.csv.to_stdout()) {
    if (!result.memory_warning.empty()) io.out << "DOES NOT FIT: " << result.memory_warning << ".\nThe run below assumes it did.\n\n";
    if (none_finished)
      io.out << "NO TRIAL FINISHED: all " << report.trials << " trials stopped before the end of the run; the times below are lower bounds.\n\n";
    else if (report.unfinished_trials > 0)
      io.out << "WARNING: " << report.unfinished_trials << " of " << report.trials
             << " trials did not finish; the time to train counts them where they stopped.\n\n";
    print_report(io.out, result.report);
    if (result.energy) print_energy(io.out, *result.energy, *result.power);
  }
  return result.memory_warning.empty() && !none_finished ? kExitOk : kExitNoLayout;
}

}  // namespace

Action add_train_command(CLI::App& app) {
  auto state = std::make_shared<TrainCommand>();
  auto* cmd = app.add_subcommand("train", "Time-to-train, failures, checkpoints, restarts and goodput of the whole run");
  state->options.add_to(*cmd);
  cmd->add_option("--trials", state->trials, "Monte Carlo trials (default: run.trials, 1000)")
      ->check(CLI::Range(1, 100'000'000))
      ->type_name("N");
  cmd->add_option("--seed", state->seed, "Seed of the trials (default: run.seed, 1); same seed, same result")
      ->check(CLI::Validator(
          [](const std::string& text) { return text.rfind('-', 0) == 0 ? "must not be negative, got " + text : std::string(); },
          "S >= 0"));
  cmd->add_flag("--json", state->json, "Print the report as JSON (schema in docs/models/reliability.md)");
  cmd->add_option("--timeline", state->timeline,
                  "Write trial 0's events (phases, checkpoints, failures, restarts) as Chrome trace JSON")
      ->type_name("FILE");
  state->csv.add_to(*cmd, "every figure (figure,value; with --compare figure,a,b)");
  state->calibration.add_to(*cmd);
  cmd->add_option("--compare", state->compare, "Two scenarios side by side (--set applies to both)")
      ->expected(2)
      ->type_name("SCENARIO");
  return [state, cmd](Streams io) {
    const bool timeline = cmd->count("--timeline") > 0;
    if (!state->compare.empty() && (!state->options.scenario.empty() || timeline))
      throw model::InputError("--compare", "", "takes the two scenarios itself; give no SCENARIO and no --timeline with it");
    if (state->compare.empty()) state->calibration.check(state->options.scenario);
    else {
      check_stdin_once(state->compare, "--compare");
      check_stdin_once({state->compare[0], state->compare[1], state->calibration.file}, "--calibration");
    }
    if (timeline) model::check_output_path(state->timeline, "--timeline");
    state->csv.check(state->json);
    return execute(*state, io);
  };
}

}  // namespace herd::cli
