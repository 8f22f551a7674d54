// Names of the collective operations and nccl-tests' bus factors.
#include "herd/model/collective.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace herd::model {

std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::all_gather: return "all_gather";
    case Collective::reduce_scatter: return "reduce_scatter";
    case Collective::all_reduce: return "all_reduce";
    case Collective::broadcast: return "broadcast";
    case Collective::reduce: return "reduce";
    case Collective::all_to_all: return "all_to_all";
    case Collective::send_recv: return "send_recv";
  }
  return "";
}

std::optional<Collective> parse_collective(std::string_view text) {
  std::string key;
  for (const char c : text)
    if (c != '_' && c != '-') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Collective op : kCollectives) {
    std::string name;
    for (const char c : to_string(op))
      if (c != '_') name += c;
    if (name == key) return op;
  }
  if (key == "alltoallv") return Collective::all_to_all;
  if (key == "sendrecvperf" || key == "p2p") return Collective::send_recv;
  return std::nullopt;
}

double bus_factor(Collective op, int n) {
  const double ranks = std::max(1, n);
  switch (op) {
    case Collective::all_reduce: return 2.0 * (ranks - 1) / ranks;
    case Collective::all_gather:
    case Collective::reduce_scatter:
    case Collective::all_to_all: return (ranks - 1) / ranks;
    default: return 1.0;
  }
}

}  // namespace herd::model
