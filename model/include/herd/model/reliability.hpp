#pragma once
// The `reliability` section of a scenario, typed: failure processes per component class, planned
// maintenance, detection and restart costs, checkpointing and spare nodes. Defaults and their
// sources: docs/models/reliability.md.
#include <string>
#include <string_view>
#include <vector>

namespace herd::model {

/// What a failure rate is counted per.
enum class Component { gpu, node, nic, leaf_switch, job };
enum class Distribution { exponential, weibull };
enum class CheckpointMode { sync, async };
/// What a job does when a node fails and no spare node is left.
enum class WhenNoSpare { wait, shrink };

/// The name scenarios use: "gpu", "node", "nic", "switch", "job".
constexpr std::string_view to_string(Component c) {
  switch (c) {
    case Component::gpu: return "gpu";
    case Component::node: return "node";
    case Component::nic: return "nic";
    case Component::leaf_switch: return "switch";
    case Component::job: return "job";
  }
  return "gpu";
}

/// One independent failure process: a renewal process whose time between interruptions is
/// exponential or Weibull with mean 1 / (rate x component count x multipliers).
struct FailureClass {
  std::string name;             ///< "faulty_gpu"
  std::string category;         ///< what it reports under: "GPU", "host", "network", ...
  Component component = Component::gpu;
  double rate_per_s = 0;        ///< interruptions per component-second (SI; scenarios write "/h")
  Distribution distribution = Distribution::exponential;
  double weibull_shape = 1;     ///< k; 1 is exponential, < 1 infant mortality
  double multiplier = 1;        ///< this class's what-if multiplier (the global one is separate)
  double detection_s = -1;      ///< < 0: ReliabilitySpec::detection_s
  bool replaces_node = false;   ///< the failed node leaves the job and a spare takes its place
};

struct CheckpointSpec {
  CheckpointMode mode = CheckpointMode::sync;
  double interval_s = 0;            ///< time trained between checkpoints; 0: the simulated optimum
  double bandwidth_share = 1;       ///< fraction of cluster.storage.bandwidth the job's checkpoints get
  double host_copy_bandwidth = 0;   ///< bytes/s per GPU, device to host (async stall)
};

struct SpareSpec {
  int nodes = -1;                   ///< spare nodes at the start; < 0: as many as needed
  double repair_s = 0;              ///< time until a failed node is back in the spare pool; 0: not during the run
  double swap_s = 0;                ///< extra recovery time when a spare replaces a node
  WhenNoSpare when_exhausted = WhenNoSpare::shrink;
};

struct ReliabilitySpec {
  std::vector<FailureClass> failures;
  double failure_multiplier = 1;        ///< scales every unexpected class
  double planned_rate_per_s = 0;        ///< planned interruptions per job-second
  double detection_s = 0;               ///< failure to job stopped
  double restart_s = 0;                 ///< job relaunch, excluding communicator set-up and checkpoint load
  double communicator_setup_per_gpu_s = 0;
  CheckpointSpec checkpoint;
  SpareSpec spares;
};

/// The failure classes of Llama 3 Table 5 (arXiv:2407.21783) with rates per component-second
/// that give the table's counts on the 16,384-GPU cluster in 54 days: the classes
/// `reliability.failure_defaults = "llama3"` starts from.
std::vector<FailureClass> llama3_failure_classes();
/// Llama 3's planned interruptions: 47 in 54 days, per job-second (the default planned_rate).
double llama3_planned_rate_per_s();

}  // namespace herd::model
