/* version.c - the library's own version string. */
#include "internal.h"

#define CK_STR2(x) #x
#define CK_STR(x) CK_STR2(x)

const char *convkit_version(void)
{
    return CK_STR(CONVKIT_VERSION_MAJOR) "." CK_STR(CONVKIT_VERSION_MINOR) "." CK_STR(
        CONVKIT_VERSION_PATCH);
}
