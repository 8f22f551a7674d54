#include "herd/sim/step/fabric_comm.hpp"
#include "herd/engine/time_overflow.hpp"

#include <algorithm>

#include "herd/engine/check.hpp"

namespace herd::sim {

namespace {

// Tags of the fluid system's own events, above any tag the executor gives a call.
constexpr engine::EventTag kFluidTags = engine::EventTag{1} << 62;

}  // namespace

FabricComm::FabricComm(engine::Simulation& sim, const Fabric& fabric, std::shared_ptr<const CommPlan> plan)
    : plan_(std::move(plan)), fluid_(sim, engine::FluidConfig{.event_tag = kFluidTags}) {
  const auto& resources = plan_->network->resources;
  for (std::size_t i = 0; i < resources.size(); ++i)
    if (fluid_.add_resource(fabric.slot_capacity(resources[i])) != engine::ResourceId{static_cast<std::uint32_t>(i)})
      engine::invariant_failure("FabricComm: fluid resources are not numbered as the plan's contended slots");
}

double FabricComm::sm_fraction(const CollectiveCall& call) const {
  return call.net < 0 ? 0.0 : plan_->entry(call.net, call.ordinal).sm;
}

bool FabricComm::snapshot(std::vector<std::uint64_t>& out) const {
  std::vector<engine::FluidActivityId> order;
  if (!fluid_.snapshot(out, order)) return false;
  for (const engine::FluidActivityId id : order) {
    const engine::EventTag tag = tag_[static_cast<std::size_t>(id)];
    if (tag == 0) return false;
    out.push_back(tag);
  }
  return true;
}

void FabricComm::shift_time(engine::Time dt) { fluid_.shift_time(dt); }

void FabricComm::launch(const CommPlan::Entry& e, double bytes, engine::EventTag tag, engine::EventCallback done) {
  std::uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    parked_[id] = std::move(done);
  } else {
    id = static_cast<std::uint32_t>(parked_.size());
    parked_.push_back(std::move(done));
  }
  const auto network = static_cast<std::size_t>(e.network);
  engine::FluidOptions options;
  options.start_latency = engine::from_seconds_ceil(e.op->latency_s);
  options.sharing.rate_bound = plan_->network->rate_bound[network];
  uses_.clear();
  for (const auto& [index, weight] : plan_->network->uses[network]) uses_.push_back({engine::ResourceId{index}, weight});
  const auto activity = static_cast<std::size_t>(fluid_.start(bytes, uses_, [this, id](engine::FluidActivityId) {
    engine::EventCallback cb = std::move(parked_[id]);
    free_.push_back(id);
    cb();
  }, options));
  if (activity >= tag_.size()) tag_.resize(activity + 1);
  tag_[activity] = tag;
}

void FabricComm::start(engine::Simulation& sim, const CollectiveCall& call, engine::EventCallback done) {
  if (call.net < 0) {  // a group of one: nothing moves
    sim.schedule_after(0, std::move(done), 0, call.tag);
    return;
  }
  const CommPlan::Entry& e = plan_->entry(call.net, call.ordinal);
  if (e.op->inside_node) {
    sim.schedule_after(engine::checked_delay(sim.now(), engine::from_seconds_ceil(e.op->seconds)), std::move(done), 0, call.tag);
    return;
  }
  launch(e, call.bytes, call.tag, std::move(done));
}

void FabricComm::transfer(engine::Simulation&, const TransferCall& call, engine::EventCallback done) {
  launch(plan_->entry(call.net, call.ordinal), call.bytes, call.tag, std::move(done));
}

}  // namespace herd::sim
