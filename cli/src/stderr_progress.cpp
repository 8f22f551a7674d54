// Progress of long commands on stderr: silent for work that is over within a second, so quick
// runs and scripts see nothing; then a line at most twice a second, so a log stays readable.
#include <chrono>
#include <memory>
#include <ostream>

#include "commands.hpp"

namespace herd::cli {

sim::Progress stderr_progress(std::ostream& err, std::string_view command) {
  using clock = std::chrono::steady_clock;
  auto start = std::make_shared<clock::time_point>(clock::now());
  auto last = std::make_shared<clock::time_point>(clock::now());
  return [&err, command = std::string(command), start, last](std::string_view what, int done, int total) {
    const auto now = clock::now();
    if (now - *start < std::chrono::seconds(1) || (now - *last < std::chrono::milliseconds(500) && done < total)) return;
    *last = now;
    err << command << ": " << what << " " << done << "/" << total << "\n";
  };
}

}  // namespace herd::cli
