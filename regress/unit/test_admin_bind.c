/*
 * regress/unit/test_admin_bind.c: how the REST API turns a request into
 * statement parameters (src/admin/admin_bind.c): body fields by type,
 * required and null fields, unknown fields (also escaped, long or nested
 * ones), arrays, malformed JSON and its depth limit, path ids, query
 * parameters and paging. The database side is stubbed: these tests stop at
 * the parameters; the end-to-end test (regress/e2e/admin-api.test.mjs)
 * covers the rest.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/json.c"
#include "base/url.c"
#include "admin/admin_bind.c"

#include <stdlib.h>

#include "tap.h"

/* ---- stubs of admin_req.c: record the error response ---- */

static int last_status;
static char last_code[64];
static char last_message[GW_ERR_LEN];
static void *allocs[4096];
static int nallocs;

void *gw_admin_alloc(gw_admin_req *r, size_t n) {
  (void)r;
  if (nallocs == (int)(sizeof(allocs) / sizeof(allocs[0])))
    return NULL;
  return allocs[nallocs++] = calloc(1, n + 1);
}

char *gw_admin_strndup(gw_admin_req *r, const char *s, size_t n) {
  char *d = gw_admin_alloc(r, n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *gw_admin_printf(gw_admin_req *r, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  return gw_admin_strndup(r, tmp, strlen(tmp));
}

int gw_admin_send_error(gw_admin_req *r, int status, const char *message,
                        const char *code) {
  r->status = last_status = status;
  snprintf(last_code, sizeof(last_code), "%s", code != NULL ? code : "");
  snprintf(last_message, sizeof(last_message), "%s",
           message != NULL ? message : "");
  return status;
}

/* ---- fixtures ---- */

static const gw_admin_field body_fields[] = {
    {"name", GW_AT_STRING, 5, GW_AF_REQUIRED, 0, 8},
    {"count", GW_AT_INT, 6, 0, 0, 0},
    {"price", GW_AT_NUMBER, 7, 0, 0, 0},
    {"active", GW_AT_BOOL, 8, 0, 0, 0},
    {"tags", GW_AT_STRINGS, 9, 0, 0, 0},
    {"ids", GW_AT_INTS, 10, 0, 0, 0},
    {"config", GW_AT_OBJECT, 11, 0, 0, 0},
    {"budget", GW_AT_NUMBER, 12, 0, 13, 0},
    {NULL, 0, 0, 0, 0, 0}};
static const gw_admin_field query_fields[] = {
    {"search", GW_AT_STRING, 14, 0, 0, 0},
    {"owner_id", GW_AT_INT, 15, 0, 0, 0},
    {"open", GW_AT_BOOL, 16, 0, 0, 0},
    {NULL, 0, 0, 0, 0, 0}};
static const gw_admin_op op = {.method = "PATCH",
                               .path = "things/{id}/parts/{name}",
                               .result = GW_AR_OBJECT,
                               .body = body_fields,
                               .query = query_fields,
                               .flags = GW_AO_PAGED};

static struct mg_request_info ri;
static gw_admin_req req;

/* Binds a request: path segments "things/<id>/parts/<name>", query string,
 * body. */
static int bind(const char *id, const char *name, const char *query,
                const char *body) {
  static char idbuf[64], namebuf[300];
  memset(&req, 0, sizeof(req));
  memset(&ri, 0, sizeof(ri));
  ri.request_method = "PATCH";
  ri.query_string = query;
  req.ri = &ri;
  req.op = &op;
  snprintf(idbuf, sizeof(idbuf), "%s", id);
  snprintf(namebuf, sizeof(namebuf), "%s", name);
  req.segs[0] = "things";
  req.segs[1] = idbuf;
  req.segs[2] = "parts";
  req.segs[3] = namebuf;
  req.nsegs = 4;
  req.body = body != NULL ? (char *)body : NULL;
  req.body_len = body != NULL ? strlen(body) : 0;
  last_status = 0;
  last_code[0] = last_message[0] = '\0';
  return gw_admin_bind(&req);
}

#define P(n) req.params[n]

int main(void) {
  /* a full body */
  is_int(bind("42", "wheel", NULL,
              "{\"name\":\"caf\\u00e9\",\"count\":-7,\"price\":1.5e2,"
              "\"active\":false,\"tags\":[\"a\",\"b\"],"
              "\"ids\":[1, "
              "2,3],\"config\":{\"x\":[1,{\"y\":null}]},\"budget\":null}"),
         0, "a valid body binds");
  is_str(P(1), "42", "$1 is the path id");
  is_str(P(2), "wheel", "$2 is the path name");
  is_str(P(5), "caf\xc3\xa9", "strings are decoded");
  is_str(P(6), "-7", "integers");
  is_str(P(7), "1.5e2", "numbers keep their text");
  is_str(P(8), "false", "booleans");
  is_str(P(9), "[\"a\",\"b\"]", "string arrays as JSON text");
  is_str(P(10), "[1, 2,3]", "integer arrays as JSON text");
  is_str(P(11), "{\"x\":[1,{\"y\":null}]}", "objects as JSON text");
  ok(P(12) == NULL, "null leaves the value NULL");
  is_str(P(13), "true", "and sets its null flag");
  is_str(P(3), "50", "default page size");
  is_str(P(4), "0", "first page");

  /* absent optional fields stay NULL; an empty body is fine without required
   * fields */
  is_int(bind("1", "x", NULL, "{\"name\":\"n\"}"), 0,
         "only the required field");
  ok(P(6) == NULL && P(13) == NULL, "absent fields are NULL");

  /* refusals, each a 400 naming the field */
#define REFUSE(body, code, needle)                                             \
  do {                                                                         \
    is_int(bind("1", "x", NULL, body), -1, "refused: %s", body);               \
    is_int(last_status, 400, "  400");                                         \
    is_str(last_code, code, "  code %s", code);                                \
    has_str(last_message, needle, "  message names it");                       \
  } while (0)
  REFUSE("{\"name\":\"n\",\"colour\":\"red\"}", "unknown_field",
         "unknown field \"colour\"");
  REFUSE("{\"name\":\"n\",\"n\\u0061me2\":1}", "unknown_field", "\"name2\"");
  REFUSE("{\"colour\":{\"name\":\"n\"},\"name\":\"n\"}", "unknown_field",
         "\"colour\"");
  REFUSE("{\"name\":\"n\","
         "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1}",
         "unknown_field", "unknown field \"xxxx");
  REFUSE("{\"name\":5}", "invalid_type", "\"name\" must be a string");
  REFUSE("{\"name\":null}", "invalid_type", "\"name\" must not be null");
  REFUSE("{}", "missing_field", "\"name\"");
  REFUSE("{\"name\":\"123456789\"}", "too_long", "\"name\" is too long");
  REFUSE("{\"name\":\"n\",\"count\":1.5}", "invalid_type",
         "\"count\" must be an integer");
  REFUSE("{\"name\":\"n\",\"count\":\"1\"}", "invalid_type", "\"count\"");
  REFUSE("{\"name\":\"n\",\"count\":99999999999999999999}", "invalid_type",
         "\"count\"");
  REFUSE("{\"name\":\"n\",\"price\":\"1\"}", "invalid_type",
         "\"price\" must be a number");
  REFUSE("{\"name\":\"n\",\"active\":1}", "invalid_type",
         "\"active\" must be true or false");
  REFUSE("{\"name\":\"n\",\"tags\":[\"a\",1]}", "invalid_type",
         "\"tags\" must be an array of strings");
  REFUSE("{\"name\":\"n\",\"tags\":\"a\"}", "invalid_type", "\"tags\"");
  REFUSE("{\"name\":\"n\",\"ids\":[1,\"2\"]}", "invalid_type",
         "\"ids\" must be an array of integers");
  REFUSE("{\"name\":\"n\",\"ids\":[1.0]}", "invalid_type", "\"ids\"");
  REFUSE("{\"name\":\"n\",\"config\":[]}", "invalid_type",
         "\"config\" must be an object");
  REFUSE("{\"name\":\"a\\u0000b\"}", "invalid_value", "NUL");
  REFUSE("{\"name\":\"n\"", "invalid_json", "invalid JSON");
  REFUSE("[{\"name\":\"n\"}]", "invalid_json", "JSON object");
  REFUSE("{\"name\":\"n\",\"name\":\"m\"}", "invalid_json", "more than once");
  REFUSE("{\"name\":\"n\"} x", "invalid_json", "trailing");
  {
    char deep[400];
    size_t n =
        (size_t)snprintf(deep, sizeof(deep), "{\"name\":\"n\",\"config\":");
    for (int i = 0; i < 40; i++)
      deep[n++] = '[';
    for (int i = 0; i < 40; i++)
      deep[n++] = ']';
    snprintf(deep + n, sizeof(deep) - n, "}");
    REFUSE(deep, "invalid_json", "nested deeper than 32");
  }

  /* path ids */
  is_int(bind("abc", "x", NULL, NULL), -1, "a non-numeric id is refused");
  is_str(last_code, "invalid_id", "  invalid_id");
  is_int(bind("0", "x", NULL, NULL), -1, "0 is not an id");
  is_int(bind("-1", "x", NULL, NULL), -1, "negative ids are refused");
  is_int(bind("007", "x", NULL, NULL), -1, "leading zeros are refused");
  is_int(bind("9223372036854775808", "x", NULL, NULL), -1,
         "ids beyond int64 are refused");
  is_int(bind("9223372036854775807", "x", NULL, "{\"name\":\"n\"}"), 0,
         "the largest id binds");
  is_int(bind("1", "a\x01", NULL, NULL), -1,
         "control characters in a path name are refused");

  /* query parameters */
  is_int(bind("1", "x",
              "search=a%20b+c&owner_id=12&open=true&page=3&page_size=20",
              "{\"name\":\"n\"}"),
         0, "query parameters bind");
  is_str(P(14), "a b c", "values are URL-decoded");
  is_str(P(15), "12", "integer query parameter");
  is_str(P(16), "true", "boolean query parameter");
  is_str(P(3), "20", "page_size is the limit");
  is_str(P(4), "40", "page 3 of 20 starts at 40");
  is_int(bind("1", "x", "colour=red", "{\"name\":\"n\"}"), -1,
         "an unknown query parameter is refused");
  is_str(last_code, "unknown_parameter", "  unknown_parameter");
  has_str(last_message, "\"colour\"", "  named");
  is_int(bind("1", "x", "owner_id=x", "{\"name\":\"n\"}"), -1,
         "a non-integer owner_id is refused");
  is_int(bind("1", "x", "open=maybe", "{\"name\":\"n\"}"), -1,
         "a non-boolean is refused");
  is_int(bind("1", "x", "search=a&search=b", "{\"name\":\"n\"}"), -1,
         "a repeated parameter is refused");
  is_int(bind("1", "x", "page_size=0", "{\"name\":\"n\"}"), -1,
         "page_size 0 is refused");
  is_int(bind("1", "x", "page_size=1001", "{\"name\":\"n\"}"), -1,
         "page_size above 1000 is refused");
  is_int(bind("1", "x", "page=0", "{\"name\":\"n\"}"), -1, "page 0 is refused");
  is_int(bind("1", "x", "page=1000001", "{\"name\":\"n\"}"), -1,
         "pages beyond a million are refused");
  is_int(bind("1", "x", "page=2x", "{\"name\":\"n\"}"), -1,
         "a malformed page is refused");
  is_int(bind("1", "x", "&&search=&", "{\"name\":\"n\"}"), 0,
         "empty pieces are skipped");
  is_str(P(14), "", "an empty value is the empty string");

  for (int i = 0; i < nallocs; i++)
    free(allocs[i]);
  return tap_done();
}
