// libarchive from Debian's libarchive-dev: reading .conda and .tar.bz2 packages.
#include <archive.h>
#include <archive_entry.h>
