#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
constexpr ParamDecl kParams[] = {
    {"whatif.stragglers", array, "[]", "GPUs that compute slower than the rest; any entry makes `herd simulate` simulate every GPU."},
    {"whatif.stragglers[].rank", integer, "", "Global rank of the slow GPU (ranks follow plan.rank_order).", D::count, non_negative},
    {"whatif.stragglers[].slowdown", number, "", "How much longer each of its compute ops takes (0.2: 20% longer).", D::count, non_negative},
};
}  // namespace

std::span<const ParamDecl> whatif() { return kParams; }

}  // namespace herd::model::schema
