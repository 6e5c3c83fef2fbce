// Path help for the KV engine, versions 1 and 2 (logical/help.h).

#include "engines/kv/kv_v1.h"
#include "engines/kv/kv_v2.h"

namespace coffer::engines::kv {

namespace {

constexpr std::string_view kV1Description =
    "The KV engine, version 1, stores arbitrary secrets as JSON objects at any\n"
    "path under its mount. A write replaces what was there; nothing keeps the\n"
    "previous value. Enable it with `coffer secrets enable -version=1 kv`.";

constexpr logical::RouteHelp kV1Routes[] = {
    {"{path*}", "Pass-through secret storage: read, write, delete and list secrets.",
     "GET reads the secret at the path (404 when there is none). PUT or POST\n"
     "stores the request's JSON object there, replacing the old one; a \"ttl\"\n"
     "member sets the lease duration readers are told. DELETE removes it. LIST\n"
     "on a folder answers the keys one level below (folders end in '/'), with\n"
     "after and limit to page; LIST with recursive=true walks the subtree."},
};

constexpr std::string_view kV2Description =
    "The KV engine, version 2, stores versioned secrets: every write adds a\n"
    "version, older versions stay readable until they are deleted, destroyed\n"
    "or pruned by max_versions, and a check-and-set option makes concurrent\n"
    "updates safe. Data lives under data/, the versions' bookkeeping under\n"
    "metadata/. Enable it with `coffer secrets enable -version=2 kv` (or type\n"
    "kv-v2).";

constexpr logical::RouteHelp kV2Routes[] = {
    {"config", "The engine's settings for every key.",
     "GET reads and POST sets max_versions (versions kept per key, 0 for the\n"
     "default of 10), cas_required (every write must give options.cas) and\n"
     "delete_version_after (a duration after which a new version is deleted)."},
    {"data/{path+}", "Write, patch, read and delete the data of a key.",
     "GET reads the latest version, or the one given by ?version=N; a deleted\n"
     "or destroyed version answers 404 with its metadata. POST or PUT with data\n"
     "(an object) writes a new version; options.cas=N writes only if N is the\n"
     "current version (0: only if the key does not exist). PATCH applies a JSON\n"
     "merge patch to the latest version. DELETE soft-deletes the latest\n"
     "version."},
    {"delete/{path+}", "Soft-delete versions of a key.",
     "POST with versions (a list of numbers) marks them deleted; undelete\n"
     "brings them back."},
    {"undelete/{path+}", "Restore soft-deleted versions of a key.",
     "POST with versions (a list of numbers)."},
    {"destroy/{path+}", "Destroy versions of a key for good.",
     "POST or PUT with versions (a list of numbers): their data is removed and\n"
     "cannot be restored."},
    {"metadata/{path*}", "Read, write, patch, delete and list the metadata of keys.",
     "GET reads a key's versions and settings. POST sets max_versions,\n"
     "cas_required, delete_version_after and custom_metadata for the key;\n"
     "PATCH changes the ones given. DELETE removes the key with every\n"
     "version. LIST on a folder answers the keys below it (after and limit\n"
     "page it; recursive=true walks the subtree)."},
    {"detailed-metadata/{path*}", "List keys with their metadata.",
     "LIST answers the keys below a folder and, in key_info, each key's\n"
     "metadata."},
    {"subkeys/{path+}", "The structure of a key's data, without its values.",
     "GET answers the data's keys with null leaves, for ?version=N and down to\n"
     "?depth=D levels."},
};

}  // namespace

logical::EngineHelp KvV1Backend::Help() const { return {kV1Description, kV1Routes}; }
logical::EngineHelp KvV2Backend::Help() const { return {kV2Description, kV2Routes}; }

}  // namespace coffer::engines::kv
