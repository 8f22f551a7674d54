// Activation memory per layer against Korthikanti et al. 2022 ("Reducing Activation Recomputation
// in Large Transformer Models", section 4, Table 2), for the GPT layer they analyse: MHA, GeLU 4h
// MLP, LayerNorm, dropout, unfused attention, 2-byte activations. Per layer, in bytes:
//   no parallelism:                 s b h (34 + 5 a s / h)
//   tensor parallel:                s b h (10 + 24 / t + 5 a s / (h t))
//   tensor + sequence parallel:     s b h (34 / t + 5 a s / (h t))
//   ... + selective recomputation:  s b h 34 / t
//   full recomputation:             2 s b h / t (with sequence parallelism)
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "herd/model/memory.hpp"

using namespace herd::model;

namespace {
TransformerSpec gpt_layer() {
  TransformerSpec m;
  m.layers = 96;
  m.hidden = 12288;
  m.ffn_hidden = 4 * 12288;
  m.heads = m.kv_heads = 96;
  m.head_dim = 128;
  m.vocab = 51200;
  m.mlp = MlpKind::gelu;
  m.norm = NormKind::layernorm;
  m.position = PositionKind::learned;
  m.bias = true;
  m.dropout = true;
  m.seq_len = m.max_position = 2048;
  return m;
}
PlanSpec tensor_parallel(int t, bool sp, Recompute r) {
  PlanSpec p;
  p.tp = t;
  p.sequence_parallel = sp;
  p.recompute = r;
  p.flash_attention = false;
  p.micro_batch = 1;
  return p;
}
}  // namespace

TEST_CASE("activations per layer match Korthikanti et al. 2022", "[memory]") {
  const TransformerSpec m = gpt_layer();
  const double s = 2048, b = 1, h = 12288, a = 96, t = 8;
  const double sbh = s * b * h;
  CHECK(layer_activations(m, tensor_parallel(1, false, Recompute::none), 2048).total() == Approx(sbh * (34 + 5 * a * s / h)));
  CHECK(layer_activations(m, tensor_parallel(8, false, Recompute::none), 2048).total() ==
        Approx(sbh * (10 + 24 / t + 5 * a * s / (h * t))));
  CHECK(layer_activations(m, tensor_parallel(8, true, Recompute::none), 2048).total() ==
        Approx(sbh * (34 / t + 5 * a * s / (h * t))));
  CHECK(layer_activations(m, tensor_parallel(8, true, Recompute::selective), 2048).total() == Approx(sbh * 34 / t));
  CHECK(layer_activations(m, tensor_parallel(8, true, Recompute::full), 2048).total() == Approx(2 * sbh / t));
}

TEST_CASE("fused attention keeps no score matrix, only its output and row statistics", "[memory]") {
  TransformerSpec m = gpt_layer();
  m.dropout = false;
  PlanSpec p = tensor_parallel(8, true, Recompute::none);
  p.flash_attention = true;
  const double s = 2048, h = 12288, t = 8, heads = 96 / t;
  // 34/t without the two dropout masks, plus FP32 log-sum-exp per row and head.
  CHECK(layer_activations(m, p, 2048).total() == Approx(s * h * 32 / t + 4 * s * heads));
}

TEST_CASE("Llama 3 405B per-layer activations, TP 8 with SP, fused attention, GQA, SwiGLU", "[memory]") {
  const Scenario sc = default_scenario();
  // Per token: norms 4h/t, QKV and fc1 inputs 4h/t, fc2 input 2f/t, Q 2q/t, K and V 4 kv_head_dim,
  // O 2q/t, LSE 4 heads/t, SwiGLU inputs 4f/t, with h = q = 16384, f = 53248, t = 8.
  const double per_token = 4 * 2048 + 4 * 2048 + 2 * 6656 + 2 * 2048 + 4 * 128 + 2 * 2048 + 4 * 16 + 4 * 6656;
  CHECK(layer_activations(sc.model, sc.plan, 8192).total() == Approx(per_token * 8192));
}

TEST_CASE("the three Llama 3 405B configurations of Table 4 fit in 80 GB without recomputation", "[memory]") {
  for (const char* name : {"llama3-405b-8k", "llama3-405b-16k", "llama3-405b-128k"}) {
    const Scenario s = load_scenario(name);
    INFO(name);
    REQUIRE(s.plan.recompute == Recompute::none);
    const MemoryReport r = analyse_memory(s);
    CHECK(r.fits);
    CHECK(r.stages[static_cast<std::size_t>(r.largest_stage)].total() < 80.0 * (1ULL << 30));
  }
}

TEST_CASE("sharding divides optimizer, gradients and weights by the DP x CP group", "[memory]") {
  std::vector<Override> o{parse_override("plan.dp_sharding=zero1")};
  const Scenario z1 = default_scenario(o);
  const Scenario fsdp = default_scenario();
  o = {parse_override("plan.dp_sharding=zero3")};
  const Scenario z3 = default_scenario(o);
  const auto a = analyse_memory(z1).stages[1], b = analyse_memory(fsdp).stages[1], c = analyse_memory(z3).stages[1];
  const double P = a.parameters, shards = 128;
  CHECK(a.optimizer == Approx(12 * P / shards));  // FP32 master, Adam m and v
  CHECK(a.gradients == Approx(4 * P));            // full FP32 accumulation buffer, reduced once per step
  CHECK(b.gradients == Approx(4 * P / shards));   // reduce-scattered every micro-batch
  CHECK(b.weights == Approx(2 * P));              // kept unsharded after forward (Llama 3)
  CHECK(c.weights == Approx(2 * P / shards));
  CHECK_FALSE(analyse_memory(z1).fits);           // 12.7 GB of FP32 gradients no longer fit
}

TEST_CASE("per-round reduction keeps full-size gradients only for the chunks in their round", "[memory]") {
  // FSDP, llama3 schedule, one-layer chunks: a sharded FP32 accumulator (4 P / shards) plus two
  // chunks' unsharded FP32 gradients (the one accumulating its round, the one being reduced) and
  // the BF16 gradients of the layer being produced, 2 x 4 x chunk + 2 x layer, on top of the
  // per-micro-batch reading's NCCL buffers.
  std::vector<Override> o{parse_override("plan.grad_sync=per_round")};
  std::vector<Override> m{parse_override("plan.grad_sync=per_microbatch")};
  const Scenario round = default_scenario(o);
  const Scenario micro = default_scenario(m);
  const auto a = analyse_memory(round).stages[1], b = analyse_memory(micro).stages[1];
  const double layer = a.parameters / 8, shards = 128;  // stage 1: 8 one-layer chunks
  CHECK(a.gradients == Approx(4 * a.parameters / shards));
  CHECK(a.communication - b.communication == Approx(2 * 4 * layer + 2 * layer - (2 + 4) * layer));
  CHECK(analyse_memory(round).fits);
}

TEST_CASE("recomputation trades activations for compute, more micro-batches in flight cost memory", "[memory]") {
  std::vector<Override> full{parse_override("plan.recompute=full")};
  CHECK(analyse_memory(default_scenario(full)).stages[1].activations < 0.2 * analyse_memory(default_scenario()).stages[1].activations);
  std::vector<Override> gpipe{parse_override("plan.schedule=gpipe"), parse_override("plan.virtual_stages=1"),
                              parse_override("plan.layer_layout=uniform"), parse_override("model.layers=128")};
  const auto r = analyse_memory(default_scenario(gpipe));
  CHECK(r.stages[0].inflight_microbatches == Approx(16));
  CHECK_FALSE(r.fits);
}

TEST_CASE("torchtitan's per-op checkpointing keeps the input, half the matmuls' outputs and attention's", "[memory]") {
  // Llama 3 8B, TP 1, fused attention, per token and layer: the input 2h, wq and wv 2(q + kv), w1
  // and w2 2(f + h), attention's output and FP32 log-sum-exp 2q + 4·heads: 63,616 bytes; selective
  // keeps 131,072 (norm inputs 4h, QKV and fc1 inputs 4h, fc2 input 2f, Q, K, V 2q + 4kv, SwiGLU
  // inputs 4f).
  const Scenario s = load_scenario("llama3-8b", {});
  PlanSpec p = s.plan;
  p.tp = 1;
  p.cp = 1;
  p.micro_batch = 1;
  p.recompute = Recompute::op;
  const double tokens = 8192;
  CHECK(layer_activations(s.model, p, 8192).total() == Approx(63616 * tokens));
  p.recompute = Recompute::selective;
  CHECK(layer_activations(s.model, p, 8192).total() == Approx(131072 * tokens));
}

TEST_CASE("a squared-ReLU MLP keeps one FFN-width input for backward where SwiGLU keeps two", "[memory]") {
  // relu2 (Nemotron-4) saves its one fc1 output, 2 T f/t bytes; SwiGLU saves gate and up, 4 T f/t.
  // The GPT layer at t = 8 with SP: T = s b = 2048, f/t = 6144.
  TransformerSpec m = gpt_layer();
  const PlanSpec p = tensor_parallel(8, true, Recompute::none);
  const double T = 2048, f_t = 4 * 12288 / 8;
  m.mlp = MlpKind::relu2;
  const LayerActivations relu2 = layer_activations(m, p, 2048);
  CHECK(relu2.mlp_activation == Approx(2 * T * f_t));
  m.mlp = MlpKind::gelu;
  CHECK(layer_activations(m, p, 2048).total() == Approx(relu2.total()));  // same tensors as GeLU
  m.mlp = MlpKind::swiglu;
  CHECK(layer_activations(m, p, 2048).mlp_activation == Approx(4 * T * f_t));
}

TEST_CASE("NeMo's Nemotron-4 340B layout that ran on 128 H100 fits: BF16 Adam states", "[memory]") {
  // scenarios/validation/nemo-nemotron4-340b-128.json: TP 8, PP 8, V 12, DP 2, micro-batch 1,
  // s = 4096, zero1, BF16 gradients and (NeMo distributed_fused_adam, dtype bf16) BF16 Adam m, v
  // with no FP32 master copy. Stage 0 (12 layers + embedding), per GPU, bytes:
  const double h = 18432, t = 8, T = 4096, f = 73728 / t, q = 18432 / t, kv = 8 * 192 / t, d = 2;
  const double layer = 2 * h * q + 2 * h * kv + 2 * h * f + 2 * 2 * h;  // QKV + out, fc1 + fc2, two LayerNorms
  const double P = 12 * layer + 256000 / t * h;                         // + the embedding's vocabulary shard
  // Per layer and micro-batch (sequence parallel, fused attention, no dropout): norm inputs 4Th/t,
  // QKV/fc1 inputs 4Th/t, fc2 input 2Tf, Q 2Tq, K and V 4T kv, O 2Tq, FP32 log-sum-exp 4T(96/t),
  // squared-ReLU input 2Tf (as GeLU's): 28.3 s b h / t against Korthikanti's 34 for MHA, 4h GeLU and dropout.
  const double a = 4 * T / t * h + 4 * T / t * h + 2 * T * f + 2 * T * q + 4 * T * kv + 2 * T * q + 4 * T * 96 / t + 2 * T * f;
  // Megatron's interleaved 1F1B: stage 0 runs (p - 1) 2 + (V - 1) p = 102 warm-up chunk forwards
  // (one layer each) and holds one more in steady state: 103 = L (1 + (p - 1) / (p V)) layers.
  const double inflight = 103;
  // Without recomputation (NeMo-Framework-Launcher's configuration; the benchmark's adds selective
  // recomputation, which only lowers the activations): the stricter case.
  const std::vector<Override> none{parse_override("plan.recompute=none")};
  const Scenario s = load_scenario(std::string(HERD_SOURCE_DIR) + "/scenarios/validation/nemo-nemotron4-340b-128.json", none);
  const MemoryReport r = analyse_memory(s);
  const StageMemory& st = r.stages[0];
  CHECK(r.largest_stage == 0);
  CHECK(st.parameters == Approx(P).epsilon(1e-12));
  CHECK(st.weights == Approx(2 * P).epsilon(1e-12));
  CHECK(st.gradients == Approx(2 * P).epsilon(1e-12));      // BF16 gradient buffer
  CHECK(st.optimizer == Approx(4 * P / d).epsilon(1e-12));  // BF16 m, v over the DP group
  CHECK(r.per_layer_activation_bytes == Approx(a).epsilon(1e-12));
  CHECK(st.activations == Approx(inflight * a).epsilon(1e-12));
  CHECK(st.inflight_microbatches == Approx(8 * (1 + 7.0 / 96)).epsilon(1e-12));
  // NCCL buffers of TP, DP and the two pipeline neighbours; TP-gathered GEMM input, its gradient
  // and the widest output; CUDA context and cuBLAS workspaces.
  CHECK(st.communication == Approx(4 * 2 * 16 * 4.0 * (1 << 20)).epsilon(1e-12));
  CHECK(st.transient == Approx(2 * (2 * T * h) + 2 * T * h).epsilon(1e-12));
  CHECK(st.runtime == Approx(664.0 * (1 << 20)).epsilon(1e-12));
  const double gib = 1ULL << 30;
  CHECK(st.total() / gib == Approx(59.49).epsilon(1e-3));
  CHECK(r.fits);
  // FP32 master copy and moments (12 B per parameter) would add 8P / d = 21.5 GiB: 81.0 GiB, no fit.
  const std::vector<Override> o{parse_override("plan.optimizer_dtype=fp32"), parse_override("plan.recompute=none")};
  const Scenario fp32 = load_scenario(std::string(HERD_SOURCE_DIR) + "/scenarios/validation/nemo-nemotron4-340b-128.json", o);
  const MemoryReport r32 = analyse_memory(fp32);
  CHECK(r32.stages[0].optimizer == Approx(12 * P / d).epsilon(1e-12));
  CHECK(r32.stages[0].total() / gib == Approx(80.99).epsilon(1e-3));
  CHECK_FALSE(r32.fits);
}

TEST_CASE("under PyTorch's sequence parallelism autograd keeps the gathered QKV and fc1 inputs", "[memory][stack]") {
  // Megatron-LM keeps the sharded norm outputs (2 x 2 T/t h bytes) and gathers them again in
  // backward; PyTorch keeps the gathered ones (2 x 2 T h). Llama 3 405B at TP 8, s = 8192: the
  // difference is 4 h (T - T/8) = 4 x 16384 x 7168 bytes per layer. Full recomputation keeps only
  // the layer input under both.
  Scenario sc = default_scenario();
  PlanSpec torch = sc.plan;
  torch.stack = Stack::torch_compile;
  const double T = 8192, h = 16384;
  CHECK(layer_activations(sc.model, torch, 8192).total() - layer_activations(sc.model, sc.plan, 8192).total() ==
        Approx(4 * h * (T - T / 8)));
  sc.plan.recompute = torch.recompute = Recompute::full;
  CHECK(layer_activations(sc.model, torch, 8192).total() == layer_activations(sc.model, sc.plan, 8192).total());
}
