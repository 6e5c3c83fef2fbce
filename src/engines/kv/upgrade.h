#pragma once
// The in-place upgrade of a KV version 1 mount to version 2 (Vault's
// `kv enable-versioning`, a tune of options.version to "2"): every v1 secret
// becomes version 1 of a versioned secret, created at the time of the
// upgrade. See upgrade.cc for why it is crash-safe.
//
// The steps, in the order the caller (core/sys_mounts.cc) takes them:
//   1. CloseForUpgrade(v1 engine): its requests in flight finish, later ones
//      are refused with kUnavailable.
//   2. The mount table entry (version "2") and UpgradeMarkerOp() are
//      committed in one transaction: from then on the mount is version 2 with
//      an upgrade pending, whatever happens to the process.
//   3. The v2 engine is created; its Initialize runs FinishUpgrade, which
//      converts what is left and removes the marker before the engine serves
//      anything. The same happens at every mount load (unseal, restart), so
//      an interrupted upgrade resumes before the mount serves. A conversion
//      that fails leaves that engine refusing requests (UnfinishedUpgrade)
//      without failing the load of the other mounts.
// If step 2 fails, ReopenAfterUpgrade undoes step 1 and nothing changed.

#include "engines/kv/records.h"
#include "logical/backend.h"

namespace coffer::engines::kv {

// The view key of the marker. It has an empty segment, which no v1 secret
// key can have (ValidateSecretKey), so it never collides with a secret.
inline constexpr std::string_view kUpgradeMarkerKey = "kv-upgrade//state";

// The op that records "upgrade pending, nothing converted yet" (a key of the
// mount's view).
storage::Op UpgradeMarkerOp();

// Converts every v1 secret left in `view` when the marker is there, then
// removes the marker; does nothing (one Get) otherwise. `now` is the
// created_time of every version it writes. Not safe to run concurrently with
// anything else using the view. Errors: storage errors as they come;
// kInternal for a v1 record that is not a JSON object (the message names the
// key, never a value). On error the marker stays, and the next call resumes.
Status FinishUpgrade(storage::Backend& view, Nanos now);

// Why a KV version 2 engine could not finish a pending upgrade when it was
// loaded (its Initialize), else Ok (also for any other engine). Such an
// engine refuses every request with kUnavailable; the conversion resumes
// when the mount is next loaded.
Status UnfinishedUpgrade(const logical::Backend& engine);

// Waits for the requests in flight in `engine`, a KV version 1 engine, and
// makes it refuse every later one with kUnavailable ("upgrading").
// kInvalidArgument when `engine` is not a KV version 1 engine; kUnavailable
// when it is already closed (another upgrade runs).
Status CloseForUpgrade(logical::Backend& engine);
// Undoes CloseForUpgrade (the upgrade did not start after all).
void ReopenAfterUpgrade(logical::Backend& engine);

}  // namespace coffer::engines::kv
