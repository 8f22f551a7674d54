#pragma once
// The parallel layout of a training job and the checks that reject impossible combinations.
#include <array>
#include <cstdint>
#include <string_view>

namespace herd::model {

struct TransformerSpec;
struct ClusterSpec;

enum class Axis { tp, cp, pp, dp };
enum class DpSharding { none, zero1, fsdp, zero3 };
enum class GradSync { per_step, per_round, per_microbatch };
/// Activation recomputation. op: torchtitan's per-op selective checkpointing (every block's input
/// and the outputs of its odd-numbered matmuls and attention kept, the rest recomputed; memory.cpp,
/// workload.cpp).
enum class Recompute { none, selective, full, op };
enum class Schedule { gpipe, one_f_one_b, interleaved, llama3, zero_bubble };
enum class LayerLayout { uniform, llama3 };
enum class CpAlgorithm { allgather, ring };
enum class Precision { bf16, fp8 };
/// The software that lowers a layer's element-wise work (docs/models/stacks.md): megatron (fused
/// kernels, Megatron-LM / Transformer Engine), pytorch_eager (one kernel per PyTorch op, as
/// torchtitan's Llama model runs without torch.compile), torch_compile (Inductor fuses each
/// element-wise chain between GEMMs; Herd lowers it as megatron).
enum class Stack { megatron, pytorch_eager, torch_compile };
/// Which fused attention kernel runs (docs/models/stacks.md): cudnn (cuDNN's fused attention or
/// FlashAttention-3, the GPU's efficiency.attention_*; Megatron-LM / Transformer Engine) or flash2
/// (FlashAttention-2, efficiency.flash2_*; what PyTorch's scaled_dot_product_attention dispatches to).
enum class AttentionKernel { cudnn, flash2 };

std::string_view to_string(Axis);
std::string_view to_string(DpSharding);
std::string_view to_string(GradSync);
std::string_view to_string(Recompute);
std::string_view to_string(Schedule);
std::string_view to_string(LayerLayout);
std::string_view to_string(CpAlgorithm);
std::string_view to_string(Stack);
std::string_view to_string(AttentionKernel);

/// Member defaults are the defaults the scenario table declares (model/src/schema/schema_plan.cpp;
/// tests/model/params_test.cpp keeps them equal). Keys the table leaves null are derived from others
/// when a scenario is built (scenario_build.cpp): dp, grad_sync, sequence_parallel, global_batch,
/// round_size, overlap_param_gather and attention_kernel. Their defaults here are what that derivation gives on one
/// GPU with the other defaults, except global_batch, 0 until set.
/// The most micro-batches per pipeline per step a plan may ask for: a step's simulated work and
/// memory grow with them, and no published run accumulates nearly as many (Llama 3 405B: 16).
inline constexpr std::int64_t kMaxMicrobatches = 8192;

struct PlanSpec {
  int tp = 1, cp = 1, pp = 1;
  int dp = 1;                        ///< derived: GPUs / (tp x cp x pp)
  int virtual_stages = 1;
  DpSharding dp_sharding = DpSharding::zero1;
  GradSync grad_sync = GradSync::per_step;  ///< derived: per_microbatch for fsdp and zero3, else per_step
  int grad_bytes = 4;                ///< bytes per gradient element (grad_dtype fp32: 4, bf16: 2)
  /// Bytes of optimizer state per parameter (optimizer_dtype fp32: FP32 master copy, m and v, 12;
  /// bf16: BF16 m and v, the BF16 weights are the master copy, 4).
  int optimizer_bytes = 12;
  bool sequence_parallel = false;    ///< derived: tp > 1
  bool tp_comm_overlap = false;     ///< TP collectives split into chunks that overlap their GEMMs
  bool pp_blocking_send = false;    ///< the stage waits for each pipeline send (DeepSpeed; pp_send blocking)
  /// Gradient reductions issued during the backward, part by part (Megatron-LM overlap_grad_reduce,
  /// FSDP); false: one reduction per model chunk after the step's last backward.
  bool overlap_grad_reduce = true;
  /// ZeRO-1: the updated parameters are all-gathered part by part while the next step's forward
  /// runs (Megatron-LM overlap_param_gather); false: one blocking all-gather after the optimizer.
  /// Derived: overlap_grad_reduce.
  bool overlap_param_gather = true;
  int micro_batch = 1;               ///< sequences per micro-batch
  std::int64_t global_batch = 0;     ///< sequences per step, all DP ranks; derived: dp x micro_batch x pp
  Recompute recompute = Recompute::none;
  Schedule schedule = Schedule::one_f_one_b;
  int round_size = 1;                ///< llama3 schedule's N; derived: pp
  LayerLayout layer_layout = LayerLayout::uniform;
  CpAlgorithm cp_algorithm = CpAlgorithm::allgather;
  bool flash_attention = true;
  std::array<Axis, 4> rank_order{Axis::tp, Axis::cp, Axis::pp, Axis::dp};  ///< innermost first
  Precision precision = Precision::bf16;
  Stack stack = Stack::megatron;  ///< how element-wise ops are lowered (plan.stack)
  /// Derived: flash2 under the PyTorch stacks, cudnn under megatron.
  AttentionKernel attention_kernel = AttentionKernel::cudnn;

  int gpus() const { return tp * cp * pp * dp; }
  int degree(Axis a) const;
  /// Micro-batches each pipeline processes per step: global_batch / (dp * micro_batch); at most
  /// kMaxMicrobatches (validation refuses more).
  std::int64_t microbatches() const { return global_batch / (static_cast<std::int64_t>(dp) * micro_batch); }
  /// Ranks that hold the same parameters and reduce gradients together: DP x CP (context-parallel
  /// ranks see different tokens of the same sequences, so their gradients are summed too). ZeRO/FSDP
  /// shard over this group, as Megatron-LM's data-parallel-with-context-parallel group does.
  int gradient_group() const { return dp * cp; }
  bool shards_optimizer() const { return dp_sharding != DpSharding::none; }
  bool shards_gradients() const { return dp_sharding == DpSharding::fsdp || dp_sharding == DpSharding::zero3; }
  bool shards_parameters() const { return dp_sharding == DpSharding::zero3; }
  /// PyTorch-native training (pytorch_eager, torch_compile): DTensor tensor parallelism, FSDP2,
  /// scaled_dot_product_attention (docs/models/stacks.md).
  bool pytorch() const { return stack != Stack::megatron; }
};

/// Rejects impossible plans. Throws ValueError naming the JSON pointer of the key at fault, e.g.
/// "/plan/tp: 6 does not divide 128 attention heads".
void validate_plan(const PlanSpec& plan, const TransformerSpec& model, const ClusterSpec& cluster);

}  // namespace herd::model
