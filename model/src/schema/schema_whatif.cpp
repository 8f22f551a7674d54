#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
constexpr ParamDecl kParams[] = {
    {"whatif.stragglers", array, "[]", "GPUs that compute slower than the rest; any entry makes every step simulation (herd simulate, herd train, ...) simulate every GPU."},
    {"whatif.stragglers[].rank", integer, "", "Global rank of the slow GPU (ranks follow plan.rank_order).", D::count, non_negative},
    {"whatif.stragglers[].slowdown", number, "", "How much longer each of its compute ops takes (0.2: 20% longer).", D::count, non_negative},
    {"whatif.degraded_nics", array, "[]", "NICs running below their line rate (a bad cable, a link that trained down); any entry makes every step simulation (herd simulate, herd train, ...) simulate every GPU."},
    {"whatif.degraded_nics[].nic", integer, "", "Global NIC index (node x nics_per_node + local NIC; with one NIC per GPU, the GPU index).", D::count, non_negative},
    {"whatif.degraded_nics[].bandwidth", number, "", "Fraction of the NIC's bandwidth left (0.5: half).", D::count, unit_fraction},
};
}  // namespace

std::span<const ParamDecl> whatif() { return kParams; }

}  // namespace herd::model::schema
