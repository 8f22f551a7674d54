#include "herd/model/plan.hpp"

#include <algorithm>
#include <string>

#include "herd/model/architecture.hpp"
#include "herd/model/error.hpp"
#include "herd/model/hardware.hpp"

namespace herd::model {

std::string_view to_string(Axis a) {
  switch (a) {
    case Axis::tp: return "tp";
    case Axis::cp: return "cp";
    case Axis::pp: return "pp";
    case Axis::dp: return "dp";
  }
  return "";
}
std::string_view to_string(DpSharding s) {
  switch (s) {
    case DpSharding::none: return "none";
    case DpSharding::zero1: return "zero1";
    case DpSharding::fsdp: return "fsdp";
    case DpSharding::zero3: return "zero3";
  }
  return "";
}
std::string_view to_string(GradSync g) {
  switch (g) {
    case GradSync::per_step: return "per_step";
    case GradSync::per_round: return "per_round";
    case GradSync::per_microbatch: return "per_microbatch";
  }
  return "per_step";
}
std::string_view to_string(Recompute r) {
  switch (r) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::full: return "full";
    case Recompute::op: return "op";
  }
  return "";
}
std::string_view to_string(Schedule s) {
  switch (s) {
    case Schedule::gpipe: return "gpipe";
    case Schedule::one_f_one_b: return "1f1b";
    case Schedule::interleaved: return "interleaved";
    case Schedule::llama3: return "llama3";
    case Schedule::zero_bubble: return "zero_bubble";
  }
  return "";
}
std::string_view to_string(LayerLayout l) { return l == LayerLayout::uniform ? "uniform" : "llama3"; }
std::string_view to_string(CpAlgorithm c) { return c == CpAlgorithm::allgather ? "allgather" : "ring"; }
std::string_view to_string(Stack s) {
  switch (s) {
    case Stack::megatron: return "megatron";
    case Stack::pytorch_eager: return "pytorch_eager";
    case Stack::torch_compile: return "torch_compile";
  }
  return "";
}
std::string_view to_string(AttentionKernel k) { return k == AttentionKernel::cudnn ? "cudnn" : "flash2"; }

int PlanSpec::degree(Axis a) const {
  switch (a) {
    case Axis::tp: return tp;
    case Axis::cp: return cp;
    case Axis::pp: return pp;
    case Axis::dp: return dp;
  }
  return 1;
}

namespace {
std::string str(long long v) { return std::to_string(v); }
[[noreturn]] void reject(const char* pointer, const std::string& message) { throw ValueError(pointer, message); }
}  // namespace

void validate_plan(const PlanSpec& p, const TransformerSpec& m, const ClusterSpec& c) {
  // The product in 64 bits, held at 2^31 on the way (PlanSpec::gpus() is an int: it holds once this
  // check has passed): tp = 10^9 x pp 8 does not wrap around to a count that matches.
  constexpr long long kHeld = 1LL << 31;
  long long model_parallel = 1;  // tp x cp x pp
  for (const int d : {p.tp, p.cp, p.pp}) model_parallel = std::clamp(model_parallel * d, -kHeld, kHeld);
  const long long gpus = std::clamp(model_parallel * p.dp, -kHeld, kHeld);
  if (gpus != c.num_gpus) {
    const bool fills = model_parallel > 0 && c.num_gpus > 0 && c.num_gpus % model_parallel == 0;
    reject("/plan", "tp " + str(p.tp) + " x cp " + str(p.cp) + " x pp " + str(p.pp) + " x dp " + str(p.dp) + " = " +
                        (gpus >= kHeld ? std::string("over 2^31") : str(gpus)) + " GPUs, but the cluster has " +
                        str(c.num_gpus) + (fills ? " (dp " + str(c.num_gpus / model_parallel) + " would fill it)" : ""));
  }
  if (m.heads % p.tp != 0) reject("/plan/tp", str(p.tp) + " does not divide " + str(m.heads) + " attention heads");
  if (m.kv_heads % p.tp != 0 && p.tp % m.kv_heads != 0)
    reject("/plan/tp", str(p.tp) + " neither divides nor is a multiple of " + str(m.kv_heads) + " key/value heads");
  if (m.ffn_hidden % p.tp != 0) reject("/plan/tp", str(p.tp) + " does not divide the MLP dimension " + str(m.ffn_hidden));
  if (p.precision == Precision::fp8) reject("/plan/precision", "fp8 is declared but not modelled yet; use bf16");

  const long long chunks = static_cast<long long>(p.pp) * p.virtual_stages;
  if (p.layer_layout == LayerLayout::uniform && m.layers % chunks != 0)
    reject("/plan/virtual_stages", str(m.layers) + " layers cannot be split evenly over pp " + str(p.pp) + " x " +
                                       str(p.virtual_stages) + " virtual stages");
  if (p.layer_layout == LayerLayout::llama3) {
    if (p.pp < 2) reject("/plan/layer_layout", "the llama3 layout needs pp >= 2");
    if ((m.layers + 2) % chunks != 0)
      reject("/plan/virtual_stages", str(m.layers) + " layers + embedding + output cannot be split evenly over pp " +
                                         str(p.pp) + " x " + str(p.virtual_stages) + " virtual stages");
  }
  if (p.virtual_stages > 1 && p.schedule != Schedule::interleaved && p.schedule != Schedule::llama3)
    reject("/plan/schedule", "virtual_stages " + str(p.virtual_stages) + " needs the interleaved or llama3 schedule, not " +
                                 std::string(to_string(p.schedule)));

  if (m.seq_len % (2LL * p.cp) != 0 && p.cp > 1)
    reject("/plan/cp", "sequence " + str(m.seq_len) + " cannot be cut into 2 x cp = " + str(2 * p.cp) +
                           " load-balanced chunks");
  if (p.tp_comm_overlap && p.tp > 1 && !p.sequence_parallel)
    reject("/plan/tp_comm_overlap", "overlapping TP communication with GEMMs needs sequence parallelism "
                                    "(plan.sequence_parallel), as Transformer Engine's userbuffers do");
  // torchtitan (torchtitan/models/llama/parallelize_llama.py): "Async TP requires --training.compile".
  if (p.tp_comm_overlap && p.tp > 1 && p.stack == Stack::pytorch_eager)
    reject("/plan/tp_comm_overlap", "eager PyTorch has no TP overlap: async TP is torch.compile's micro-pipelined "
                                    "TP (plan.stack torch_compile), and torchtitan refuses it without compile");
  // Megatron-LM asserts the same (megatron/training/arguments.py: "Must use --overlap-param-gather
  // with --overlap-grad-reduce").
  if (p.dp_sharding == DpSharding::zero1 && p.overlap_param_gather && !p.overlap_grad_reduce)
    reject("/plan/overlap_param_gather", "overlapping the parameter all-gather needs overlap_grad_reduce, as in "
                                         "Megatron-LM");
  if (!p.overlap_grad_reduce && p.grad_sync != GradSync::per_step)
    reject("/plan/overlap_grad_reduce", "false reduces gradients once, after the step's last backward; it needs "
                                        "grad_sync per_step, not " + std::string(to_string(p.grad_sync)));
  if (p.sequence_parallel && (m.seq_len / p.cp) % p.tp != 0)
    reject("/plan/sequence_parallel", "sequence " + str(m.seq_len) + " / cp " + str(p.cp) +
                                          " is not divisible by tp " + str(p.tp));

  const long long per_step = static_cast<long long>(p.dp) * p.micro_batch;
  if (p.global_batch % per_step != 0)
    reject("/plan/global_batch", str(p.global_batch) + " sequences is not a multiple of dp " + str(p.dp) +
                                     " x micro_batch " + str(p.micro_batch));
  const long long mbs = p.microbatches();
  // The step simulation's work and memory grow with the micro-batches of a pipeline (about 0.5 GB
  // and 5 s per 4,096 at 32 layers); more than any published run accumulates is refused up front.
  if (mbs > kMaxMicrobatches)
    reject("/plan/global_batch", str(p.global_batch) + " sequences make " + str(mbs) +
                                     " micro-batches per pipeline per step; Herd simulates at most " +
                                     str(kMaxMicrobatches) + " (raise micro_batch or dp, or lower the batch)");
  if (p.schedule == Schedule::interleaved && p.pp > 1 && mbs % p.pp != 0)
    reject("/plan/global_batch", "the interleaved schedule needs micro-batches per pipeline (" + str(mbs) +
                                     ") to be a multiple of pp " + str(p.pp));
  // A round shorter than the pipeline sends a chunk's first output back to the first stage after
  // the stage has moved on to the next chunk's 1F1B steady state, and the interleaved order can
  // then wait on itself (PyTorch's flexible interleaved schedule takes N = M / floor(M / pp) >= pp).
  if (p.schedule == Schedule::llama3 && p.round_size < p.pp && mbs >= p.pp && p.virtual_stages > 1)
    reject("/plan/round_size", "a round of " + str(p.round_size) + " micro-batches is shorter than pp " + str(p.pp) +
                                   " with " + str(mbs) + " micro-batches per pipeline; use round_size >= pp");
  if (p.schedule == Schedule::llama3 && mbs % p.round_size != 0 && mbs > p.round_size)
    reject("/plan/round_size", str(mbs) + " micro-batches per pipeline are not a whole number of rounds of " +
                                   str(p.round_size));
}

}  // namespace herd::model
