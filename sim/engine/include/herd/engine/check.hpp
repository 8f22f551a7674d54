// Always-on invariant checks of the engine (active in Release builds too).
#pragma once

#include <string_view>

namespace herd::engine {

// Writes "herd::engine invariant violated: <message>" to stderr and calls std::abort().
// Used where continuing would produce silently wrong numbers (time going backwards, work not
// conserved, an id that names nothing). Never returns, never throws.
[[noreturn]] void invariant_failure(std::string_view message) noexcept;

}  // namespace herd::engine
