#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
constexpr ParamDecl kParams[] = {
    {"reliability.failures", map, "null", "Failure processes by class; default: the classes of Llama 3 Table 5 (see docs/models/reliability.md)."},
    {"reliability.failures.*.category", string, "\"unknown\"", "Category the class reports under (GPU, host, network, dependency, ...)."},
    {"reliability.failures.*.component", choice, "\"gpu\"", "What the rate is counted per: gpu, node, nic, switch or job.", D::count, any, "gpu|node|nic|switch|job"},
    {"reliability.failures.*.rate", quantity, "", "Interruptions per component-hour.", D::rate, non_negative},
    {"reliability.failures.*.distribution", choice, "\"exponential\"", "Time between failures: exponential or weibull.", D::count, any, "exponential|weibull"},
    {"reliability.failures.*.weibull_shape", number, "1", "Weibull shape k (k < 1: infant mortality; k = 1: exponential).", D::count, positive},
    {"reliability.failures.*.multiplier", number, "1", "Scales the rate (what-if).", D::count, non_negative},
    {"reliability.planned_rate", quantity, "null", "Planned interruptions (maintenance, upgrades) per job-hour; default: Llama 3's 47 in 54 days.", D::rate, non_negative},
    {"reliability.detection_time", quantity, "null", "Time to detect a failure and stop the job.", D::time, non_negative},
    {"reliability.restart_time", quantity, "null", "Time to relaunch the job, excluding communicator set-up and checkpoint load.", D::time, non_negative},
    {"reliability.checkpoint.interval", quantity, "null", "Time between checkpoints; default: the optimum found by simulation.", D::time, positive},
    {"reliability.checkpoint.mode", choice, "\"sync\"", "sync: training stalls while the checkpoint is written; async: it stalls only for the copy to host memory.", D::count, any, "sync|async"},
};
}  // namespace

std::span<const ParamDecl> reliability() { return kParams; }

}  // namespace herd::model::schema
