/*
 * src/vendors/registry.c: the registry of wire formats and the one mapping
 * from the product's vendor names to them (see registry.h). To support a
 * new API: a wire file defining its gw_wire_ops, a row in gw_wires; a new
 * vendor speaking a known API is one row in gw_vendor_defs (the lead will
 * carry that table in the snapshot).
 */
#include "vendors/registry.h"

#include <string.h>

static const gw_wire_ops *const gw_wires[GW_WIRE_COUNT] = {
    [GW_WIRE_OPENAI] = &gw_wire_openai,
    [GW_WIRE_ANTHROPIC] = &gw_wire_anthropic,
    [GW_WIRE_GOOGLE] = &gw_wire_google,
    [GW_WIRE_OLLAMA] = &gw_wire_ollama,
};

static const gw_vendor_def gw_vendor_defs[] = {
    {GW_VENDOR_OPENAI, "openai", GW_WIRE_OPENAI, GW_AUTH_BEARER, 0},
    {GW_VENDOR_ANTHROPIC, "anthropic", GW_WIRE_ANTHROPIC, GW_AUTH_X_API_KEY, 0},
    {GW_VENDOR_GOOGLE_AI, "google_ai", GW_WIRE_GOOGLE, GW_AUTH_GOOG_API_KEY, 0},
    {GW_VENDOR_VERTEX, "vertex", GW_WIRE_GOOGLE, GW_AUTH_BEARER, GW_VF_PROJECT_PATHS},
    {GW_VENDOR_HUGGINGFACE, "huggingface", GW_WIRE_OPENAI, GW_AUTH_BEARER, 0},
    {GW_VENDOR_OLLAMA, "ollama", GW_WIRE_OLLAMA, GW_AUTH_BEARER, 0},
};
#define GW_NVENDORS (sizeof(gw_vendor_defs) / sizeof(gw_vendor_defs[0]))

gw_vendor_id gw_vendor_parse(const char *name)
{
    if (name == NULL)
        return GW_VENDOR_UNKNOWN;
    for (size_t i = 0; i < GW_NVENDORS; i++)
        if (strcmp(name, gw_vendor_defs[i].name) == 0)
            return gw_vendor_defs[i].id;
    return GW_VENDOR_UNKNOWN;
}

const gw_vendor_def *gw_vendor_def_of(gw_vendor_id v)
{
    for (size_t i = 0; i < GW_NVENDORS; i++)
        if (gw_vendor_defs[i].id == v)
            return &gw_vendor_defs[i];
    return NULL;
}

const char *gw_vendor_name(gw_vendor_id v)
{
    const gw_vendor_def *d = gw_vendor_def_of(v);
    return d != NULL ? d->name : "unknown";
}

const gw_wire_ops *gw_wire_get(gw_wire w)
{
    return w >= 0 && w < GW_WIRE_COUNT ? gw_wires[w] : gw_wires[GW_WIRE_OPENAI];
}

const gw_wire_ops *gw_wire_of(gw_vendor_id v)
{
    const gw_vendor_def *d = gw_vendor_def_of(v);
    return gw_wire_get(d != NULL ? d->wire : GW_WIRE_OPENAI);
}

int gw_vendor_openai_errors(gw_vendor_id v)
{
    return gw_vendor_def_of(v) != NULL && gw_wire_of(v)->openai_errors;
}
