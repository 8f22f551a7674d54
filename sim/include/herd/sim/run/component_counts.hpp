#pragma once
// How many of each component a failure rate is counted per (model::Component) a cluster has.
#include "herd/model/hardware.hpp"
#include "herd/model/reliability.hpp"

namespace herd::sim::run {

/// Component counts of a cluster: GPUs, nodes, NICs, leaf switches (see leaf_switches), 1 job.
struct ComponentCounts {
  double gpu = 0, node = 0, nic = 0, leaf_switch = 0, job = 1;
  double of(model::Component c) const;
};
ComponentCounts component_counts(const model::ClusterSpec& cluster);
/// Leaf (top-of-rack) switches: llama3_roce one per rack; rail_fat_tree one per rail per unit;
/// fat_tree NICs / (radix / 2); single_switch 1. Per-switch rates include the switch's share of
/// the tiers above it and of its cables.
double leaf_switches(const model::ClusterSpec& cluster);

}  // namespace herd::sim::run
