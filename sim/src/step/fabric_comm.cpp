#include "herd/sim/step/fabric_comm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "step_layout.hpp"

namespace herd::sim {

namespace {

CollectiveOp op_of(model::Collective c) {
  switch (c) {
    case model::Collective::all_gather: return CollectiveOp::all_gather;
    case model::Collective::reduce_scatter: return CollectiveOp::reduce_scatter;
    case model::Collective::all_reduce: return CollectiveOp::all_reduce;
    case model::Collective::broadcast: return CollectiveOp::broadcast;
    case model::Collective::reduce: return CollectiveOp::reduce;
    case model::Collective::all_to_all: return CollectiveOp::all_to_all;
    case model::Collective::send_recv: return CollectiveOp::send_recv;
  }
  return CollectiveOp::all_reduce;
}

bool every_group(CommGroup g) { return g == CommGroup::dp || g == CommGroup::dp_cp; }

// Which (stage, stream) may use a link: traffic of one stream of one stage is never concurrent
// with itself (streams run in order), so a link only it uses is never contended.
int user_of(int stage, int stream) { return stage * 8 + stream; }

}  // namespace

struct FabricComm::Prepared {
  int user = 0;
  bool inside_node = false;
  double seconds = 0;      // uncontended
  int channels = 1;
  double latency_s = 0;
  double bytes = 0;
  double rate_bound = std::numeric_limits<double>::infinity();  // bytes/s of `bytes`
  std::vector<SlotLoad> loads;                 // summed over the groups this stands for
  std::vector<engine::ResourceUse> uses;       // contended links only (after finalize)
};

FabricComm::FabricComm(engine::Simulation& sim, const model::Scenario& s, const StepPlan& plan,
                       std::shared_ptr<const Fabric> fabric)
    : s_(s), sim_(sim), fabric_(fabric ? std::move(fabric) : std::make_shared<const Fabric>(s)), model_(*fabric_),
      fluid_(sim), traffic_(fabric_->slot_count()), sms_(std::max(1, s.cluster.gpu.sms)) {
  // Prepare every collective and transfer the step will run, then find the contended links.
  for (const auto& st : plan.stages) {
    auto visit = [&](const WorkProgram& w) {
      for (const auto& op : w.ops) {
        if (op.kind == StepOpKind::collective && group_size(s.plan, op.group) > 1)
          prepare_collective(op.op->collective, op.group, st.stage, op.bytes);
        if (op.kind == StepOpKind::send)
          prepare_transfer(st.stage, plan.chunks[static_cast<std::size_t>(op.peer_chunk)].rank, op.bytes);
      }
    };
    for (const auto* programs : {&st.forward, &st.backward, &st.backward_sync, &st.weight_grad})
      for (const auto& w : *programs) visit(w);
    visit(st.step_start);
    visit(st.step_end);
  }
  finalize();
}

FabricComm::~FabricComm() = default;

const std::vector<std::vector<int>>& FabricComm::groups_of(CommGroup g, int stage) {
  const auto key = std::pair{static_cast<int>(g), stage};
  if (auto it = groups_.find(key); it != groups_.end()) return it->second;
  // One pass over the ranks fills the groups of this kind for every stage.
  const detail::StepGroups layout(s_);
  std::vector<std::vector<std::vector<int>>> by_stage(static_cast<std::size_t>(s_.plan.pp));
  for (int rank = 0; rank < s_.plan.gpus(); ++rank) {
    auto& groups = by_stage[static_cast<std::size_t>(layout.stage_of(rank))];
    if (layout.group_base(rank, g) != rank || (!every_group(g) && !groups.empty())) continue;
    groups.push_back(layout.group_members(rank, g));  // every DP group; one representative otherwise
  }
  for (int st = 0; st < s_.plan.pp; ++st)
    groups_.emplace(std::pair{static_cast<int>(g), st}, std::move(by_stage[static_cast<std::size_t>(st)]));
  return groups_.at(key);
}

FabricComm::Prepared& FabricComm::prepare_collective(model::Collective op, CommGroup g, int stage, double bytes) {
  const Key key{static_cast<int>(g), stage, static_cast<int>(op), bytes};
  auto it = prepared_.find(key);
  if (it != prepared_.end()) return *it->second;
  auto p = std::make_unique<Prepared>();
  const int stream = g == CommGroup::tp ? 0 : g == CommGroup::cp ? 1 : 3;
  p->user = user_of(stage, stream);
  p->bytes = bytes;
  const auto& groups = groups_of(g, stage);
  const auto& layout = fabric_->layout();
  p->inside_node = std::all_of(groups.front().begin(), groups.front().end(),
                               [&](int r) { return layout.node(r) == layout.node(groups.front().front()); });
  CollectiveOptions same;  // the first group decides algorithm, protocol and channels for all
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const CollectivePlan plan = model_.plan(op_of(op), groups[i], bytes, same);
    if (i == 0) {
      p->seconds = plan.uncontended_time_s();
      p->channels = plan.channels;
      same.algorithm = plan.algorithm;
      same.protocol = plan.protocol;
      same.channels = plan.channels;
    }
    p->latency_s = std::max(p->latency_s, plan.latency_s);
    p->rate_bound = std::min(p->rate_bound, plan.algbw_cap);
    for (const auto& l : plan.loads) traffic_.add(l.slot, l.weight);
    if (p->inside_node) break;  // nothing of it reaches the network: the representative's time is enough
  }
  p->loads = traffic_.take();
  return *prepared_.emplace(key, std::move(p)).first->second;
}

FabricComm::Prepared& FabricComm::prepare_transfer(int from_stage, int to_stage, double bytes) {
  const Key key{-1, from_stage, to_stage, bytes};
  auto it = prepared_.find(key);
  if (it != prepared_.end()) return *it->second;
  auto p = std::make_unique<Prepared>();
  p->user = user_of(from_stage, 2);
  p->bytes = bytes;
  const detail::StepGroups layout(s_);
  const int from = layout.with_stage(0, from_stage), to = layout.with_stage(0, to_stage);
  fabric_->add_route(from, to, 1.0, traffic_);
  p->loads = traffic_.take();
  p->latency_s = fabric_->latency_s(from, to);
  return *prepared_.emplace(key, std::move(p)).first->second;
}

void FabricComm::finalize() {
  // Which users (stage, stream) may load each link. A user runs one operation at a time, so a link
  // only one user loads is never contended: it becomes part of that operation's rate bound.
  constexpr int kNone = -1, kMany = -2;
  std::vector<int> user_of_slot(fabric_->slot_count(), kNone);
  for (const auto& [key, p] : prepared_) {
    if (p->inside_node) continue;
    for (const auto& l : p->loads) {
      int& u = user_of_slot[l.slot];
      u = u == kNone || u == p->user ? p->user : kMany;
    }
  }
  for (auto& [key, p] : prepared_) {
    if (p->inside_node) continue;
    for (const auto& l : p->loads) {
      if (l.weight <= 0 || user_of_slot[l.slot] == kMany) continue;
      const double bound = fabric_->slot_capacity(l.slot) / l.weight;
      p->rate_bound = std::min(p->rate_bound, bound);
    }
  }
  // On a shared link, the most each user can put on it is its largest weight x rate bound; when
  // those together cannot fill the link it never binds and max-min fairness is the same without it.
  std::map<std::pair<SlotId, int>, double> peak;
  for (const auto& [key, p] : prepared_) {
    if (p->inside_node) continue;
    for (const auto& l : p->loads)
      if (user_of_slot[l.slot] == kMany) {
        double& v = peak[{l.slot, p->user}];
        v = std::max(v, l.weight * p->rate_bound);
      }
  }
  std::vector<double> most(fabric_->slot_count(), 0.0);
  for (const auto& [slot_user, v] : peak) most[slot_user.first] += v;
  for (auto& [key, p] : prepared_) {
    if (p->inside_node) continue;
    for (const auto& l : p->loads) {
      if (l.weight <= 0 || user_of_slot[l.slot] != kMany) continue;
      if (most[l.slot] <= fabric_->slot_capacity(l.slot) * (1 - 1e-9)) continue;
      if (resource_of_slot_.size() <= l.slot) resource_of_slot_.resize(l.slot + 1, engine::kNoResource);
      auto& r = resource_of_slot_[l.slot];
      if (r == engine::kNoResource) r = fluid_.add_resource(fabric_->slot_capacity(l.slot));
      p->uses.push_back({r, l.weight});
    }
  }
}

double FabricComm::sm_fraction(const CollectiveCall& call) const {
  if (group_size(s_.plan, call.group) <= 1) return 0;
  const Key key{static_cast<int>(call.group), call.stage, static_cast<int>(call.op), call.bytes};
  auto it = prepared_.find(key);
  const int channels = it != prepared_.end() ? it->second->channels : 1;
  // NCCL runs one thread block per channel, each holding an SM while the collective runs.
  return std::min(1.0, double(channels) / sms_);
}

void FabricComm::launch(Prepared& p, engine::EventCallback done) {
  std::uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    parked_[id] = std::move(done);
  } else {
    id = static_cast<std::uint32_t>(parked_.size());
    parked_.push_back(std::move(done));
  }
  engine::FluidOptions options;
  options.start_latency = engine::from_seconds_ceil(p.latency_s);
  options.sharing.rate_bound = p.rate_bound;
  fluid_.start(p.bytes, p.uses, [this, id](engine::FluidActivityId) {
    engine::EventCallback cb = std::move(parked_[id]);
    free_.push_back(id);
    cb();
  }, options);
}

void FabricComm::start(engine::Simulation& sim, const CollectiveCall& call, engine::EventCallback done) {
  if (group_size(s_.plan, call.group) <= 1) {
    sim.schedule_after(0, std::move(done));
    return;
  }
  if (!call.ranks.empty()) {
    // Per-rank mode (what-ifs): each group's collective takes its uncontended time on the real
    // topology (a degraded NIC shows in its own groups), as NCCL would choose it; contention between
    // groups is what symmetric mode is for.
    const auto key = std::tuple{static_cast<int>(call.op), call.bytes, call.ranks.front(), static_cast<int>(call.group)};
    auto it = group_seconds_.find(key);
    if (it == group_seconds_.end())
      it = group_seconds_.emplace(key, model_.estimate(op_of(call.op), call.ranks, call.bytes).time_s).first;
    sim.schedule_after(engine::from_seconds_ceil(it->second), std::move(done));
    return;
  }
  Prepared& p = prepare_collective(call.op, call.group, call.stage, call.bytes);
  if (p.inside_node) {
    sim.schedule_after(engine::from_seconds_ceil(p.seconds), std::move(done));
    return;
  }
  launch(p, std::move(done));
}

void FabricComm::transfer(engine::Simulation& sim, const TransferCall& call, engine::EventCallback done) {
  if (call.from_rank >= 0) {  // per-rank mode: the transfer alone on its own route
    auto it = routes_.find({call.from_rank, call.to_rank});
    if (it == routes_.end()) {
      fabric_->add_route(call.from_rank, call.to_rank, 1.0, traffic_);
      double bound = std::numeric_limits<double>::infinity();
      for (const auto& l : traffic_.take())
        if (l.weight > 0) bound = std::min(bound, fabric_->slot_capacity(l.slot) / l.weight);
      it = routes_.emplace(std::pair{call.from_rank, call.to_rank},
                           std::pair{fabric_->latency_s(call.from_rank, call.to_rank), bound}).first;
    }
    const auto [latency, bound] = it->second;
    const double seconds = latency + (std::isfinite(bound) ? call.bytes / bound : 0.0);
    sim.schedule_after(engine::from_seconds_ceil(seconds), std::move(done));
    return;
  }
  launch(prepare_transfer(call.from_stage, call.to_stage, call.bytes), std::move(done));
}


}  // namespace herd::sim
