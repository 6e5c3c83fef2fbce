// coffer: one binary. `coffer server ...` runs the daemon; every other
// subcommand is the CLI, an HTTP client of the API, except `operator
// diagnose`, which checks a server configuration offline.

#include <string_view>

#include "cli/cli.h"
#include "server/diagnose.h"
#include "server/server_command.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "server") {
    return coffer::server::RunServer(argc, argv);
  }
  // Checks a server's configuration as the server would load it, so it
  // lives with the server's code.
  if (argc > 2 && std::string_view(argv[1]) == "operator" &&
      std::string_view(argv[2]) == "diagnose") {
    return coffer::server::RunDiagnose(argc, argv);
  }
  return coffer::cli::Main(argc, argv);
}
