#include "herd/model/memory.hpp"

#include <algorithm>

#include "herd/model/pipeline.hpp"
#include "herd/model/workload.hpp"

namespace herd::model {

LayerActivations layer_activations(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len) {
  LayerActivations a;
  const double T = double(local_tokens(p, seq_len));              // tokens in TP regions
  const bool sp = p.sequence_parallel && p.tp > 1;
  const double T_sp = sp ? T / p.tp : T;                           // tokens in norm/residual regions
  const double h = double(m.hidden);
  const double q = double(heads_per_rank(m, p)) * m.head_dim;
  const double kv = double(kv_heads_per_rank(m, p)) * m.head_dim;
  const double f = double(m.ffn_hidden) / p.tp;
  const double heads = heads_per_rank(m, p);

  if (p.recompute == Recompute::full) {  // only each layer's input
    a.norms = 2 * T_sp * h;
    return a;
  }
  if (p.recompute == Recompute::op) {
    // torchtitan's per-op policy (workload.cpp, recompute_op_policy): the block's input, the outputs
    // of its odd-numbered matmuls (wq, wv, and w1 and w2 under SwiGLU, else fc1; w2's is the row-
    // parallel partial sum, T x h), the kept reduce-scatters' outputs under sequence parallelism,
    // and the attention's output with its FP32 log-sum-exp per row and head.
    a.norms = 2 * T_sp * h;
    a.gemm_inputs = 2 * T * (q + kv) + (m.mlp == MlpKind::swiglu ? 2 * T * (f + h) : 2 * T * f);
    if (sp) a.gemm_inputs += 2 * (2 * T_sp * h);
    a.attention = 2 * T * q + 4 * T * heads;
    return a;
  }
  a.norms = 2 * (2 * T_sp * h);
  // QKV and fc1 inputs: under sequence parallelism Megatron-LM keeps the sharded norm output and
  // gathers it again in backward; PyTorch's autograd keeps the gathered one (workload.cpp,
  // input_grad_linear).
  const double kept_rows = p.pytorch() ? T : T_sp;
  a.gemm_inputs = 2 * (2 * kept_rows * h) + 2 * T * f;  // + fc2 input (the activation's output)
  a.attention = 2 * T * q + 2 * (2 * T * kv);   // Q, K, V (the local chunk under CP: backward gathers again)
  // The activation's input, kept for its backward: SwiGLU's gate and up halves (2f per token);
  // GeLU's and squared ReLU's one fc1 output (f per token; relu2's gradient 2 max(0, x) dy needs x).
  a.mlp_activation = m.mlp == MlpKind::swiglu ? 2 * (2 * T * f) : 2 * T * f;
  if (m.dropout) a.dropout_masks = 2 * T_sp * h;  // 1 byte per element, after attention and after the MLP
  const bool selective = p.recompute == Recompute::selective;
  if (p.flash_attention) {
    // The fused kernel keeps its output O (the out-projection input) and FP32 log-sum-exp per row;
    // selective recomputation drops both and reruns the attention forward in backward.
    if (!selective) a.attention += 2 * T * q + 4 * T * heads;
  } else {
    a.gemm_inputs += 2 * T * q;  // attention context = out-projection input
    if (!selective) {
      // Softmax output (2 B), dropout mask (1 B) and dropout output (2 B) per score, heads x s_q x s_kv.
      const double scores = heads * double(p.micro_batch) * (double(seq_len) / p.cp) * double(seq_len);
      a.scores = (m.dropout ? 5.0 : 2.0) * scores;
    }
  }
  return a;
}

ShardParameters shard_parameters(const TransformerSpec& m, const PlanSpec& p) {
  const double h = double(m.hidden);
  const double q = double(heads_per_rank(m, p)) * m.head_dim;
  const double kv = double(kv_heads_per_rank(m, p)) * m.head_dim;
  const double f = double(m.ffn_hidden) / p.tp;
  ShardParameters sp;
  sp.layer = 2 * h * q + 2 * h * kv + m.mlp_matrices() * h * f + 2.0 * m.norm_params();
  if (m.bias) sp.layer += q + 2 * kv + h + (m.mlp_matrices() - 1) * f + h;
  const double vocab_rows = double(padded_vocab(m, p)) / p.tp;
  sp.embedding = vocab_rows * h + (m.position == PositionKind::learned ? double(m.max_position) * h : 0);
  // A tied output layer on another stage keeps its own copy of the table (Megatron-LM).
  sp.output = (m.tied_embeddings && p.pp == 1 ? 0 : vocab_rows * h) + m.norm_params();
  return sp;
}

MemoryReport analyse_memory(const Scenario& s) {
  const auto& m = s.model;
  const auto& p = s.plan;
  MemoryReport report;
  report.capacity_bytes = s.cluster.gpu.memory_bytes;
  const std::int64_t seq = m.seq_len;
  const double T = double(local_tokens(p, seq));
  const bool sp = p.sequence_parallel && p.tp > 1;
  const double T_sp = sp ? T / p.tp : T;
  const double h = double(m.hidden);
  const double vocab_rows = double(padded_vocab(m, p)) / p.tp;
  const LayerActivations layer_act = layer_activations(m, p, seq);
  report.per_layer_activation_bytes = layer_act.total();
  const ShardParameters params = shard_parameters(m, p);
  const auto chunks = layout_chunks(m, p);
  const double shards = p.gradient_group();

  // Full layer activations, for the one layer being recomputed at a time.
  PlanSpec no_recompute = p;
  no_recompute.recompute = Recompute::none;
  const double full_layer = layer_activations(m, no_recompute, seq).total();

  // NCCL: every communicator this GPU belongs to keeps send/receive buffers per channel.
  int communicators = 0;
  for (int degree : {p.tp, p.cp, p.gradient_group()}) communicators += degree > 1 ? 1 : 0;
  if (p.pp > 1) communicators += 2;  // previous and next stage
  const double nccl = communicators * 2.0 * MemoryConstants::nccl_channels * MemoryConstants::nccl_buffer;

  double largest = -1;
  for (int r = 0; r < p.pp; ++r) {
    StageMemory st;
    st.stage = r;
    std::vector<double> chunk_act(static_cast<std::size_t>(p.virtual_stages), 0.0);
    double largest_layer_params = 0, largest_chunk_params = 0;
    for (const auto& c : chunks) {
      if (c.rank != r) continue;
      largest_chunk_params = std::max(largest_chunk_params, c.layers * params.layer + (c.embedding ? params.embedding : 0) +
                                                                (c.output ? params.output : 0));
      st.layers += c.layers;
      st.parameters += c.layers * params.layer;
      double act = c.layers * layer_act.total();
      if (c.embedding) {
        st.embedding = true;
        st.parameters += params.embedding;
        largest_layer_params = std::max(largest_layer_params, params.embedding);
      }
      if (c.output) {
        st.output = true;
        st.parameters += params.output;
        largest_layer_params = std::max(largest_layer_params, params.output);
        // Final-norm input, output-projection input and the FP32 softmax kept for the loss backward.
        act += 2 * T_sp * h + 2 * T_sp * h + 4 * T * vocab_rows;
      }
      if (c.layers > 0) largest_layer_params = std::max(largest_layer_params, params.layer);
      chunk_act[static_cast<std::size_t>(c.virtual_index)] = act;
    }
    const auto order = pipeline_order(p, r);
    st.activations = peak_stashed_bytes(order, chunk_act, p.schedule == Schedule::zero_bubble);
    double per_microbatch = 0;
    for (double a : chunk_act) per_microbatch += a;
    st.inflight_microbatches = per_microbatch > 0 ? st.activations / per_microbatch : 0;

    const double P = st.parameters;
    st.weights = 2.0 * (p.shards_parameters() ? P / shards : P);
    // Sharded accumulators: reduce-scattered every micro-batch, or (per_round) every round, with
    // full-size buffers only for the chunks in their round.
    const bool sharded_accumulation = p.shards_gradients() && p.grad_sync != GradSync::per_step;
    const bool round_buffers = p.shards_gradients() && p.grad_sync == GradSync::per_round;
    st.gradients = p.grad_bytes * (sharded_accumulation ? P / shards : P);
    // FP32 master copy, m and v (12 B), or BF16 m and v alone (4 B): plan.optimizer_dtype.
    st.optimizer = double(p.optimizer_bytes) * (p.shards_optimizer() ? P / shards : P);

    // DP buffers: ZeRO-3 gathers the next layer's weights ahead of use (two layers unsharded);
    // sharded accumulation reduce-scatters one layer's gradients (in grad_dtype) while the next
    // layer's BF16 gradients are produced.
    double dp_buffers = 0;
    if (p.gradient_group() > 1) {
      if (p.shards_parameters()) dp_buffers += 2 * 2.0 * largest_layer_params;
      if (sharded_accumulation && !round_buffers) dp_buffers += (2.0 + p.grad_bytes) * largest_layer_params;
      // per_round: the chunk accumulating its round and the one whose round is being reduced,
      // in grad_dtype, and the BF16 gradients of the layer being produced.
      if (round_buffers) dp_buffers += 2.0 * p.grad_bytes * largest_chunk_params + 2.0 * largest_layer_params;
    }
    st.communication = nccl + dp_buffers;

    // Transients: the TP-gathered input of a GEMM and its output, the logits in BF16 and FP32, and
    // the activations of the one layer recomputed at a time.
    double transient = 2 * (2 * T * h) + 2 * T * std::max(double(m.ffn_hidden) / p.tp * 2, h);
    if (st.output) transient = std::max(transient, (2.0 + 4.0) * T * vocab_rows);
    if (p.cp > 1) transient += 2 * 2.0 * T * p.cp * double(kv_heads_per_rank(m, p)) * m.head_dim;  // gathered K, V
    if (p.recompute != Recompute::none) transient += full_layer;
    st.transient = transient;
    st.runtime = MemoryConstants::cuda_context + MemoryConstants::cublas_workspace;

    if (st.total() > largest) largest = st.total(), report.largest_stage = r;
    report.stages.push_back(st);
  }
  report.fits = largest <= report.capacity_bytes;
  return report;
}

}  // namespace herd::model
