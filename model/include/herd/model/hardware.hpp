#pragma once
// Hardware descriptions read from a scenario's `cluster` section. All quantities in SI units.
// Member defaults are the defaults the scenario table declares (model/src/schema/schema_cluster.cpp;
// tests/model/params_test.cpp keeps them equal). Scenarios are always built through the table; a
// member whose key has no default (required, or derived from other keys) says so.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace herd::model {

struct CollectiveFit;  // calibration_profile.hpp
/// Measured collective curves by name ("all_reduce/intra_node", "all_gather/inter_node/16"), as a
/// calibration profile's `collectives` holds them.
using CollectiveFits = std::map<std::string, CollectiveFit>;

/// Default compute efficiencies of a GPU; a calibration profile replaces them (docs/models/compute.md).
struct ComputeEfficiency {
  double gemm = 0.8;             ///< fraction of peak of an 8192^3 BF16 GEMM
  double attention_fwd = 0.62;   ///< fraction of peak, fused causal attention forward, 8K keys
  double attention_bwd = 0.5;    ///< fraction of peak, fused causal attention backward, 8K keys
  double flash2_fwd = 0.343;     ///< fraction of peak, FlashAttention-2 causal forward, 8K keys
  double flash2_bwd = 0.284;     ///< fraction of peak, FlashAttention-2 causal backward, 8K keys
  double hbm = 0.9;              ///< fraction of HBM bandwidth for large element-wise kernels
  double sustained = 1.0;        ///< long-run speed over short-run speed, applied to GEMM and attention
  double kernel_overhead_s = 4e-6;
  int gemm_tile_m = 128;
  int gemm_tile_n = 256;
  int gemm_k_half = 128;
};

/// What one GPU draws in each state, watts (`cluster.gpu.power.*`; docs/models/power.md).
struct GpuPowerDraws {
  double idle = 0;           ///< no job running (restarts, repairs)
  double compute = 0;        ///< a compute-bound kernel (tensor cores): the board's power limit
  double memory = 0;         ///< a memory-bound kernel (element-wise, norms, optimizer)
  double communication = 0;  ///< only collective or pipeline kernels running
  double wait = 0;           ///< in a job, nothing running: waiting for another stage or rank
};

struct GpuSpec {
  std::string name;
  std::string source;
  // Required keys (except peak_fp8): no default; 0 until read.
  double peak_bf16_flops = 0;   ///< FLOP/s, dense
  double peak_fp8_flops = 0;    ///< FLOP/s, dense; 0 when absent
  double peak_tf32_flops = 0;   ///< FLOP/s, dense
  double memory_bytes = 0;      ///< HBM capacity
  double hbm_bandwidth = 0;     ///< bytes/s
  int sms = 0;
  double nvlink_bandwidth = 0;  ///< bytes/s per GPU, each direction
  double tdp_watts = 0;
  /// The limit the boards are set to (`cluster.gpu.power_limit`, nvidia-smi -pl); derived: the TDP.
  double power_limit_w = 0;
  ComputeEfficiency efficiency;
  GpuPowerDraws power;
  /// Clock of compute-bound kernels as a fraction of the uncapped one: below 1 under a power limit
  /// below the compute draw (`cluster.gpu.power_limit`, `whatif.power_cap`; the cubic clock-power
  /// relation); multiplies the compute efficiencies.
  double clock_factor = 1;
};

/// The rest of the cluster's draw and the facility (`cluster.power.*`; docs/models/power.md).
struct FacilityPower {
  double node_other_w = 0;     ///< per server, besides its GPUs: CPUs, memory, NICs, NVSwitches, fans
  double switch_w = 1000;      ///< per scale-out switch
  double pue = 1.1;            ///< facility power / IT power
  double price_per_mwh = 80;   ///< energy price, per MWh at the facility meter
  double window_s = 0.1;       ///< averaging window of reported peaks, swings and ramps
};

enum class TopologyFamily { llama3_roce, rail_fat_tree, fat_tree, single_switch };

/// How the flows of a transfer pick among equal-cost uplinks (`cluster.topology.ecmp_hash`).
enum class EcmpHash {
  spread,    ///< the flows take consecutive uplinks from a hashed start
  hash,      ///< each flow hashed on its own (collisions possible)
  adaptive,  ///< the switch moves traffic to its least-loaded uplinks: bytes even over all of them
};

struct TopologySpec {
  TopologyFamily family = TopologyFamily::fat_tree;
  int nodes_per_rack = 2;
  int racks_per_pod = 192;
  double pod_oversubscription = 1;
  double aggregation_oversubscription = 7;
  int nodes_per_unit = 32;
  double leaf_oversubscription = 1;
  double spine_oversubscription = 1;
  int switch_radix = 64;
  double switch_latency_s = 1e-6;
  int ecmp_flows = 1;
  EcmpHash ecmp_hash = EcmpHash::spread;
};

enum class CollectiveAlgorithm { automatic, ring, tree, nvls, hierarchical };
enum class CollectiveProtocol { automatic, ll, ll128, simple };

/// NCCL-style collective settings (`cluster.collectives.*`); negative latencies mean "NCCL's table".
struct CollectiveSpec {
  CollectiveAlgorithm algorithm = CollectiveAlgorithm::automatic;
  CollectiveProtocol protocol = CollectiveProtocol::automatic;
  int channels = 0;              ///< 0: chosen per call by size (the key's default, null)
  int max_channels = 32;
  int nvls_channels = 16;
  double nvls_efficiency = 0.85;
  // Negative: the key is null, NCCL's table applies.
  double base_latency_s = -1;
  double intra_step_latency_s = -1;
  double inter_step_latency_s = -1;
};

struct ClusterSpec {
  std::string name;
  std::string source;
  GpuSpec gpu;
  int num_gpus = 0;                      ///< required; no default
  int gpus_per_node = 8;
  bool nvswitch = true;                  ///< intra-node fabric is an NVSwitch (else PCIe)
  double intra_node_bandwidth = 0;       ///< bytes/s per GPU, each direction; derived: the GPU's NVLink bandwidth
  double intra_node_latency_s = 1e-6;
  double intra_node_efficiency = 0.824;  ///< fraction of intra_node_bandwidth collective kernels reach
  bool nvls = false;                     ///< in-switch reduction (NVLink SHARP)
  int nics_per_node = 8;
  double nic_bandwidth = 50e9;           ///< bytes/s per NIC, each direction (400 Gb/s)
  double nic_efficiency = 0.94;
  double nic_latency_s = 2e-6;
  TopologySpec topology;
  CollectiveSpec collectives;
  /// What-if: NICs running below their line rate, as (NIC index, fraction of bandwidth left).
  std::vector<std::pair<int, double>> degraded_nics;
  /// Measured curves the network model costs collectives by (docs/models/network.md): a calibration
  /// profile's `collectives`, set by the use cases when a profile is in use (no scenario key). Null:
  /// none, the network model alone.
  std::shared_ptr<const CollectiveFits> measured_collectives;
  double storage_bandwidth = 2e12;       ///< bytes/s, sustained, aggregate
  double storage_peak_bandwidth = 7e12;  ///< bytes/s, aggregate
  FacilityPower power;

  int num_nodes() const { return (num_gpus + gpus_per_node - 1) / gpus_per_node; }
};

}  // namespace herd::model
