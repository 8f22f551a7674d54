// Names of collective operations, algorithms and protocols, and nccl-tests' bus factors.
#include "herd/sim/collective/collective.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace herd::sim {

std::string_view to_string(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce: return "all_reduce";
    case CollectiveOp::all_gather: return "all_gather";
    case CollectiveOp::reduce_scatter: return "reduce_scatter";
    case CollectiveOp::broadcast: return "broadcast";
    case CollectiveOp::reduce: return "reduce";
    case CollectiveOp::all_to_all: return "all_to_all";
    case CollectiveOp::send_recv: return "send_recv";
  }
  return "?";
}

std::string_view to_string(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::automatic: return "auto";
    case Algorithm::ring: return "ring";
    case Algorithm::tree: return "tree";
    case Algorithm::nvls: return "nvls";
    case Algorithm::hierarchical: return "hierarchical";
    case Algorithm::direct: return "direct";
  }
  return "?";
}

std::string_view to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::automatic: return "auto";
    case Protocol::ll: return "LL";
    case Protocol::ll128: return "LL128";
    case Protocol::simple: return "Simple";
  }
  return "?";
}

std::optional<CollectiveOp> parse_collective_op(std::string_view text) {
  std::string key;
  for (const char c : text)
    if (c != '_' && c != '-') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const CollectiveOp op : {CollectiveOp::all_reduce, CollectiveOp::all_gather, CollectiveOp::reduce_scatter,
                                CollectiveOp::broadcast, CollectiveOp::reduce, CollectiveOp::all_to_all,
                                CollectiveOp::send_recv}) {
    std::string name;
    for (const char c : to_string(op))
      if (c != '_') name += c;
    if (name == key) return op;
  }
  if (key == "alltoallv") return CollectiveOp::all_to_all;
  if (key == "sendrecvperf" || key == "p2p") return CollectiveOp::send_recv;
  return std::nullopt;
}

Algorithm from_model(model::CollectiveAlgorithm algorithm) {
  switch (algorithm) {
    case model::CollectiveAlgorithm::automatic: return Algorithm::automatic;
    case model::CollectiveAlgorithm::ring: return Algorithm::ring;
    case model::CollectiveAlgorithm::tree: return Algorithm::tree;
    case model::CollectiveAlgorithm::nvls: return Algorithm::nvls;
    case model::CollectiveAlgorithm::hierarchical: return Algorithm::hierarchical;
  }
  return Algorithm::automatic;
}

Protocol from_model(model::CollectiveProtocol protocol) {
  switch (protocol) {
    case model::CollectiveProtocol::automatic: return Protocol::automatic;
    case model::CollectiveProtocol::ll: return Protocol::ll;
    case model::CollectiveProtocol::ll128: return Protocol::ll128;
    case model::CollectiveProtocol::simple: return Protocol::simple;
  }
  return Protocol::automatic;
}

double bus_factor(CollectiveOp op, int n) {
  const double ranks = std::max(1, n);
  switch (op) {
    case CollectiveOp::all_reduce: return 2.0 * (ranks - 1) / ranks;
    case CollectiveOp::all_gather:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_to_all: return (ranks - 1) / ranks;
    default: return 1.0;
  }
}

}  // namespace herd::sim
