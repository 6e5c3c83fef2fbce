#pragma once
// "At the end of this event-loop turn": an I/O thread that serves many
// connections can ask for work to run once the handlers that are ready now
// have run, to do once for all of them what each would otherwise do alone.
// The audit devices write all the entries of a turn with one system call
// this way, on the thread that rendered them: no hand-off to another thread
// and back.
//
// The HTTP server's I/O threads install one for their own loop; every other
// thread has none, and callers take their other path there.

#include <functional>

namespace coffer {

class LoopTurn {
 public:
  virtual ~LoopTurn() = default;
  // Runs `fn` later on this thread, after the handlers that are ready now.
  virtual void AtEnd(std::function<void()> fn) = 0;
  // A function any thread may call to run work on this loop's thread; it
  // answers false once the loop is gone (the work is then dropped). Empty
  // when the loop offers none.
  virtual std::function<bool(std::function<void()>)> Poster() const { return {}; }

  // The current thread's loop, or null on threads without one.
  static LoopTurn* Current();
  // Installs (or, with null, removes) the current thread's loop.
  static void SetCurrent(LoopTurn* turn);
};

}  // namespace coffer
