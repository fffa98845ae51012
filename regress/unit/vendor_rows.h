/*
 * regress/unit/vendor_rows.h: the vendors as the extension ships them
 * (aistudio.vendors, sql/src/00_schema.sql), as snapshot rows for the unit
 * tests of the vendors layer — which takes them from the snapshot and has
 * no list of its own. Test data: the pg_regress test vendors.sql checks the
 * real table.
 */
#ifndef GW_TEST_VENDOR_ROWS_H
#define GW_TEST_VENDOR_ROWS_H

#include <string.h>

#include "model/snapshot.h"

static const gw_vendor test_vendor_rows[] = {
    {"anthropic", "anthropic", GW_KEY_HEADER_X_API_KEY, 1, 0},
    {"google_ai", "google", GW_KEY_HEADER_GOOG_API_KEY, 1, 1},
    {"huggingface", "openai", GW_KEY_HEADER_BEARER, 1, 1},
    {"ollama", "ollama", GW_KEY_HEADER_BEARER, 0, 1},
    {"openai", "openai", GW_KEY_HEADER_BEARER, 1, 1},
    {"vertex", "vertex", GW_KEY_HEADER_BEARER, 1, 1},
};

/* The row of a vendor name; NULL for an unknown one. */
static inline const gw_vendor *test_vendor(const char *name)
{
    for (size_t i = 0; i < sizeof(test_vendor_rows) / sizeof(test_vendor_rows[0]); i++)
        if (name != NULL && strcmp(test_vendor_rows[i].name, name) == 0)
            return &test_vendor_rows[i];
    return NULL;
}

#endif
