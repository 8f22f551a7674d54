#include <iostream>

#include "herd/cli/app.hpp"

int main(int argc, char** argv) {
  return herd::cli::run(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
