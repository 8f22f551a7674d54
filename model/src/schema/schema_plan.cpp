#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
constexpr ParamDecl kParams[] = {
    {"plan.tp", integer, "1", "Tensor-parallel degree.", D::count, at_least_one},
    {"plan.cp", integer, "1", "Context-parallel degree.", D::count, at_least_one},
    {"plan.pp", integer, "1", "Pipeline-parallel degree.", D::count, at_least_one},
    {"plan.dp", integer, "null", "Data-parallel degree; default: GPUs / (tp x cp x pp).", D::count, at_least_one},
    {"plan.virtual_stages", integer, "1", "Model chunks per pipeline rank (V) for interleaved schedules.", D::count, at_least_one},
    {"plan.dp_sharding", choice, "\"zero1\"", "none: DDP; zero1: optimizer states sharded (Megatron distributed optimizer); fsdp: gradients and optimizer sharded, parameters kept after forward (Llama 3); zero3: everything sharded, parameters re-gathered in backward.", D::count, any, "none|zero1|fsdp|zero3"},
    {"plan.grad_sync", choice, "null", "per_step: gradients accumulate in a full-size buffer and are reduced once after the last micro-batch; per_round: each pipeline chunk's gradients accumulate unsharded through one round of consecutive micro-batches (llama3: N, interleaved: pp, other schedules: the step) and are reduced after its last backward of the round, so only the chunks in their round hold a full-size buffer; per_microbatch: every micro-batch's gradients are reduce-scattered into sharded accumulators. Default: per_microbatch for fsdp and zero3 (FSDP's behaviour without no_sync), per_step otherwise.", D::count, any, "per_step|per_round|per_microbatch"},
    // Megatron-LM's --overlap-grad-reduce / --overlap-param-gather (DistributedDataParallelConfig,
    // megatron/core/distributed/distributed_data_parallel_config.py, core_r0.9.0) are off unless
    // asked for; NeMo turns both on whenever dp > 1 (MegatronCommOverlapCallback,
    // nemo/lightning/pytorch/callbacks/megatron_comm_overlap.py, NeMo 2.0), and Herd's defaults
    // follow that recipe as plan.dp_sharding = zero1 does. PyTorch FSDP always overlaps.
    {"plan.overlap_grad_reduce", boolean, "true", "Gradient reductions overlap the backward: each part's (layer's) reduction is issued as soon as its weight gradient is done (Megatron-LM --overlap-grad-reduce, NeMo's default; FSDP). false: one reduction per model chunk, serial, after the step's last backward (Megatron-LM without the flag, which then uses one bucket; Megatron-LM 2021-22 and DeepSpeed's pipeline engine); needs grad_sync per_step."},
    {"plan.overlap_param_gather", boolean, "null", "ZeRO-1 only: the updated parameters are all-gathered part by part while the next step's forward runs, each part's forward waiting for its own (Megatron-LM --overlap-param-gather, NeMo's default); false: one blocking all-gather after the optimizer. Needs overlap_grad_reduce, as Megatron-LM does. Default: overlap_grad_reduce."},
    {"plan.grad_dtype", choice, "\"fp32\"", "Gradient accumulation and reduction type (Llama 3: FP32 accumulation and FP32 reduce-scatter).", D::count, any, "fp32|bf16"},
    {"plan.sequence_parallel", boolean, "null", "Megatron sequence parallelism (norms and dropout sharded over TP, all-gather/reduce-scatter instead of all-reduce); default: on when tp > 1."},
    {"plan.tp_comm_overlap", boolean, "false", "Overlap the sequence-parallel TP collectives with their GEMMs (Transformer Engine userbuffers, NeMo's tp_comm_overlap; torchtitan's async TP): the all-gather before QKV, fc1 and the out-projection and fc2 data gradients, and the reduce-scatter after out-projection and fc2, travel as tp point-to-point chunks while the GEMM works on the chunks already there. Needs sequence parallelism; not under plan.stack pytorch_eager (torchtitan's async TP needs torch.compile)."},
    {"plan.micro_batch", integer, "1", "Sequences per micro-batch.", D::count, at_least_one},
    {"plan.global_batch", integer, "null", "Sequences per optimizer step, over all data-parallel ranks.", D::count, at_least_one},
    {"plan.global_batch_tokens", integer, "null", "Tokens per optimizer step (alternative to global_batch; must be a multiple of seq_len).", D::count, at_least_one},
    {"plan.recompute", choice, "\"none\"", "Activation recomputation: none, selective (attention core recomputed, Korthikanti et al. 2022), full (every layer's input kept, the layer recomputed in backward), op (torchtitan's per-op selective checkpointing: each layer's input, the outputs of its 1st, 3rd, 5th and 7th matmuls (Q, V, gate, down under SwiGLU) and attention's output kept; the other matmuls and the element-wise ops recomputed in backward).", D::count, any, "none|selective|full|op"},
    {"plan.schedule", choice, "\"1f1b\"", "Pipeline schedule: gpipe, 1f1b, interleaved (Megatron 1F1B with virtual stages), llama3 (interleaved with a tunable round of N micro-batches), zero_bubble.", D::count, any, "gpipe|1f1b|interleaved|llama3|zero_bubble"},
    {"plan.round_size", integer, "null", "llama3 schedule: consecutive micro-batches per round, N (N = pp is depth-first, N = all micro-batches breadth-first; at least pp when there are pp or more micro-batches); default: pp.", D::count, at_least_one},
    {"plan.layer_layout", choice, "\"uniform\"", "uniform: layers split evenly over pp x V chunks, embedding with the first, output with the last; llama3: embedding and output each take one layer's slot (the first chunk of the first stage and the last chunk of the last stage carry one layer fewer).", D::count, any, "uniform|llama3"},
    {"plan.pp_send", choice, "\"async\"", "Pipeline sends: async (the stage computes on while its activation or gradient travels; Megatron-LM, PyTorch pipelining) or blocking (the stage waits for each send to finish before it computes again: DeepSpeed's pipeline engine issues p2p.send in line with its instructions).", D::count, any, "async|blocking"},
    // docs/models/stacks.md: PyTorch's SDPA priority order (aten/src/ATen/native/transformers/cuda/
    // sdp_utils.cpp) puts its FlashAttention-2 kernels first; cuDNN is opt-in (pytorch/pytorch#138522).
    {"plan.attention_kernel", choice, "null", "Fused attention kernel (with flash_attention true): cudnn (cuDNN's fused attention or FlashAttention-3: cluster.gpu.efficiency.attention_fwd/bwd; Megatron-LM and NeMo through Transformer Engine) or flash2 (FlashAttention-2: efficiency.flash2_fwd/bwd; what PyTorch's scaled_dot_product_attention runs on H100 unless cuDNN attention is enabled, as in torchtitan). Default: flash2 under plan.stack pytorch_eager and torch_compile, cudnn under megatron.", D::count, any, "cudnn|flash2"},
    {"plan.flash_attention", boolean, "true", "Fused (FlashAttention-style) attention: no s x s score matrix is stored; false models the unfused softmax and dropout of Korthikanti et al. 2022."},
    {"plan.cp_algorithm", choice, "\"allgather\"", "Context parallelism: allgather (K and V all-gathered, attention local; Llama 3) or ring (K/V passed around a ring with point-to-point sends, overlapped; Megatron-LM / Transformer Engine).", D::count, any, "allgather|ring"},
    {"plan.rank_order", string_list, "[\"tp\", \"cp\", \"pp\", \"dp\"]", "Parallel dimensions from innermost (adjacent ranks) to outermost (Llama 3: tp, cp, pp, dp).", D::count, any, "tp|cp|pp|dp"},
    {"plan.precision", choice, "\"bf16\"", "Compute precision; fp8 is declared for later and rejected for now.", D::count, any, "bf16|fp8"},
    {"plan.optimizer", choice, "\"adamw\"", "Optimizer; AdamW keeps first and second moments and, with optimizer_dtype fp32, an FP32 master copy.", D::count, any, "adamw"},
    {"plan.optimizer_dtype", choice, "\"fp32\"", "Optimizer state type: fp32 keeps an FP32 master copy and FP32 moments (12 bytes per parameter; Megatron-LM's distributed optimizer, Llama 3); bf16 keeps BF16 moments and updates the BF16 weights in place, with no master copy (4 bytes per parameter; NeMo's distributed_fused_adam with optim.dtype bf16).", D::count, any, "fp32|bf16"},
    // docs/models/stacks.md: torchtitan's Llama model run eagerly (torchtitan/models/norms.py at
    // commit 026e23a981dee27d41a8637baad651656698b6f8, torchtitan/models/llama/model.py at commit
    // 0199cbc1ba671c15df501fd9aa8bb68afd4352fd).
    {"plan.stack", choice, "\"megatron\"", "Software stack that lowers each layer's element-wise work: megatron (fused kernels: Megatron-LM / Transformer Engine RMSNorm, SwiGLU, RoPE); pytorch_eager (one kernel per PyTorch op as torchtitan's Llama model launches them without torch.compile: RMSNorm as casts, pow, mean, rsqrt and multiplies, SwiGLU as silu then multiply, RoPE as cast, complex multiply and cast, repeat_kv copies; autograd runs their backward kernels); torch_compile (Inductor fuses each element-wise chain between GEMMs into one kernel; lowered as megatron).", D::count, any, "megatron|pytorch_eager|torch_compile"},
};
}  // namespace

std::span<const ParamDecl> plan() { return kParams; }

}  // namespace herd::model::schema
