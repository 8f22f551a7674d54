#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
// Sources of the defaults: docs/models/reliability.md.
constexpr ParamDecl kParams[] = {
    {"reliability.failure_defaults", choice, "\"llama3\"", "Failure classes to start from: llama3 (the 18 classes of Llama 3 Table 5, arXiv:2407.21783, at rates that give 419 interruptions in 54 days on 16,384 GPUs) or none.", D::count, any, "llama3|none"},
    {"reliability.failure_multiplier", number, "1", "Scales the rate of every unexpected failure class (what-if: 2 = failures double).", D::count, non_negative},
    {"reliability.failures", map, "null", "Failure classes by name; an entry named like a default class changes only the keys it gives, any other name adds a class (rate required)."},
    {"reliability.failures.*.category", string, "\"unknown\"", "Category the class reports under (GPU, host, network, dependency, ...)."},
    {"reliability.failures.*.component", choice, "\"gpu\"", "What the rate is counted per: gpu, node, nic, switch (leaf switch) or job.", D::count, any, "gpu|node|nic|switch|job"},
    {"reliability.failures.*.rate", quantity, "", "Interruptions per component-hour, e.g. \"1e-5 /h\".", D::rate, non_negative},
    {"reliability.failures.*.distribution", choice, "\"exponential\"", "Time between this class's interruptions: exponential or weibull (same mean).", D::count, any, "exponential|weibull"},
    {"reliability.failures.*.weibull_shape", number, "1", "Weibull shape k (k < 1: failures cluster, infant mortality; k = 1: exponential).", D::count, positive},
    {"reliability.failures.*.multiplier", number, "1", "Scales this class's rate (what-if).", D::count, non_negative},
    {"reliability.failures.*.detection_time", quantity, "null", "Detection time for this class; default: reliability.detection_time (NCCL watchdog timeouts: PyTorch's 10 min).", D::time, non_negative},
    {"reliability.failures.*.replaces_node", boolean, "null", "Whether the failed node leaves the job for a spare; default: true for gpu, node and nic classes.", D::count},
    {"reliability.planned_rate", quantity, "null", "Planned interruptions (maintenance, upgrades) per job-hour; default: Llama 3's 47 in 54 days.", D::rate, non_negative},
    {"reliability.detection_time", quantity, "\"34 s\"", "Failure to job stopped: NCCL's InfiniBand/RoCE transport timeout, 4.096 us x 2^20 (NCCL_IB_TIMEOUT 20) x 8 tries (NCCL_IB_RETRY_CNT 7), NCCL environment docs.", D::time, non_negative},
    {"reliability.restart_time", quantity, "\"5 min\"", "Job relaunch (scheduling, containers, process start), excluding communicator set-up and checkpoint load: the low end of the 5-20 min restart overhead of Kokolis et al., HPCA 2025.", D::time, non_negative},
    {"reliability.communicator_setup_per_gpu", quantity, "\"2.7 ms\"", "Communicator set-up time per GPU of the job (linear): NCCL bootstrap took about 265 s at 96K GPUs (Si et al., arXiv:2510.20171).", D::time, non_negative},
    {"reliability.checkpoint.interval", quantity, "null", "Training time between checkpoints; default: the optimum found by simulation.", D::time, positive},
    {"reliability.checkpoint.mode", choice, "\"sync\"", "sync: training stalls while the checkpoint is written; async: it stalls only for the copy to host memory, the write overlaps training.", D::count, any, "sync|async"},
    {"reliability.checkpoint.bandwidth_share", number, "1", "Fraction of cluster.storage.bandwidth this job's checkpoint writes and loads get.", D::count, unit_fraction},
    {"reliability.checkpoint.host_copy_bandwidth", quantity, "\"64 GB/s\"", "Device-to-host copy bandwidth per GPU for asynchronous checkpoints: PCIe Gen5 x16, 64 GB/s each way (H100 datasheet: 128 GB/s).", D::bandwidth, positive},
    {"reliability.spares.nodes", integer, "null", "Spare nodes at the start; default: as many as needed (Llama 3's 16K-GPU job ran on a 24K-GPU cluster).", D::count, non_negative},
    {"reliability.spares.repair_time", quantity, "null", "Time until a failed node is back in the spare pool; default: not during the run.", D::time, positive},
    {"reliability.spares.swap_time", quantity, "\"0 s\"", "Extra recovery time when a spare replaces a failed node (0: the relaunch picks healthy nodes).", D::time, non_negative},
    {"reliability.spares.when_exhausted", choice, "\"shrink\"", "No spare left: shrink (continue on fewer DP replicas, same global batch) or wait (for a repaired node).", D::count, any, "shrink|wait"},
};
}  // namespace

std::span<const ParamDecl> reliability() { return kParams; }

}  // namespace herd::model::schema
