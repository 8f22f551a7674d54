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
    {"whatif.power_cap", quantity, "null", "Power limit per GPU below its compute draw (nvidia-smi -pl): compute-bound kernels then run at the clock the cap allows, from dynamic power ~ f V^2 with V ~ f in the DVFS range (P - idle ~ f^3), so f/f0 = ((cap - idle)/(compute - idle))^(1/3); memory-bound and communication kernels keep their speed. Must exceed the idle draw.", D::power, positive},
    {"whatif.power_floor", quantity, "null", "Least each GPU of the job draws (filler work while it would wait, as the power-smoothing floor of NVIDIA's GB300 NVL72 power supplies or a software burn): smaller swings, more energy, same step time.", D::power, positive},
};
}  // namespace

std::span<const ParamDecl> whatif() { return kParams; }

}  // namespace herd::model::schema
