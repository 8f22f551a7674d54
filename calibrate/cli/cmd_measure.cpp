// herd-calibrate measure: time the workload model's ops for the chosen models and plans on this
// machine's GPU (or CPU), plus NCCL collectives over all local GPUs, and write the raw records.
#include <cstdio>
#include <memory>
#include <ostream>
#include <sstream>

#include "calibrate_commands.hpp"
#include "herd/calibrate/cli.hpp"
#include "herd/cli/files.hpp"
#include "herd/calibrate/cpu_backend.hpp"
#include "herd/calibrate/sweep.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/model/scenario.hpp"
#if HERD_CALIBRATE_WITH_CUDA
#include "herd/calibrate/cuda_backend.hpp"
#endif

namespace herd::calibrate::cli {

namespace {

struct MeasureCommand {
  std::string backend = default_backend();
  std::vector<std::string> models, sets;
  std::int64_t seq = 0;
  std::vector<double> seq_fractions{1.0, 0.5, 0.25};
  int micro_batch = 1;
  int warmup = -1, reps = -1;
  bool no_layers = false, layers_only = false;
  double sustain_s = 0;
  std::vector<double> copy_bytes;
  int device = 0;
  bool no_nccl = false;
  double nccl_min_bytes = 8, nccl_max_bytes = 8.0 * (1ULL << 30);
  std::string output;
};

// The CPU's default layer: Llama 3 8B's architecture narrowed to h 512 (4 query heads of 128, one
// K/V head, SwiGLU 1536) at 256 tokens, which two cores time in well under a minute.
const char* const kCpuDefaultModel = "llama3-8b:1";
const char* const kCpuDefaultSets[] = {"model.hidden=512", "model.ffn_hidden=1536", "model.heads=4", "model.kv_heads=1",
                                       "model.head_dim=128"};

std::vector<LayerDims> layers_for(const MeasureCommand& c, Streams io) {
  std::vector<model::Override> overrides;
  const bool cpu_default = c.backend == "cpu" && c.models.empty();
  if (cpu_default)
    for (const char* s : kCpuDefaultSets) overrides.push_back(model::parse_override(s));
  for (const auto& s : c.sets) overrides.push_back(model::parse_override(s));
  std::vector<std::string> specs = c.models;
  if (specs.empty()) specs = c.backend == "cpu" ? std::vector<std::string>{kCpuDefaultModel}
                                                : std::vector<std::string>{"llama3-405b-16k:8", "llama3-8b:1"};
  std::vector<LayerDims> layers;
  for (const std::string& spec : specs) {
    const auto colon = spec.find(':');
    const model::Scenario s = model::load_scenario(spec.substr(0, colon), overrides);
    std::vector<int> tps;
    if (colon != std::string::npos) {
      std::stringstream list(spec.substr(colon + 1));
      for (std::string t; std::getline(list, t, ',');) {
        try {
          tps.push_back(std::stoi(t));
        } catch (const std::exception&) {
          throw model::InputError("--model " + spec, "", "expected NAME[:TP[,TP...]], got TP \"" + t + "\"");
        }
      }
    } else {
      tps.push_back(s.plan.tp);
    }
    model::PlanSpec plan = s.plan;
    plan.micro_batch = c.micro_batch;
    const std::int64_t seq = c.seq > 0 ? c.seq : cpu_default ? 256 : s.model.seq_len;
    try {
      for (const LayerDims& d : sweep_layers(s.model, plan, tps, seq, c.seq_fractions)) layers.push_back(d);
    } catch (const model::ValueError& e) {
      throw model::InputError("--model " + spec, e.pointer(), e.message());
    }
    std::string tp_list;
    for (int tp : tps) {
      if (!tp_list.empty()) tp_list += ',';
      tp_list += std::to_string(tp);
    }
    io.err << "herd-calibrate: " << s.model.name << " at TP " << tp_list << ", up to " << seq << " tokens per sequence\n";
  }
  return layers;
}

void print_progress(std::ostream& err, std::size_t i, std::size_t n, const Record& r) {
  char line[256];
  std::snprintf(line, sizeof line, "[%zu/%zu] %-11s %-16s %-17s %10.4f ms\n", i + 1, n, std::string(to_string(r.kind)).c_str(),
                r.op.c_str(), r.pass.c_str(), r.median_s * 1e3);
  err << line;
}

}  // namespace

Action add_measure_command(CLI::App& app) {
  auto c = std::make_shared<MeasureCommand>();
  auto* cmd = app.add_subcommand("measure", "Time a Transformer layer's ops (and NCCL collectives) on this machine");
  cmd->add_option("--backend", c->backend, "cuda (BF16 on a GPU) or cpu (FP32 reference); default: cuda when a GPU is visible")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--model", c->models,
                  "Scenario, built-in scenario or model preset, with TP degrees: llama3-405b-16k:8,4 (default: "
                  "llama3-405b-16k:8 and llama3-8b:1 on CUDA; a narrowed Llama 3 8B layer on the CPU)");
  cmd->add_option("--set", c->sets, "Override a key of every model's scenario: --set model.hidden=1024");
  cmd->add_option("--seq", c->seq, "Tokens per sequence (default: the model's seq_len; 256 for the CPU default)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seq-fractions", c->seq_fractions, "Sequence lengths measured, as fractions of --seq")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--micro-batch", c->micro_batch, "Sequences per micro-batch")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", c->warmup, "Untimed runs per op (default: 3 on CUDA, 1 on the CPU)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--reps", c->reps, "Timed runs per op (default: 10 on CUDA, 5 on the CPU)")->check(CLI::PositiveNumber);
  cmd->add_flag("--no-layers", c->no_layers, "Do not time whole layers end to end");
  cmd->add_flag("--layers-only", c->layers_only, "Time only whole layers (no ops, copies or NCCL sweep)");
  cmd->add_option("--sustain", c->sustain_s,
                  "Run each whole layer back to back for at least this many seconds (the speed the device keeps "
                  "under its power and thermal limits; herd-calibrate fit turns it into sustained_fraction)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--copy-bytes", c->copy_bytes, "Bytes moved by each memory-bandwidth probe")->delimiter(',');
  cmd->add_option("--device", c->device, "CUDA device for the compute measurements")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-nccl", c->no_nccl, "Skip the NCCL sweep (CUDA)");
  cmd->add_option("--nccl-min-bytes", c->nccl_min_bytes, "Smallest NCCL buffer")->check(CLI::PositiveNumber);
  cmd->add_option("--nccl-max-bytes", c->nccl_max_bytes, "Largest NCCL buffer (default 8 GiB)")->check(CLI::PositiveNumber);
  cmd->add_option("-o,--output", c->output, "Raw measurement file to write (-: standard output, the text going to standard error)")->required()->type_name("FILE");
  return [c](Streams io) {
    herd::cli::check_output(c->output, "--output");
    const bool cuda = c->backend == "cuda";
    SweepPlan plan;
    plan.layers = layers_for(*c, io);
    plan.whole_layers = !c->no_layers;
    plan.dtype = cuda ? "bf16" : "fp32";
    plan.copy_bytes = c->copy_bytes;
    if (plan.copy_bytes.empty())
      plan.copy_bytes = cuda ? std::vector<double>{1 << 20, 16 << 20, 256 << 20, 2048.0 * (1 << 20)}
                             : std::vector<double>{1 << 20, 16 << 20};
    if (c->no_layers && (c->layers_only || c->sustain_s > 0))
      throw model::InputError(c->layers_only ? "--layers-only" : "--sustain", "", "needs whole layers (drop --no-layers)");
    TimingPolicy policy{c->warmup >= 0 ? c->warmup : cuda ? 3 : 1, c->reps > 0 ? c->reps : cuda ? 10 : 5};
    policy.layer_sustain_s = c->sustain_s;
    std::vector<Record> records = plan_records(plan);
    if (c->layers_only)
      std::erase_if(records, [](const Record& r) { return r.kind != RecordKind::layer; });
    const auto progress = [&](std::size_t i, std::size_t n, const Record& r) { print_progress(io.err, i, n, r); };
    MeasurementSet set;
    if (cuda) {
#if HERD_CALIBRATE_WITH_CUDA
      auto backend = cuda::make_backend({c->device});
      set = measure_all(*backend, std::move(records), policy, progress);
      if (!c->no_nccl && !c->layers_only) {
        MeasurementSet comm = cuda::nccl_sweep({c->nccl_min_bytes, c->nccl_max_bytes}, io.err);
        for (auto& r : comm.records) set.records.push_back(std::move(r));
        for (auto& n : comm.notes) set.notes.push_back(std::move(n));
        set.device.devices = comm.device.devices;
        if (comm.device.details.contains("nccl")) set.device.details["nccl"] = comm.device.details["nccl"];
      }
#else
      throw model::InputError("--backend cuda", "", "this herd-calibrate was built without CUDA (HERD_WITH_CUDA)");
#endif
    } else {
      CpuBackend backend;
      set = measure_all(backend, std::move(records), policy, progress);
    }
    herd::cli::write_output(c->output, to_json(set).dump(1) + "\n", io.out);
    (c->output == herd::cli::kStdoutFile ? io.err : io.out)
        << "wrote " << set.records.size() << " records measured on " << set.device.name << " to " << model::output_name(c->output) << "\n";
    return kExitOk;
  };
}

}  // namespace herd::calibrate::cli
