// Path help of the transit engine: its overview and one entry per route
// that TransitBackend::HandleRequest serves.

#include <string_view>

#include "engines/transit/transit_backend.h"

namespace coffer::engines::transit {
namespace {

constexpr std::string_view kDescription =
    "The transit engine performs cryptographic operations on data sent to it:\n"
    "encryption, decryption, signing, verification and HMACs with named keys\n"
    "that stay inside Coffer. It keeps none of the data it processes; it also\n"
    "hashes data and generates random bytes.\n"
    "\n"
    "Enable it with `coffer secrets enable transit`, create a key with a POST\n"
    "to keys/<name> (or let the first POST to encrypt/<name> create it), send\n"
    "base64-encoded plaintext to encrypt/<name> and the returned ciphertext to\n"
    "decrypt/<name>.";

constexpr logical::RouteHelp kRoutes[] = {
    {"keys", "List the names of the keys.",
     "LIST (or GET) answers the names of all keys in this mount, or 404 when\n"
     "there are none."},
    {"keys/{name}", "Create, read or delete a named key.",
     "POST creates the key unless it exists already. Fields: type (default\n"
     "aes256-gcm96), derived, convergent_encryption, exportable,\n"
     "allow_plaintext_backup, auto_rotate_period and key_size (hmac keys only).\n"
     "GET answers the key's settings and its versions (with the public keys of\n"
     "asymmetric types). DELETE removes the key for good, and is refused unless\n"
     "deletion_allowed has been set with keys/<name>/config."},
    {"keys/{name}/config", "Change the settings of a named key.",
     "POST updates min_decryption_version, min_encryption_version,\n"
     "deletion_allowed, exportable, allow_plaintext_backup and\n"
     "auto_rotate_period (0 turns automatic rotation off). exportable and\n"
     "allow_plaintext_backup cannot be turned off once on. Answers the key."},
    {"keys/{name}/rotate", "Add a new version to a named key.",
     "POST generates a new key version, which becomes the one used for\n"
     "encryption, signing and HMACs. Older versions still decrypt and verify\n"
     "until min_decryption_version excludes them. Answers the key."},
    {"keys/{name}/trim", "Delete old versions of a named key.",
     "POST with min_available_version removes every version below it from\n"
     "storage; the value may not exceed min_decryption_version (nor a nonzero\n"
     "min_encryption_version) and never decreases. Data encrypted with a\n"
     "removed version can no longer be decrypted."},
    {"export/{type}/{name}", "Export every available version of a named key.",
     "GET answers the key material of each version from min_decryption_version\n"
     "on. type is encryption-key, signing-key, hmac-key or public-key; all but\n"
     "public-key require the key to be exportable."},
    {"export/{type}/{name}/{version}", "Export one version of a named key.",
     "GET answers the key material of the given version (\"latest\" or 0 for\n"
     "the newest). type is encryption-key, signing-key, hmac-key or public-key;\n"
     "all but public-key require the key to be exportable."},
    {"backup/{name}", "Back up a named key with all its versions.",
     "GET answers the whole key, settings and versions, as one base64 string\n"
     "in backup, for restore. The key must be exportable and have\n"
     "allow_plaintext_backup set."},
    {"restore", "Restore a key from a backup.",
     "POST with backup (the string from backup/<name>) stores the key under\n"
     "name, or under the name it was backed up with when name is empty. An\n"
     "existing key of that name is replaced only when force is true."},
    {"restore/{name}", "Restore a key from a backup under the given name.",
     "POST with backup (the string from backup/<name>) stores the key under\n"
     "the name in the path; a name field in the body is ignored. An existing\n"
     "key of that name is replaced only when force is true."},
    {"cache-config", "Read or set the size of the key cache.",
     "GET answers size, the number of keys kept in memory (0: no limit). POST\n"
     "sets size (0, or at least 10); the new size takes effect when the engine\n"
     "is next initialised (remount, unseal or restart)."},
    {"random", "Generate random bytes.",
     "POST answers random_bytes, as many random bytes as the bytes field asks\n"
     "for (default 32, at most 128 KiB), drawn from source (platform, seal or\n"
     "all; default platform) and encoded as format (base64, the default, or\n"
     "hex)."},
    {"random/{source_or_bytes}", "Generate random bytes, with a source or count in the path.",
     "POST answers random bytes as on random. The path segment is either a\n"
     "number of bytes or a source (platform, seal or all); it takes precedence\n"
     "over the bytes field. format is base64 (default) or hex."},
    {"random/{source}/{bytes}", "Generate random bytes, with the source and count in the path.",
     "POST answers random bytes as on random, with the source (platform,\n"
     "seal or all) and the number of bytes taken from the path, in either\n"
     "order. format is base64 (default) or hex."},
    {"hash", "Compute the hash of some data.",
     "POST answers sum, the digest of input (base64) with algorithm\n"
     "(sha2-224, sha2-256 (default), sha2-384, sha2-512 or sha3-224 to\n"
     "sha3-512), encoded as format (hex, the default, or base64)."},
    {"hash/{algorithm}", "Compute the hash of some data with the algorithm in the path.",
     "POST answers sum, the digest of input (base64) with the algorithm\n"
     "named in the path (sha2-224 to sha2-512, sha3-224 to sha3-512), encoded\n"
     "as format (hex, the default, or base64)."},
    {"encrypt/{name}", "Encrypt data with a named key.",
     "POST encrypts plaintext (base64) and answers ciphertext and\n"
     "key_version. Other fields: context (derived keys), nonce (convergent\n"
     "keys), associated_data (AEAD types), key_version and batch_input for\n"
     "many items at once. When the key does not exist and the policy allows\n"
     "create, it is created with type and convergent_encryption."},
    {"decrypt/{name}", "Decrypt data with a named key.",
     "POST decrypts ciphertext (as encrypt answered it) and answers\n"
     "plaintext, base64-encoded. Give context for derived keys and\n"
     "associated_data when it was used to encrypt; batch_input decrypts many\n"
     "items at once."},
    {"rewrap/{name}", "Re-encrypt data with the latest version of a named key.",
     "POST decrypts ciphertext and encrypts it again with the latest key\n"
     "version (or key_version), without revealing the plaintext. Takes\n"
     "context for derived keys and batch_input for many items at once."},
    {"datakey/{type}/{name}", "Generate a data key encrypted with a named key.",
     "POST generates a random key of bits bits (128, 256 or 512; default 256)\n"
     "and answers it as ciphertext, encrypted with the named key. Type\n"
     "\"plaintext\" also answers the key itself in plaintext, \"wrapped\" does\n"
     "not. Takes context, nonce and key_version as encrypt does."},
    {"hmac/{name}", "Compute an HMAC of data with a named key.",
     "POST answers hmac, the HMAC of input (base64) under the latest key\n"
     "version (or key_version), using hash_algorithm or algorithm (default\n"
     "sha2-256). batch_input computes many at once."},
    {"hmac/{name}/{algorithm}", "Compute an HMAC of data with the hash algorithm in the path.",
     "POST answers hmac, the HMAC of input (base64) under the latest key\n"
     "version (or key_version), using the hash algorithm named in the path.\n"
     "batch_input computes many at once."},
    {"sign/{name}", "Sign data with a named key.",
     "POST answers signature (and key_version) for input (base64), signed\n"
     "with an asymmetric key. Fields: hash_algorithm (default sha2-256),\n"
     "prehashed, signature_algorithm (pss or pkcs1v15 for RSA),\n"
     "marshaling_algorithm (asn1 or jws for ECDSA), salt_length, context,\n"
     "key_version and batch_input."},
    {"sign/{name}/{algorithm}", "Sign data with the hash algorithm in the path.",
     "POST signs input (base64) as on sign/<name>, with the hash algorithm\n"
     "named in the path in place of hash_algorithm, and answers signature and\n"
     "key_version."},
    {"verify/{name}", "Verify a signature or an HMAC made with a named key.",
     "POST checks input (base64) against signature or hmac (exactly one) and\n"
     "answers valid. Takes the same options as sign/<name> and hmac/<name>\n"
     "(hash_algorithm, prehashed, signature_algorithm, marshaling_algorithm,\n"
     "salt_length, context) and batch_input."},
    {"verify/{name}/{algorithm}", "Verify a signature or HMAC with the hash algorithm in the path.",
     "POST checks input (base64) against signature or hmac as on\n"
     "verify/<name>, using the hash algorithm named in the path, and answers\n"
     "valid."},
};

}  // namespace

logical::EngineHelp TransitBackend::Help() const { return {kDescription, kRoutes}; }

}  // namespace coffer::engines::transit
