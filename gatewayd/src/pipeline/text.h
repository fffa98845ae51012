/*
 * src/pipeline/text.h: the text of a request or of its answer, read the same
 * way whatever the vendor, and written back in the same format. A content
 * filter sees a list of text parts (with their roles); when it changes one,
 * the body (or stream frame) is rebuilt with only those JSON strings
 * re-encoded: every other byte, unrelated fields included, stays as it was.
 *
 * What is read, per dialect (vendors/vendor.h says which applies):
 *   prompts  OpenAI chat messages[].content (a string or [{type:text,text}]),
 *            completions' prompt (string or strings), the Responses API's
 *            instructions and input (string, or items with content string
 *            or [{type:input_text,text}]), TGI's inputs, Anthropic's
 *            system (string or blocks) and messages[].content (string or
 *            [{type:text,text}]), Google's systemInstruction (or
 *            system_instruction) and contents[].parts[].text, Ollama's
 *            messages[].content, and generate's system and prompt.
 *   answers  the JSON answer of each (choices[].message.content and
 *            .refusal, choices[].text, output[].content[].text,
 *            generated_text, content[].text, candidates[].content.parts[].text,
 *            message.content, response), and the units of its stream: an
 *            SSE event (its data lines), an NDJSON line, or an element of
 *            a streamed JSON array with the separator before it.
 * Tool calls, images and other non-text parts are not text: they are left
 * alone. A body that is not valid JSON has no parts (-1 with err).
 *
 * Stream units: each text part carries its channel (the choice, candidate
 * or content block it continues) so a redactor can follow one text across
 * units; a part that repeats the whole answer (TGI's generated_text, the
 * Responses API's output_text.done) is marked whole. t->end says that the
 * unit closes its channel or the answer (finish_reason, content_block_stop,
 * message_stop, finishReason, done, [DONE], response.completed, …).
 *
 * Pure code (base/ only): no I/O, no locks; a gw_text is used by one thread.
 */
#ifndef GW_PIPELINE_TEXT_H
#define GW_PIPELINE_TEXT_H

#include <stddef.h>

#include "base/buf.h"
#include "base/common.h"
#include "vendors/vendor.h"

#define GW_TEXT_ROLE_MAX 16

typedef struct gw_text_part {
    size_t off, len;               /* the decoded text: t->arena.data + off, len bytes (NUL after it) */
    char role[GW_TEXT_ROLE_MAX];   /* system, user, assistant, tool, model, … ("" when the format has none) */
    int channel;                   /* answers: the choice / candidate / content block index; prompts: 0 */
    int whole;                     /* stream units: the whole answer so far, not a continuation */
    size_t at, span;               /* the JSON string literal in t->src (quotes included) */
    /* write-back: a replacement text (repl_len bytes at t->repl.data + repl_off) when replaced */
    int replaced;
    size_t repl_off, repl_len;
} gw_text_part;

typedef struct gw_text {
    gw_dialect dialect;
    gw_text_part *parts;
    size_t n, cap;
    gw_buf arena; /* the decoded texts */
    gw_buf repl;  /* replacement texts */
    /* the JSON the parts point into: the caller's body or unit, or (an SSE
     * event with several data lines) the joined data in t->joined */
    const char *src;
    size_t src_len;
    gw_buf joined;
    /* stream units: the bytes around the JSON (SSE "event: …\ndata: " and
     * the blank line; the "," of a JSON array element) */
    const char *unit;
    size_t unit_len;
    size_t json_at; /* where the JSON starts in the unit (single data line) */
    int multi_data; /* the JSON came from several data lines (rebuilt as one) */
    int end;        /* the unit ends a channel or the answer */
    int opens;      /* the unit opens a channel (Anthropic's content_block_start): not a continuation */
    int done_marker; /* the unit is data: [DONE] (or another end marker without JSON) */
} gw_text;

void gw_text_init(gw_text *t);
void gw_text_reset(gw_text *t);
void gw_text_free(gw_text *t);

/* The text parts of a request body. 0 (no parts for GW_DIALECT_NONE or a
 * body without text), or -1 with err for a body that is not valid JSON. */
int gw_text_prompt(gw_text *t, gw_dialect d, const char *body, size_t len, char err[GW_ERR_LEN]);
/* The text parts of a whole JSON answer. */
int gw_text_answer(gw_text *t, gw_dialect d, const char *body, size_t len, char err[GW_ERR_LEN]);
/* The text parts of one unit of a streamed answer framed as mode (SSE,
 * NDJSON, JSON array element; the AI modes are OpenAI chat SSE). A unit
 * without JSON (a comment, [DONE], the closing "]") has no parts. */
int gw_text_unit(gw_text *t, gw_dialect d, gw_proc_mode mode, const char *unit, size_t len, char err[GW_ERR_LEN]);

static inline const char *gw_text_str(const gw_text *t, const gw_text_part *p)
{
    return t->arena.data + p->off;
}

/* Sets part i's replacement (any bytes; invalid UTF-8 becomes U+FFFD when
 * written). 0, or -1 when out of memory. */
int gw_text_replace(gw_text *t, size_t i, const char *text, size_t len);
/* 1 when some part is replaced. */
int gw_text_changed(const gw_text *t);
/*
 * Writes the source again into out (appended) with every replaced part's
 * JSON string re-encoded: the body for gw_text_prompt / gw_text_answer, the
 * whole unit (SSE framing, NDJSON newline, array separator kept) for
 * gw_text_unit. 0, or -1 when out failed.
 */
int gw_text_write(const gw_text *t, gw_buf *out);

/* Total bytes of text in the parts (the max_prompt filter's count is in
 * characters: gw_text_chars). */
size_t gw_text_bytes(const gw_text *t);
/* Characters (UTF-8 code points; an invalid byte counts as one) of the parts. */
size_t gw_text_chars(const gw_text *t);

#endif
