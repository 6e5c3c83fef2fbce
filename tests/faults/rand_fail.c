// LD_PRELOAD fault shim: once the file named by COFFER_RAND_FAIL_TRIGGER
// exists, OpenSSL's RAND_bytes / RAND_priv_bytes report failure and
// getrandom(2) fails with EIO, as when the kernel cannot give entropy.
// Before that, every call goes to the real function. Used by
// tests/integration/test_faults.py (compiled there with cc -shared).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static int Failing(void) {
  const char* trigger = getenv("COFFER_RAND_FAIL_TRIGGER");
  return trigger != NULL && access(trigger, F_OK) == 0;
}

int RAND_bytes(unsigned char* buf, int num) {
  static int (*real)(unsigned char*, int);
  if (Failing()) return 0;
  if (real == NULL) real = (int (*)(unsigned char*, int))dlsym(RTLD_NEXT, "RAND_bytes");
  return real(buf, num);
}

int RAND_priv_bytes(unsigned char* buf, int num) {
  static int (*real)(unsigned char*, int);
  if (Failing()) return 0;
  if (real == NULL) real = (int (*)(unsigned char*, int))dlsym(RTLD_NEXT, "RAND_priv_bytes");
  return real(buf, num);
}

ssize_t getrandom(void* buf, size_t len, unsigned int flags) {
  static ssize_t (*real)(void*, size_t, unsigned int);
  if (Failing()) {
    errno = EIO;
    return -1;
  }
  if (real == NULL) real = (ssize_t(*)(void*, size_t, unsigned int))dlsym(RTLD_NEXT, "getrandom");
  return real(buf, len, flags);
}
