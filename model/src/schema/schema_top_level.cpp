#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
constexpr ParamDecl kParams[] = {
    {"preset", string, "", "Built-in scenario to start from (see `herd scenario --list`); keys given here override it."},
    {"name", string, "\"\"", "Scenario name shown in reports."},
    {"description", string, "\"\"", "Free text shown in reports."},
    {"calibration", string, "", "Calibration profile (from herd-calibrate) whose fitted efficiencies replace the GPU defaults; relative to the scenario file."},
};
}  // namespace

std::span<const ParamDecl> top_level() { return kParams; }

}  // namespace herd::model::schema
