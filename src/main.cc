// coffer: one binary. `coffer server ...` runs the daemon; every other
// subcommand is the CLI, an HTTP client of the API.

#include <string_view>

#include "cli/cli.h"
#include "server/server_command.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "server") {
    return coffer::server::RunServer(argc, argv);
  }
  return coffer::cli::Main(argc, argv);
}
