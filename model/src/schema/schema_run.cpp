#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
constexpr ParamDecl kParams[] = {
    {"run.tokens", integer, "null", "Training token budget (Llama 3 405B: 15.6T).", D::count, positive},
    {"run.step_time", quantity, "null", "Step time to use instead of simulating one (a measured figure, for instance).", D::time, positive},
    {"run.batch_schedule", array, "[]", "Phases of the batch-size schedule, in order of start_tokens; empty: one phase with the plan's batch and seq_len."},
    {"run.batch_schedule[].start_tokens", integer, "0", "Tokens trained before this phase starts.", D::count, non_negative},
    {"run.batch_schedule[].seq_len", integer, "null", "Sequence length in this phase; default: model.seq_len.", D::count, at_least_one},
    {"run.batch_schedule[].global_batch", integer, "null", "Sequences per step in this phase; default: the plan's.", D::count, at_least_one},
    {"run.batch_schedule[].set", object, "{}", "Scenario overrides for this phase, as `--set` paths to values ({\"plan.dp\": 64}), e.g. a different plan."},
    {"run.window", quantity, "null", "Simulate this much wall-clock time instead of training to run.tokens (e.g. \"54 d\", the Llama 3 reliability snapshot).", D::time, positive},
    {"run.trials", integer, "1000", "Monte Carlo trials of the run (herd train --trials).", D::count, at_least_one},
    {"run.seed", integer, "1", "Seed of the Monte Carlo trials; the same seed gives the same result on any number of threads (herd train --seed).", D::count, non_negative},
};
}  // namespace

std::span<const ParamDecl> run() { return kParams; }

}  // namespace herd::model::schema
