// From a validated document to typed sections, with the defaults the table declares and the ones
// that derive from other keys (dp, kv_heads, head_dim, sequence_parallel, grad_sync, ...) or come
// from elsewhere (the Llama 3 failure classes, llama3_failures.cpp).
#include "scenario_build.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/model/params.hpp"
#include "herd/model/units.hpp"

namespace herd::model::detail {

namespace {

template <typename Enum, std::size_t N>
Enum pick(const ParamReader& r, std::string_view pointer, const std::array<std::pair<std::string_view, Enum>, N>& map) {
  const std::string value = r.string(pointer);
  for (const auto& [name, e] : map)
    if (name == value) return e;
  throw ValueError(std::string(pointer), "unsupported value \"" + value + "\"");  // the table lists the choices
}

constexpr int kMaxEcmpFlows = 1024;
constexpr int kMaxLayers = 2048;
constexpr long long kMaxWidth = 1LL << 20;
// Oversubscription of a switch tier: deployed fabrics run 1:1 to about 1:8 (Llama 3's
// aggregation layer 1:7); past 1:1000 a link keeps a thousandth of its bandwidth, no fabric.
constexpr double kMaxOversubscription = 1000;

int as_int(long long v, std::string_view pointer) {
  if (v > 2'000'000'000LL) throw ValueError(std::string(pointer), "is too large");
  return static_cast<int>(v);
}


// The clock a power limit allows compute-bound kernels, as a fraction of the clock at their
// draw: P - P_idle ~ f^3 (dynamic power C V^2 f, V ~ f in the DVFS range); 1 when the limit is at or
// above the draw (docs/models/power.md).
double capped_clock(const GpuPowerDraws& d, double limit_w) {
  return limit_w < d.compute ? std::cbrt((limit_w - d.idle) / (d.compute - d.idle)) : 1.0;
}

GpuSpec read_gpu(const ParamReader& r) {
  GpuSpec g;
  g.name = r.has("/cluster/gpu/name") ? r.string("/cluster/gpu/name") : "GPU";
  g.source = r.string("/cluster/gpu/source");
  g.peak_bf16_flops = r.number("/cluster/gpu/peak_bf16");
  g.peak_fp8_flops = r.number("/cluster/gpu/peak_fp8");
  g.peak_tf32_flops = r.number("/cluster/gpu/peak_tf32");
  g.memory_bytes = r.number("/cluster/gpu/memory");
  g.hbm_bandwidth = r.number("/cluster/gpu/hbm_bandwidth");
  g.sms = as_int(r.integer("/cluster/gpu/sms"), "/cluster/gpu/sms");
  g.nvlink_bandwidth = r.number("/cluster/gpu/nvlink_bandwidth");
  g.tdp_watts = r.number("/cluster/gpu/tdp");
  auto& e = g.efficiency;
  e.gemm = r.number("/cluster/gpu/efficiency/gemm");
  e.attention_fwd = r.number("/cluster/gpu/efficiency/attention_fwd");
  e.attention_bwd = r.number("/cluster/gpu/efficiency/attention_bwd");
  e.flash2_fwd = r.number("/cluster/gpu/efficiency/flash2_fwd");
  e.flash2_bwd = r.number("/cluster/gpu/efficiency/flash2_bwd");
  e.hbm = r.number("/cluster/gpu/efficiency/hbm");
  e.sustained = r.number("/cluster/gpu/efficiency/sustained");
  e.kernel_overhead_s = r.number("/cluster/gpu/efficiency/kernel_overhead");
  e.gemm_tile_m = as_int(r.integer("/cluster/gpu/efficiency/gemm_tile_m"), "/cluster/gpu/efficiency/gemm_tile_m");
  e.gemm_tile_n = as_int(r.integer("/cluster/gpu/efficiency/gemm_tile_n"), "/cluster/gpu/efficiency/gemm_tile_n");
  e.gemm_k_half = as_int(r.integer("/cluster/gpu/efficiency/gemm_k_half"), "/cluster/gpu/efficiency/gemm_k_half");
  for (auto [value, key] : {std::pair{e.gemm, "gemm"}, {e.attention_fwd, "attention_fwd"}, {e.attention_bwd, "attention_bwd"},
                            {e.flash2_fwd, "flash2_fwd"}, {e.flash2_bwd, "flash2_bwd"}, {e.hbm, "hbm"}, {e.sustained, "sustained"}})
    if (value <= 0) throw ValueError(std::string("/cluster/gpu/efficiency/") + key, "must be positive");
  // Unset draws follow the TDP (the keys' declared defaults, docs/models/power.md).
  auto draw = [&](const char* key, double fraction_of_tdp) {
    const std::string pointer = std::string("/cluster/gpu/power/") + key;
    const double w = r.has(pointer) ? r.number(pointer) : fraction_of_tdp * g.tdp_watts;
    if (w > g.tdp_watts * (1 + 1e-9))
      throw ValueError(pointer, format_power(w) + " is above the board's TDP (" +
                                    format_power(g.tdp_watts) + ")");
    return w;
  };
  g.power = {.idle = draw("idle", 0.1), .compute = draw("compute", 1.0), .memory = draw("memory", 0.6),
             .communication = draw("communication", 0.3), .wait = draw("wait", 0.2)};
  g.power_limit_w = r.has("/cluster/gpu/power_limit") ? r.number("/cluster/gpu/power_limit") : g.tdp_watts;
  if (g.power_limit_w > g.tdp_watts * (1 + 1e-9))
    throw ValueError("/cluster/gpu/power_limit",
                     format_power(g.power_limit_w) + " is above the board's TDP (" + format_power(g.tdp_watts) + ")");
  if (g.power_limit_w <= g.power.idle)
    throw ValueError("/cluster/gpu/power_limit", format_power(g.power_limit_w) + " must be above the GPU's idle draw (" +
                                                     format_power(g.power.idle) + ")");
  g.clock_factor = capped_clock(g.power, g.power_limit_w);
  return g;
}

CollectiveSpec read_collectives(const ParamReader& r) {
  CollectiveSpec k;
  using A = CollectiveAlgorithm;
  using P = CollectiveProtocol;
  k.algorithm = pick(r, "/cluster/collectives/algorithm",
                     std::array{std::pair{std::string_view("auto"), A::automatic}, std::pair{std::string_view("ring"), A::ring},
                                std::pair{std::string_view("tree"), A::tree}, std::pair{std::string_view("nvls"), A::nvls},
                                std::pair{std::string_view("hierarchical"), A::hierarchical}});
  k.protocol = pick(r, "/cluster/collectives/protocol",
                    std::array{std::pair{std::string_view("auto"), P::automatic}, std::pair{std::string_view("ll"), P::ll},
                               std::pair{std::string_view("ll128"), P::ll128}, std::pair{std::string_view("simple"), P::simple}});
  if (r.has("/cluster/collectives/channels"))
    k.channels = as_int(r.integer("/cluster/collectives/channels"), "/cluster/collectives/channels");
  k.max_channels = as_int(r.integer("/cluster/collectives/max_channels"), "/cluster/collectives/max_channels");
  k.nvls_channels = as_int(r.integer("/cluster/collectives/nvls_channels"), "/cluster/collectives/nvls_channels");
  k.nvls_efficiency = r.number("/cluster/collectives/nvls_efficiency");
  if (r.has("/cluster/collectives/base_latency")) k.base_latency_s = r.number("/cluster/collectives/base_latency");
  if (r.has("/cluster/collectives/intra_step_latency"))
    k.intra_step_latency_s = r.number("/cluster/collectives/intra_step_latency");
  if (r.has("/cluster/collectives/inter_step_latency"))
    k.inter_step_latency_s = r.number("/cluster/collectives/inter_step_latency");
  return k;
}

ClusterSpec read_cluster(const ParamReader& r) {
  ClusterSpec c;
  c.name = r.string("/cluster/name");
  c.source = r.string("/cluster/source");
  c.gpu = read_gpu(r);
  c.num_gpus = as_int(r.integer("/cluster/num_gpus"), "/cluster/num_gpus");
  c.gpus_per_node = as_int(r.integer("/cluster/gpus_per_node"), "/cluster/gpus_per_node");
  c.nvswitch = r.string("/cluster/intra_node/fabric") == "nvswitch";
  c.intra_node_bandwidth = r.has("/cluster/intra_node/bandwidth") ? r.number("/cluster/intra_node/bandwidth") : c.gpu.nvlink_bandwidth;
  c.intra_node_latency_s = r.number("/cluster/intra_node/latency");
  c.nvls = r.boolean("/cluster/intra_node/nvls");
  c.intra_node_efficiency = r.number("/cluster/intra_node/efficiency");
  c.nics_per_node = as_int(r.integer("/cluster/nic/per_node"), "/cluster/nic/per_node");
  // The topology needs this too; checked here so that every command refuses it, not only those that simulate.
  if (c.nics_per_node > c.gpus_per_node || c.gpus_per_node % c.nics_per_node != 0)
    throw ValueError("/cluster/nic/per_node", std::to_string(c.nics_per_node) + " NICs per node must divide " +
                                                  std::to_string(c.gpus_per_node) + " GPUs per node");
  c.nic_bandwidth = r.number("/cluster/nic/bandwidth");
  c.nic_efficiency = r.number("/cluster/nic/efficiency");
  c.nic_latency_s = r.number("/cluster/nic/latency");
  auto& t = c.topology;
  t.family = pick(r, "/cluster/topology/family",
                  std::array{std::pair{std::string_view("llama3_roce"), TopologyFamily::llama3_roce},
                             std::pair{std::string_view("rail_fat_tree"), TopologyFamily::rail_fat_tree},
                             std::pair{std::string_view("fat_tree"), TopologyFamily::fat_tree},
                             std::pair{std::string_view("single_switch"), TopologyFamily::single_switch}});
  t.nodes_per_rack = as_int(r.integer("/cluster/topology/nodes_per_rack"), "/cluster/topology/nodes_per_rack");
  t.racks_per_pod = as_int(r.integer("/cluster/topology/racks_per_pod"), "/cluster/topology/racks_per_pod");
  t.pod_oversubscription = r.number("/cluster/topology/pod_oversubscription");
  t.aggregation_oversubscription = r.number("/cluster/topology/aggregation_oversubscription");
  t.nodes_per_unit = as_int(r.integer("/cluster/topology/nodes_per_unit"), "/cluster/topology/nodes_per_unit");
  t.leaf_oversubscription = r.number("/cluster/topology/leaf_oversubscription");
  t.spine_oversubscription = r.number("/cluster/topology/spine_oversubscription");
  for (const auto& [pointer, value] : {std::pair{"/cluster/topology/pod_oversubscription", t.pod_oversubscription},
                                      std::pair{"/cluster/topology/aggregation_oversubscription", t.aggregation_oversubscription},
                                      std::pair{"/cluster/topology/leaf_oversubscription", t.leaf_oversubscription},
                                      std::pair{"/cluster/topology/spine_oversubscription", t.spine_oversubscription}})
    if (value > kMaxOversubscription) {
      std::ostringstream shown;
      shown << std::setprecision(6) << value;
      throw ValueError(pointer, shown.str() + ":1; at most 1000:1 is modelled (deployed fabrics: 1:1 to about 8:1)");
    }
  t.switch_radix = as_int(r.integer("/cluster/topology/switch_radix"), "/cluster/topology/switch_radix");
  t.switch_latency_s = r.number("/cluster/topology/switch_latency");
  t.ecmp_flows = as_int(r.integer("/cluster/topology/ecmp_flows"), "/cluster/topology/ecmp_flows");
  // Routing a transfer walks its flows; NCCL splits a connection over at most 128 queue pairs
  // (NCCL_IB_QPS_PER_CONNECTION), Llama 3's library over 16.
  if (t.ecmp_flows > kMaxEcmpFlows)
    throw ValueError("/cluster/topology/ecmp_flows", std::to_string(t.ecmp_flows) + " flows per transfer; at most " +
                                                         std::to_string(kMaxEcmpFlows) + " are modelled");
  t.ecmp_hash = pick(r, "/cluster/topology/ecmp_hash",
                     std::array{std::pair{std::string_view("spread"), EcmpHash::spread},
                                std::pair{std::string_view("hash"), EcmpHash::hash},
                                std::pair{std::string_view("adaptive"), EcmpHash::adaptive}});
  c.collectives = read_collectives(r);
  const auto degraded = r.raw("/whatif/degraded_nics");
  const int nics = c.num_nodes() * c.nics_per_node;
  for (std::size_t i = 0; i < degraded.size(); ++i) {
    const std::string at = "/whatif/degraded_nics/" + std::to_string(i);
    const long long nic = r.integer(at + "/nic");
    if (nic >= nics) throw ValueError(at + "/nic", "NIC " + std::to_string(nic) + " is outside the cluster's " + std::to_string(nics) + " NICs");
    c.degraded_nics.emplace_back(static_cast<int>(nic), r.number(at + "/bandwidth"));
  }
  c.power.node_other_w = r.has("/cluster/power/node_other") ? r.number("/cluster/power/node_other")
                                                             : 0.82 * c.gpu.tdp_watts * c.gpus_per_node;
  c.power.switch_w = r.number("/cluster/power/switch");
  c.power.pue = r.number("/cluster/power/pue");
  c.power.price_per_mwh = r.number("/cluster/power/price");
  c.power.window_s = r.number("/cluster/power/window");
  c.storage_bandwidth = r.number("/cluster/storage/bandwidth");
  c.storage_peak_bandwidth = r.number("/cluster/storage/peak_bandwidth");
  if (c.num_gpus > c.gpus_per_node && c.num_gpus % c.gpus_per_node != 0)
    throw ValueError("/cluster/num_gpus", std::to_string(c.num_gpus) + " GPUs do not fill whole nodes of " +
                                              std::to_string(c.gpus_per_node));
  return c;
}

TransformerSpec read_model(const ParamReader& r) {
  TransformerSpec m;
  m.name = r.string("/model/name");
  m.source = r.string("/model/source");
  m.layers = as_int(r.integer("/model/layers"), "/model/layers");
  // A step's ops, and the work and memory of simulating it, grow with the layers; the deepest
  // published dense models have 105-128 (MT-NLG 530B, GPT 1T).
  if (m.layers > kMaxLayers)
    throw ValueError("/model/layers", std::to_string(m.layers) + " layers; at most " + std::to_string(kMaxLayers) +
                                          " are modelled");
  m.hidden = r.integer("/model/hidden");
  m.ffn_hidden = r.integer("/model/ffn_hidden");
  // Widths bounded so that parameter and FLOP counts stay within 64-bit integers (2^20 squared,
  // times a few matrices and 2,048 layers, is below 2^60); the widest published dense model's
  // hidden size is 25,600 (GPT 1T).
  for (const auto& [value, pointer] : {std::pair{m.hidden, "/model/hidden"}, std::pair{m.ffn_hidden, "/model/ffn_hidden"}})
    if (value > kMaxWidth)
      throw ValueError(pointer, std::to_string(value) + " is wider than the " + std::to_string(kMaxWidth) + " modelled");
  m.heads = as_int(r.integer("/model/heads"), "/model/heads");
  m.kv_heads = r.has("/model/kv_heads") ? as_int(r.integer("/model/kv_heads"), "/model/kv_heads") : m.heads;
  if (r.has("/model/head_dim")) {
    m.head_dim = r.integer("/model/head_dim");
  } else {
    if (m.hidden % m.heads != 0)
      throw ValueError("/model/heads", std::to_string(m.heads) + " heads do not divide hidden " + std::to_string(m.hidden) +
                                           "; give head_dim");
    m.head_dim = m.hidden / m.heads;
  }
  if (m.heads % m.kv_heads != 0)
    throw ValueError("/model/kv_heads", std::to_string(m.kv_heads) + " key/value heads do not divide " +
                                            std::to_string(m.heads) + " attention heads");
  if (m.head_dim > kMaxWidth / std::max(1, m.heads))  // written so that it cannot overflow itself
    throw ValueError("/model/heads", std::to_string(m.heads) + " heads of " + std::to_string(m.head_dim) +
                                         " are wider than the " + std::to_string(kMaxWidth) + " modelled");
  m.vocab = r.integer("/model/vocab");
  if (m.vocab > kMaxWidth * 16)
    throw ValueError("/model/vocab", std::to_string(m.vocab) + " tokens; at most " + std::to_string(kMaxWidth * 16) + " are modelled");
  m.tied_embeddings = r.boolean("/model/tied_embeddings");
  const std::string mlp = r.string("/model/mlp");
  m.mlp = mlp == "swiglu" ? MlpKind::swiglu : mlp == "relu2" ? MlpKind::relu2 : MlpKind::gelu;
  m.norm = r.string("/model/norm") == "rmsnorm" ? NormKind::rmsnorm : NormKind::layernorm;
  m.position = r.string("/model/position") == "rope" ? PositionKind::rope : PositionKind::learned;
  m.rotary_fraction = r.number("/model/rotary_fraction");
  if (!(m.rotary_fraction > 0))
    throw ValueError("/model/rotary_fraction", "must be above 0 (1 rotates every dimension of a head), got " +
                                                   show_value(r.raw("/model/rotary_fraction")));
  if (m.position != PositionKind::rope && m.rotary_fraction != 1.0)
    throw ValueError("/model/rotary_fraction", "applies to position rope only, but position is learned");
  m.bias = r.boolean("/model/bias");
  m.dropout = r.boolean("/model/dropout");
  m.seq_len = r.integer("/model/seq_len");
  m.max_position = r.has("/model/max_position") ? r.integer("/model/max_position") : m.seq_len;
  if (m.position == PositionKind::learned && m.max_position < m.seq_len)
    throw ValueError("/model/max_position", "a learned position table of " + std::to_string(m.max_position) +
                                                " rows cannot cover seq_len " + std::to_string(m.seq_len));
  return m;
}

Axis axis_of(const std::string& name) {
  if (name == "tp") return Axis::tp;
  if (name == "cp") return Axis::cp;
  if (name == "pp") return Axis::pp;
  return Axis::dp;
}

PlanSpec read_plan(const ParamReader& r, const TransformerSpec& m, const ClusterSpec& c) {
  PlanSpec p;
  p.tp = as_int(r.integer("/plan/tp"), "/plan/tp");
  p.cp = as_int(r.integer("/plan/cp"), "/plan/cp");
  p.pp = as_int(r.integer("/plan/pp"), "/plan/pp");
  const long long tcp = static_cast<long long>(p.tp) * p.cp * p.pp;
  if (r.has("/plan/dp")) {
    p.dp = as_int(r.integer("/plan/dp"), "/plan/dp");
  } else {
    if (c.num_gpus % tcp != 0)
      throw ValueError("/plan", "tp x cp x pp = " + std::to_string(tcp) + " does not divide " +
                                    std::to_string(c.num_gpus) + " GPUs");
    p.dp = static_cast<int>(c.num_gpus / tcp);
  }
  p.virtual_stages = as_int(r.integer("/plan/virtual_stages"), "/plan/virtual_stages");
  p.dp_sharding = pick(r, "/plan/dp_sharding",
                       std::array{std::pair{std::string_view("none"), DpSharding::none},
                                  std::pair{std::string_view("zero1"), DpSharding::zero1},
                                  std::pair{std::string_view("fsdp"), DpSharding::fsdp},
                                  std::pair{std::string_view("zero3"), DpSharding::zero3}});
  if (r.has("/plan/grad_sync"))
    p.grad_sync = pick(r, "/plan/grad_sync",
                       std::array{std::pair{std::string_view("per_step"), GradSync::per_step},
                                  std::pair{std::string_view("per_round"), GradSync::per_round},
                                  std::pair{std::string_view("per_microbatch"), GradSync::per_microbatch}});
  else
    p.grad_sync = p.shards_gradients() ? GradSync::per_microbatch : GradSync::per_step;
  p.grad_bytes = r.string("/plan/grad_dtype") == "fp32" ? 4 : 2;
  p.optimizer_bytes = r.string("/plan/optimizer_dtype") == "fp32" ? 12 : 4;
  p.sequence_parallel = r.has("/plan/sequence_parallel") ? r.boolean("/plan/sequence_parallel") : p.tp > 1;
  p.tp_comm_overlap = r.boolean("/plan/tp_comm_overlap");
  p.pp_blocking_send = r.string("/plan/pp_send") == "blocking";
  p.overlap_grad_reduce = r.boolean("/plan/overlap_grad_reduce");
  p.overlap_param_gather =
      r.has("/plan/overlap_param_gather") ? r.boolean("/plan/overlap_param_gather") : p.overlap_grad_reduce;
  p.micro_batch = as_int(r.integer("/plan/micro_batch"), "/plan/micro_batch");
  if (r.has("/plan/global_batch")) {
    p.global_batch = r.integer("/plan/global_batch");
  } else if (r.has("/plan/global_batch_tokens")) {
    const long long tokens = r.integer("/plan/global_batch_tokens");
    if (tokens % m.seq_len != 0)
      throw ValueError("/plan/global_batch_tokens", std::to_string(tokens) + " tokens is not a multiple of seq_len " +
                                                        std::to_string(m.seq_len));
    p.global_batch = tokens / m.seq_len;
  } else {
    p.global_batch = static_cast<std::int64_t>(p.dp) * p.micro_batch * std::max(1, p.pp);  // one round per pipeline
  }
  p.recompute = pick(r, "/plan/recompute",
                     std::array{std::pair{std::string_view("none"), Recompute::none},
                                std::pair{std::string_view("selective"), Recompute::selective},
                                std::pair{std::string_view("full"), Recompute::full},
                                std::pair{std::string_view("op"), Recompute::op}});
  p.schedule = pick(r, "/plan/schedule",
                    std::array{std::pair{std::string_view("gpipe"), Schedule::gpipe},
                               std::pair{std::string_view("1f1b"), Schedule::one_f_one_b},
                               std::pair{std::string_view("interleaved"), Schedule::interleaved},
                               std::pair{std::string_view("llama3"), Schedule::llama3},
                               std::pair{std::string_view("zero_bubble"), Schedule::zero_bubble}});
  p.round_size = r.has("/plan/round_size") ? as_int(r.integer("/plan/round_size"), "/plan/round_size") : p.pp;
  p.layer_layout = r.string("/plan/layer_layout") == "llama3" ? LayerLayout::llama3 : LayerLayout::uniform;
  p.cp_algorithm = r.string("/plan/cp_algorithm") == "ring" ? CpAlgorithm::ring : CpAlgorithm::allgather;
  p.stack = pick(r, "/plan/stack",
                 std::array{std::pair{std::string_view("megatron"), Stack::megatron},
                            std::pair{std::string_view("pytorch_eager"), Stack::pytorch_eager},
                            std::pair{std::string_view("torch_compile"), Stack::torch_compile}});
  // PyTorch's scaled_dot_product_attention runs FlashAttention-2 on Hopper (docs/models/stacks.md);
  // Megatron-LM / Transformer Engine run cuDNN's fused attention.
  p.attention_kernel =
      r.has("/plan/attention_kernel")
          ? pick(r, "/plan/attention_kernel",
                 std::array{std::pair{std::string_view("cudnn"), AttentionKernel::cudnn},
                            std::pair{std::string_view("flash2"), AttentionKernel::flash2}})
          : (p.pytorch() ? AttentionKernel::flash2 : AttentionKernel::cudnn);
  p.flash_attention = r.boolean("/plan/flash_attention");
  const auto order = r.strings("/plan/rank_order");
  if (order.size() != 4)
    throw ValueError("/plan/rank_order", "must name each of tp, cp, pp, dp once");
  for (std::size_t i = 0; i < 4; ++i) {
    p.rank_order[i] = axis_of(order[i]);
    for (std::size_t j = 0; j < i; ++j)
      if (order[j] == order[i]) throw ValueError("/plan/rank_order/" + std::to_string(i), "\"" + order[i] + "\" appears twice");
  }
  p.precision = r.string("/plan/precision") == "bf16" ? Precision::bf16 : Precision::fp8;
  return p;
}

RunSpec read_run(const ParamReader& r, const TransformerSpec& m, const PlanSpec& p) {
  RunSpec run;
  run.tokens = r.has("/run/tokens") ? static_cast<double>(r.integer("/run/tokens")) : 0.0;
  run.step_time_s = r.has("/run/step_time") ? r.number("/run/step_time") : 0.0;
  const auto phases = r.raw("/run/batch_schedule");
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const std::string at = "/run/batch_schedule/" + std::to_string(i);
    BatchPhase ph;
    ph.start_tokens = static_cast<double>(r.integer(at + "/start_tokens"));
    ph.seq_len = r.has(at + "/seq_len") ? r.integer(at + "/seq_len") : m.seq_len;
    ph.global_batch = r.has(at + "/global_batch") ? r.integer(at + "/global_batch") : p.global_batch;
    ph.set = r.raw(at + "/set");
    if (i > 0 && ph.start_tokens <= run.batch_schedule.back().start_tokens)
      throw ValueError(at + "/start_tokens", "phases must start in increasing order of tokens");
    if (i == 0 && ph.start_tokens != 0) throw ValueError(at + "/start_tokens", "the first phase must start at 0 tokens");
    run.batch_schedule.push_back(std::move(ph));
  }
  if (run.batch_schedule.empty()) run.batch_schedule.push_back({0.0, m.seq_len, p.global_batch, nlohmann::json::object()});
  run.window_s = r.has("/run/window") ? r.number("/run/window") : 0.0;
  const long long trials = r.integer("/run/trials");
  if (trials > 100'000'000) throw ValueError("/run/trials", "is too large");
  run.trials = static_cast<int>(trials);
  run.seed = static_cast<std::uint64_t>(r.integer("/run/seed"));
  return run;
}

Component component_named(const std::string& name) {
  for (Component c : {Component::gpu, Component::node, Component::nic, Component::leaf_switch, Component::job})
    if (to_string(c) == name) return c;
  return Component::gpu;  // the table admits no other name
}

// Reads the keys a failure entry gives over `f` (a default class, or the table's defaults when
// the class is new).
void read_failure_class(const ParamReader& r, const nlohmann::json& entry, const std::string& at, bool is_new,
                        FailureClass& f) {
  auto given = [&](const char* key) { return entry.contains(key) && !entry[key].is_null(); };
  auto pick = [&](const char* key) { return is_new || given(key); };
  const std::string p = at + "/";
  if (is_new && !given("rate")) throw ValueError(p + "rate", "is required for a new failure class");
  if (pick("category")) f.category = r.string(p + "category");
  if (pick("component")) f.component = component_named(r.string(p + "component"));
  if (given("rate")) f.rate_per_s = r.number(p + "rate");
  if (pick("distribution"))
    f.distribution = r.string(p + "distribution") == "weibull" ? Distribution::weibull : Distribution::exponential;
  if (pick("weibull_shape")) f.weibull_shape = r.number(p + "weibull_shape");
  if (pick("multiplier")) f.multiplier = r.number(p + "multiplier");
  if (given("detection_time")) f.detection_s = r.number(p + "detection_time");
  if (given("replaces_node")) f.replaces_node = r.boolean(p + "replaces_node");
  else if (is_new) f.replaces_node = f.component == Component::gpu || f.component == Component::node || f.component == Component::nic;
}

// User classes merge over the defaults by name: a default class changes only the keys given, any
// other name adds a class.
std::vector<FailureClass> read_failure_classes(const ParamReader& r) {
  std::vector<FailureClass> classes;
  if (r.string("/reliability/failure_defaults") == "llama3") classes = llama3_failure_classes();
  const nlohmann::json given = r.raw("/reliability/failures");
  if (!given.is_object()) return classes;
  for (const auto& [name, entry] : given.items()) {
    const std::string at = (nlohmann::json::json_pointer("/reliability/failures") / name).to_string();
    const auto existing = std::find_if(classes.begin(), classes.end(), [&](const FailureClass& f) { return f.name == name; });
    if (existing != classes.end()) {
      read_failure_class(r, entry, at, false, *existing);
    } else {
      FailureClass f;
      f.name = name;
      read_failure_class(r, entry, at, true, f);
      classes.push_back(std::move(f));
    }
  }
  return classes;
}

ReliabilitySpec read_reliability(const ParamReader& r) {
  ReliabilitySpec spec;
  spec.failures = read_failure_classes(r);
  spec.failure_multiplier = r.number("/reliability/failure_multiplier");
  spec.planned_rate_per_s = r.has("/reliability/planned_rate") ? r.number("/reliability/planned_rate") : llama3_planned_rate_per_s();
  spec.detection_s = r.number("/reliability/detection_time");
  spec.restart_s = r.number("/reliability/restart_time");
  spec.communicator_setup_per_gpu_s = r.number("/reliability/communicator_setup_per_gpu");
  auto& c = spec.checkpoint;
  c.mode = r.string("/reliability/checkpoint/mode") == "async" ? CheckpointMode::async : CheckpointMode::sync;
  c.interval_s = r.has("/reliability/checkpoint/interval") ? r.number("/reliability/checkpoint/interval") : 0.0;
  c.bandwidth_share = r.number("/reliability/checkpoint/bandwidth_share");
  if (c.bandwidth_share <= 0) throw ValueError("/reliability/checkpoint/bandwidth_share", "must be positive");
  c.host_copy_bandwidth = r.number("/reliability/checkpoint/host_copy_bandwidth");
  auto& sp = spec.spares;
  if (r.has("/reliability/spares/nodes")) {
    const long long n = r.integer("/reliability/spares/nodes");
    if (n > 10'000'000) throw ValueError("/reliability/spares/nodes", "is too large");
    sp.nodes = static_cast<int>(n);
  }
  sp.repair_s = r.has("/reliability/spares/repair_time") ? r.number("/reliability/spares/repair_time") : 0.0;
  sp.swap_s = r.number("/reliability/spares/swap_time");
  sp.when_exhausted = r.string("/reliability/spares/when_exhausted") == "wait" ? WhenNoSpare::wait : WhenNoSpare::shrink;
  if (sp.nodes >= 0 && sp.when_exhausted == WhenNoSpare::wait && sp.repair_s <= 0)
    throw ValueError("/reliability/spares/repair_time",
                     "is required when spares are limited and when_exhausted is \"wait\" (else the job would wait forever)");
  return spec;
}

SearchSpace read_search(const ParamReader& r) {
  SearchSpace sp;
  const auto ints = [&](const char* pointer, auto& into) {
    for (long long v : r.integers(pointer)) into.push_back(static_cast<typename std::decay_t<decltype(into)>::value_type>(v));
  };
  ints("/search/num_gpus", sp.num_gpus);
  ints("/search/global_batch", sp.global_batch);
  ints("/search/tp", sp.tp);
  ints("/search/cp", sp.cp);
  ints("/search/pp", sp.pp);
  ints("/search/virtual_stages", sp.virtual_stages);
  ints("/search/round_size", sp.round_size);
  ints("/search/micro_batch", sp.micro_batch);
  ints("/search/tp_comm_overlap", sp.tp_comm_overlap);
  for (const auto& v : r.strings("/search/layer_layout")) sp.layer_layouts.push_back(v == "llama3" ? LayerLayout::llama3 : LayerLayout::uniform);
  for (const auto& v : r.strings("/search/schedule"))
    sp.schedules.push_back(v == "gpipe" ? Schedule::gpipe : v == "1f1b" ? Schedule::one_f_one_b : v == "interleaved" ? Schedule::interleaved
                           : v == "llama3" ? Schedule::llama3 : Schedule::zero_bubble);
  for (const auto& v : r.strings("/search/dp_sharding"))
    sp.dp_sharding.push_back(v == "none" ? DpSharding::none : v == "zero1" ? DpSharding::zero1 : v == "fsdp" ? DpSharding::fsdp : DpSharding::zero3);
  for (const auto& v : r.strings("/search/recompute"))
    sp.recompute.push_back(v == "none" ? Recompute::none : v == "selective" ? Recompute::selective : v == "op" ? Recompute::op : Recompute::full);
  const auto orders = r.strings("/search/rank_order");
  for (std::size_t i = 0; i < orders.size(); ++i) {
    std::array<Axis, 4> order{};
    std::size_t n = 0;
    std::string_view rest = orders[i];
    bool seen[4] = {};
    while (!rest.empty() && n < 4) {
      const auto dash = rest.find('-');
      const std::string name(rest.substr(0, dash));
      if (name != "tp" && name != "cp" && name != "pp" && name != "dp") break;
      order[n] = axis_of(name);
      if (seen[static_cast<int>(order[n])]) break;
      seen[static_cast<int>(order[n++])] = true;
      rest = dash == std::string_view::npos ? std::string_view{} : rest.substr(dash + 1);
    }
    if (n != 4 || !rest.empty())
      throw ValueError("/search/rank_order/" + std::to_string(i), "\"" + orders[i] + "\" must name tp, cp, pp and dp once each, e.g. \"tp-cp-pp-dp\"");
    sp.rank_orders.push_back(order);
  }
  sp.memory_headroom = r.number("/search/memory_headroom");
  if (sp.memory_headroom >= 1) throw ValueError("/search/memory_headroom", "must be below 1 (a fraction of memory kept free)");
  sp.top = static_cast<int>(r.integer("/search/top"));
  if (r.has("/search/power_budget")) sp.power_budget_w = r.number("/search/power_budget");
  return sp;
}

WhatIfSpec read_whatif(const ParamReader& r, const PlanSpec& p, GpuSpec& gpu) {
  WhatIfSpec w;
  const GpuPowerDraws& d = gpu.power;
  if (r.has("/whatif/power_cap")) {
    w.power_cap_w = r.number("/whatif/power_cap");
    if (w.power_cap_w <= d.idle)
      throw ValueError("/whatif/power_cap", format_power(w.power_cap_w) +
                                                " must be above the GPU's idle draw (" + format_power(d.idle) + ")");
    gpu.clock_factor = capped_clock(d, std::min(w.power_cap_w, gpu.power_limit_w));
  }
  if (r.has("/whatif/power_floor")) {
    w.power_floor_w = r.number("/whatif/power_floor");
    const double limit = w.power_cap_w > 0 ? std::min(w.power_cap_w, gpu.power_limit_w) : gpu.power_limit_w;
    if (w.power_floor_w > limit)
      throw ValueError("/whatif/power_floor", format_power(w.power_floor_w) + " is above the GPU's power limit (" +
                                                  format_power(limit) + ")");
  }
  const auto stragglers = r.raw("/whatif/stragglers");
  for (std::size_t i = 0; i < stragglers.size(); ++i) {
    const std::string at = "/whatif/stragglers/" + std::to_string(i);
    const long long rank = r.integer(at + "/rank");
    if (rank >= p.gpus())
      throw ValueError(at + "/rank", "rank " + std::to_string(rank) + " is outside the job's " + std::to_string(p.gpus()) + " GPUs");
    w.stragglers.push_back({static_cast<int>(rank), r.number(at + "/slowdown")});
  }
  return w;
}

}  // namespace

void build_scenario(Scenario& s) {
  const ParamReader r(s.resolved);
  s.name = r.string("/name");
  s.description = r.string("/description");
  s.calibration = r.has("/calibration") ? r.string("/calibration") : "";
  s.cluster = read_cluster(r);
  s.model = read_model(r);
  try {
    s.plan = read_plan(r, s.model, s.cluster);
    validate_plan(s.plan, s.model, s.cluster);
  } catch (const ValueError& e) {
    if (e.pointer() != "/plan") throw;
    // The degrees' product against the GPU count: named at the first of those keys an override
    // set (its `--set` is then the source named), else at the data-parallel degree.
    for (const char* key : {"/plan/tp", "/plan/cp", "/plan/pp", "/plan/dp", "/cluster/num_gpus"})
      if (s.source_of(key).rfind("--set ", 0) == 0) throw ValueError(key, e.message());
    throw ValueError("/plan/dp", e.message());
  }
  s.run = read_run(r, s.model, s.plan);
  if (s.name.empty()) s.name = s.model.name + " on " + std::to_string(s.cluster.num_gpus) + " " + s.cluster.gpu.name;
  s.reliability = read_reliability(r);
  s.whatif = read_whatif(r, s.plan, s.cluster.gpu);
  s.search = read_search(r);
}

}  // namespace herd::model::detail
