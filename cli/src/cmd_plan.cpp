// herd plan: search, rank and explain the parallel layouts of a scenario.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "commands.hpp"
#include "herd/app/plan_use_case.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/model/units.hpp"

namespace herd::cli {

namespace {

namespace sp = sim::plan;

struct PlanCommand {
  ScenarioOptions options;
  std::map<std::string, std::string> lists;  // flag -> text
  double headroom = 0;
  int top = 10;
  std::string objective = "throughput";
  std::string power_budget;
  std::string shard;
  std::vector<std::string> merge;
  std::string output;
  CsvOption csv;
  std::optional<std::string> explain;
  bool json = false;
  bool no_prune = false;
  bool no_robustness = false;
  int threads = 0;
  int run_candidates = 8;
  CalibrationOption calibration;
};

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

void print_table(std::ostream& out, const std::vector<sp::Evaluation>& rows, std::size_t count, bool ranked) {
  // The layout column as wide as its longest label (at least 44), so the columns stay aligned.
  std::size_t width = 44;
  for (std::size_t i = 0; i < rows.size() && i < count; ++i) width = std::max(width, sp::layout_label(rows[i].candidate.plan).size() + 2);
  out << (ranked ? "rank  " : "      ") << pad("layout", width) << pad("step", 10, true) << pad("tokens/s", 11, true)
      << pad("TFLOP/s", 9, true) << pad("MFU", 7, true) << pad("memory GiB", 15, true) << pad("J/token", 9, true)
      << pad("peak", 10, true) << "  bottleneck\n";
  for (std::size_t i = 0; i < rows.size() && i < count; ++i) {
    const auto& e = rows[i];
    out << (ranked ? pad(std::to_string(i + 1), 4, true) + "  " : "      ") << pad(sp::layout_label(e.candidate.plan), width)
        << pad(e.simulated ? model::format_time(e.step_time_s) : "-", 10, true)
        << pad(e.simulated ? model::format_count(e.tokens_per_s) : "-", 11, true)
        << pad(e.simulated ? fmt("%.1f", e.tflops_per_gpu) : "-", 9, true)
        << pad(e.simulated ? fmt("%.1f%%", 100 * e.mfu) : "-", 7, true)
        << pad(fmt("%.1f", e.memory_peak_bytes / kGiB) + " / " + fmt("%.0f", e.memory_capacity_bytes / kGiB), 15, true)
        << pad(e.has_power ? fmt("%.3g", e.energy_per_token_j) : "-", 9, true)
        << pad(e.has_power ? model::format_power(e.peak_power_w) : "-", 10, true) << "  "
        << (e.simulated ? e.bottleneck : "stage " + std::to_string(e.memory_stage) + " does not fit") << "\n";
  }
}

void print_text(std::ostream& out, const app::PlanResult& r) {
  const auto& c = r.search.counts;
  const auto n = [](long long v) { return group_digits(v); };
  const double budget = r.space.power_budget_w;
  out << r.scenario << ": layouts ranked by "
      << (r.objective == app::Objective::energy ? "energy per token" : app::to_string(r.objective))
      << (r.search.shards > 1 ? " (shard " + std::to_string(r.search.shard) + "/" + std::to_string(r.search.shards) + ")" : "")
      << "\n  " << n(c.combinations) << " combinations: " << n(c.invalid_total()) << " invalid, " << n(c.valid)
      << " layouts; " << n(c.out_of_memory) << " out of memory (headroom " << fmt("%.0f", 100 * r.space.memory_headroom)
      << " %), "
      << (budget > 0 ? n(c.over_power_budget) + " over the power budget (" + model::format_power(budget) + "), " : "")
      << n(c.pruned) << " pruned by the bound, " << n(c.simulated) << " simulated\n"
      << "  compute level: " << app::describe(r.level) << "\n"
      << "  J/token: facility energy per token of a step; peak: its highest 100 ms window of IT power x PUE\n\n";
  const auto top = static_cast<std::size_t>(r.search.top);
  if (r.search.ranked.empty() && c.over_power_budget > 0) {
    out << "No layout that fits in memory stays within the power budget (" << model::format_power(budget) << ").\n";
  } else if (r.search.ranked.empty()) {
    out << "No layout fits in memory. The closest (memory needed over the "
        << fmt("%.0f", 100 * (1 - r.space.memory_headroom)) << " % limit):\n";
    print_table(out, r.search.closest_out_of_memory, top, false);
    for (std::size_t i = 0; i < r.search.closest_out_of_memory.size() && i < 3; ++i) {
      const auto& e = r.search.closest_out_of_memory[i];
      const double over = e.memory_peak_bytes - e.memory_capacity_bytes * (1 - r.space.memory_headroom);
      out << "  " << sp::layout_label(e.candidate.plan) << ": stage " << e.memory_stage << " needs "
          << fmt("%.1f", over / kGiB) << " GiB more (a GPU with " << fmt("%.0f", e.memory_peak_bytes / kGiB / (1 - r.space.memory_headroom))
          << " GiB, or more recomputation, PP, TP or sharding)\n";
    }
  } else {
    print_table(out, r.search.ranked, top, true);
  }
  out << "\nInvalid combinations by reason\n";
  for (int i = 0; i < sp::kInvalidReasons; ++i)
    if (const auto v = c.invalid[static_cast<std::size_t>(i)]; v > 0)
      out << "  " << pad(n(v), 14, true) << "  " << sp::describe(static_cast<sp::Invalid>(i)) << "\n";
  if (!r.runs.empty()) {
    out << "\nRuns (" << app::to_string(r.objective) << "; * on the Pareto front of time-to-train against GPU-hours)\n";
    std::vector<std::string> labels;
    std::size_t width = 44;
    for (const auto& run : r.runs) {
      model::PlanSpec p;
      int gpus = run.num_gpus;
      sp::parse_layout(run.layout, p, gpus);
      labels.push_back(sp::layout_label(p));
      width = std::max(width, labels.back().size() + 2);
    }
    for (std::size_t k = 0; k < r.runs.size(); ++k) {
      const auto& run = r.runs[k];
      out << "  " << (run.pareto ? "* " : "  ") << pad(labels[k], width) << pad(group_digits(run.num_gpus), 7, true)
          << " GPUs  " << pad(fmt("%.1f", run.time_to_train_s / 86400), 6, true) << " days (p10 "
          << fmt("%.1f", run.p10_s / 86400) << ", p90 " << fmt("%.1f", run.p90_s / 86400) << ")  "
          << model::format_count(run.gpu_hours) << " GPU-hours\n";
    }
  }
  if (r.robustness && !r.robustness->perturbations.empty()) {
    out << "\nRobustness of the winner (top " << r.robustness->perturbations.front().order.size() << " re-simulated): ";
    if (r.robustness->winner_robust) {
      out << "first under every perturbation\n";
    } else {
      out << "NOT first under\n";
      for (const auto& p : r.robustness->perturbations) {
        if (p.winner_holds) continue;
        const auto label = [&](std::int64_t index) {
          for (const auto& e : r.search.ranked)
            if (e.candidate.index == index) return sp::layout_label(e.candidate.plan);
          return std::string();
        };
        out << "  " << p.what << ": " << (p.order.empty() ? std::string("none of them") : label(p.order.front())) << " wins";
        if (!p.over_power_budget.empty()) {
          const bool winner_over = std::find(p.over_power_budget.begin(), p.over_power_budget.end(),
                                             r.search.ranked.front().candidate.index) != p.over_power_budget.end();
          out << " (" << p.over_power_budget.size() << " over the power budget" << (winner_over ? ", the winner among them" : "") << ")";
        }
        out << "\n";
      }
    }
  }
  if (r.explanation) {
    const auto& x = *r.explanation;
    out << "\nExplain " << x.id << "\n";
    if (!x.invalid.empty()) {
      out << "  not a layout: " << x.invalid << "\n";
    } else if (!x.layout.fits) {
      out << "  does not fit: stage " << x.layout.memory_stage << " needs " << fmt("%.1f", x.layout.memory_peak_bytes / kGiB)
          << " of " << fmt("%.1f", x.layout.memory_capacity_bytes / kGiB) << " GiB\n";
    } else {
      out << "  rank " << x.rank << (x.rank_exact ? "" : " or lower") << " of " << group_digits(c.valid - c.out_of_memory)
          << " that fit; " << model::format_time(x.layout.step_time_s) << " per step, "
          << fmt("%.1f", 100 * x.behind_best) << (x.by_energy ? " % more energy" : " % more time")
          << " per token than the best\n  limited by:\n";
      for (const auto& l : x.limits) out << "    " << l << "\n";
      if (x.changes.empty())
        out << "  no single change of one searched key makes it " << (x.by_energy ? "use less energy" : "faster") << "\n";
      for (const auto& ch : x.changes) {
        if (x.by_energy)
          out << "  try " << ch.what << ": " << fmt("%.2f", ch.energy_per_token_j) << " J/token, "
              << fmt("%.1f", 100 * (1 - 1 / (1 + ch.gain))) << " % less (" << ch.id << ")\n";
        else
          out << "  try " << ch.what << ": " << fmt("%+.1f", 100 * ch.gain) << " % tokens/s (" << ch.id << ")\n";
      }
    }
  }
}

}  // namespace

Action add_plan_command(CLI::App& app) {
  auto state = std::make_shared<PlanCommand>();
  auto* cmd = app.add_subcommand("plan", "Search and rank parallel layouts (TP, CP, PP, DP, schedule, ...); explain one");
  state->options.add_to(*cmd);
  const std::pair<const char*, const char*> lists[] = {
      {"tp", "TP degrees, e.g. 1,2,4,8 or 2:8 (powers of two)"},
      {"cp", "CP degrees"},
      {"pp", "PP degrees"},
      {"v", "virtual stages per pipeline rank"},
      {"layout", "layer layouts: uniform, llama3 (first/last stage one layer short)"},
      {"schedule", "schedules: gpipe, 1f1b, interleaved, llama3, zero_bubble"},
      {"n", "llama3 schedule's N (0: pp)"},
      {"mb", "micro-batch sizes (sequences)"},
      {"dp-mode", "data-parallel modes: none (DDP), zero1, fsdp, zero3"},
      {"recompute", "recomputation: none, selective, full, op"},
      {"overlap", "TP communication overlap: 0, 1"},
      {"order", "rank orders, innermost first: tp-cp-pp-dp,..."},
      {"gpus", "GPU counts, e.g. 4096,8192,16384 or 1024:16384"},
      {"batch", "global batches (sequences)"},
  };
  for (const auto& [flag, help] : lists)
    cmd->add_option_function<std::string>(
           "--" + std::string(flag), [state, key = std::string(flag)](const std::string& v) { state->lists[key] = v; },
           help)
        ->type_name("LIST");
  cmd->add_option("--memory-headroom", state->headroom, "Fraction of GPU memory a layout must leave free (default 0)")
      ->type_name("F");
  cmd->add_option("--top", state->top, "Layouts to rank exactly and show (default 10)")->type_name("K");
  cmd->add_option("--objective", state->objective,
                  "throughput (default), energy (facility energy per token), time-to-train or gpu-hours")
      ->type_name("OBJECTIVE");
  cmd->add_option("--power-budget", state->power_budget,
                  "Drop layouts whose peak facility power (100 ms window x PUE) exceeds this, e.g. \"25 MW\"")
      ->type_name("POWER");
  cmd->add_option("--explain", state->explain,
                  "Explain a layout: key=value pairs as the table's layout ids (tp=8,pp=16,...); "
                  "empty: the scenario's own plan")
      ->expected(0, 1)
      ->type_name("LAYOUT");
  cmd->add_option("--shard", state->shard, "Evaluate slice I of N (I/N, 0-based) and write it with -o")
      ->type_name("I/N");
  cmd->add_option("--merge", state->merge, "Join shard results (files written by --shard) into one ranking")
      ->take_all()
      ->type_name("FILE");
  cmd->add_option("-o,--output", state->output, "Write the JSON result to FILE")->type_name("FILE");
  state->csv.add_to(*cmd, "every simulated layout");
  cmd->add_flag("--json", state->json, "Print the result as JSON (schema in docs/cli.md)");
  cmd->add_flag("--no-prune", state->no_prune, "Simulate every layout that fits (slow)");
  cmd->add_flag("--no-robustness", state->no_robustness, "Skip re-ranking the top layouts under moved inputs");
  cmd->add_option("--threads", state->threads, "Worker threads (default: every core)")->type_name("N");
  cmd->add_option("--run-candidates", state->run_candidates, "Layouts per GPU count whose run is simulated (default 8)")
      ->type_name("N");
  state->calibration.add_to(*cmd);
  return [state, cmd](Streams io) {
    if (cmd->count("--output") > 0) model::check_output_path(state->output, "--output");
    state->csv.check(state->json);
    state->calibration.check(state->options.scenario);
    const model::Scenario scenario = state->options.load();
    app::PlanResult result;
    if (!state->merge.empty()) {
      std::vector<std::pair<std::string, nlohmann::json>> files;
      for (const auto& f : state->merge) files.emplace_back(f, model::parse_json(model::read_text_file(f, "shard result"), f));
      result = app::merge(scenario, files);
    } else {
      app::PlanRequest request;
      request.scenario = scenario;
      for (const auto& [key, text] : state->lists) app::set_space_list(request.space, key, text);
      request.space.memory_headroom = state->headroom;
      request.space.top = state->top;
      if (cmd->count("--power-budget") > 0) request.space.power_budget_w = app::parse_power_budget(state->power_budget);
      request.objective = app::parse_objective(state->objective);
      request.explain = state->explain;
      request.options.prune = !state->no_prune;
      request.options.threads = state->threads;
      request.robustness = !state->no_robustness;
      request.run_candidates = state->run_candidates;
      request.calibration_file = state->calibration.file;
      if (!state->shard.empty()) {
        int i = 0, n = 0;
        char slash = 0;
        std::istringstream in(state->shard);
        if (!(in >> i >> slash >> n) || slash != '/' || !in.eof() || n < 1 || i < 0 || i >= n)
          throw model::InputError("--shard", "", "\"" + state->shard + "\" is not I/N with 0 <= I < N");
        if (state->output.empty()) throw model::InputError("--shard", "", "a shard's result needs -o FILE (for --merge)");
        request.options.shard = i;
        request.options.shards = n;
      }
      result = app::plan(request, {stderr_progress(io.err, "herd plan"), {}});
    }
    const nlohmann::json j = app::to_json(result);
    if (!state->output.empty()) model::write_file_atomically(state->output, j.dump(1) + "\n");
    state->csv.write(app::to_csv(result), io.out);
    if (state->json) io.out << j.dump(2) << "\n";
    else if (!state->csv.to_stdout()) print_text(io.out, result);
    // Nothing fits: a result, not an error, but scripts need to tell.
    return result.search.ranked.empty() ? kExitNoLayout : kExitOk;
  };
}

}  // namespace herd::cli
