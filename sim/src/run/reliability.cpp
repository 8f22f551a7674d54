// The reliability section, read with the declared table's defaults (model/src/schema/reliability.cpp).
#include "herd/sim/run/reliability.hpp"

#include <cmath>

#include "herd/model/error.hpp"
#include "herd/model/params.hpp"

namespace herd::sim::run {

std::string_view to_string(Component c) {
  switch (c) {
    case Component::gpu: return "gpu";
    case Component::node: return "node";
    case Component::nic: return "nic";
    case Component::leaf_switch: return "switch";
    case Component::job: return "job";
  }
  return "gpu";
}

double ComponentCounts::of(Component c) const {
  switch (c) {
    case Component::gpu: return gpu;
    case Component::node: return node;
    case Component::nic: return nic;
    case Component::leaf_switch: return leaf_switch;
    case Component::job: return job;
  }
  return job;
}

double leaf_switches(const model::ClusterSpec& c) {
  const double nodes = c.num_nodes();
  const auto& t = c.topology;
  switch (t.family) {
    case model::TopologyFamily::llama3_roce: return std::ceil(nodes / std::max(1, t.nodes_per_rack));
    case model::TopologyFamily::rail_fat_tree:
      return std::ceil(nodes / std::max(1, t.nodes_per_unit)) * c.nics_per_node;
    case model::TopologyFamily::fat_tree:
      return std::ceil(nodes * c.nics_per_node / std::max(1.0, t.switch_radix / 2.0));
    case model::TopologyFamily::single_switch: return 1;
  }
  return 1;
}

ComponentCounts component_counts(const model::ClusterSpec& c) {
  ComponentCounts n;
  n.gpu = c.num_gpus;
  n.node = c.num_nodes();
  n.nic = double(n.node) * c.nics_per_node;
  n.leaf_switch = leaf_switches(c);
  return n;
}

namespace {

using nlohmann::json;

Component component_of(const std::string& name) {
  if (name == "node") return Component::node;
  if (name == "nic") return Component::nic;
  if (name == "switch") return Component::leaf_switch;
  if (name == "job") return Component::job;
  return Component::gpu;
}

// Reads the keys a failure entry gives over `f` (a default class, or the table's defaults).
void read_class(const model::ParamReader& r, const json& entry, const std::string& at, bool is_new, FailureClass& f) {
  auto given = [&](const char* key) { return entry.contains(key) && !entry[key].is_null(); };
  auto pick = [&](const char* key) { return is_new || given(key); };
  const std::string p = at + "/";
  if (is_new && !given("rate")) throw model::ValueError(p + "rate", "is required for a new failure class");
  if (pick("category")) f.category = r.string(p + "category");
  if (pick("component")) f.component = component_of(r.string(p + "component"));
  if (given("rate")) f.rate_per_s = r.number(p + "rate");
  if (pick("distribution"))
    f.distribution = r.string(p + "distribution") == "weibull" ? Distribution::weibull : Distribution::exponential;
  if (pick("weibull_shape")) f.weibull_shape = r.number(p + "weibull_shape");
  if (pick("multiplier")) f.multiplier = r.number(p + "multiplier");
  if (given("detection_time")) f.detection_s = r.number(p + "detection_time");
  if (given("replaces_node")) f.replaces_node = r.boolean(p + "replaces_node");
  else if (is_new) f.replaces_node = f.component == Component::gpu || f.component == Component::node || f.component == Component::nic;
}

ReliabilitySpec read(const model::Scenario& s) {
  const model::ParamReader r(s.resolved);
  ReliabilitySpec spec;
  if (r.string("/reliability/failure_defaults") == "llama3") spec.failures = llama3_failure_classes();
  spec.failure_multiplier = r.number("/reliability/failure_multiplier");
  const json given = r.raw("/reliability/failures");
  if (given.is_object()) {
    for (const auto& [name, entry] : given.items()) {
      const std::string at = (json::json_pointer("/reliability/failures") / name).to_string();
      FailureClass* existing = nullptr;
      for (auto& f : spec.failures)
        if (f.name == name) existing = &f;
      if (existing) {
        read_class(r, entry, at, false, *existing);
      } else {
        FailureClass f;
        f.name = name;
        read_class(r, entry, at, true, f);
        spec.failures.push_back(std::move(f));
      }
    }
  }
  spec.planned_rate_per_s = r.has("/reliability/planned_rate") ? r.number("/reliability/planned_rate") : llama3_planned_rate_per_s();
  spec.detection_s = r.number("/reliability/detection_time");
  spec.restart_s = r.number("/reliability/restart_time");
  spec.communicator_setup_per_gpu_s = r.number("/reliability/communicator_setup_per_gpu");
  auto& c = spec.checkpoint;
  c.mode = r.string("/reliability/checkpoint/mode") == "async" ? CheckpointMode::async : CheckpointMode::sync;
  c.interval_s = r.has("/reliability/checkpoint/interval") ? r.number("/reliability/checkpoint/interval") : 0.0;
  c.bandwidth_share = r.number("/reliability/checkpoint/bandwidth_share");
  if (c.bandwidth_share <= 0) throw model::ValueError("/reliability/checkpoint/bandwidth_share", "must be positive");
  c.host_copy_bandwidth = r.number("/reliability/checkpoint/host_copy_bandwidth");
  auto& sp = spec.spares;
  if (r.has("/reliability/spares/nodes")) {
    const long long n = r.integer("/reliability/spares/nodes");
    if (n > 10'000'000) throw model::ValueError("/reliability/spares/nodes", "is too large");
    sp.nodes = static_cast<int>(n);
  }
  sp.repair_s = r.has("/reliability/spares/repair_time") ? r.number("/reliability/spares/repair_time") : 0.0;
  sp.swap_s = r.number("/reliability/spares/swap_time");
  sp.when_exhausted = r.string("/reliability/spares/when_exhausted") == "wait" ? WhenNoSpare::wait : WhenNoSpare::shrink;
  if (sp.nodes >= 0 && sp.when_exhausted == WhenNoSpare::wait && sp.repair_s <= 0)
    throw model::ValueError("/reliability/spares/repair_time",
                            "is required when spares are limited and when_exhausted is \"wait\" (else the job would wait forever)");
  return spec;
}

}  // namespace

ReliabilitySpec read_reliability(const model::Scenario& s) {
  try {
    return read(s);
  } catch (const model::ValueError& e) {
    s.fail(e.pointer(), e.message());
  }
}

}  // namespace herd::sim::run
