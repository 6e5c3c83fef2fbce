#pragma once
// Replacing a file atomically, with a given mode: the agent's sinks and
// rendered templates, coffer debug's files, the scanner's pre-commit hook.
// Thread-safety: a free function; concurrent writes of one path are not
// coordinated (the last rename wins).

#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer {

// Writes `content` to a temporary file in the destination's directory,
// created with O_EXCL under a random name and `mode` (fchmod'ed so the umask
// cannot widen or narrow it), fsyncs it, renames it over `path` and fsyncs
// the directory. Readers see the old or the new file, never a partial one,
// and never a wider mode; a symbolic link at `path` is replaced, not
// followed. Errors: kInternal naming the path and errno text (never the
// content).
Status AtomicWriteFile(const std::string& path, std::string_view content, unsigned mode);

}  // namespace coffer
