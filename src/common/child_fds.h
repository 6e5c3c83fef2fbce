#pragma once
// For a child process between fork() and exec(): every descriptor above
// stderr is marked close-on-exec, so the program started gets only stdin,
// stdout and stderr, not the parent's sockets (an authenticated event stream,
// a server connection) or files. Asio does not set close-on-exec on its
// sockets. Async-signal-safe: only system calls.

namespace coffer {

void CloseInheritedFds() noexcept;

}  // namespace coffer
