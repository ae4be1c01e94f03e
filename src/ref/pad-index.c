/* pad-index.c - the coordinate map shared by the reference kernels for
 * padding modes (conv padding_mode and F.pad). */
#include "kernels.h"

int64_t ck_ref_pad_index(int64_t i, int64_t size, uint32_t mode)
{
    if (i >= 0 && i < size) return i;
    switch (mode) {
    case CONVKIT_PAD_REFLECT: /* edge not repeated: -1 -> 1, size -> size - 2 */
        return i < 0 ? -i : 2 * (size - 1) - i;
    case CONVKIT_PAD_REPLICATE:
        return i < 0 ? 0 : size - 1;
    case CONVKIT_PAD_CIRCULAR:
        return i < 0 ? i + size : i - size;
    default: /* zeros / constant */
        return -1;
    }
}
