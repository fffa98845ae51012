/*
 * regress/fuzz/fuzz_json.c: the JSON readers on arbitrary bytes:
 * gw_json_scan_object (the request-body scanner, with the fields the
 * vendors ask for) and gw_json_validate (base/json.c), then, on what
 * validated, every navigation of base/vjson.c: member and element
 * iteration to the bottom, dotted paths, string decoding (also into small
 * buffers), integers and booleans, and copying members into a rewritten
 * object (which must validate again).
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/json.c"
#include "base/vjson.c"

#include "fuzz.h"

static void gw_fuzz_walk(const gw_json_value *v, int depth, gw_buf *scratch)
{
    gw_vj_iter it;
    gw_json_value key, val;
    char small[8], big[512];
    int64_t i64;
    int b;

    if (depth > 70)
        abort(); /* the reader allows 64 levels: deeper is a bug */
    switch (v->type) {
    case GW_JSON_OBJECT:
        gw_vj_iter_init(&it, v);
        while (gw_vj_next_member(&it, &key, &val)) {
            (void)gw_vj_key_is(&key, "model");
            (void)gw_vj_str_copy(&key, small, sizeof(small));
            gw_fuzz_walk(&val, depth + 1, scratch);
        }
        break;
    case GW_JSON_ARRAY:
        gw_vj_iter_init(&it, v);
        while (gw_vj_next_elem(&it, &val))
            gw_fuzz_walk(&val, depth + 1, scratch);
        (void)gw_vj_array_empty(v);
        break;
    case GW_JSON_STRING: {
        size_t n = 0;
        int rc = gw_json_get_string(v, big, sizeof(big), &n);
        if (rc == 0 && (n >= sizeof(big) || big[n] != '\0' || memchr(big, '\0', n) != NULL))
            abort(); /* a decoded string is NUL-free and terminated */
        (void)gw_json_get_string(v, small, sizeof(small), NULL);
        (void)gw_vj_str_copy(v, small, sizeof(small));
        gw_buf_reset(scratch);
        (void)gw_vj_str_append(v, scratch);
        break;
    }
    default:
        (void)gw_json_get_int64(v, &i64);
        (void)gw_json_get_bool(v, &b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    gw_json_field f[] = {{"model", {0}},    {"stream", {0}},   {"messages", {0}}, {"max_tokens", {0}},
                         {"stream_options", {0}}, {"contents", {0}}, {"usage", {0}}};
    char err[GW_ERR_LEN];
    gw_json_value root, v;
    gw_buf scratch, out;
    int64_t i64;
    int count = 0;

    (void)gw_json_scan_object(text, size, GW_JSON_DEFAULT_MAX_DEPTH, f, sizeof(f) / sizeof(f[0]), err);
    (void)gw_json_scan_object(text, size, 4, f, 2, err);
    (void)gw_json_validate(text, size, 8, err);
    if (gw_vj_parse(text, size, &root, err) != 0)
        return 0;
    gw_buf_init(&scratch, 0);
    gw_buf_init(&out, 0);
    gw_fuzz_walk(&root, 0, &scratch);
    (void)gw_vj_path(&root, "usage.prompt_tokens_details.cached_tokens", &v);
    (void)gw_vj_int(&root, "usage.prompt_tokens", &i64);
    (void)gw_vj_get(&root, "model", &v);
    if (root.type == GW_JSON_OBJECT) {
        static const char *const skip[] = {"model", "stream"};
        gw_buf_append(&out, "{", 1);
        gw_vj_copy_members(&root, skip, 2, &out, &count);
        gw_buf_append(&out, "}", 1);
        if (!out.failed && gw_json_validate(out.data, out.len, GW_JSON_DEFAULT_MAX_DEPTH + 1, err) != 0)
            abort(); /* a rewritten object must still be JSON */
    }
    gw_buf_free(&scratch);
    gw_buf_free(&out);
    return 0;
}
