// libxcrypt's <crypt.h>: crypt_rn() is re-entrant and never returns a "*0" failure token
// that could be mistaken for a hash; struct crypt_data is large, so callers heap-allocate it.
#include <crypt.h>
