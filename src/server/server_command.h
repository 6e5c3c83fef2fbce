#pragma once
// `coffer server`: loads the config (or sets up dev mode), opens storage,
// builds the core, serves HTTP until SIGINT/SIGTERM, then shuts down cleanly:
// listeners stop accepting, in-flight requests finish, storage is closed
// after its last acknowledged write is durable.

#include "config/config.h"
#include "http/server.h"

namespace coffer::server {

// A config file's listener as the HTTP server's options (also used by
// `operator diagnose` to bind each listener as the server would).
http::ServerOptions ListenerOptions(const config::ServerConfig::Listener& l);

// argv[1] is "server". Returns the process exit code.
int RunServer(int argc, char** argv);

}  // namespace coffer::server
