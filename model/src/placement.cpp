// Rank numbering: the mixed-radix number whose digits are the axis coordinates, innermost axis
// as the least significant digit. Megatron-LM and Llama 3 lay ranks out the same way.
#include "herd/model/placement.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "herd/model/error.hpp"

namespace herd::model {

namespace {

std::size_t at(Axis a) { return static_cast<std::size_t>(a); }

}  // namespace

RankLayout::RankLayout(const PlanSpec& plan, const ClusterSpec& cluster)
    : gpus_per_node_(cluster.gpus_per_node), nics_per_node_(cluster.nics_per_node) {
  for (const Axis a : {Axis::tp, Axis::cp, Axis::pp, Axis::dp}) degree_[at(a)] = plan.degree(a);
  long long stride = 1;
  for (const Axis a : plan.rank_order) {
    stride_[at(a)] = static_cast<int>(stride);
    stride *= degree_[at(a)];
  }
  if (stride > cluster.num_gpus)
    throw ValueError("/plan", "tp x cp x pp x dp = " + std::to_string(stride) + " ranks need more than the " +
                                  std::to_string(cluster.num_gpus) + " GPUs of the cluster");
  ranks_ = static_cast<int>(stride);
}

RankCoords RankLayout::coords(int rank) const {
  if (rank < 0 || rank >= ranks_)
    throw std::out_of_range("herd::model::RankLayout: rank " + std::to_string(rank) + " is not among " +
                            std::to_string(ranks_));
  RankCoords c;
  for (const Axis a : {Axis::tp, Axis::cp, Axis::pp, Axis::dp}) c[a] = rank / stride_[at(a)] % degree_[at(a)];
  return c;
}

int RankLayout::rank(const RankCoords& c) const {
  int r = 0;
  for (const Axis a : {Axis::tp, Axis::cp, Axis::pp, Axis::dp}) {
    if (c[a] < 0 || c[a] >= degree_[at(a)])
      throw std::out_of_range("herd::model::RankLayout: coordinate " + std::to_string(c[a]) + " outside degree " +
                              std::to_string(degree_[at(a)]));
    r += c[a] * stride_[at(a)];
  }
  return r;
}

int RankLayout::gpu(int rank) const {
  (void)coords(rank);  // range check
  return rank;
}

int RankLayout::nic(int rank) const {
  return node(rank) * nics_per_node_ + local_index(rank) * nics_per_node_ / gpus_per_node_;
}

std::vector<std::vector<int>> RankLayout::groups(Axis a) const {
  const Axis axes[] = {a};
  return groups(axes);
}

std::vector<std::vector<int>> RankLayout::groups(std::span<const Axis> axes) const {
  // A group is identified by the coordinates of the axes it does not span: walk the ranks whose
  // spanned coordinates are all zero (the group leaders, in increasing order) and expand each.
  std::array<bool, 4> spanned{};
  int size = 1;
  for (const Axis a : axes) {
    if (!spanned[at(a)]) size *= degree_[at(a)];
    spanned[at(a)] = true;
  }
  std::vector<std::vector<int>> out;
  out.reserve(static_cast<std::size_t>(ranks_ / size));
  for (int leader = 0; leader < ranks_; ++leader) {
    const RankCoords c = coords(leader);
    bool is_leader = true;
    for (const Axis a : {Axis::tp, Axis::cp, Axis::pp, Axis::dp}) is_leader = is_leader && (!spanned[at(a)] || c[a] == 0);
    if (!is_leader) continue;
    std::vector<int> group{leader};
    for (const Axis a : {Axis::tp, Axis::cp, Axis::pp, Axis::dp}) {
      if (!spanned[at(a)]) continue;
      const std::size_t n = group.size();
      for (int k = 1; k < degree_[at(a)]; ++k)
        for (std::size_t i = 0; i < n; ++i) group.push_back(group[i] + k * stride_[at(a)]);
    }
    std::sort(group.begin(), group.end());
    out.push_back(std::move(group));
  }
  return out;
}

std::vector<int> RankLayout::group_of(int rank, Axis a) const {
  RankCoords c = coords(rank);
  std::vector<int> group;
  group.reserve(static_cast<std::size_t>(degree(a)));
  for (int k = 0; k < degree(a); ++k) {
    c[a] = k;
    group.push_back(this->rank(c));
  }
  return group;
}

}  // namespace herd::model
