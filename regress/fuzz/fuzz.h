/*
 * regress/fuzz/fuzz.h: what every fuzz target shares: the libFuzzer entry
 * point's prototype and a reader that splits one input into NUL-separated
 * fields (a target that needs several strings takes them from one input).
 */
#ifndef GW_FUZZ_H
#define GW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Cuts input into at most max NUL-terminated fields (separated by '\0' in
 * the input; missing ones are ""). The copy lives in *owned (free it). */
static inline int gw_fuzz_fields(const uint8_t *data, size_t size, char **fields, int max, char **owned)
{
    char *c = malloc(size + 1);
    int n = 0;
    size_t start = 0;

    *owned = c;
    if (c == NULL)
        return -1;
    memcpy(c, data, size);
    c[size] = '\0';
    for (size_t i = 0; i <= size && n < max; i++) {
        if (i == size || c[i] == '\0') {
            fields[n++] = c + start;
            start = i + 1;
        }
    }
    for (int i = n; i < max; i++)
        fields[i] = c + size; /* "" */
    return n;
}

#endif
