/*
 * regress/unit/test_proxy_route.c: the gateway's URL grammar and the
 * client-credential extraction (src/gateway/proxy_route.c): the four route
 * kinds, slugs, vendor paths kept as sent, dot segments and encoded
 * slashes refused, unknown routes; Bearer / x-api-key / x-goog-api-key /
 * ?key= in priority order, percent-decoding, empty and oversized keys.
 * Also the response head writer's framing helpers (src/gateway/proxy_io.c
 * gw_outbuf).
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/errmap.c"
#include "base/json.c"
#include "base/log.c"
#include "base/url.c"
#include "gateway/proxy_io.c"
#include "gateway/proxy_route.c"
#include "http/connguard.c"
#include "http/server.c"

#include "tap.h"

static void route_ok(const char *uri, gw_route_kind kind, const char *slug,
                     const char *path) {
  gw_route r;
  gw_route_status st = gw_route_parse(uri, &r);
  ok(st == GW_ROUTE_OK && r.kind == kind && strcmp(r.slug, slug) == 0 &&
         strcmp(r.path, path) == 0,
     "%s -> %s slug '%s' path '%s'", uri, gw_route_kind_name(kind), slug, path);
  if (st == GW_ROUTE_OK && (r.kind != kind || strcmp(r.slug, slug) != 0 ||
                            strcmp(r.path, path) != 0))
    diag("got %s '%s' '%s'", gw_route_kind_name(r.kind), r.slug, r.path);
}

static void route_status(const char *uri, gw_route_status want,
                         const char *why) {
  gw_route r;
  is_int(gw_route_parse(uri, &r), want, "%s: %s", uri, why);
}

typedef struct cred_case {
  const char *name;
  gw_header h[4];
  size_t nh;
  const char *query;
  gw_cred_source want_src;
  const char *want_key;
} cred_case;

int main(void) {
  char key[64];
  size_t klen = 0;

  /* ---- routes ---- */
  route_ok("/llm/rest/gpt4/v1/chat/completions", GW_ROUTE_REST, "gpt4",
           "/v1/chat/completions");
  route_ok("/llm/stream/claude-3/v1/messages", GW_ROUTE_STREAM, "claude-3",
           "/v1/messages");
  route_ok(
      "/llm/call/gemini/v1beta/models/gemini-1.5-pro:streamGenerateContent",
      GW_ROUTE_CALL, "gemini",
      "/v1beta/models/gemini-1.5-pro:streamGenerateContent");
  route_ok(
      "/llm/call/vertex/v1/projects/p/locations/us/publishers/google/models/"
      "m:generateContent",
      GW_ROUTE_CALL, "vertex",
      "/v1/projects/p/locations/us/publishers/google/models/m:generateContent");
  route_ok("/llm/rest/ollama/api/chat", GW_ROUTE_REST, "ollama", "/api/chat");
  route_ok("/llm/rest/ollama", GW_ROUTE_REST, "ollama", "/");
  route_ok("/llm/rest/ollama/", GW_ROUTE_REST, "ollama", "/");
  route_ok("/llm/rest/hf/v1/models/org%40name", GW_ROUTE_REST, "hf",
           "/v1/models/org%40name");
  route_ok("/llm/rest/x/a/.hidden/b..c/...", GW_ROUTE_REST, "x",
           "/a/.hidden/b..c/...");
  route_ok("/ai/my-llm/v1/chat/completions", GW_ROUTE_AI, "my-llm",
           "/v1/chat/completions");
  route_ok("/ai/my-llm/v1/chat/completions/", GW_ROUTE_AI, "my-llm",
           "/v1/chat/completions");

  route_status("/", GW_ROUTE_NOT_FOUND, "root is no route");
  route_status("/llm", GW_ROUTE_NOT_FOUND, "no kind");
  route_status("/llm/", GW_ROUTE_NOT_FOUND, "no kind");
  route_status("/llm/rest", GW_ROUTE_NOT_FOUND, "no slug");
  route_status("/llm/rest/", GW_ROUTE_NOT_FOUND, "empty slug");
  route_status("/llm/other/x/v1", GW_ROUTE_NOT_FOUND, "unknown kind");
  route_status("/llm/RESTx/x/v1", GW_ROUTE_NOT_FOUND,
               "kind must match exactly");
  route_status("/ai/x/v1/embeddings", GW_ROUTE_NOT_FOUND,
               "/ai only has chat completions");
  route_status("/ai/x", GW_ROUTE_NOT_FOUND, "/ai without a path");
  route_status("/ai//v1/chat/completions", GW_ROUTE_NOT_FOUND,
               "/ai with an empty slug");
  route_status("/aix/x/v1/chat/completions", GW_ROUTE_NOT_FOUND,
               "prefix must be /ai/");
  route_status("/v1/chat/completions", GW_ROUTE_NOT_FOUND,
               "a bare vendor path");
  route_status("/llm/rest/a%2fb/v1", GW_ROUTE_NOT_FOUND,
               "encoded slug characters");
  {
    char longslug[300] = "/llm/rest/";
    memset(longslug + 10, 'a', 200);
    strcpy(longslug + 210, "/v1");
    route_status(longslug, GW_ROUTE_NOT_FOUND, "overlong slug");
  }
  route_status("/llm/rest/x/../admin", GW_ROUTE_BAD_PATH, "'..' segment");
  route_status("/llm/rest/x/v1/..", GW_ROUTE_BAD_PATH, "trailing '..'");
  route_status("/llm/rest/x/./v1", GW_ROUTE_BAD_PATH, "'.' segment");
  route_status("/llm/rest/x/%2e%2e/admin", GW_ROUTE_BAD_PATH, "encoded '..'");
  route_status("/llm/rest/x/.%2E/admin", GW_ROUTE_BAD_PATH,
               "half-encoded '..'");
  route_status("/llm/rest/x/a%2fb", GW_ROUTE_BAD_PATH, "encoded slash");
  route_status("/llm/rest/x/a%5Cb", GW_ROUTE_BAD_PATH, "encoded backslash");
  route_status("/llm/rest/x/a\\b", GW_ROUTE_BAD_PATH, "backslash");
  route_status("/llm/rest/x/a%00b", GW_ROUTE_BAD_PATH, "encoded NUL");
  route_status("/llm/rest/x/a%zzb", GW_ROUTE_BAD_PATH, "bad escape");
  route_status("/llm/rest/x/a b", GW_ROUTE_BAD_PATH, "space");
  route_status("/llm/rest/x/a\tb", GW_ROUTE_BAD_PATH, "control character");
  route_status(NULL, GW_ROUTE_NOT_FOUND, "NULL uri");
  is_str(gw_route_kind_name(GW_ROUTE_STREAM), "stream", "kind names");

  /* ---- credentials ---- */
  {
    static const cred_case cases[] = {
        {"bearer",
         {{"Authorization", "Bearer sk-abc"}},
         1,
         NULL,
         GW_CRED_SRC_BEARER,
         "sk-abc"},
        {"bearer, any case, extra spaces",
         {{"authorization", "  bearer   sk-abc  "}},
         1,
         NULL,
         GW_CRED_SRC_BEARER,
         "sk-abc"},
        {"x-api-key",
         {{"X-Api-Key", "ant-key"}},
         1,
         NULL,
         GW_CRED_SRC_X_API_KEY,
         "ant-key"},
        {"x-goog-api-key",
         {{"x-goog-api-key", "goog"}},
         1,
         NULL,
         GW_CRED_SRC_GOOG_API_KEY,
         "goog"},
        {"?key=",
         {{"Accept", "*/*"}},
         1,
         "alt=sse&key=qk%2B1+2",
         GW_CRED_SRC_QUERY_KEY,
         "qk+1 2"},
        {"?key= first param",
         {{NULL, NULL}},
         0,
         "key=abc&x=1",
         GW_CRED_SRC_QUERY_KEY,
         "abc"},
        {"bearer wins over x-api-key",
         {{"x-api-key", "second"}, {"Authorization", "Bearer first"}},
         2,
         NULL,
         GW_CRED_SRC_BEARER,
         "first"},
        {"x-api-key wins over query",
         {{"x-api-key", "hdr"}},
         1,
         "key=q",
         GW_CRED_SRC_X_API_KEY,
         "hdr"},
        {"Basic auth is not a key, x-api-key used",
         {{"Authorization", "Basic dXNlcjpwYXNz"}, {"x-api-key", "k"}},
         2,
         NULL,
         GW_CRED_SRC_X_API_KEY,
         "k"},
        {"empty bearer falls through to x-goog-api-key",
         {{"Authorization", "Bearer   "}, {"x-goog-api-key", "g"}},
         2,
         NULL,
         GW_CRED_SRC_GOOG_API_KEY,
         "g"},
        {"BearerX is not Bearer",
         {{"Authorization", "Bearerxyz"}},
         1,
         NULL,
         GW_CRED_SRC_NONE,
         ""},
        {"none", {{"Accept", "*/*"}}, 1, "alt=sse", GW_CRED_SRC_NONE, ""},
        {"empty x-api-key", {{"x-api-key", ""}}, 1, NULL, GW_CRED_SRC_NONE, ""},
        {"empty ?key=", {{NULL, NULL}}, 0, "key=", GW_CRED_SRC_NONE, ""},
        {"bad escape in ?key=",
         {{NULL, NULL}},
         0,
         "key=%zz",
         GW_CRED_SRC_NONE,
         ""},
        {"encoded NUL in ?key=",
         {{NULL, NULL}},
         0,
         "key=a%00b",
         GW_CRED_SRC_NONE,
         ""},
        {"truncated escape in ?key=",
         {{NULL, NULL}},
         0,
         "key=ab%4",
         GW_CRED_SRC_NONE,
         ""},
        {"apikey= is not key=",
         {{NULL, NULL}},
         0,
         "apikey=zzz",
         GW_CRED_SRC_NONE,
         ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
      const cred_case *c = &cases[i];
      gw_cred_source src =
          gw_route_credential(c->h, c->nh, c->query, key, sizeof(key), &klen);
      ok(src == c->want_src && strcmp(key, c->want_key) == 0 &&
             klen == strlen(c->want_key),
         "credential: %s", c->name);
      if (src != c->want_src || strcmp(key, c->want_key) != 0)
        diag("got source %d key '%s'", (int)src, key);
    }
  }
  {
    /* a key that does not fit is refused, not truncated */
    char big[200];
    gw_header h = {"x-api-key", big};
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    is_int(gw_route_credential(&h, 1, NULL, key, sizeof(key), &klen),
           GW_CRED_SRC_NONE,
           "oversized key refused (never truncated into another key)");
    is_str(key, "", "nothing left in the key buffer");
  }
  {
    char out[8];
    size_t n;
    ok(gw_url_decode("a%41+", 5, GW_URL_PLUS_SPACE, out, sizeof(out), &n) == 0 &&
           strcmp(out, "aA ") == 0 && n == 3,
       "query decode: %%41 and +");
    ok(gw_url_decode("abcdefgh", 8, GW_URL_PLUS_SPACE, out, sizeof(out), &n) == -1,
       "query decode: too long for the buffer");
    ok(gw_url_decode("%4", 2, GW_URL_PLUS_SPACE, out, sizeof(out), &n) == -1,
       "query decode: truncated escape");
  }

  /* ---- the out buffer with its head gap ---- */
  {
    gw_outbuf o;
    memset(&o, 0, sizeof(o));
    ok(gw_outbuf_start(&o, 16) == 0 && gw_outbuf_pending(&o) == 0,
       "outbuf starts empty with its gap");
    ok(gw_outbuf_append(&o, "0123456789", 10) == 0 &&
           gw_outbuf_pending(&o) == 10,
       "append within the limit");
    ok(gw_outbuf_append(&o, "0123456789", 10) == -1 && o.overflow,
       "append past the limit overflows");
    ok(gw_outbuf_start(&o, 1 << 20) == 0 && !o.overflow &&
           gw_outbuf_pending(&o) == 0,
       "restart clears it");
    {
      char chunk[10000];
      memset(chunk, 'x', sizeof(chunk));
      for (int i = 0; i < 20; i++)
        gw_outbuf_append(&o, chunk, sizeof(chunk));
      ok(gw_outbuf_pending(&o) == 200000 && o.cap >= o.len + 8,
         "growth keeps room for the chunk trailer");
    }
    gw_outbuf_trim(&o, 4096);
    ok(o.data == NULL && o.cap == 0, "trim frees a large buffer");
    gw_outbuf_free(&o);
    ok(gw_http_header_has_token("Keep-Alive", "keep-alive") &&
           gw_http_header_has_token("TE, close", "close") &&
           !gw_http_header_has_token("closed", "close"),
       "Connection header tokens");
  }
  return tap_done();
}
