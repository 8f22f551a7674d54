#include <iostream>

#include "herd/calibrate/cli.hpp"

int main(int argc, char** argv) {
  return herd::calibrate::run_calibrate(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
