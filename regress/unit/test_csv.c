/*
 * regress/unit/test_csv.c: CSV fields (src/base/csv.c): plain text as it
 * is, quoting of commas, quotes, CR and LF and edge spaces, empty and NULL
 * fields, formula-looking text defused while numbers stay numbers, and a
 * full buffer reported.
 */
#include "base/buf.c"
#include "base/csv.c"

#include "tap.h"

static const char *field(const char *v)
{
    static char mem[256];
    gw_buf b;

    gw_buf_init_fixed(&b, mem, sizeof(mem) - 1);
    if (gw_csv_field(&b, v, v != NULL ? strlen(v) : 0) != 0)
        return "<failed>";
    mem[b.len] = '\0';
    return mem;
}

int main(void)
{
    is_str(field("gpt-4o"), "gpt-4o", "plain text as it is");
    is_str(field(""), "", "empty text: empty field");
    is_str(field(NULL), "", "NULL: empty field");
    is_str(field("a,b"), "\"a,b\"", "a comma: quoted");
    is_str(field("say \"hi\""), "\"say \"\"hi\"\"\"", "quotes: quoted and doubled");
    is_str(field("\""), "\"\"\"\"", "a lone quote");
    is_str(field("line1\nline2"), "\"line1\nline2\"", "LF: quoted, kept");
    is_str(field("a\r\nb"), "\"a\r\nb\"", "CRLF: quoted, kept");
    is_str(field(" padded "), "\" padded \"", "edge spaces: quoted");
    is_str(field("upstream_error: bad gateway"), "upstream_error: bad gateway", "inner space and colon: plain");
    is_str(field("=1+2"), "'=1+2", "a formula gets an apostrophe");
    is_str(field("@SUM(A1)"), "'@SUM(A1)", "@ too");
    is_str(field("+cmd"), "'+cmd", "+ text too");
    is_str(field("-cmd|' /C calc'!A0"), "'-cmd|' /C calc'!A0", "- text too");
    is_str(field("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"", "formula and quotes: both");
    is_str(field("\tx"), "'\tx", "a leading tab");
    is_str(field("-1.5"), "-1.5", "a negative number stays");
    is_str(field("+2"), "+2", "a signed number stays");
    is_str(field("-3e-7"), "-3e-7", "an exponent stays");
    is_str(field("-"), "'-", "a lone minus is text");
    is_str(field("-1e"), "'-1e", "a cut exponent is text");
    is_str(field("2026-12-07 06:50:22.1+00"), "2026-12-07 06:50:22.1+00", "a timestamp as it is");
    {
        char mem[4];
        gw_buf b;
        gw_buf_init_fixed(&b, mem, sizeof(mem));
        ok(gw_csv_field(&b, "\"abcdef\"", 8) != 0, "a full buffer is an error");
    }
    return tap_done();
}
