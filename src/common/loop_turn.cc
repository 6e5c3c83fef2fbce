#include "common/loop_turn.h"

namespace coffer {
namespace {

thread_local LoopTurn* current_turn = nullptr;

}  // namespace

LoopTurn* LoopTurn::Current() { return current_turn; }

void LoopTurn::SetCurrent(LoopTurn* turn) { current_turn = turn; }

}  // namespace coffer
