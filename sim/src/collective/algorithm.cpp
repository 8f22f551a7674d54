// Names of NCCL's algorithms and protocols.
#include "herd/sim/collective/algorithm.hpp"

namespace herd::sim {

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

}  // namespace herd::sim
