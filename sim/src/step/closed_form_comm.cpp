#include "herd/sim/step/closed_form_comm.hpp"
#include "herd/engine/time_overflow.hpp"

#include <algorithm>

namespace herd::sim {

ClosedFormComm::ClosedFormComm(const model::Scenario& s, double scale) : s_(s), scale_(scale) {}

bool ClosedFormComm::inside_node(CommGroup g) const {
  // Ranks of an axis are `stride` apart, stride = product of the degrees of the axes inside it.
  const auto& p = s_.plan;
  long long span = 1, stride = 1;
  for (auto a : p.rank_order) {
    const bool member = (g == CommGroup::tp && a == model::Axis::tp) || (g == CommGroup::cp && a == model::Axis::cp) ||
                        (g == CommGroup::pp && a == model::Axis::pp) || (g == CommGroup::dp && a == model::Axis::dp) ||
                        (g == CommGroup::dp_cp && (a == model::Axis::dp || a == model::Axis::cp));
    if (member) span = stride * p.degree(a);
    stride *= p.degree(a);
  }
  return span <= s_.cluster.gpus_per_node;
}

double ClosedFormComm::seconds(const CollectiveCall& call) const {
  const int n = group_size(s_.plan, call.group);
  if (n <= 1 || scale_ == 0) return 0;
  const auto& c = s_.cluster;
  const bool local = inside_node(call.group);
  const double per_gpu_nic = c.nic_bandwidth * c.nic_efficiency * c.nics_per_node / c.gpus_per_node;
  const double bandwidth = local ? c.intra_node_bandwidth : per_gpu_nic;
  const double alpha = local ? c.intra_node_latency_s : c.nic_latency_s + 2 * c.topology.switch_latency_s;
  const double frac = double(n - 1) / n;
  double t = 0;
  switch (call.op) {
    case model::Collective::all_reduce: t = 2 * frac * call.bytes / bandwidth + 2 * (n - 1) * alpha; break;
    case model::Collective::all_gather:
    case model::Collective::reduce_scatter: t = frac * call.bytes / bandwidth + (n - 1) * alpha; break;
    default: t = call.bytes / bandwidth + alpha; break;
  }
  return scale_ * t;
}

void ClosedFormComm::start(engine::Simulation& sim, const CollectiveCall& call, engine::EventCallback done) {
  sim.schedule_after(engine::checked_delay(sim.now(), engine::from_seconds_ceil(seconds(call))), std::move(done));
}

void ClosedFormComm::transfer(engine::Simulation& sim, const TransferCall& call, engine::EventCallback done) {
  const auto& c = s_.cluster;
  const double bw = c.nic_bandwidth * c.nic_efficiency * c.nics_per_node / c.gpus_per_node;
  const double t = scale_ * (call.bytes / bw + c.nic_latency_s + 2 * c.topology.switch_latency_s);
  sim.schedule_after(engine::checked_delay(sim.now(), engine::from_seconds_ceil(t)), std::move(done));
}

double ClosedFormComm::sm_fraction(const CollectiveCall&) const { return 0; }

}  // namespace herd::sim
