// herd model: what the model is, what it costs per token, and whether the plan fits, stage by stage.
#include <cstdio>
#include <ostream>

#include "commands.hpp"
#include "herd/app/model_report_use_case.hpp"
#include "herd/model/units.hpp"

namespace herd::cli {

namespace {

struct ModelCommand {
  ScenarioOptions options;
  bool json = false;
  CsvOption csv;
  CalibrationOption calibration;
};

void print_calibration(std::ostream& out, const app::CalibrationInfo& c) {
  out << "Calibration " << c.file << ": measured on " << c.device << " (" << c.backend
      << "); compute predictions use its fitted efficiencies\n";
  if (!c.warning.empty()) out << "            warning: " << c.warning << "\n";
}

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", bytes / double(1ULL << 30));
  return buf;
}

void print_text(std::ostream& out, const app::ModelReport& r) {
  using namespace model;
  const auto& m = r.model;
  const auto& p = r.plan;
  const auto& mem = r.memory;
  const auto& counts = r.parameters;
  const double flops = r.model_flops_per_token;
  const double six_n = 6.0 * double(counts.total - counts.embedding + (m.tied_embeddings ? counts.embedding : 0));
  out << r.scenario_name << "\n  from " << r.scenario_source << "\n\n";
  out << "Model       " << m.name << ": " << m.layers << " layers, h " << m.hidden << ", ffn " << m.ffn_hidden << " ("
      << (m.mlp == MlpKind::swiglu ? "SwiGLU" : m.mlp == MlpKind::relu2 ? "squared ReLU" : "GeLU") << "), " << m.heads << " heads (" << m.kv_heads << " KV, dim "
      << m.head_dim << "), vocab " << m.vocab << ", seq " << m.seq_len << "\n";
  out << "Parameters  " << group_digits(counts.total) << "  (per layer " << group_digits(counts.per_layer)
      << ", embedding " << group_digits(counts.embedding) << ", output " << group_digits(counts.output) << ")\n";
  out << "FLOPs/token " << format_count(flops) << "FLOP model (6N' " << format_count(six_n) << ", causal attention "
      << format_count(flops - six_n) << ")";
  char per_step[64];
  std::snprintf(per_step, sizeof per_step, "; per step %.3g FLOP\n", flops * double(p.global_batch) * double(m.seq_len));
  out << per_step;
  out << "Plan        TP " << p.tp << " · CP " << p.cp << " (" << to_string(p.cp_algorithm) << ") · PP " << p.pp << " (V "
      << p.virtual_stages << ", " << to_string(p.schedule) << ", " << to_string(p.layer_layout) << " layout) · DP " << p.dp
      << " (" << to_string(p.dp_sharding) << ", grads " << to_string(p.grad_sync) << ")\n";
  out << "            micro-batch " << p.micro_batch << " · " << p.microbatches() << " micro-batches per step · global batch "
      << p.global_batch << " sequences (" << format_count(double(p.global_batch) * m.seq_len) << " tokens) · recompute "
      << to_string(p.recompute) << (p.sequence_parallel ? " · sequence parallel" : "")
      << (p.stack != Stack::megatron ? " · stack " + std::string(to_string(p.stack)) : std::string())
      << (p.attention_kernel != AttentionKernel::cudnn ? " · attention " + std::string(to_string(p.attention_kernel))
                                                       : std::string())
      << "\n\n";

  out << "Memory per GPU, GiB (capacity " << gib(mem.capacity_bytes) << " GiB)\n";
  const char* header[] = {"stage", "layers", "params", "weights", "grads", "optim", "activ", "(mb)", "comm", "transient", "runtime", "total"};
  for (const char* h : header) out << pad(h, 10, true);
  out << "\n";
  for (const auto& st : mem.stages) {
    std::string layers = std::to_string(st.layers) + (st.embedding ? "+E" : "") + (st.output ? "+O" : "");
    char mb[16];
    std::snprintf(mb, sizeof mb, "%.1f", st.inflight_microbatches);
    for (const std::string& cell :
         {std::to_string(st.stage), layers, format_count(st.parameters), gib(st.weights), gib(st.gradients),
          gib(st.optimizer), gib(st.activations), std::string(mb), gib(st.communication), gib(st.transient),
          gib(st.runtime), gib(st.total())})
      out << pad(cell, 10, true);
    out << "\n";
  }
  const auto& worst = mem.stages[static_cast<std::size_t>(mem.largest_stage)];
  char line[160];
  std::snprintf(line, sizeof line, "\n%s: largest stage %d needs %.1f GiB of %.1f GiB (%.0f%%)\n",
                mem.fits ? "Fits" : "Does NOT fit", worst.stage, worst.total() / double(1ULL << 30),
                mem.capacity_bytes / double(1ULL << 30), 100.0 * worst.total() / mem.capacity_bytes);
  out << line;
  if (r.calibration) print_calibration(out, *r.calibration);
}

}  // namespace

Action add_model_command(CLI::App& app) {
  auto state = std::make_shared<ModelCommand>();
  auto* cmd = app.add_subcommand("model", "Parameters, FLOPs per token and memory per pipeline stage for a plan");
  state->options.add_to(*cmd);
  cmd->add_flag("--json", state->json, "Print the analysis as JSON (schema in docs/cli.md)");
  state->csv.add_to(*cmd, "the memory table, one row per pipeline stage in bytes,");
  state->calibration.add_to(*cmd);
  return [state](Streams io) {
    state->csv.check(state->json);
    state->calibration.check(state->options.scenario);
    const app::ModelReport report = app::model_report({state->options.load(), state->calibration.file});
    state->csv.write(app::to_csv(report), io.out);
    if (state->json) io.out << app::to_json(report).dump(2) << "\n";
    else if (!state->csv.to_stdout()) print_text(io.out, report);
    return kExitOk;
  };
}

}  // namespace herd::cli
