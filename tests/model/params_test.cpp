// The scenario table's declared defaults (model/src/schema/*.cpp, read through ParamReader) and the
// member defaults of the structs they fill (hardware.hpp, plan.hpp, architecture.hpp) are the same,
// key by key, and no declared default is left unchecked.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "herd/model/architecture.hpp"
#include "herd/model/hardware.hpp"
#include "herd/model/params.hpp"
#include "herd/model/plan.hpp"
#include "herd/model/scenario.hpp"
#include "herd/model/topology.hpp"

using namespace herd::model;
using nlohmann::json;

namespace {

// Reads declared defaults from a document that gives nothing, and remembers which keys were read.
class Defaults {
 public:
  long long integer(const std::string& key) { return reader().integer(pointer(key)); }
  double number(const std::string& key) { return reader().number(pointer(key)); }
  bool boolean(const std::string& key) { return reader().boolean(pointer(key)); }
  std::string string(const std::string& key) { return reader().string(pointer(key)); }
  std::vector<std::string> strings(const std::string& key) { return reader().strings(pointer(key)); }
  const std::set<std::string>& read() const { return read_; }

 private:
  ParamReader reader() const { return ParamReader(empty_); }
  std::string pointer(const std::string& key) {
    read_.insert(key);
    std::string p = "/" + key;
    for (char& c : p)
      if (c == '.') c = '/';
    return p;
  }
  json empty_ = json::object();
  std::set<std::string> read_;
};

std::string_view to_string(CollectiveAlgorithm a) {
  switch (a) {
    case CollectiveAlgorithm::automatic: return "auto";
    case CollectiveAlgorithm::ring: return "ring";
    case CollectiveAlgorithm::tree: return "tree";
    case CollectiveAlgorithm::nvls: return "nvls";
    case CollectiveAlgorithm::hierarchical: return "hierarchical";
  }
  return "?";
}
std::string_view to_string(CollectiveProtocol p) {
  switch (p) {
    case CollectiveProtocol::automatic: return "auto";
    case CollectiveProtocol::ll: return "ll";
    case CollectiveProtocol::ll128: return "ll128";
    case CollectiveProtocol::simple: return "simple";
  }
  return "?";
}
std::string_view to_string(Precision p) { return p == Precision::bf16 ? "bf16" : "fp8"; }
std::string_view to_string(MlpKind m) { return m == MlpKind::swiglu ? "swiglu" : m == MlpKind::relu2 ? "relu2" : "gelu"; }
std::string_view to_string(NormKind n) { return n == NormKind::rmsnorm ? "rmsnorm" : "layernorm"; }
std::string_view to_string(PositionKind p) { return p == PositionKind::rope ? "rope" : "learned"; }

// Declared defaults that no struct member holds.
const std::set<std::string> kNoMember = {
    "plan.optimizer",  // AdamW is the only choice; its state's bytes are plan.optimizer_dtype's
};

bool has_default(const ParamDecl& d) {
  return !d.default_json.empty() && d.default_json != "null" && d.path.find_first_of("[*") == std::string_view::npos;
}

}  // namespace

TEST_CASE("struct member defaults equal the declared defaults of their keys", "[params]") {
  Defaults d;

  {  // cluster
    const ClusterSpec c;
    CHECK(d.string("cluster.name") == c.name);
    CHECK(d.string("cluster.source") == c.source);
    CHECK(d.integer("cluster.gpus_per_node") == c.gpus_per_node);
    CHECK((d.string("cluster.intra_node.fabric") == "nvswitch") == c.nvswitch);
    CHECK(d.number("cluster.intra_node.latency") == c.intra_node_latency_s);
    CHECK(d.boolean("cluster.intra_node.nvls") == c.nvls);
    CHECK(d.number("cluster.intra_node.efficiency") == c.intra_node_efficiency);
    CHECK(d.integer("cluster.nic.per_node") == c.nics_per_node);
    CHECK(d.number("cluster.nic.bandwidth") == c.nic_bandwidth);
    CHECK(d.number("cluster.nic.efficiency") == c.nic_efficiency);
    CHECK(d.number("cluster.nic.latency") == c.nic_latency_s);
    CHECK(d.number("cluster.storage.bandwidth") == c.storage_bandwidth);
    CHECK(d.number("cluster.storage.peak_bandwidth") == c.storage_peak_bandwidth);
    CHECK(d.number("cluster.power.switch") == c.power.switch_w);
    CHECK(d.number("cluster.power.pue") == c.power.pue);
    CHECK(d.number("cluster.power.price") == c.power.price_per_mwh);
    CHECK(d.number("cluster.power.window") == c.power.window_s);

    const GpuSpec& g = c.gpu;
    CHECK(d.string("cluster.gpu.source") == g.source);
    CHECK(d.number("cluster.gpu.peak_fp8") == g.peak_fp8_flops);
    const ComputeEfficiency& e = g.efficiency;
    CHECK(d.number("cluster.gpu.efficiency.gemm") == e.gemm);
    CHECK(d.number("cluster.gpu.efficiency.attention_fwd") == e.attention_fwd);
    CHECK(d.number("cluster.gpu.efficiency.attention_bwd") == e.attention_bwd);
    CHECK(d.number("cluster.gpu.efficiency.flash2_fwd") == e.flash2_fwd);
    CHECK(d.number("cluster.gpu.efficiency.flash2_bwd") == e.flash2_bwd);
    CHECK(d.number("cluster.gpu.efficiency.hbm") == e.hbm);
    CHECK(d.number("cluster.gpu.efficiency.sustained") == e.sustained);
    CHECK(d.number("cluster.gpu.efficiency.kernel_overhead") == e.kernel_overhead_s);
    CHECK(d.integer("cluster.gpu.efficiency.gemm_tile_m") == e.gemm_tile_m);
    CHECK(d.integer("cluster.gpu.efficiency.gemm_tile_n") == e.gemm_tile_n);
    CHECK(d.integer("cluster.gpu.efficiency.gemm_k_half") == e.gemm_k_half);

    const TopologySpec& t = c.topology;
    CHECK(d.string("cluster.topology.family") == to_string(t.family));
    CHECK(d.integer("cluster.topology.nodes_per_rack") == t.nodes_per_rack);
    CHECK(d.integer("cluster.topology.racks_per_pod") == t.racks_per_pod);
    CHECK(d.number("cluster.topology.pod_oversubscription") == t.pod_oversubscription);
    CHECK(d.number("cluster.topology.aggregation_oversubscription") == t.aggregation_oversubscription);
    CHECK(d.integer("cluster.topology.nodes_per_unit") == t.nodes_per_unit);
    CHECK(d.number("cluster.topology.leaf_oversubscription") == t.leaf_oversubscription);
    CHECK(d.number("cluster.topology.spine_oversubscription") == t.spine_oversubscription);
    CHECK(d.integer("cluster.topology.switch_radix") == t.switch_radix);
    CHECK(d.number("cluster.topology.switch_latency") == t.switch_latency_s);
    CHECK(d.integer("cluster.topology.ecmp_flows") == t.ecmp_flows);
    CHECK(d.string("cluster.topology.ecmp_hash") == to_string(t.ecmp_hash));

    const CollectiveSpec& k = c.collectives;
    CHECK(d.string("cluster.collectives.algorithm") == to_string(k.algorithm));
    CHECK(d.string("cluster.collectives.protocol") == to_string(k.protocol));
    CHECK(d.integer("cluster.collectives.max_channels") == k.max_channels);
    CHECK(d.integer("cluster.collectives.nvls_channels") == k.nvls_channels);
    CHECK(d.number("cluster.collectives.nvls_efficiency") == k.nvls_efficiency);
  }

  {  // model
    const TransformerSpec m;
    CHECK(d.string("model.name") == m.name);
    CHECK(d.string("model.source") == m.source);
    CHECK(d.boolean("model.tied_embeddings") == m.tied_embeddings);
    CHECK(d.string("model.mlp") == to_string(m.mlp));
    CHECK(d.string("model.norm") == to_string(m.norm));
    CHECK(d.string("model.position") == to_string(m.position));
    CHECK(d.number("model.rotary_fraction") == m.rotary_fraction);
    CHECK(d.boolean("model.bias") == m.bias);
    CHECK(d.boolean("model.dropout") == m.dropout);
  }

  {  // plan
    const PlanSpec p;
    CHECK(d.integer("plan.tp") == p.tp);
    CHECK(d.integer("plan.cp") == p.cp);
    CHECK(d.integer("plan.pp") == p.pp);
    CHECK(d.integer("plan.virtual_stages") == p.virtual_stages);
    CHECK(d.string("plan.dp_sharding") == to_string(p.dp_sharding));
    CHECK(d.string("plan.grad_dtype") == (p.grad_bytes == 4 ? "fp32" : "bf16"));
    CHECK(d.string("plan.optimizer_dtype") == (p.optimizer_bytes == 12 ? "fp32" : "bf16"));
    CHECK(d.boolean("plan.tp_comm_overlap") == p.tp_comm_overlap);
    CHECK(d.integer("plan.micro_batch") == p.micro_batch);
    CHECK(d.string("plan.recompute") == to_string(p.recompute));
    CHECK(d.string("plan.schedule") == to_string(p.schedule));
    CHECK(d.string("plan.layer_layout") == to_string(p.layer_layout));
    CHECK(d.string("plan.pp_send") == (p.pp_blocking_send ? "blocking" : "async"));
    CHECK(d.boolean("plan.overlap_grad_reduce") == p.overlap_grad_reduce);
    CHECK(d.boolean("plan.flash_attention") == p.flash_attention);
    CHECK(d.string("plan.cp_algorithm") == to_string(p.cp_algorithm));
    std::vector<std::string> order;
    for (Axis a : p.rank_order) order.emplace_back(to_string(a));
    CHECK(d.strings("plan.rank_order") == order);
    CHECK(d.string("plan.precision") == to_string(p.precision));
    CHECK(d.string("plan.stack") == to_string(p.stack));
  }

  // Every declared default of these sections was compared above (a key added to the table with a
  // default needs its line here).
  for (const ParamDecl& decl : scenario_params()) {
    const std::string path(decl.path);
    const bool in_structs = path.rfind("cluster.", 0) == 0 || path.rfind("model.", 0) == 0 || path.rfind("plan.", 0) == 0;
    if (!in_structs || !has_default(decl) || kNoMember.count(path)) continue;
    INFO("declared default of " << path << " = " << decl.default_json);
    CHECK(d.read().count(path) == 1);
  }
}

TEST_CASE("keys the table leaves null derive the plan's member defaults on one GPU", "[params]") {
  // No presets for the cluster or the plan: every key but the GPU's figures and the model takes the
  // table's default, and the null ones are derived by scenario_build.cpp.
  const Scenario s = scenario_from_json(
      json{{"cluster", {{"num_gpus", 1}, {"gpu", "h100-sxm-80gb"}}}, {"model", "llama3-8b"}}, "test");
  const PlanSpec p;
  CHECK(s.plan.dp == p.dp);
  CHECK(s.plan.grad_sync == p.grad_sync);
  CHECK(s.plan.sequence_parallel == p.sequence_parallel);
  CHECK(s.plan.round_size == p.round_size);
  CHECK(s.plan.overlap_param_gather == p.overlap_param_gather);
  CHECK(s.plan.attention_kernel == p.attention_kernel);
  const ClusterSpec c;
  CHECK(s.cluster.nic_bandwidth == c.nic_bandwidth);
  CHECK(s.cluster.nic_efficiency == c.nic_efficiency);
  CHECK(s.cluster.intra_node_efficiency == c.intra_node_efficiency);
  CHECK(s.cluster.intra_node_bandwidth == s.cluster.gpu.nvlink_bandwidth);
  CHECK(s.cluster.collectives.channels == c.collectives.channels);
  CHECK(s.cluster.collectives.base_latency_s == c.collectives.base_latency_s);
}
