/* error.c - status names and the thread-local last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char ck_last_error[512];

convkit_status_t ck_fail(convkit_status_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ck_last_error, sizeof ck_last_error, fmt, ap);
    va_end(ap);
    return status;
}

void ck_clear_error(void) { ck_last_error[0] = '\0'; }

const char *convkit_last_error(void) { return ck_last_error; }

const char *convkit_status_string(convkit_status_t status)
{
    switch (status) {
    case CONVKIT_SUCCESS: return "CONVKIT_SUCCESS: no error";
    case CONVKIT_ERROR_INVALID_ARGUMENT: return "CONVKIT_ERROR_INVALID_ARGUMENT: an argument is out of its legal range";
    case CONVKIT_ERROR_NULL_POINTER: return "CONVKIT_ERROR_NULL_POINTER: a required pointer is NULL";
    case CONVKIT_ERROR_SHAPE_MISMATCH: return "CONVKIT_ERROR_SHAPE_MISMATCH: sizes that must agree do not";
    case CONVKIT_ERROR_UNSUPPORTED_ISA: return "CONVKIT_ERROR_UNSUPPORTED_ISA: instruction set unknown or not supported by this CPU";
    case CONVKIT_ERROR_OUT_OF_MEMORY: return "CONVKIT_ERROR_OUT_OF_MEMORY: allocation failed";
    case CONVKIT_ERROR_OVERFLOW: return "CONVKIT_ERROR_OVERFLOW: a size computation overflows";
    case CONVKIT_ERROR_INDEX_OUT_OF_RANGE: return "CONVKIT_ERROR_INDEX_OUT_OF_RANGE: an index lies outside its plane";
    case CONVKIT_ERROR_WRONG_PLAN: return "CONVKIT_ERROR_WRONG_PLAN: the plan belongs to another operation";
    case CONVKIT_ERROR_STRUCT_SIZE: return "CONVKIT_ERROR_STRUCT_SIZE: struct_size is not a size this library accepts";
    case CONVKIT_ERROR_RESERVED_NONZERO: return "CONVKIT_ERROR_RESERVED_NONZERO: a reserved field is not zero";
    }
    return "unknown convkit status";
}
