/*
 * regress/unit/test_json.c: the JSON writer (escaping, structure, overflow)
 * and the validating top-level field scanner (depth limit, malformed input,
 * escaped keys, duplicates, accessors).
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/json.c"

#include <stdlib.h>

#include "tap.h"

static int scan(const char *text, int depth, gw_json_field *f, size_t n, char *err)
{
    return gw_json_scan_object(text, strlen(text), depth, f, n, err);
}

static int valid(const char *text)
{
    char err[GW_ERR_LEN];
    return gw_json_validate(text, strlen(text), 64, err) == 0;
}

static char *nested(int depth, char open, char close)
{
    char *s = malloc((size_t)depth * 2 + 32);
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"a\":");
    for (int i = 0; i < depth - 1; i++)
        s[n++] = open;
    for (int i = 0; i < depth - 1; i++)
        s[n++] = close;
    s[n++] = '}';
    s[n] = '\0';
    return s;
}

int main(void)
{
    gw_buf b;
    gw_jw w;
    char mem[32], out[256], err[GW_ERR_LEN];
    size_t olen;
    int64_t iv;
    int bv;

    /* ---- writer ---- */
    gw_buf_init(&b, 0);
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "s");
    gw_jw_string(&w, "q\"b\\n\nt\tc\x01 \x7f");
    gw_jw_key(&w, "utf8");
    gw_jw_string(&w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    gw_jw_key(&w, "bad");
    gw_jw_string_n(&w, "a\xff" "b\xc3", 4);
    gw_jw_key(&w, "arr");
    gw_jw_array_begin(&w);
    gw_jw_int(&w, -9223372036854775807LL - 1);
    gw_jw_bool(&w, 1);
    gw_jw_null(&w);
    gw_jw_object_begin(&w);
    gw_jw_object_end(&w);
    gw_jw_array_end(&w);
    gw_jw_key(&w, "raw");
    gw_jw_raw(&w, "[1,2]", 5);
    gw_jw_key(&w, "nul");
    gw_jw_string(&w, NULL);
    gw_jw_object_end(&w);
    ok(gw_jw_finish(&w) == 0, "writer: document complete");
    is_str(b.data,
           "{\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001 \x7f\",\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
           "\"bad\":\"a\\ufffdb\\ufffd\",\"arr\":[-9223372036854775808,true,null,{}],\"raw\":[1,2],\"nul\":null}",
           "writer: escaping, UTF-8 kept, invalid bytes -> U+FFFD, commas");
    ok(gw_json_validate(b.data, b.len, 8, err) == 0, "writer output is valid JSON for our reader");
    gw_buf_free(&b);

    gw_buf_init_fixed(&b, mem, sizeof(mem));
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "message");
    gw_jw_string(&w, "this does not fit in thirty-two bytes");
    gw_jw_object_end(&w);
    ok(gw_jw_finish(&w) != 0 && b.failed, "fixed buffer overflow reported, not written past");

    gw_buf_init(&b, 0);
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "x");
    ok(gw_jw_finish(&w) != 0, "unbalanced document rejected");
    gw_jw_init(&w, &b);
    gw_jw_array_end(&w);
    ok(gw_jw_finish(&w) != 0, "closing nothing rejected");
    gw_buf_free(&b);

    gw_buf_init(&b, 16);
    ok(gw_buf_puts(&b, "0123456789abcdef") == 0 && gw_buf_puts(&b, "x") != 0 && b.failed,
       "growable buffer honours its limit");
    gw_buf_free(&b);
    gw_buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        gw_buf_printf(&b, "%04d", i);
    ok(!b.failed && b.len == 4000, "growable buffer grows");
    gw_buf_free(&b);

    /* ---- scanner: fields ---- */
    {
        gw_json_field f[5] = {{"model", {0}}, {"stream", {0}}, {"max_tokens", {0}}, {"stream_options", {0}},
                              {"missing", {0}}};
        const char *body = " {\"messages\":[{\"role\":\"user\",\"content\":\"hi \\\"model\\\"\",\"model\":\"inner\"}],"
                           "\"model\":\"gpt-4o\",\"stream\":true,\"max_tokens\":1024,"
                           "\"stream_options\":{\"include_usage\":true}}\n";
        ok(scan(body, 64, f, 5, err) == 0, "request body scans");
        ok(gw_json_get_string(&f[0].value, out, sizeof(out), &olen) == 0 && strcmp(out, "gpt-4o") == 0,
           "top-level model found (not the nested one)");
        ok(gw_json_get_bool(&f[1].value, &bv) == 0 && bv == 1, "stream true");
        ok(gw_json_get_int64(&f[2].value, &iv) == 0 && iv == 1024, "max_tokens 1024");
        is_int(f[3].value.type, GW_JSON_OBJECT, "stream_options is an object span");
        is_int(f[4].value.type, GW_JSON_ABSENT, "absent field is ABSENT");
        {
            gw_json_field so[1] = {{"include_usage", {0}}};
            ok(gw_json_scan_object(f[3].value.ptr, f[3].value.len, 8, so, 1, err) == 0 &&
                   gw_json_get_bool(&so[0].value, &bv) == 0 && bv == 1,
               "nested object scanned from its span: include_usage true");
        }
    }
    {
        gw_json_field f[1] = {{"model", {0}}};
        ok(scan("{\"mod\\u0065l\":\"sneaky\"}", 64, f, 1, err) == 0 &&
               gw_json_get_string(&f[0].value, out, sizeof(out), NULL) == 0 && strcmp(out, "sneaky") == 0,
           "escaped key \"mod\\u0065l\" is the model field");
        ok(scan("{\"model\":\"a\",\"model\":\"b\"}", 64, f, 1, err) != 0, "duplicate model rejected");
        has_str(err, "more than once", "duplicate error says so");
        ok(scan("{\"model\":\"a\",\"mod\\u0065l\":\"b\"}", 64, f, 1, err) != 0, "duplicate via escape rejected");
        ok(scan("{\"other\":1,\"other\":2}", 64, f, 1, err) == 0, "duplicates of unchosen fields tolerated");
        ok(scan("{}", 64, f, 1, err) == 0 && f[0].value.type == GW_JSON_ABSENT, "empty object");
        ok(scan("{\"model\":null}", 64, f, 1, err) == 0 && f[0].value.type == GW_JSON_NULL &&
               gw_json_get_string(&f[0].value, out, sizeof(out), NULL) != 0,
           "null model is not a string");
        ok(scan("{\"model\":\"gpt\\u0000x\"}", 64, f, 1, err) == 0 &&
               gw_json_get_string(&f[0].value, out, sizeof(out), NULL) == GW_JSON_STR_NUL,
           "string with \\u0000 refused by the accessor (GW_JSON_STR_NUL)");
        ok(scan("{\"model\":\"\\ud83d\\ude00 \\u00e9\\/\"}", 64, f, 1, err) == 0 &&
               gw_json_get_string(&f[0].value, out, sizeof(out), NULL) == 0 &&
               strcmp(out, "\xf0\x9f\x98\x80 \xc3\xa9/") == 0,
           "surrogate pair and escapes decoded to UTF-8");
        ok(scan("{\"model\":\"\\ud800x\"}", 64, f, 1, err) == 0 &&
               gw_json_get_string(&f[0].value, out, sizeof(out), NULL) == 0 && strcmp(out, "\xef\xbf\xbdx") == 0,
           "lone surrogate decoded as U+FFFD");
        ok(scan("{\"model\":\"0123456789\"}", 64, f, 1, err) == 0 &&
               gw_json_get_string(&f[0].value, out, 8, NULL) == GW_JSON_STR_TOO_LONG,
           "string longer than the output buffer refused (GW_JSON_STR_TOO_LONG)");
        ok(scan("{\"model\":null}", 64, f, 1, err) == 0 && gw_json_get_string(&f[0].value, out, sizeof(out), NULL) == -1,
           "not a string: -1");
    }

    /* ---- integers ---- */
    {
        gw_json_field f[1] = {{"n", {0}}};
        ok(scan("{\"n\":9223372036854775807}", 8, f, 1, err) == 0 && gw_json_get_int64(&f[0].value, &iv) == 0 &&
               iv == INT64_MAX,
           "INT64_MAX");
        ok(scan("{\"n\":-9223372036854775808}", 8, f, 1, err) == 0 && gw_json_get_int64(&f[0].value, &iv) == 0 &&
               iv == INT64_MIN,
           "INT64_MIN");
        ok(scan("{\"n\":9223372036854775808}", 8, f, 1, err) == 0 && gw_json_get_int64(&f[0].value, &iv) != 0,
           "INT64_MAX + 1 refused");
        ok(scan("{\"n\":1.5}", 8, f, 1, err) == 0 && gw_json_get_int64(&f[0].value, &iv) != 0,
           "fraction is not an integer");
        ok(scan("{\"n\":1e3}", 8, f, 1, err) == 0 && gw_json_get_int64(&f[0].value, &iv) != 0,
           "exponent is not an integer");
        ok(scan("{\"n\":\"5\"}", 8, f, 1, err) == 0 && gw_json_get_int64(&f[0].value, &iv) != 0 &&
               gw_json_get_bool(&f[0].value, &bv) != 0,
           "string is neither int nor bool");
    }

    /* ---- depth limit ---- */
    {
        gw_json_field f[1] = {{"a", {0}}};
        char *s = nested(64, '[', ']');
        ok(scan(s, 64, f, 1, err) == 0, "depth 64 accepted at limit 64");
        free(s);
        s = nested(65, '[', ']');
        ok(scan(s, 64, f, 1, err) != 0, "depth 65 rejected at limit 64");
        has_str(err, "deeper than 64", "error names the depth limit");
        free(s);
        s = nested(65, '{', '}');
        ok(scan(s, 64, f, 1, err) != 0, "nested objects count too (malformed or deep, rejected)");
        free(s);
        s = nested(200000, '[', ']');
        ok(scan(s, 100000, f, 1, err) != 0, "200000 levels rejected without exhausting the stack");
        free(s);
    }

    /* ---- malformed input ---- */
    {
        static const char *bad[] = {
            "",                          /* empty */
            "   ",                       /* blank */
            "[1,2]",                     /* not an object */
            "\"str\"",                   /* not an object */
            "{\"a\":1,}",                /* trailing comma */
            "{\"a\" 1}",                 /* missing colon */
            "{\"a\":1",                  /* unterminated object */
            "{\"a\":\"x}",               /* unterminated string */
            "{\"a\":\"x\ny\"}",          /* raw control character */
            "{\"a\":\"\\x\"}",           /* bad escape */
            "{\"a\":\"\\u12G4\"}",       /* bad \u escape */
            "{\"a\":01}",                /* leading zero */
            "{\"a\":1.}",                /* missing fraction digits */
            "{\"a\":-}",                 /* lone minus */
            "{\"a\":1e}",                /* missing exponent */
            "{\"a\":tru}",               /* truncated literal */
            "{\"a\":NaN}",               /* not JSON */
            "{a:1}",                     /* unquoted key */
            "{'a':1}",                   /* single quotes */
            "{\"a\":1} x",               /* trailing garbage */
            "{\"a\":1}{}",               /* two values */
            "{\"a\":\"\xff\"}",          /* invalid UTF-8 */
            "{\"a\":\"\xc0\xaf\"}",      /* overlong UTF-8 */
            "{\"a\":\"\xed\xa0\x80\"}",  /* UTF-8 encoded surrogate */
            "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
            "{\"a\":[1 2]}",             /* missing comma in array */
        };
        gw_json_field f[1] = {{"a", {0}}};
        int all_rejected = 1;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            if (scan(bad[i], 64, f, 1, err) == 0) {
                all_rejected = 0;
                diag("accepted malformed input #%zu: %s", i, bad[i]);
            }
        }
        ok(all_rejected, "all %zu malformed inputs rejected", sizeof(bad) / sizeof(bad[0]));
        scan("{\"a\":1,}", 64, f, 1, err);
        has_str(err, "at byte 7", "error names the byte offset");
        ok(gw_json_scan_object("{\"a\":1}", 3, 64, f, 1, err) != 0, "length is honoured (no read past len)");
        ok(gw_json_scan_object(NULL, 0, 64, f, 1, err) != 0, "NULL input rejected");
    }

    /* ---- validate any value ---- */
    ok(valid("[1,-2.5e+3,\"x\",true,false,null,{}]") && valid(" 0 ") && valid("\"\\u00e9\""),
       "validate accepts scalars and arrays");
    ok(!valid("[1,]") && !valid("{") && !valid("nul"), "validate rejects malformed values");

    return tap_done();
}
