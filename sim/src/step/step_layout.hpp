#pragma once
// The step simulation's view of the plan's rank layout (model::RankLayout, which places ranks by
// plan.rank_order): the stage of a rank, its peer on another stage, and the members of its TP, CP,
// DP or DP x CP group.
#include <algorithm>
#include <vector>

#include "herd/model/placement.hpp"
#include "herd/sim/step/step_program.hpp"

namespace herd::sim::detail {

class StepGroups {
 public:
  explicit StepGroups(const model::Scenario& s) : layout_(s.plan, s.cluster) {}

  int coord(int rank, model::Axis a) const { return rank / layout_.stride(a) % layout_.degree(a); }
  int stage_of(int rank) const { return coord(rank, model::Axis::pp); }
  int with_stage(int rank, int stage) const {
    return rank + (stage - stage_of(rank)) * layout_.stride(model::Axis::pp);
  }
  /// The member of `rank`'s group with coordinate 0 on the group's axes: identifies the group.
  int group_base(int rank, CommGroup g) const {
    int base = rank;
    for (auto a : axes(g)) base -= coord(rank, a) * layout_.stride(a);
    return base;
  }
  /// The group's members in increasing rank order, as communicators order them.
  std::vector<int> group_members(int rank, CommGroup g) const {
    std::vector<int> members{group_base(rank, g)};
    for (auto a : axes(g)) {
      std::vector<int> next;
      for (int m : members)
        for (int i = 0; i < layout_.degree(a); ++i) next.push_back(m + i * layout_.stride(a));
      members.swap(next);
    }
    std::sort(members.begin(), members.end());
    return members;
  }

 private:
  static std::vector<model::Axis> axes(CommGroup g) {
    switch (g) {
      case CommGroup::tp: return {model::Axis::tp};
      case CommGroup::cp: return {model::Axis::cp};
      case CommGroup::pp: return {model::Axis::pp};
      case CommGroup::dp: return {model::Axis::dp};
      case CommGroup::dp_cp: return {model::Axis::cp, model::Axis::dp};
    }
    return {};
  }
  model::RankLayout layout_;
};

}  // namespace herd::sim::detail
