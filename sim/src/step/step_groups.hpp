#pragma once
// The step simulation's view of the plan's rank layout (model::RankLayout, which places ranks by
// plan.rank_order): the stage of a rank, its peer on another stage, and its TP, CP, DP or DP x CP
// group. Within a stage, the groups of a kind are numbered by their "ordinal" (the mixed-radix
// number of the coordinates the group does not span, tp innermost), and so are the stage's
// copies of one pipeline rank (every coordinate but pp): the index the network preparation and
// the executor agree on.
#include <algorithm>
#include <array>
#include <vector>

#include "herd/model/placement.hpp"
#include "herd/sim/step/step_program.hpp"

namespace herd::sim::detail {

class StepGroups {
 public:
  StepGroups(const model::PlanSpec& plan, const model::ClusterSpec& cluster) : layout_(plan, cluster) {
    for (int g = 0; g < kCommGroups; ++g) {
      const auto in = spanned(static_cast<CommGroup>(g));
      auto& ax = axes_[static_cast<std::size_t>(g)];
      auto& out = outside_[static_cast<std::size_t>(g)];
      ax.assign(in.begin(), in.end());
      for (const auto a : {model::Axis::tp, model::Axis::cp, model::Axis::dp})
        if (std::find(in.begin(), in.end(), a) == in.end()) out.push_back(a);
    }
  }

  int coord(int rank, model::Axis a) const { return rank / layout_.stride(a) % layout_.degree(a); }
  int stage_of(int rank) const { return coord(rank, model::Axis::pp); }
  int with_stage(int rank, int stage) const {
    return rank + (stage - stage_of(rank)) * layout_.stride(model::Axis::pp);
  }

  /// The member of `rank`'s group with coordinate 0 on the group's axes: identifies the group.
  int group_base(int rank, CommGroup g) const {
    int base = rank;
    for (const auto a : axes(g)) base -= coord(rank, a) * layout_.stride(a);
    return base;
  }
  /// The group's members in increasing rank order, as communicators order them.
  std::vector<int> group_members(int rank, CommGroup g) const {
    std::vector<int> members{group_base(rank, g)};
    for (const auto a : axes(g)) {
      std::vector<int> next;
      next.reserve(members.size() * static_cast<std::size_t>(layout_.degree(a)));
      for (const int m : members)
        for (int i = 0; i < layout_.degree(a); ++i) next.push_back(m + i * layout_.stride(a));
      members.swap(next);
    }
    std::sort(members.begin(), members.end());
    return members;
  }

  /// Groups of kind `g` in one stage (for a transfer, CommGroup::pp: the stage's ranks, one each).
  int groups_per_stage(CommGroup g) const {
    int n = 1;
    for (const auto a : outside(g)) n *= layout_.degree(a);
    return n;
  }
  /// The ordinal of `rank`'s group of kind `g` within its stage (CommGroup::pp: of the rank).
  int ordinal(int rank, CommGroup g) const {
    int ordinal = 0, scale = 1;
    for (const auto a : outside(g)) {
      ordinal += coord(rank, a) * scale;
      scale *= layout_.degree(a);
    }
    return ordinal;
  }
  /// The base rank of group `ordinal` of kind `g` in `stage` (inverse of ordinal).
  int group_at(int stage, CommGroup g, int ordinal) const {
    int rank = stage * layout_.stride(model::Axis::pp);
    for (const auto a : outside(g)) {
      rank += ordinal % layout_.degree(a) * layout_.stride(a);
      ordinal /= layout_.degree(a);
    }
    return rank;
  }

 private:
  const std::vector<model::Axis>& axes(CommGroup g) const { return axes_[static_cast<std::size_t>(g)]; }
  // The axes other than pp that the group does not span, innermost (tp) first.
  const std::vector<model::Axis>& outside(CommGroup g) const { return outside_[static_cast<std::size_t>(g)]; }
  static std::vector<model::Axis> spanned(CommGroup g) {
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
  std::array<std::vector<model::Axis>, kCommGroups> axes_, outside_;
};

}  // namespace herd::sim::detail
