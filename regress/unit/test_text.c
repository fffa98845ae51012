/*
 * regress/unit/test_text.c: the text of prompts, answers and stream units
 * per dialect (src/pipeline/text.c): which strings are parts, with which
 * role and channel; the end markers of stream units; write-back re-encodes
 * only the replaced strings (every other byte, unrelated fields and
 * escapes included, stays), keeps the SSE / NDJSON / JSON array framing,
 * and gives valid JSON for any replacement (quotes, control characters,
 * invalid UTF-8); bad JSON is an error, no text is no error.
 */
#include "base/buf.c"
#include "base/codec.c"
#include "base/json.c"
#include "base/vjson.c"
#include "pipeline/text.c"

#include "tap.h"

static gw_text t;
static char err[GW_ERR_LEN];

/* The parts of t as "role:channel:text|…". */
static const char *parts(void)
{
    static char out[4096];
    out[0] = '\0';
    for (size_t i = 0; i < t.n; i++) {
        char one[600];
        snprintf(one, sizeof(one), "%s%s:%d:%s%s", i ? "|" : "", t.parts[i].role, t.parts[i].channel,
                 gw_text_str(&t, &t.parts[i]), t.parts[i].whole ? "(whole)" : "");
        strncat(out, one, sizeof(out) - strlen(out) - 1);
    }
    return out;
}

/* Replaces every part with "<X>" (or text) and returns the written result. */
static const char *rewrite_all(const char *text)
{
    static gw_buf b;
    gw_buf_free(&b);
    gw_buf_init(&b, 0);
    for (size_t i = 0; i < t.n; i++)
        gw_text_replace(&t, i, text, strlen(text));
    if (gw_text_write(&t, &b) != 0)
        return "(write failed)";
    return gw_buf_cstr(&b);
}

static void prompt(gw_dialect d, const char *body, const char *want, const char *what)
{
    int rc = gw_text_prompt(&t, d, body, strlen(body), err);
    ok(rc == 0, "%s: read (%s)", what, rc == 0 ? "ok" : err);
    is_str(parts(), want, "%s: parts", what);
}

static void answer(gw_dialect d, const char *body, const char *want, const char *what)
{
    int rc = gw_text_answer(&t, d, body, strlen(body), err);
    ok(rc == 0, "%s: read (%s)", what, rc == 0 ? "ok" : err);
    is_str(parts(), want, "%s: parts", what);
}

static void unit(gw_dialect d, gw_proc_mode m, const char *u, const char *want, int end, const char *what)
{
    int rc = gw_text_unit(&t, d, m, u, strlen(u), err);
    ok(rc == 0, "%s: read (%s)", what, rc == 0 ? "ok" : err);
    is_str(parts(), want, "%s: parts", what);
    is_int(t.end, end, "%s: end marker", what);
}

int main(void)
{
    gw_text_init(&t);

    /* ---- prompts ---- */
    prompt(GW_DIALECT_OPENAI_CHAT,
           "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief\"},"
           "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi \\u00e9\"},"
           "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:x\"}},{\"type\":\"text\",\"text\":\"two\"}]},"
           "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]}]}",
           "system:0:Be brief|user:0:Hi \xc3\xa9|user:0:two", "openai chat: string and content parts");
    is_str(rewrite_all("X"),
           "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"X\"},"
           "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"X\"},"
           "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:x\"}},{\"type\":\"text\",\"text\":\"X\"}]},"
           "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]}]}",
           "openai chat: write-back changes only the text strings");
    prompt(GW_DIALECT_OPENAI_COMPLETIONS, "{\"prompt\":[\"a\",\"b\"],\"model\":\"x\"}", "user:0:a|user:0:b",
           "completions: prompt strings");
    prompt(GW_DIALECT_OPENAI_COMPLETIONS, "{\"prompt\":\"one\"}", "user:0:one", "completions: prompt string");
    prompt(GW_DIALECT_OPENAI_RESPONSES,
           "{\"instructions\":\"sys\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"q\"}]},"
           "{\"role\":\"assistant\",\"content\":\"a\"}]}",
           "system:0:sys|user:0:q|assistant:0:a", "responses: instructions and input items");
    prompt(GW_DIALECT_OPENAI_RESPONSES, "{\"input\":\"plain\"}", "user:0:plain", "responses: input string");
    prompt(GW_DIALECT_TGI, "{\"inputs\":\"tgi text\",\"parameters\":{}}", "user:0:tgi text", "tgi: inputs");
    prompt(GW_DIALECT_ANTHROPIC,
           "{\"system\":[{\"type\":\"text\",\"text\":\"S\"}],\"messages\":[{\"role\":\"user\",\"content\":\"U\"},"
           "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t\",\"content\":\"R\"},"
           "{\"type\":\"text\",\"text\":\"V\"}]}],\"max_tokens\":5}",
           "system:0:S|user:0:U|tool:0:R|user:0:V", "anthropic: system blocks, messages, tool results");
    prompt(GW_DIALECT_ANTHROPIC, "{\"system\":\"plain\",\"messages\":[]}", "system:0:plain",
           "anthropic: system string");
    prompt(GW_DIALECT_GOOGLE,
           "{\"systemInstruction\":{\"parts\":[{\"text\":\"S\"}]},\"contents\":[{\"role\":\"user\",\"parts\":"
           "[{\"text\":\"A\"},{\"inlineData\":{}},{\"text\":\"B\"}]},{\"role\":\"model\",\"parts\":[{\"text\":\"C\"}]}]}",
           "system:0:S|user:0:A|user:0:B|model:0:C", "google: systemInstruction and contents");
    prompt(GW_DIALECT_GOOGLE, "{\"system_instruction\":{\"parts\":[{\"text\":\"s\"}]},\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}",
           "system:0:s|user:0:x", "google: system_instruction, content without a role");
    prompt(GW_DIALECT_OLLAMA_CHAT, "{\"model\":\"l\",\"messages\":[{\"role\":\"user\",\"content\":\"hey\"}]}",
           "user:0:hey", "ollama chat");
    prompt(GW_DIALECT_OLLAMA_GENERATE, "{\"model\":\"l\",\"prompt\":\"P\",\"system\":\"S\"}", "system:0:S|user:0:P",
           "ollama generate");
    prompt(GW_DIALECT_NONE, "{\"input\":\"embed me\"}", "", "no dialect: no parts");
    prompt(GW_DIALECT_OPENAI_CHAT, "", "", "an empty body: no parts");
    ok(gw_text_prompt(&t, GW_DIALECT_OPENAI_CHAT, "{\"messages\":[", 13, err) == -1 && err[0] != '\0',
       "a body that is not JSON: an error (%s)", err);

    /* write-back keeps escapes elsewhere and encodes any replacement */
    {
        const char *body = "{\"a\":\"\\u0041\\n\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"z\":1.50}";
        gw_buf b;
        prompt(GW_DIALECT_OPENAI_CHAT, body, "user:0:x", "escapes around");
        gw_buf_init(&b, 0);
        gw_text_replace(&t, 0, "q\"\\\n\x01\xff", 6);
        ok(gw_text_write(&t, &b) == 0, "write-back with quotes, controls and an invalid byte");
        is_str(gw_buf_cstr(&b), "{\"a\":\"\\u0041\\n\",\"messages\":[{\"role\":\"user\",\"content\":\"q\\\"\\\\\\n\\u0001\\ufffd\"}],\"z\":1.50}",
               "only the replaced string changed, escaped; other bytes as they were");
        ok(gw_json_validate(b.data, b.len, 64, err) == 0, "the result is valid JSON");
        gw_buf_free(&b);
        prompt(GW_DIALECT_OPENAI_CHAT, body, "user:0:x", "read again");
        gw_buf_init(&b, 0);
        gw_text_write(&t, &b);
        is_str(gw_buf_cstr(&b), body, "nothing replaced: the same bytes");
        ok(!gw_text_changed(&t), "and nothing changed");
        gw_buf_free(&b);
    }
    /* system after messages in the document: parts are written in source order */
    prompt(GW_DIALECT_ANTHROPIC, "{\"messages\":[{\"role\":\"user\",\"content\":\"m\"}],\"system\":\"s\"}",
           "system:0:s|user:0:m", "anthropic: system read first");
    is_str(rewrite_all("Z"), "{\"messages\":[{\"role\":\"user\",\"content\":\"Z\"}],\"system\":\"Z\"}",
           "written back in source order");
    {
        const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"\\u00e9\\u00e8 caf\\u00e9\"}]}";
        prompt(GW_DIALECT_OPENAI_CHAT, body, "user:0:\xc3\xa9\xc3\xa8 caf\xc3\xa9", "escaped unicode decoded");
        is_int(gw_text_chars(&t), 7, "seven characters");
        is_int(gw_text_bytes(&t), 10, "ten bytes");
    }

    /* ---- whole answers ---- */
    answer(GW_DIALECT_OPENAI_CHAT,
           "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"A\"}},"
           "{\"index\":1,\"message\":{\"content\":null,\"refusal\":\"no\"}}],\"usage\":{}}",
           "assistant:0:A|assistant:1:no", "openai answer: content and refusal per choice");
    answer(GW_DIALECT_OPENAI_COMPLETIONS, "{\"choices\":[{\"text\":\"T\",\"index\":0}]}", "assistant:0:T",
           "completions answer");
    answer(GW_DIALECT_OPENAI_RESPONSES,
           "{\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"R\"}]}]}",
           "assistant:0:R", "responses answer");
    answer(GW_DIALECT_TGI, "[{\"generated_text\":\"G\"}]", "assistant:0:G", "tgi answer (array)");
    answer(GW_DIALECT_ANTHROPIC,
           "{\"content\":[{\"type\":\"text\",\"text\":\"one\"},{\"type\":\"tool_use\",\"input\":{}},"
           "{\"type\":\"text\",\"text\":\"two\"}]}",
           "assistant:0:one|assistant:2:two", "anthropic answer: text blocks");
    answer(GW_DIALECT_GOOGLE,
           "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"g\"}],\"role\":\"model\"},\"index\":0}]}",
           "assistant:0:g", "google answer");
    answer(GW_DIALECT_OLLAMA_CHAT, "{\"message\":{\"role\":\"assistant\",\"content\":\"o\"},\"done\":true}",
           "assistant:0:o", "ollama chat answer");
    answer(GW_DIALECT_OLLAMA_GENERATE, "{\"response\":\"r\",\"done\":true}", "assistant:0:r",
           "ollama generate answer");

    /* ---- stream units ---- */
    unit(GW_DIALECT_OPENAI_CHAT, GW_PROC_SSE,
         "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"He\"},\"finish_reason\":null}]}\n\n",
         "assistant:0:He", 0, "openai chunk");
    is_str(rewrite_all("X"),
           "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"X\"},\"finish_reason\":null}]}\n\n",
           "openai chunk written back with its SSE framing");
    unit(GW_DIALECT_OPENAI_CHAT, GW_PROC_SSE,
         "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n", "", 1,
         "openai finish chunk: no text, end");
    unit(GW_DIALECT_OPENAI_CHAT, GW_PROC_SSE, "data: [DONE]\n\n", "", 1, "[DONE]: end");
    ok(t.done_marker, "[DONE] is the end marker");
    unit(GW_DIALECT_OPENAI_CHAT, GW_PROC_AI_SSE, ": keep-alive\n\n", "", 0, "a comment: nothing");
    unit(GW_DIALECT_ANTHROPIC, GW_PROC_SSE,
         "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"A\"}}\n\n",
         "assistant:1:A", 0, "anthropic text delta on block 1");
    is_str(rewrite_all("B"),
           "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"B\"}}\n\n",
           "anthropic event written back with its event line");
    unit(GW_DIALECT_ANTHROPIC, GW_PROC_SSE,
         "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n",
         "", 0, "anthropic tool input delta: not text");
    unit(GW_DIALECT_ANTHROPIC, GW_PROC_SSE,
         "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
         "assistant:0:", 0, "anthropic block start");
    ok(t.opens, "…opens its channel");
    unit(GW_DIALECT_ANTHROPIC, GW_PROC_SSE,
         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n", "", 1,
         "anthropic block stop: end");
    unit(GW_DIALECT_ANTHROPIC, GW_PROC_SSE, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", "", 1,
         "anthropic message stop: end");
    unit(GW_DIALECT_GOOGLE, GW_PROC_SSE,
         "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"g1\"}],\"role\":\"model\"},\"index\":0}]}\r\n\r\n",
         "assistant:0:g1", 0, "google SSE chunk");
    unit(GW_DIALECT_GOOGLE, GW_PROC_JSON_ARRAY,
         "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"first\"}]},\"index\":0}]}", "assistant:0:first", 0,
         "google array: the first element");
    is_str(rewrite_all("F"), "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"F\"}]},\"index\":0}]}",
           "google array element written back after its bracket");
    unit(GW_DIALECT_GOOGLE, GW_PROC_JSON_ARRAY,
         ",\r\n{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"last\"}]},\"finishReason\":\"STOP\",\"index\":0}]}",
         "assistant:0:last", 1, "google array: a later element with finishReason");
    is_str(rewrite_all("L"),
           ",\r\n{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"L\"}]},\"finishReason\":\"STOP\",\"index\":0}]}",
           "written back after its separator");
    unit(GW_DIALECT_GOOGLE, GW_PROC_JSON_ARRAY, "]", "", 0, "google array: the closing bracket");
    unit(GW_DIALECT_OLLAMA_CHAT, GW_PROC_NDJSON,
         "{\"model\":\"l\",\"message\":{\"role\":\"assistant\",\"content\":\"n\"},\"done\":false}\n", "assistant:0:n", 0,
         "ollama NDJSON line");
    is_str(rewrite_all("N"), "{\"model\":\"l\",\"message\":{\"role\":\"assistant\",\"content\":\"N\"},\"done\":false}\n",
           "written back with its newline");
    unit(GW_DIALECT_OLLAMA_GENERATE, GW_PROC_NDJSON, "{\"response\":\"\",\"done\":true}\n", "assistant:0:", 1,
         "ollama last line: end");
    unit(GW_DIALECT_OPENAI_RESPONSES, GW_PROC_SSE,
         "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"content_index\":0,\"delta\":\"d\"}\n\n",
         "assistant:0:d", 0, "responses delta event");
    unit(GW_DIALECT_OPENAI_RESPONSES, GW_PROC_SSE,
         "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"output_index\":0,\"content_index\":0,\"text\":\"all\"}\n\n",
         "assistant:0:all(whole)", 1, "responses done event: the whole text");
    unit(GW_DIALECT_TGI, GW_PROC_SSE, "data:{\"token\":{\"id\":1,\"text\":\" x\"},\"generated_text\":null}\n\n",
         "assistant:0: x", 0, "tgi token");
    unit(GW_DIALECT_TGI, GW_PROC_SSE,
         "data:{\"token\":{\"id\":2,\"text\":\"y\"},\"generated_text\":\"all x y\"}\n\n",
         "assistant:0:y|assistant:1000000:all x y(whole)", 1, "tgi last event: token and the whole text");
    /* several data lines: joined, written back as one */
    unit(GW_DIALECT_OPENAI_CHAT, GW_PROC_SSE,
         "event: x\ndata: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"m\"}}]}\n\n", "assistant:0:m", 0,
         "an event with two data lines");
    is_str(rewrite_all("M"), "event: x\ndata: {\"choices\":[{\"index\":0,\n\"delta\":{\"content\":\"M\"}}]}\n\n",
           "written back as one data line (the JSON keeps its newline)");
    ok(gw_text_unit(&t, GW_DIALECT_OPENAI_CHAT, GW_PROC_SSE, "data: {bad\n\n", 12, err) == -1,
       "an event whose data is not JSON: an error");
    unit(GW_DIALECT_OPENAI_CHAT, GW_PROC_AI_JSON, "{\"choices\":[{\"message\":{\"content\":\"w\"}}]}", "assistant:0:w", 0,
         "a JSON mode unit is the whole answer");

    gw_text_free(&t);
    return tap_done();
}
