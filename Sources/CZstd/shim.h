// libzstd from Debian's libzstd-dev: streaming compression of repodata.
#include <zstd.h>
