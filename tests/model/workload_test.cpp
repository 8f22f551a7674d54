// The per-GPU op programs conserve the model's FLOPs: summed over the TP x CP shards, a layer's
// model FLOPs equal the closed form 6 x (2hq + 2h kv + 3hf) per token + causal attention
// 6 x q x (s+1) per token (forward QK^T and PV over s(s+1)/2 pairs, backward twice that).
#include <catch2/catch.hpp>

#include <algorithm>

#include "herd/model/compute_cost.hpp"
#include "herd/model/scenario.hpp"
#include "herd/model/workload.hpp"

using namespace herd::model;

namespace {
Scenario with(std::initializer_list<const char*> texts) {
  std::vector<Override> o;
  for (const char* t : texts) o.push_back(parse_override(t));
  return default_scenario(o);
}
double sum(const std::vector<Op>& ops, bool model, Pass only) {
  double s = 0;
  for (const auto& op : ops)
    if (op.pass == only) s += model ? op.model_flops : op.flops;
  return s;
}
}  // namespace

TEST_CASE("model FLOPs of all shards add up to model_flops_per_token", "[workload]") {
  for (auto dp : {"plan.dp=128", "plan.dp=64"}) {
    const Scenario s = with({dp, dp[8] == '6' ? "plan.cp=2" : "plan.cp=1", "plan.global_batch=1024"});
    const auto& m = s.model;
    const auto& p = s.plan;
    INFO(dp);
    const auto layer = layer_program(m, p, m.seq_len);
    const auto out = output_program(m, p, m.seq_len);
    const double per_gpu = m.layers * (total_flops(layer.forward, true) + total_flops(layer.backward, true)) +
                           total_flops(out.forward, true) + total_flops(out.backward, true);
    const double tokens = double(p.micro_batch) * double(m.seq_len);
    CHECK(per_gpu * p.tp * p.cp == Approx(model_flops_per_token(m, m.seq_len) * tokens).epsilon(1e-9));
  }
}

TEST_CASE("model FLOPs per token for Llama 3 405B at 8K", "[workload]") {
  const Scenario s = default_scenario();
  const double h = 16384, q = 16384, kv = 1024, f = 53248, V = 128256, L = 126, seq = 8192;
  const double expected = 6 * (L * (2 * h * q + 2 * h * kv + 3 * h * f) + h * V) + 6 * L * q * (seq + 1);
  CHECK(model_flops_per_token(s.model, 8192) == Approx(expected));
  CHECK(expected == Approx(2.524e12).epsilon(1e-3));
}

TEST_CASE("recomputation adds hardware FLOPs, never model FLOPs", "[workload]") {
  const Scenario none = default_scenario();
  const Scenario full = with({"plan.recompute=full"});
  const auto a = layer_program(none.model, none.plan, 8192);
  const auto b = layer_program(full.model, full.plan, 8192);
  CHECK(total_flops(b.backward, true) == Approx(total_flops(a.backward, true)));
  // Full recomputation reruns the whole forward inside backward.
  CHECK(sum(b.backward, false, Pass::recompute) == Approx(total_flops(a.forward, false)));
  const Scenario sel = with({"plan.recompute=selective"});
  const auto c = layer_program(sel.model, sel.plan, 8192);
  double attention_fwd = 0;
  for (const auto& op : a.forward)
    if (op.kind == OpKind::attention) attention_fwd += op.flops;
  CHECK(sum(c.backward, false, Pass::recompute) == Approx(attention_fwd));
}

TEST_CASE("torchtitan's per-op checkpointing reruns wk, wo and w3, never attention", "[workload]") {
  // recompute = op keeps the odd-numbered matmuls' outputs (wq, wv, w1, w2) and the attention's:
  // backward reruns 2·T·h·(kv + q + f) FLOPs of matmuls per layer (wk, wo, w3; TP 8 here: per rank
  // kv/8, q/8, f/8), no attention, plus the norms, RoPE, the residual add and the activation.
  const Scenario s = with({"plan.recompute=op"});
  const auto prog = layer_program(s.model, s.plan, 8192);
  const double T = 8192, h = 16384, q = 16384.0 / 8, kv = 1024.0 / 8, f = 53248.0 / 8;
  double gemm = 0, attention = 0, other = 0;
  for (const auto& op : prog.backward) {
    if (op.pass != Pass::recompute) continue;
    if (op.kind == OpKind::gemm) gemm += op.flops;
    else if (op.kind == OpKind::attention) attention += op.flops;
    else other += op.flops;
    CHECK(op.model_flops == 0);
  }
  CHECK(gemm == Approx(2 * T * h * (kv + q + f)));
  CHECK(attention == 0);
  CHECK(other > 0);
}

TEST_CASE("attention backward executes 2.5x the forward's FLOPs and counts 2x", "[workload]") {
  const Scenario s = default_scenario();
  const auto prog = layer_program(s.model, s.plan, 8192);
  const Op* fwd = nullptr;
  const Op* bwd = nullptr;
  for (const auto& op : prog.forward) if (op.kind == OpKind::attention) fwd = &op;
  for (const auto& op : prog.backward) if (op.kind == OpKind::attention) bwd = &op;
  REQUIRE(fwd);
  REQUIRE(bwd);
  // 16 query heads x 128 dims x 4 FLOPs x s(s+1)/2 pairs.
  CHECK(fwd->flops == Approx(4.0 * 128 * 16 * 8192.0 * 8193.0 / 2));
  CHECK(bwd->flops == Approx(2.5 * fwd->flops));
  CHECK(bwd->model_flops == Approx(2.0 * fwd->flops));
}

TEST_CASE("TP and CP collectives carry the closed-form sizes", "[workload]") {
  const Scenario s = with({"plan.cp=2", "plan.dp=64", "plan.global_batch=1024"});
  const auto prog = layer_program(s.model, s.plan, 8192);
  const double T = 8192.0 / 2;  // tokens per CP rank
  int gathers = 0;
  for (const auto& op : prog.forward) {
    if (op.name == "tp_all_gather_attn") {
      ++gathers;
      CHECK(op.comm_bytes == Approx(2 * T * 16384));  // BF16 [T, h], the gathered output
      CHECK(op.group == Axis::tp);
    }
    if (op.name == "cp_all_gather_kv") {
      ++gathers;
      CHECK(op.comm_bytes == Approx(2 * 2 * T * 2 * 128));  // K and V, one KV head, both CP chunks
    }
  }
  CHECK(gathers == 2);
}

TEST_CASE("ring context parallelism overlaps each K/V transfer with the previous step", "[workload]") {
  const Scenario s = with({"plan.cp=4", "plan.dp=32", "plan.global_batch=512", "plan.cp_algorithm=ring"});
  const auto prog = layer_program(s.model, s.plan, 8192);
  int steps = 0, transfers = 0;
  double attention = 0;
  for (std::size_t i = 0; i < prog.forward.size(); ++i) {
    const Op& op = prog.forward[i];
    if (op.kind == OpKind::attention) ++steps, attention += op.flops;
    if (op.name == "cp_ring_send_recv") {
      ++transfers;
      // The step after a transfer waits for it; the step computing meanwhile does not.
      CHECK(prog.forward[i + 1].kind == OpKind::attention);
      CHECK(prog.forward[i + 1].after != 1);
    }
  }
  CHECK(steps == 4);
  CHECK(transfers == 3);
  CHECK(attention == Approx(4.0 * 128 * 16 * 8192.0 * 8193.0 / 2 / 4));
}

TEST_CASE("TP overlap cuts the all-gather and reduce-scatter into tp transfers of one shard each", "[workload]") {
  // Ring exchange (Transformer Engine userbuffers): tp - 1 transfers of one sequence-parallel shard,
  // 2 x (T / tp) x h bytes each, i.e. the (tp - 1)/tp x [T, h] that an all-gather moves per rank;
  // the GEMM is cut along the tokens into tp pieces of T / tp rows, with the same FLOPs.
  const Scenario plain = with({"plan.dp=128", "plan.global_batch=1024"});
  const Scenario over = with({"plan.dp=128", "plan.global_batch=1024", "plan.tp_comm_overlap=true"});
  const auto a = layer_program(plain.model, plain.plan, 8192);
  const auto b = layer_program(over.model, over.plan, 8192);
  const double T = 8192, h = 16384, tp = 8;
  for (Pass pass : {Pass::forward, Pass::backward}) {
    const auto& ops_a = pass == Pass::forward ? a.forward : a.backward;
    const auto& ops_b = pass == Pass::forward ? b.forward : b.backward;
    CHECK(sum(ops_b, true, pass) == Approx(sum(ops_a, true, pass)).epsilon(1e-12));
    CHECK(sum(ops_b, false, pass) == Approx(sum(ops_a, false, pass) + (pass == Pass::forward ? 2 * (tp - 1) * T / tp * h : 0))
                                         .epsilon(1e-12));  // + the two tp_overlap_reduce adds
  }
  int transfers = 0, pieces = 0;
  for (std::size_t i = 0; i < b.forward.size(); ++i) {
    const Op& op = b.forward[i];
    if (op.name == "tp_all_gather_attn") {
      ++transfers;
      CHECK(op.collective == Collective::send_recv);
      CHECK(op.comm_bytes == Approx(2 * T / tp * h));
      // The piece after a transfer works on the shard already there, not on the one in flight.
      CHECK(b.forward[i + 1].name == "qkv_proj");
      CHECK(b.forward[i + 1].after != 1);
    }
    if (op.name == "qkv_proj") {
      ++pieces;
      CHECK(op.gemm.m == 1024);
    }
  }
  CHECK(transfers == 7);
  CHECK(pieces == 8);
}

TEST_CASE("TP overlap needs sequence parallelism", "[workload]") {
  CHECK_THROWS_WITH(with({"plan.dp=128", "plan.global_batch=1024", "plan.tp_comm_overlap=true", "plan.sequence_parallel=false"}),
                    Catch::Contains("/plan/tp_comm_overlap") && Catch::Contains("sequence parallelism"));
}

TEST_CASE("exactly the GEMMs named *_wgrad are weight gradients, one per weight matrix", "[workload]") {
  const auto named_wgrad = [](const Op& op) {
    return op.kind == OpKind::gemm && op.name.size() > 6 && op.name.substr(op.name.size() - 6) == "_wgrad";
  };
  const std::vector<std::vector<const char*>> variants = {
      {}, {"plan.tp_comm_overlap=true"}, {"plan.recompute=full"}, {"plan.recompute=selective"},
      {"plan.flash_attention=false"}, {"plan.sequence_parallel=false"}, {"plan.cp=2", "plan.dp=64"},
      {"model=gpt3-175b", "plan.layer_layout=uniform", "plan.virtual_stages=1"}};
  for (const auto& variant : variants) {
    std::vector<Override> o{parse_override("plan.global_batch=2048")};
    std::string label;
    for (const char* t : variant) o.push_back(parse_override(t)), label += std::string(t) + " ";
    INFO(label);
    const Scenario s = default_scenario(o);
    const auto layer = layer_program(s.model, s.plan, 8192);
    const auto embedding = embedding_program(s.model, s.plan, 8192);
    const auto output = output_program(s.model, s.plan, 8192);
    for (const auto* prog : {&layer, &embedding, &output})
      for (const auto* ops : {&prog->forward, &prog->backward})
        for (const Op& op : *ops) {
          INFO(op.name);
          CHECK(op.weight_gradient == named_wgrad(op));
          if (op.weight_gradient) CHECK(op.pass == Pass::backward);
        }
    // A layer's weight matrices are QKV, the out-projection, fc1 (SwiGLU: gate and up fused) and fc2;
    // each weight gradient does the FLOPs of its forward GEMM (all pieces of it under TP overlap).
    for (const std::string base : {"qkv_proj", "out_proj", "fc1", "fc2"}) {
      INFO(base);
      int count = 0;
      double fwd_flops = 0, wgrad_flops = 0;
      for (const Op& op : layer.backward)
        if (op.weight_gradient && op.name == base + "_wgrad") ++count, wgrad_flops += op.flops;
      for (const Op& op : layer.forward)
        if (op.name == base) fwd_flops += op.flops;
      CHECK(count == 1);
      CHECK(wgrad_flops == Approx(fwd_flops).epsilon(1e-12));
    }
    int layer_wgrads = 0, output_wgrads = 0, embedding_wgrads = 0;
    for (const Op& op : layer.backward) layer_wgrads += op.weight_gradient;
    for (const Op& op : output.backward) output_wgrads += op.weight_gradient && op.name == "output_proj_wgrad";
    for (const Op& op : embedding.backward) embedding_wgrads += op.weight_gradient;
    CHECK(layer_wgrads == 4);
    CHECK(output_wgrads == 1);
    CHECK(embedding_wgrads == 0);  // the table's gradient is a scatter-add, not a GEMM
  }
}

namespace {
const Op& op_named(const std::vector<Op>& ops, std::string_view name) {
  for (const auto& op : ops)
    if (op.name == name) return op;
  FAIL("no op " << name);
  return ops.front();
}
}  // namespace

TEST_CASE("a squared-ReLU MLP: fc1 of width f, one element-wise kernel, 2 of 3 SwiGLU matrices", "[workload]") {
  // Llama 3 405B's shapes at TP 8 with the MLP swapped: T = 8192 tokens, h = 16384, f/tp = 6656.
  const Scenario relu2 = with({"model.mlp=relu2"});
  const Scenario swiglu = default_scenario();
  const double T = 8192, h = 16384, f = 53248.0 / 8;
  const auto r = layer_program(relu2.model, relu2.plan, 8192);
  const auto g = layer_program(swiglu.model, swiglu.plan, 8192);
  // fc1: M = T, N = f/tp (no gate half), K = h.
  CHECK(op_named(r.forward, "fc1").gemm.n == 6656);
  CHECK(op_named(r.forward, "fc1").flops == Approx(2 * T * f * h));
  CHECK(op_named(g.forward, "fc1").flops == Approx(2 * T * 2 * f * h));
  // relu2: read the fc1 output, write the activation, 2 bytes each: 4 T f; backward reads x and dy,
  // writes dx: 6 T f. FLOPs 2 and 3 per element.
  CHECK(op_named(r.forward, "relu2").bytes == Approx(4 * T * f));
  CHECK(op_named(r.forward, "relu2").flops == Approx(2 * T * f));
  CHECK(op_named(r.backward, "relu2_bwd").bytes == Approx(6 * T * f));
  CHECK(op_named(r.backward, "relu2_bwd").flops == Approx(3 * T * f));
  // Model FLOPs of the MLP GEMMs per token and layer, forward + backward: 6 x 2hf (relu2) vs 6 x 3hf.
  auto mlp_model_flops = [](const LayerProgram& p) {
    double s = 0;
    for (const auto* ops : {&p.forward, &p.backward})
      for (const auto& op : *ops)
        if (op.kind == OpKind::gemm && op.name.rfind("fc", 0) == 0) s += op.model_flops;
    return s;
  };
  CHECK(mlp_model_flops(r) * 8 / T == Approx(6 * 2 * h * 53248));
  CHECK(mlp_model_flops(g) * 8 / T == Approx(6 * 3 * h * 53248));
  // The per-token closed form uses m = 2 matrices.
  const double L = 126, q = 16384, kv = 1024, V = 128256, s = 8192;
  CHECK(model_flops_per_token(relu2.model, 8192) ==
        Approx(6 * (L * (2 * h * q + 2 * h * kv + 2 * h * 53248) + h * V) + 6 * L * q * (s + 1)));
}

TEST_CASE("partial RoPE: FLOPs scale with the rotary fraction, bytes stay those of whole Q and K", "[workload]") {
  // Llama 3 405B at TP 8: T = 8192, q = 16 heads x 128, kv = 1 x 128 per rank. Full RoPE reads and
  // writes Q and K once, 4 T (q + kv) bytes, 6 T (q + kv) FLOPs. Transformer Engine's fused kernel
  // copies the unrotated dimensions into its output (fused_rope.cu, "copy the rest"), so at
  // rotary_fraction 0.5 the bytes stay 4 T (q + kv) and the FLOPs halve.
  const Scenario full = default_scenario();
  const Scenario half = with({"model.rotary_fraction=0.5"});
  const double T = 8192, width = 16 * 128 + 128;
  const auto a = layer_program(full.model, full.plan, 8192);
  const auto b = layer_program(half.model, half.plan, 8192);
  for (const char* name : {"rope", "rope_bwd"}) {
    INFO(name);
    const auto& ops_a = std::string_view(name) == "rope" ? a.forward : a.backward;
    const auto& ops_b = std::string_view(name) == "rope" ? b.forward : b.backward;
    CHECK(op_named(ops_a, name).bytes == Approx(4 * T * width));
    CHECK(op_named(ops_a, name).flops == Approx(6 * T * width));
    CHECK(op_named(ops_b, name).bytes == Approx(op_named(ops_a, name).bytes));
    CHECK(op_named(ops_b, name).flops == Approx(0.5 * op_named(ops_a, name).flops));
  }
}

TEST_CASE("the optimizer step moves its state twice, the gradient once and the BF16 weights", "[workload]") {
  // FP32 master, m, v (12 B): read 12 + gradient 4, write 12 + the BF16 copy 2 = 30 B per parameter.
  // BF16 m, v with no master (4 B): read weights 2 + gradient 4 + 4, write weights 2 + 4 = 16 B.
  CHECK(optimizer_op(1000, 12).bytes == 30000);
  CHECK(optimizer_op(1000, 4).bytes == 16000);
  CHECK(optimizer_op(1000).bytes == optimizer_op(1000, 12).bytes);
  CHECK(optimizer_op(1000, 4).flops == optimizer_op(1000, 12).flops);
}

namespace {
// Bytes of the element-wise ops of one pass (norms, RoPE, repeat_kv, residual adds, activation).
double elementwise_bytes(const std::vector<Op>& ops, Pass pass) {
  double b = 0;
  for (const auto& op : ops)
    if (op.kind == OpKind::elementwise && op.pass == pass) b += op.bytes;
  return b;
}
int elementwise_count(const std::vector<Op>& ops) {
  int n = 0;
  for (const auto& op : ops) n += op.kind == OpKind::elementwise;
  return n;
}
}  // namespace

TEST_CASE("plan.stack pytorch_eager: element-wise bytes per layer in closed form, eager vs fused", "[workload][stack]") {
  // Llama 3 405B at TP 8 with sequence parallelism, micro-batch 1, s = 8192: T = 8192 tokens in TP
  // regions, r = T/8 = 1024 rows in norm and residual regions, h = 16384, q = 16 x 128 and
  // kv = 1 x 128 per rank, f/tp = 6656. N = r h elements per norm.
  const Scenario fused = default_scenario();
  const Scenario eager = with({"plan.stack=pytorch_eager"});
  const double T = 8192, r = 1024, h = 16384, q = 2048, kv = 128, f = 6656, s = 8192, hd = 128, N = r * h;
  const auto a = layer_program(fused.model, fused.plan, 8192);
  const auto b = layer_program(eager.model, eager.plan, 8192);
  // Fused (Megatron-LM / Transformer Engine): two RMSNorms 4 N each, RoPE 4 T (q + kv), two residual
  // adds 6 N each, SwiGLU 6 T f; backward 6 N, 4 T (q + kv), 6 N, 10 T f.
  CHECK(elementwise_bytes(a.forward, Pass::forward) == Approx(2 * 4 * N + 4 * T * (q + kv) + 2 * 6 * N + 6 * T * f));
  CHECK(elementwise_bytes(a.backward, Pass::backward) ==
        Approx(2 * 6 * N + 4 * T * (q + kv) + 2 * 6 * N + 10 * T * f));
  // Eager (torchtitan norms.py RMSNorm, llama/model.py apply_rotary_emb, repeat_kv, FeedForward):
  //   RMSNorm forward, bytes per element: float() 2+4, pow 4+4, mean 4, x*rstd 4+4, type_as 4+2,
  //     *weight 2+2 = 36 N; per row: mean's output 4, +eps 4+4, rsqrt 4+4, x*rstd's row read 4 = 24 r;
  //     the weight 2 h.
  //   RoPE, per element of Q and of K: float() 2+4, complex multiply 4+4, type_as 4+2 = 20, plus
  //     the FP32 complex table s x hd/2 x 8 B read once for Q and once for K.
  //   repeat_kv: K and V each read (2 T kv) and written per query head (2 T q).
  //   SwiGLU: silu 2+2, product 2+2+2 = 10 T f. Residual adds unchanged (6 N each).
  const double table = 4 * s * hd;
  const double norm_fwd = 36 * N + 24 * r + 2 * h;
  CHECK(elementwise_bytes(b.forward, Pass::forward) ==
        Approx(2 * norm_fwd + 20 * T * (q + kv) + 2 * table + 2 * 2 * T * (kv + q) + 2 * 6 * N + 10 * T * f));
  //   RMSNorm backward: *weight's dx 2+2, its weight gradient product 2+2+2 and row sum 2 (+ 2 h each
  //     for the weight and its gradient), type_as 2+4, x*rstd's dx 4+4 and its rstd gradient 4+4+4
  //     and sum 4, mean's expansion 4, pow's 4+4+4, accumulation 4+4+4, float()'s 4+2 = 76 N; per
  //     row 4 + 4 + 12 (rsqrt's backward) + 4 = 24 r.
  //   RoPE: 20 per element and the table again; repeat_kv's sums move what the copies moved.
  //   SwiGLU: the product's two gradients 6 + 6 and silu's backward 6 = 18 T f.
  const double norm_bwd = 76 * N + 24 * r + 4 * h;
  CHECK(elementwise_bytes(b.backward, Pass::backward) ==
        Approx(2 * norm_bwd + 20 * T * (q + kv) + 2 * table + 2 * 2 * T * (kv + q) + 2 * 6 * N + 18 * T * f));
  // Kernels: RMSNorm 8 forward, 12 backward (1 each fused); RoPE 6 and 6 (1); repeat_kv 2 and 2 (0);
  // SwiGLU 2 and 3 (1); residual adds 2 and 2.
  CHECK(elementwise_count(a.forward) == 2 + 1 + 2 + 1);
  CHECK(elementwise_count(b.forward) == 2 * 8 + 6 + 2 + 2 + 2);
  CHECK(elementwise_count(a.backward) == 2 + 1 + 2 + 1);
  CHECK(elementwise_count(b.backward) == 2 * 12 + 6 + 2 + 3 + 2);
  // GEMMs and attention keep their FLOPs and model FLOPs; only element-wise ops change.
  for (auto pass : {&LayerProgram::forward, &LayerProgram::backward}) {
    double fa = 0, fb = 0, ma = 0, mb = 0;
    for (const auto& op : a.*pass)
      if (op.kind != OpKind::elementwise) fa += op.flops, ma += op.model_flops;
    for (const auto& op : b.*pass)
      if (op.kind != OpKind::elementwise) fb += op.flops, mb += op.model_flops;
    CHECK(fb == fa);
    CHECK(mb == ma);
  }
  // The final norm of the output layer is eager too.
  const auto oa = output_program(fused.model, fused.plan, 8192);
  const auto ob = output_program(eager.model, eager.plan, 8192);
  CHECK(elementwise_bytes(ob.forward, Pass::forward) - elementwise_bytes(oa.forward, Pass::forward) ==
        Approx(norm_fwd - 4 * N));
  CHECK(elementwise_bytes(ob.backward, Pass::backward) - elementwise_bytes(oa.backward, Pass::backward) ==
        Approx(norm_bwd - 6 * N));
}

TEST_CASE("plan.stack megatron and torch_compile lower the same ops", "[workload][stack]") {
  // torch_compile's Inductor fuses each element-wise chain between GEMMs into one kernel, which Herd
  // prices as the fused kernels of the default stack: op for op the same program, but for the
  // backward's second gathers of the QKV and fc1 inputs, which PyTorch's sequence parallelism does
  // not need (the test below).
  const Scenario fused = default_scenario();
  const Scenario compiled = with({"plan.stack=torch_compile"});
  CHECK(fused.plan.stack == Stack::megatron);
  const auto a = layer_program(fused.model, fused.plan, 8192);
  const auto b = layer_program(compiled.model, compiled.plan, 8192);
  for (auto pass : {&LayerProgram::forward, &LayerProgram::backward}) {
    std::vector<Op> ops_a;
    for (const Op& op : a.*pass)
      if (op.name != std::string_view("tp_all_gather_attn_input") && op.name != std::string_view("tp_all_gather_mlp_input"))
        ops_a.push_back(op);
    REQUIRE(ops_a.size() == (b.*pass).size());
    for (std::size_t i = 0; i < ops_a.size(); ++i) {
      CHECK(ops_a[i].name == (b.*pass)[i].name);
      CHECK(ops_a[i].bytes == (b.*pass)[i].bytes);
      CHECK(ops_a[i].flops == (b.*pass)[i].flops);
    }
  }
}

TEST_CASE("the PyTorch stacks attend with FlashAttention-2 unless plan.attention_kernel says otherwise",
          "[workload][stack]") {
  // PyTorch's scaled_dot_product_attention dispatches to its FlashAttention-2 kernels on H100
  // (cuDNN attention is opt-in); Megatron-LM / Transformer Engine run cuDNN's fused attention.
  const auto kernel = [](const Scenario& s) {
    for (const auto& op : layer_program(s.model, s.plan, 8192).forward)
      if (op.kind == OpKind::attention) return op.attention.kernel;
    FAIL("no attention op");
    return AttentionKernel::cudnn;
  };
  CHECK(kernel(default_scenario()) == AttentionKernel::cudnn);
  CHECK(kernel(with({"plan.stack=pytorch_eager"})) == AttentionKernel::flash2);
  CHECK(kernel(with({"plan.stack=torch_compile"})) == AttentionKernel::flash2);
  CHECK(kernel(with({"plan.stack=torch_compile", "plan.attention_kernel=cudnn"})) == AttentionKernel::cudnn);
  CHECK(kernel(with({"plan.attention_kernel=flash2"})) == AttentionKernel::flash2);
  CHECK_THROWS_WITH(with({"plan.attention_kernel=flash4"}), Catch::Contains("/plan/attention_kernel"));
  // The kernel changes the attention's time only: same FLOPs, and t = FLOPs / (peak x e) with e in
  // the ratio efficiency.flash2 / efficiency.attention of the fused kernel's (at 8K keys).
  const Scenario fused = default_scenario(), sdpa = with({"plan.attention_kernel=flash2"});
  const ComputeCostModel cost(fused.cluster.gpu);
  const auto& e = fused.cluster.gpu.efficiency;
  const auto a = layer_program(fused.model, fused.plan, 8192), b = layer_program(sdpa.model, sdpa.plan, 8192);
  for (auto [pass, ratio] : {std::pair{&LayerProgram::forward, e.attention_fwd / e.flash2_fwd},
                             std::pair{&LayerProgram::backward, e.attention_bwd / e.flash2_bwd}}) {
    REQUIRE((a.*pass).size() == (b.*pass).size());
    for (std::size_t i = 0; i < (a.*pass).size(); ++i) {
      const Op &x = (a.*pass)[i], &y = (b.*pass)[i];
      CHECK(x.flops == y.flops);
      if (x.kind != OpKind::attention) continue;
      const double overhead = e.kernel_overhead_s;
      CHECK(cost.op_seconds(y) - overhead == Approx((cost.op_seconds(x) - overhead) * ratio).epsilon(1e-9));
    }
  }
}

TEST_CASE("PyTorch's sequence parallelism gathers no input again in backward and reduces the input gradient "
          "after the weight gradients",
          "[workload][stack]") {
  // Megatron-LM (Korthikanti et al. 2022): QKV's and fc1's backward all-gather the sharded norm
  // output again for the weight gradient, and the input gradient's reduce-scatter waits only for
  // the data gradient, overlapping the weight gradient. PyTorch (DTensor SP): no second gather, and
  // the reduce-scatter follows the weight gradient (the sum of wq/wk/wv's, w1/w3's input gradients
  // is complete only after their autograd nodes, which compute the weight gradients too).
  const Scenario meg = default_scenario();
  const Scenario torch = with({"plan.stack=torch_compile"});
  const auto a = layer_program(meg.model, meg.plan, 8192).backward;
  const auto b = layer_program(torch.model, torch.plan, 8192).backward;
  auto count = [](const std::vector<Op>& ops, std::string_view name) {
    return std::count_if(ops.begin(), ops.end(), [&](const Op& op) { return op.name == name; });
  };
  for (const char* gather : {"tp_all_gather_attn_input", "tp_all_gather_mlp_input"}) {
    CHECK(count(a, gather) == 1);
    CHECK(count(b, gather) == 0);
  }
  for (const auto* ops : {&a, &b})
    for (std::size_t i = 0; i < ops->size(); ++i) {
      const Op& op = (*ops)[i];
      if (op.name != std::string_view("tp_reduce_scatter_attn_grad") && op.name != std::string_view("tp_reduce_scatter_mlp_grad"))
        continue;
      const Op& waited = (*ops)[i - static_cast<std::size_t>(op.after)];
      const bool attn = op.name == std::string_view("tp_reduce_scatter_attn_grad");
      if (ops == &a) CHECK(waited.name == std::string_view(attn ? "qkv_proj_dgrad" : "fc1_dgrad"));
      else CHECK(waited.name == std::string_view(attn ? "qkv_proj_wgrad" : "fc1_wgrad"));
    }
}

TEST_CASE("plan.stack rejects an unknown stack at its pointer", "[workload][stack]") {
  CHECK_THROWS_WITH(with({"plan.stack=jax"}), Catch::Contains("/plan/stack"));
}
