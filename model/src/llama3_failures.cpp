// Default failure classes: Llama 3 Table 5 (arXiv:2407.21783, section 3.3.4), 419 unexpected
// interruptions of a ~16K-GPU job in a 54-day snapshot, turned into rates per component-hour by
// dividing each count by 54 days and by how many of that component the job used:
// 16,384 GPUs, 2,048 nodes of 8 GPUs, 16,384 NICs (one 400 Gb/s RoCE NIC per GPU, section 3.3.1)
// and 1,024 top-of-rack switches (one per rack of 2 servers, section 3.3.1).
#include <array>

#include "herd/model/reliability.hpp"

namespace herd::model {

namespace {

constexpr double kSnapshotSeconds = 54.0 * 86400.0;
constexpr double kGpus = 16384, kNodes = 2048, kNics = 16384, kLeafSwitches = 1024;

// PyTorch's ProcessGroupNCCL watchdog fires after its default timeout of 10 minutes
// (pytorch/pytorch#110947): a hang is only seen when it expires.
constexpr double kNcclWatchdogTimeout = 600.0;

struct Row {
  const char* name;
  const char* category;
  Component component;
  double count;           // Table 5
  bool replaces_node;     // hardware that must leave the job
  double detection_s;     // < 0: the global detection time
};

// Table 5 in its order. The paper's categories; host maintenance is "unplanned maintenance".
constexpr std::array<Row, 18> kTable5{{
    {"faulty_gpu", "GPU", Component::gpu, 148, true, -1},
    {"gpu_hbm3", "GPU", Component::gpu, 72, true, -1},
    {"software_bug", "dependency", Component::gpu, 54, false, -1},
    {"network_switch_cable", "network", Component::leaf_switch, 35, false, -1},
    {"host_maintenance", "unplanned maintenance", Component::node, 32, true, -1},
    {"gpu_sram", "GPU", Component::gpu, 19, true, -1},
    {"gpu_system_processor", "GPU", Component::gpu, 17, true, -1},
    {"nic", "host", Component::nic, 7, true, -1},
    {"nccl_watchdog_timeout", "unknown", Component::gpu, 7, false, kNcclWatchdogTimeout},
    {"silent_data_corruption", "GPU", Component::gpu, 6, true, -1},
    {"gpu_thermal_interface_sensor", "GPU", Component::gpu, 6, true, -1},
    {"ssd", "host", Component::node, 3, true, -1},
    {"power_supply", "host", Component::node, 3, true, -1},
    {"server_chassis", "host", Component::node, 2, true, -1},
    {"io_expansion_board", "host", Component::node, 2, true, -1},
    {"dependency", "dependency", Component::gpu, 2, false, -1},
    {"cpu", "host", Component::node, 2, true, -1},
    {"system_memory", "host", Component::node, 2, true, -1},
}};

double llama3_count(Component c) {
  switch (c) {
    case Component::gpu: return kGpus;
    case Component::node: return kNodes;
    case Component::nic: return kNics;
    case Component::leaf_switch: return kLeafSwitches;
    case Component::job: return 1;
  }
  return 1;
}

}  // namespace

std::vector<FailureClass> llama3_failure_classes() {
  std::vector<FailureClass> classes;
  for (const Row& r : kTable5) {
    FailureClass f;
    f.name = r.name;
    f.category = r.category;
    f.component = r.component;
    f.rate_per_s = r.count / (kSnapshotSeconds * llama3_count(r.component));
    f.replaces_node = r.replaces_node;
    f.detection_s = r.detection_s;
    classes.push_back(std::move(f));
  }
  return classes;
}

// 47 planned interruptions (firmware, kernel, configuration, dataset updates) in the same 54 days.
double llama3_planned_rate_per_s() { return 47.0 / kSnapshotSeconds; }

}  // namespace herd::model
