#include "herd/engine/check.hpp"

#include <catch2/catch.hpp>

#include "child_process.hpp"

using herd::engine::invariant_failure;
using herd::engine::testing::run_in_child;

TEST_CASE("invariant_failure aborts with the message on stderr", "[check]") {
  const auto outcome = run_in_child([] { invariant_failure("bytes not conserved"); });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text == "herd::engine invariant violated: bytes not conserved\n");
}

TEST_CASE("a child that returns normally is not reported as aborted", "[check]") {
  const auto outcome = run_in_child([] {});
  CHECK_FALSE(outcome.aborted);
  CHECK(outcome.stderr_text.empty());
}
