#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
constexpr ParamDecl kParams[] = {
    {"cluster.preset", string, "", "Built-in cluster to start from: llama3-roce, dgx-h100-superpod, dgx-a100-superpod."},
    {"cluster.name", string, "\"\"", "Cluster name shown in reports."},
    {"cluster.source", string, "\"\"", "Where the cluster's figures come from."},
    {"cluster.num_gpus", integer, "", "GPUs the job runs on.", D::count, at_least_one},
    {"cluster.gpus_per_node", integer, "8", "GPUs per server, all on one NVLink/NVSwitch domain (DGX/HGX, Grand Teton: 8).", D::count, at_least_one},

    {"cluster.gpu.preset", string, "", "Built-in GPU: h100-sxm-80gb, h200-sxm-141gb, a100-sxm-80gb, a100-sxm-40gb."},
    {"cluster.gpu.name", string, "", "GPU name."},
    {"cluster.gpu.source", string, "\"\"", "Where the GPU's figures come from (datasheet, measurement)."},
    {"cluster.gpu.peak_bf16", quantity, "", "Dense BF16/FP16 tensor-core peak (datasheet, without sparsity).", D::flop_rate, positive},
    {"cluster.gpu.peak_fp8", quantity, "0", "Dense FP8 tensor-core peak; 0 when the GPU has none.", D::flop_rate, non_negative},
    {"cluster.gpu.peak_tf32", quantity, "", "Dense TF32 tensor-core peak.", D::flop_rate, positive},
    {"cluster.gpu.memory", quantity, "", "HBM capacity.", D::bytes, positive},
    {"cluster.gpu.hbm_bandwidth", quantity, "", "HBM bandwidth (datasheet).", D::bandwidth, positive},
    {"cluster.gpu.sms", integer, "", "Streaming multiprocessors (wave quantisation of GEMM tiles).", D::count, at_least_one},
    {"cluster.gpu.nvlink_bandwidth", quantity, "", "NVLink bandwidth per GPU, each direction (H100: 450 GB/s of the 900 GB/s total).", D::bandwidth, positive},
    {"cluster.gpu.tdp", quantity, "", "Board power (TDP).", D::power, positive},
    {"cluster.gpu.power_limit", quantity, "null", "Power limit the boards are set to (nvidia-smi -pl), at most the TDP. Below the compute draw (power.compute), compute-bound kernels run at the clock it allows: f/f0 = ((limit - idle)/(compute - idle))^(1/3), as under whatif.power_cap (docs/models/power.md). Default: the TDP. Meta's Grand Teton H100 boards in torchtitan's benchmarks: 500 W.", D::power, positive},
    {"cluster.gpu.power.compute", quantity, "null", "Draw while a compute-bound kernel runs (tensor cores busy; a kernel is compute-bound when its FLOPs at peak take longer than its HBM bytes at full bandwidth). Default: the TDP: at scale, compute phases run at the board's power limit (Choukse et al., Power Stabilization for AI Training Datacenters, arXiv:2508.14318, Fig. 1: DGX H100 racks in training).", D::power, positive},
    {"cluster.gpu.power.memory", quantity, "null", "Draw while a memory-bound kernel runs (element-wise, norms, optimizer). Default: 0.6 x TDP, an assumption (no published per-kernel split for H100/A100 that we know of; a range of 0.5-0.7 x TDP is plausible): set it from a measurement.", D::power, positive},
    {"cluster.gpu.power.communication", quantity, "null", "Draw while only communication kernels run (NCCL's SMs, NVLink and NIC traffic). Default: 0.3 x TDP, an assumption; Choukse et al. (arXiv:2508.14318) describe communication phases as near idle.", D::power, positive},
    {"cluster.gpu.power.wait", quantity, "null", "Draw of a GPU in a running job with nothing to do (a pipeline bubble, waiting for a slower rank, a checkpoint write): clocks up, a spinning kernel or none. Default: 0.2 x TDP, an assumption.", D::power, positive},
    {"cluster.gpu.power.idle", quantity, "null", "Draw of a GPU with no job (a restart, a repair): its idle state. Default: 0.1 x TDP (H100/H200 SXM boards report about 70-80 W idle in nvidia-smi; a range, hence a key).", D::power, positive},
    {"cluster.gpu.efficiency.gemm", number, "0.8", "Fraction of the BF16 peak an 8192 x 8192 x 8192 GEMM reaches; other shapes follow the GEMM shape model: waves of output tiles, split-K, stream-K (docs/models/compute.md). Calibration replaces it. Default: H100 cuBLAS 8192^3 at ~790 of 989 TFLOP/s.", D::count, unit_fraction},
    {"cluster.gpu.efficiency.attention_fwd", number, "0.62", "Fraction of peak reached by fused causal attention forward with 8K keys per query.", D::count, unit_fraction},
    {"cluster.gpu.efficiency.attention_bwd", number, "0.5", "Fraction of peak reached by fused causal attention backward with 8K keys per query (counting its 5 matrix products).", D::count, unit_fraction},
    {"cluster.gpu.efficiency.flash2_fwd", number, "0.343", "Fraction of peak reached by FlashAttention-2's causal forward with 8K keys per query (plan.attention_kernel flash2). Default: H100, the preset's attention_fwd x 333/602, FlashAttention-2 over FlashAttention-3 causal head-dim-128 forward at 8K (Shah et al., arXiv:2407.08608, forward-speed figure). A calibration profile's attention fit keeps this ratio to attention_fwd.", D::count, unit_fraction},
    {"cluster.gpu.efficiency.flash2_bwd", number, "0.284", "Fraction of peak reached by FlashAttention-2's causal backward with 8K keys per query (plan.attention_kernel flash2). Default: H100, the preset's attention_bwd x 318/559, FlashAttention-2 over FlashAttention-3 head-dim-128 backward at 8K (Shah et al., arXiv:2407.08608, backward-speed figure, non-causal). A calibration profile's attention fit keeps this ratio to attention_bwd.", D::count, unit_fraction},
    {"cluster.gpu.efficiency.hbm", number, "0.9", "Fraction of HBM bandwidth reached by large element-wise kernels.", D::count, unit_fraction},
    {"cluster.gpu.efficiency.sustained", number, "1", "Speed a GPU keeps over hours of training as a fraction of the short-run speed its GEMM and attention efficiencies were measured at (power and thermal limits lowering the clocks); multiplies both. Key default 1 (the burst figures as measured); the H100, H200 and A100 presets set the level herd-calibrate fit-runs fits to their declared calibration sets of published runs (docs/validation.md). A calibration profile's sustained_fraction (herd-calibrate measure --sustain or fit-runs) replaces it.", D::count, unit_fraction},
    {"cluster.gpu.efficiency.kernel_overhead", quantity, "\"4 us\"", "Fixed cost per kernel (launch and tail), added to every compute op.", D::time, non_negative},
    {"cluster.gpu.efficiency.gemm_tile_m", integer, "128", "GEMM output tile rows of the shape model (waves, split-K, stream-K) (cuBLAS Hopper/Ampere BF16 kernels: 128).", D::count, at_least_one},
    {"cluster.gpu.efficiency.gemm_tile_n", integer, "256", "GEMM output tile columns of the shape model (cuBLAS Hopper BF16 kernels: 256; Ampere: 128).", D::count, at_least_one},
    {"cluster.gpu.efficiency.gemm_k_half", integer, "128", "Reduction length at which a GEMM's pipelined main loop reaches half its asymptotic efficiency (prologue/epilogue cost).", D::count, at_least_one},

    {"cluster.intra_node.fabric", choice, "\"nvswitch\"", "How GPUs in a node connect: nvswitch (all-to-all at full NVLink bandwidth) or pcie.", D::count, any, "nvswitch|pcie"},
    {"cluster.intra_node.bandwidth", quantity, "null", "Per-GPU bandwidth into the node fabric, each direction; default: the GPU's NVLink bandwidth.", D::bandwidth, positive},
    {"cluster.intra_node.latency", quantity, "\"1 us\"", "One-way latency of a transfer inside the node.", D::time, non_negative},
    {"cluster.intra_node.nvls", boolean, "false", "NVSwitch supports in-switch reduction (NVLink SHARP, NVSwitch gen 3 / H100 and later)."},
    {"cluster.intra_node.efficiency", number, "0.824", "Fraction of the intra-node bandwidth that collective kernels reach (NCCL src/graph/topo.h: SM90_NVLINK_BW = 20.6 GB/s per 25 GB/s NVLink4 link; Ampere SM80_NVLINK_BW = 20.0).", D::count, unit_fraction},

    {"cluster.nic.per_node", integer, "8", "Scale-out NICs per node (DGX H100, Grand Teton: one per GPU).", D::count, at_least_one},
    {"cluster.nic.bandwidth", quantity, "\"400 Gbps\"", "Line rate of one NIC, each direction.", D::bandwidth, positive},
    {"cluster.nic.efficiency", number, "0.94", "Fraction of NIC line rate that a ring collective reaches (NCCL maintainers: 46-48 GB/s busbw per 400 Gb/s NIC = 0.92-0.96 of 50 GB/s).", D::count, unit_fraction},
    {"cluster.nic.latency", quantity, "\"2 us\"", "Host-side one-way latency of the NIC (send + receive).", D::time, non_negative},

    {"cluster.topology.family", choice, "\"fat_tree\"", "Scale-out network: llama3_roce (Meta's RoCE clusters), rail_fat_tree (DGX SuperPOD), fat_tree (generic), single_switch.", D::count, any, "llama3_roce|rail_fat_tree|fat_tree|single_switch"},
    {"cluster.topology.nodes_per_rack", integer, "2", "llama3_roce: servers per rack under one ToR switch (Llama 3: 2 servers, 16 GPUs).", D::count, at_least_one},
    {"cluster.topology.racks_per_pod", integer, "192", "llama3_roce: racks per pod joined at full bisection by cluster switches (Llama 3: 192 racks, 3,072 GPUs).", D::count, at_least_one},
    {"cluster.topology.pod_oversubscription", number, "1", "llama3_roce: ToR down:up bandwidth ratio inside a pod (Llama 3: 1, full bisection).", D::count, at_least_one},
    {"cluster.topology.aggregation_oversubscription", number, "7", "llama3_roce: pod-to-aggregation oversubscription (Llama 3: 1:7).", D::count, at_least_one},
    {"cluster.topology.nodes_per_unit", integer, "32", "rail_fat_tree: nodes per scalable unit, one leaf switch per rail per unit (DGX H100 SuperPOD: 32 nodes).", D::count, at_least_one},
    {"cluster.topology.leaf_oversubscription", number, "1", "rail_fat_tree / fat_tree: leaf down:up bandwidth ratio.", D::count, at_least_one},
    {"cluster.topology.spine_oversubscription", number, "1", "rail_fat_tree / fat_tree: spine down:up bandwidth ratio (three-tier trees).", D::count, at_least_one},
    {"cluster.topology.switch_radix", integer, "64", "Ports per switch (NDR Quantum-2: 64 x 400 Gb/s).", D::count, at_least_one},
    {"cluster.topology.switch_latency", quantity, "\"1 us\"", "Latency added by each switch hop.", D::time, non_negative},
    {"cluster.topology.ecmp_flows", integer, "1", "Flows a point-to-point transfer is split into for ECMP hashing (Llama 3's collective library: 16).", D::count, at_least_one},
    {"cluster.topology.ecmp_hash", choice, "\"spread\"", "How the flows of one transfer pick among equal-cost uplinks: spread (consecutive uplinks from a hashed start, as Llama 3's enhanced ECMP over 16 queue pairs intends), hash (each flow hashed on its own; collisions possible) or adaptive (the switches send each packet to the least-loaded minimal-hop uplink: every transfer's bytes spread evenly over all equal-cost paths, whatever ecmp_flows; InfiniBand adaptive routing, on by default in NVIDIA's subnet manager, ar_updn).", D::count, any, "spread|hash|adaptive"},

    {"cluster.collectives.algorithm", choice, "\"auto\"", "Collective algorithm: auto (NCCL-style choice by size and group shape), ring, tree (double binary tree), nvls (in-switch reduction), hierarchical (intra-node, then inter-node per rail).", D::count, any, "auto|ring|tree|nvls|hierarchical"},
    {"cluster.collectives.protocol", choice, "\"auto\"", "NCCL protocol: auto, ll (8-byte lines, 4 of data), ll128 (128-byte lines, 120 of data), simple.", D::count, any, "auto|ll|ll128|simple"},
    {"cluster.collectives.channels", integer, "null", "Channels (rings/trees run in parallel, one SM each); default: NCCL's rule, fewer channels while each would get < 64 B per thread.", D::count, at_least_one},
    {"cluster.collectives.max_channels", integer, "32", "Channels of a communicator for ring and tree (NCCL MAXCHANNELS = 32; NCCL's DGX H100 init log: 32 coll channels).", D::count, at_least_one},
    {"cluster.collectives.nvls_channels", integer, "16", "Channels of the NVLS algorithm (NCCL enqueue.cc: \"NVLS should not need more than 16 channels to get peak BW\").", D::count, at_least_one},
    {"cluster.collectives.nvls_efficiency", number, "0.85", "Fraction of the link-bound rate that in-switch reduction reaches (NCCL src/tuning/nvls.cc nvlsEfficiency: Hopper 0.85, Blackwell 0.74).", D::count, unit_fraction},
    {"cluster.collectives.base_latency", quantity, "null", "Replaces NCCL's per-call base latency of every algorithm and protocol (default: NCCL tuning.cc baseLat table, e.g. ring Simple 8.4 us).", D::time, non_negative},
    {"cluster.collectives.intra_step_latency", quantity, "null", "Replaces NCCL's per-step latency over NVLink (default: NCCL tuning.cc hwLat, e.g. ring Simple 3.4 us, LL 0.6 us).", D::time, non_negative},
    {"cluster.collectives.inter_step_latency", quantity, "null", "Replaces NCCL's per-step latency over the network, before path latency is added (default: NCCL tuning.cc hwLat, e.g. ring Simple 14 us, LL 2.7 us).", D::time, non_negative},

    {"cluster.power.node_other", quantity, "null", "Draw of each server besides its GPUs (CPUs, memory, NICs, NVSwitches, fans, power-supply losses), taken as constant. Default: 0.82 x the GPUs' TDP per server (NVIDIA DGX H100 datasheet: 10.2 kW system maximum - 8 x 700 W = 4.6 kW; an upper bound, as it is the maximum).", D::power, non_negative},
    {"cluster.power.switch", quantity, "\"1 kW\"", "Draw of each scale-out switch (leaf, spine, core) of the topology; the order of a 64-port 400 Gb/s switch with its optics, an assumption.", D::power, non_negative},
    {"cluster.power.pue", number, "1.1", "Power usage effectiveness: facility power / IT power (cooling, conversion). Hyperscale sites report about 1.1; a key because sites differ.", D::count, at_least_one},
    {"cluster.power.price", number, "80", "Energy price per MWh at the facility meter, in the currency reports use (default: about the US industrial average, 8 cents per kWh).", D::count, non_negative},
    {"cluster.power.window", quantity, "\"100 ms\"", "Window over which reported peak, minimum, swing and ramp of the cluster's power are averaged (100 ms resolves the 0.2-3 Hz band in which Choukse et al., arXiv:2508.14318, find training's power oscillations).", D::time, positive},
    {"cluster.storage.bandwidth", quantity, "\"2 TB/s\"", "Sustained aggregate checkpoint storage bandwidth (Llama 3 Tectonic: 2 TB/s).", D::bandwidth, positive},
    {"cluster.storage.peak_bandwidth", quantity, "\"7 TB/s\"", "Peak aggregate storage bandwidth for bursts (Llama 3 Tectonic: 7 TB/s).", D::bandwidth, positive},
};
}  // namespace

std::span<const ParamDecl> cluster() { return kParams; }

}  // namespace herd::model::schema
