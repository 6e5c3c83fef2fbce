#pragma once
// `coffer server`: loads the config (or sets up dev mode), opens storage,
// builds the core, serves HTTP until SIGINT/SIGTERM, then shuts down cleanly:
// listeners stop accepting, in-flight requests finish, storage is closed
// after its last acknowledged write is durable.

namespace coffer::server {

// argv[1] is "server". Returns the process exit code.
int RunServer(int argc, char** argv);

}  // namespace coffer::server
