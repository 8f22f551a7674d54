// Up/down routing on the folded Clos: a transfer climbs only as high as the lowest common
// ancestor of its two NICs, and the only choice is the spine plane, made per ECMP flow.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "herd/model/topology.hpp"

namespace herd::model {

namespace {

// SplitMix64 finaliser: a fixed, well-mixed hash so that plane choices are deterministic and
// independent of the platform.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E37'79B9'7F4A'7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D0'49BB'1331'11EBull;
  return x ^ (x >> 31);
}

void require_gpu(int gpu, int gpus) {
  if (gpu < 0 || gpu >= gpus)
    throw std::out_of_range("herd::model::Topology: GPU " + std::to_string(gpu) + " is not among the " +
                            std::to_string(gpus) + " GPUs of the cluster");
}

}  // namespace

int Topology::plane(int src_nic, int dst_nic, int flow) const {
  const std::uint64_t pair = mix((static_cast<std::uint64_t>(src_nic) << 32) | static_cast<std::uint32_t>(dst_nic));
  const auto planes = static_cast<std::uint64_t>(planes_);
  // Adaptive: route() spreads the bytes over every plane; a single flow's path takes the plane a
  // spread would give it.
  if (ecmp_hash_ != EcmpHash::hash) return static_cast<int>((pair + static_cast<std::uint64_t>(flow)) % planes);
  return static_cast<int>(mix(pair ^ (static_cast<std::uint64_t>(flow) * 0xD6E8'FEB8'6659'FD93ull)) % planes);
}

template <class F>
void Topology::visit_path(int src_gpu, int dst_gpu, int flow, F&& f) const {
  const auto s = static_cast<std::size_t>(src_gpu), d = static_cast<std::size_t>(dst_gpu);
  if (node_of(src_gpu) == node_of(dst_gpu)) {
    f(gpu_up_[s]);
    f(gpu_down_[d]);
    return;
  }
  f(gpu_to_nic_[s]);
  // NIC to NIC through the switch tiers (the NICs are different).
  const int src_nic = nic_of(src_gpu), dst_nic = nic_of(dst_gpu);
  const int la = leaf_of_nic(src_nic), lb = leaf_of_nic(dst_nic);
  f(nic_up_[static_cast<std::size_t>(src_nic)]);
  if (la != lb) {
    const int k = plane(src_nic, dst_nic, flow);
    const int pa = pod_of_leaf(la), pb = pod_of_leaf(lb);
    f(leaf_up_[static_cast<std::size_t>(la * planes_ + k)]);
    if (pa != pb) {
      f(spine_up_[static_cast<std::size_t>(pa * planes_ + k)]);
      f(spine_down_[static_cast<std::size_t>(pb * planes_ + k)]);
    }
    f(leaf_down_[static_cast<std::size_t>(lb * planes_ + k)]);
  }
  f(nic_down_[static_cast<std::size_t>(dst_nic)]);
  f(nic_to_gpu_[d]);
}

std::vector<LinkId> Topology::path(int src_gpu, int dst_gpu, int flow) const {
  require_gpu(src_gpu, gpus_);
  require_gpu(dst_gpu, gpus_);
  std::vector<LinkId> out;
  if (src_gpu != dst_gpu) visit_path(src_gpu, dst_gpu, flow, [&](LinkId id) { out.push_back(id); });
  return out;
}

int Topology::path_links(int src_gpu, int dst_gpu, int flow, std::array<LinkId, kMaxPathLinks>& out) const {
  require_gpu(src_gpu, gpus_);
  require_gpu(dst_gpu, gpus_);
  int n = 0;
  if (src_gpu != dst_gpu) visit_path(src_gpu, dst_gpu, flow, [&](LinkId id) { out[static_cast<std::size_t>(n++)] = id; });
  return n;
}

void Topology::route(int src_gpu, int dst_gpu, std::vector<LinkShare>& out) const {
  require_gpu(src_gpu, gpus_);
  require_gpu(dst_gpu, gpus_);
  if (src_gpu == dst_gpu) return;
  const int la = leaf_of_nic(nic_of(src_gpu)), lb = leaf_of_nic(nic_of(dst_gpu));
  if (node_of(src_gpu) == node_of(dst_gpu) || la == lb || planes_ <= 1) {
    visit_path(src_gpu, dst_gpu, 0, [&](LinkId id) { out.push_back(LinkShare{id, 1.0}); });
    return;
  }
  // Flows share the links below the leaves and differ in their plane: count flows per plane.
  const int src_nic = nic_of(src_gpu), dst_nic = nic_of(dst_gpu);
  // Adaptive routing: each switch sends packets to its least-loaded equal-cost uplink, which in
  // the fluid limit puts the same share of every transfer on every plane.
  const bool adaptive = ecmp_hash_ == EcmpHash::adaptive;
  const int flows = adaptive ? planes_ : ecmp_flows_;
  thread_local std::vector<int> flows_on;  // per plane; kept to spare an allocation per route
  flows_on.assign(static_cast<std::size_t>(planes_), 0);
  if (adaptive) std::fill(flows_on.begin(), flows_on.end(), 1);
  else
    for (int f = 0; f < ecmp_flows_; ++f) ++flows_on[static_cast<std::size_t>(plane(src_nic, dst_nic, f))];
  const auto s = static_cast<std::size_t>(src_gpu), d = static_cast<std::size_t>(dst_gpu);
  out.push_back(LinkShare{gpu_to_nic_[s], 1.0});
  out.push_back(LinkShare{nic_up_[static_cast<std::size_t>(src_nic)], 1.0});
  const int pa = pod_of_leaf(la), pb = pod_of_leaf(lb);
  for (int k = 0; k < planes_; ++k) {
    const int n = flows_on[static_cast<std::size_t>(k)];
    if (n == 0) continue;
    const double share = static_cast<double>(n) / flows;
    out.push_back(LinkShare{leaf_up_[static_cast<std::size_t>(la * planes_ + k)], share});
    if (pa != pb) {
      out.push_back(LinkShare{spine_up_[static_cast<std::size_t>(pa * planes_ + k)], share});
      out.push_back(LinkShare{spine_down_[static_cast<std::size_t>(pb * planes_ + k)], share});
    }
    out.push_back(LinkShare{leaf_down_[static_cast<std::size_t>(lb * planes_ + k)], share});
  }
  out.push_back(LinkShare{nic_down_[static_cast<std::size_t>(dst_nic)], 1.0});
  out.push_back(LinkShare{nic_to_gpu_[d], 1.0});
}

int Topology::equal_cost_paths(int src_gpu, int dst_gpu) const {
  if (src_gpu == dst_gpu || node_of(src_gpu) == node_of(dst_gpu)) return 1;
  return leaf_of_nic(nic_of(src_gpu)) == leaf_of_nic(nic_of(dst_gpu)) ? 1 : std::max(1, planes_);
}

double Topology::latency_s(int src_gpu, int dst_gpu) const {
  require_gpu(src_gpu, gpus_);
  require_gpu(dst_gpu, gpus_);
  double total = 0;
  if (src_gpu != dst_gpu) visit_path(src_gpu, dst_gpu, 0, [&](LinkId id) { total += links_[id].latency_s; });
  return total;
}

}  // namespace herd::model
