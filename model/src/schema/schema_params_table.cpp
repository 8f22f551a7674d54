// The scenario table, stitched from its sections in document order.
#include <vector>

#include "herd/model/params.hpp"
#include "schema.hpp"

namespace herd::model {

std::span<const ParamDecl> scenario_params() {
  static const std::vector<ParamDecl> table = [] {
    std::vector<ParamDecl> all;
    for (auto section : {schema::top_level(), schema::cluster(), schema::model(), schema::plan(), schema::run(),
                         schema::reliability(), schema::whatif(), schema::search()})
      all.insert(all.end(), section.begin(), section.end());
    return all;
  }();
  return table;
}

}  // namespace herd::model
