#include "herd/gui/main_window.hpp"

int main(int argc, char** argv) { return herd::gui::gui_main(argc, argv); }
