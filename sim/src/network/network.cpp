// Transfers and collective groups as fluid activities; bottleneck bookkeeping.
//
// Which slot limits an activity can change whenever another activity starts or ends, so each
// flowing collective group is re-sampled at those moments and the slot that held it back the
// longest (time-weighted) is reported. Transfers sample themselves when their data starts.
#include "herd/sim/network/network.hpp"
#include "herd/engine/time_overflow.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace herd::sim {

namespace {

constexpr std::uint32_t kNone = 0xFFFF'FFFFu;
// Probes run after the fluid system's own events at the same instant, so rates are settled.
constexpr engine::Priority kProbePriority = 1;

void add_time(std::vector<std::pair<SlotId, double>>& spent, SlotId slot, double seconds) {
  if (seconds <= 0) return;
  for (auto& [s, t] : spent)
    if (s == slot) {
      t += seconds;
      return;
    }
  spent.emplace_back(slot, seconds);
}

// A free entry of a pool (reused before the pool grows), so ids stay small and stable.
template <class T>
std::uint32_t take_slot(std::vector<T>& pool, std::vector<std::uint32_t>& free) {
  if (free.empty()) {
    pool.emplace_back();
    return static_cast<std::uint32_t>(pool.size() - 1);
  }
  const std::uint32_t id = free.back();
  free.pop_back();
  return id;
}

SlotId longest(const std::vector<std::pair<SlotId, double>>& spent) {
  SlotId best = kNoSlot;
  double best_time = -1;
  for (const auto& [slot, t] : spent)
    if (t > best_time || (t == best_time && slot < best)) {
      best = slot;
      best_time = t;
    }
  return best;
}

}  // namespace

struct Network::Item {
  engine::FluidActivityId activity{};
  engine::EventId probe;
  std::uint32_t generation = 0;
  std::uint32_t call = kNone;  // kNone: a point-to-point transfer
  std::uint32_t group = 0;
  std::uint32_t flowing_index = kNone;  // position in flowing_groups_
  bool live = false;
  bool flowing = false;
  double start_s = 0;
  double last_sample_s = 0;
  SlotId current = kNoSlot;
  std::vector<std::pair<SlotId, double>> spent;  // seconds each slot was the bottleneck
  TransferResult transfer;
  TransferCallback on_transfer;
};

struct Network::Call {
  CollectiveResult result;
  CollectiveCallback on_done;
  std::vector<std::pair<SlotId, double>> spent;
  int pending = 0;
  bool live = false;
};

Network::Network(engine::Simulation& simulation, std::shared_ptr<const Fabric> fabric)
    : simulation_(simulation),
      fabric_(std::move(fabric)),
      fluid_(simulation),
      model_(*fabric_),
      traffic_(fabric_->slot_count()),
      resource_of_slot_(fabric_->slot_count(), engine::kNoResource) {}

Network::Network(engine::Simulation& simulation, const model::ClusterSpec& cluster)
    : Network(simulation, std::make_shared<const Fabric>(cluster)) {}

Network::~Network() {
  for (const Item& item : items_)
    if (item.live) simulation_.cancel(item.probe);
}

engine::ResourceId Network::resource_of(SlotId slot) {
  engine::ResourceId& r = resource_of_slot_[slot];
  if (r == engine::kNoResource) {
    r = fluid_.add_resource(fabric_->slot_capacity(slot));
    const auto index = static_cast<std::size_t>(r);
    if (slot_of_resource_.size() <= index) slot_of_resource_.resize(index + 1, kNoSlot);
    slot_of_resource_[index] = slot;
  }
  return r;
}

std::vector<engine::ResourceUse> Network::uses_of(const std::vector<SlotLoad>& loads) {
  std::vector<engine::ResourceUse> uses;
  uses.reserve(loads.size());
  for (const SlotLoad& load : loads) uses.push_back(engine::ResourceUse{resource_of(load.slot), load.weight});
  return uses;
}

std::uint32_t Network::new_item() {
  const std::uint32_t id = take_slot(items_, free_items_);
  Item& item = items_[id];
  ++item.generation;
  item.live = true;
  item.flowing = false;
  item.call = kNone;
  item.flowing_index = kNone;
  item.current = kNoSlot;
  item.spent.clear();
  item.start_s = engine::to_seconds(simulation_.now());
  ++live_;
  return id;
}

void Network::begin_item(std::uint32_t id, double work, const std::vector<SlotLoad>& loads, double rate_bound,
                         double latency_s) {
  engine::FluidOptions options;
  options.sharing.rate_bound = rate_bound;
  options.start_latency = engine::from_seconds_ceil(latency_s);
  const auto uses = uses_of(loads);
  items_[id].activity = fluid_.start(work, uses, [this, id](engine::FluidActivityId) { finish_item(id); }, options);
  const std::uint32_t generation = items_[id].generation;
  items_[id].probe = simulation_.schedule_after(
      engine::checked_delay(simulation_.now(), options.start_latency),
      [this, id, generation] {
        Item& item = items_[id];
        if (!item.live || item.generation != generation) return;
        item.flowing = true;
        item.last_sample_s = engine::to_seconds(simulation_.now());
        if (item.call != kNone) {
          item.flowing_index = static_cast<std::uint32_t>(flowing_groups_.size());
          flowing_groups_.push_back(id);
          for (const std::uint32_t other : flowing_groups_) sample(other);
        } else {
          sample(id);
        }
      },
      kProbePriority);
}

void Network::sample(std::uint32_t id) {
  Item& item = items_[id];
  if (!item.flowing || !fluid_.contains(item.activity)) return;
  const double now = engine::to_seconds(simulation_.now());
  add_time(item.spent, item.current, now - item.last_sample_s);
  item.last_sample_s = now;
  const engine::ResourceId r = fluid_.bottleneck(item.activity);
  item.current = r == engine::kNoResource ? kNoSlot : slot_of_resource_[static_cast<std::size_t>(r)];
}

void Network::send(int src_rank, int dst_rank, double bytes, TransferCallback on_done) {
  if (!(bytes >= 0) || !std::isfinite(bytes))
    throw std::invalid_argument("herd::sim: transfer of " + std::to_string(bytes) + " bytes must be finite and >= 0");
  for (const int r : {src_rank, dst_rank})
    if (r < 0 || r >= fabric_->gpus())
      throw std::invalid_argument("herd::sim: rank " + std::to_string(r) + " is not among the cluster's " +
                                  std::to_string(fabric_->gpus()) + " GPUs");
  fabric_->add_route(src_rank, dst_rank, 1.0, traffic_);
  const auto loads = traffic_.take();
  const std::uint32_t id = new_item();
  Item& item = items_[id];
  item.transfer = TransferResult{};
  item.transfer.src_rank = src_rank;
  item.transfer.dst_rank = dst_rank;
  item.transfer.bytes = bytes;
  item.transfer.start_s = item.start_s;
  item.transfer.latency_s = fabric_->latency_s(src_rank, dst_rank);
  item.on_transfer = std::move(on_done);
  begin_item(id, bytes, loads, engine::kUnlimited, item.transfer.latency_s);
}

void Network::start_collective(const CollectiveRequest& request, CollectiveCallback on_done) {
  if (request.groups.empty()) throw std::invalid_argument("herd::sim: a collective call needs at least one group");
  const std::size_t size = request.groups.front().size();
  for (const auto& g : request.groups)
    if (g.size() != size)
      throw std::invalid_argument("herd::sim: concurrent groups of one call must have the same size (" +
                                  std::to_string(size) + " and " + std::to_string(g.size()) + ")");
  // The first group decides algorithm, protocol and channels; the others run the same choice.
  std::vector<CollectivePlan> plans;
  plans.reserve(request.groups.size());
  plans.push_back(model_.plan(request.op, request.groups.front(), request.bytes, request.options));
  CollectiveOptions same = request.options;
  same.algorithm = plans.front().algorithm;
  same.protocol = plans.front().protocol;
  same.channels = plans.front().channels;
  for (std::size_t g = 1; g < request.groups.size(); ++g)
    plans.push_back(model_.plan(request.op, request.groups[g], request.bytes, same));

  const std::uint32_t call_id = take_slot(calls_, free_calls_);
  Call& call = calls_[call_id];
  call.live = true;
  call.spent.clear();
  call.on_done = std::move(on_done);
  call.pending = static_cast<int>(request.groups.size());
  CollectiveResult& r = call.result;
  const CollectivePlan& first = plans.front();
  r = CollectiveResult{};
  r.op = request.op;
  r.algorithm = first.algorithm;
  r.protocol = first.protocol;
  r.channels = first.channels;
  r.groups = static_cast<int>(request.groups.size());
  r.ranks_per_group = static_cast<int>(size);
  r.bytes = request.bytes;
  r.start_s = engine::to_seconds(simulation_.now());
  r.latency_s = first.latency_s;
  r.uncontended_time_s = first.uncontended_time_s();
  r.calibration = first.calibration;
  r.measured_time_s = first.measured_s;
  r.group_time_s.assign(request.groups.size(), 0.0);
  for (std::size_t g = 0; g < plans.size(); ++g) {
    const std::uint32_t id = new_item();
    items_[id].call = call_id;
    items_[id].group = static_cast<std::uint32_t>(g);
    begin_item(id, request.bytes, plans[g].loads, plans[g].algbw_cap, plans[g].latency_s);
  }
}

void Network::finish_item(std::uint32_t id) {
  Item& item = items_[id];
  const double now = engine::to_seconds(simulation_.now());
  if (item.flowing) add_time(item.spent, item.current, now - item.last_sample_s);
  simulation_.cancel(item.probe);
  item.live = false;
  --live_;
  const std::uint32_t call_id = item.call;
  if (item.flowing_index != kNone) {
    const std::uint32_t moved = flowing_groups_.back();
    flowing_groups_[item.flowing_index] = moved;
    items_[moved].flowing_index = item.flowing_index;
    flowing_groups_.pop_back();
  }
  if (call_id == kNone) {
    TransferResult result = item.transfer;
    result.end_s = now;
    result.bottleneck = longest(item.spent);
    if (result.bottleneck != kNoSlot) result.bottleneck_name = fabric_->slot_name(result.bottleneck);
    TransferCallback callback = std::move(item.on_transfer);
    free_items_.push_back(id);
    if (callback) callback(result);
    return;
  }
  Call& call = calls_[call_id];
  call.result.group_time_s[item.group] = now - item.start_s;
  for (const auto& [slot, t] : item.spent) add_time(call.spent, slot, t);
  free_items_.push_back(id);
  // The groups still flowing may now be limited elsewhere.
  for (const std::uint32_t other : flowing_groups_) sample(other);
  if (--call.pending == 0) finish_call(call_id);
}

void Network::finish_call(std::uint32_t call_id) {
  Call& call = calls_[call_id];
  CollectiveResult result = std::move(call.result);
  result.end_s = engine::to_seconds(simulation_.now());
  result.bottleneck = longest(call.spent);
  if (result.bottleneck != kNoSlot) {
    result.bottleneck_name = fabric_->slot_name(result.bottleneck);
  } else if (!call.spent.empty()) {
    result.bottleneck_name = "protocol ceiling (" + std::string(to_string(result.protocol)) + ")";
  }
  CollectiveCallback callback = std::move(call.on_done);
  call.live = false;
  free_calls_.push_back(call_id);
  if (callback) callback(result);
}

std::vector<SlotUsage> Network::busiest_slots(std::size_t limit) {
  fluid_.settle();
  std::vector<SlotUsage> usage;
  for (std::size_t r = 0; r < slot_of_resource_.size(); ++r) {
    const double load = fluid_.solver().load(engine::ResourceId{static_cast<std::uint32_t>(r)});
    if (load > 0) usage.push_back(SlotUsage{slot_of_resource_[r], load, fabric_->slot_capacity(slot_of_resource_[r])});
  }
  std::stable_sort(usage.begin(), usage.end(),
                   [](const SlotUsage& a, const SlotUsage& b) { return a.load / a.capacity > b.load / b.capacity; });
  if (usage.size() > limit) usage.resize(limit);
  return usage;
}

}  // namespace herd::sim
