/*
 * regress/unit/test_errmap.c: the SQLSTATE → HTTP table and the
 * OpenAI-shaped JSON error body.
 */
#include "base/codec.c"
#include "base/errmap.c"
#include "base/buf.c"
#include "base/json.c"

#include "tap.h"

int main(void)
{
    char body[512], small[16], msg[256];
    gw_json_field f[1] = {{"error", {0}}};
    gw_json_field ef[3] = {{"message", {0}}, {"type", {0}}, {"code", {0}}};
    char err[GW_ERR_LEN];
    int n;

    is_int(gw_errmap_status("42501"), 403, "42501 insufficient_privilege -> 403");
    is_int(gw_errmap_status("22023"), 400, "22023 invalid_parameter_value -> 400");
    is_int(gw_errmap_status("22P02"), 400, "22P02 invalid_text_representation -> 400");
    is_int(gw_errmap_status("23505"), 409, "23505 unique_violation -> 409");
    is_int(gw_errmap_status("23503"), 409, "23503 foreign_key_violation -> 409");
    is_int(gw_errmap_status("P0002"), 404, "P0002 no_data_found -> 404");
    is_int(gw_errmap_status("55000"), 503, "55000 object_not_in_prerequisite_state -> 503");
    is_int(gw_errmap_status("55P03"), 429, "55P03 lock_not_available (login throttled) -> 429");
    is_int(gw_errmap_status("57P01"), 503, "57P01 admin_shutdown -> 503");
    is_int(gw_errmap_status("08006"), 503, "08006 connection_failure -> 503");
    is_int(gw_errmap_status("28000"), 401, "28000 invalid_authorization -> 401");
    is_int(gw_errmap_status("XX000"), 500, "XX000 internal_error -> 500");
    is_int(gw_errmap_status("42883"), 500, "42883 undefined_function -> 500 (others)");
    is_int(gw_errmap_status("P0001"), 500, "P0001 raise_exception -> 500");
    is_int(gw_errmap_status(NULL), 500, "NULL -> 500");
    is_int(gw_errmap_status("22"), 500, "a bare class is not a SQLSTATE -> 500");
    is_int(gw_errmap_status("2200000"), 500, "overlong SQLSTATE -> 500");

    is_str(gw_errmap_type(400), "invalid_request_error", "400 type");
    is_str(gw_errmap_type(401), "authentication_error", "401 type");
    is_str(gw_errmap_type(403), "permission_error", "403 type");
    is_str(gw_errmap_type(429), "rate_limit_error", "429 type");
    is_str(gw_errmap_type(502), "upstream_error", "502 type");
    is_str(gw_errmap_type(500), "server_error", "500 type");
    is_str(gw_errmap_reason(413), "Payload Too Large", "413 reason");

    n = gw_errmap_body_fixed(body, sizeof(body), 403, "app \"x\" may not use llm\n'gpt'", "42501");
    ok(n > 0 && (size_t)n == strlen(body), "body written, length returned");
    ok(gw_json_scan_object(body, (size_t)n, 8, f, 1, err) == 0 && f[0].value.type == GW_JSON_OBJECT,
       "body is a JSON object with an error object");
    ok(gw_json_scan_object(f[0].value.ptr, f[0].value.len, 8, ef, 3, err) == 0, "error object parses");
    ok(gw_json_get_string(&ef[0].value, msg, sizeof(msg), NULL) == 0 &&
           strcmp(msg, "app \"x\" may not use llm\n'gpt'") == 0,
       "message round-trips through escaping");
    ok(gw_json_get_string(&ef[1].value, msg, sizeof(msg), NULL) == 0 && strcmp(msg, "permission_error") == 0,
       "type is permission_error");
    ok(gw_json_get_string(&ef[2].value, msg, sizeof(msg), NULL) == 0 && strcmp(msg, "42501") == 0, "code set");

    n = gw_errmap_body_fixed(body, sizeof(body), 404, NULL, NULL);
    is_str(body, "{\"error\":{\"message\":\"Not Found\",\"type\":\"invalid_request_error\",\"code\":null}}",
           "NULL message uses the reason, NULL code is null");
    is_int(gw_errmap_body_fixed(small, sizeof(small), 500, "too long for the buffer", NULL), -1,
           "too small a buffer -> -1, no overflow");
    return tap_done();
}
