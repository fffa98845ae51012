/*
 * src/vendors/registry.c: the registry of wire formats (see registry.h).
 * To support a new API: a wire file defining its gw_wire_ops and a row in
 * gw_wires (and the format's name in the CHECK of aistudio.vendors); a new
 * vendor speaking a known API is a row of aistudio.vendors, nothing here.
 */
#include "vendors/registry.h"

#include <string.h>

static const gw_wire_ops *const gw_wires[GW_WIRE_COUNT] = {
    [GW_WIRE_OPENAI] = &gw_wire_openai, [GW_WIRE_ANTHROPIC] = &gw_wire_anthropic, [GW_WIRE_GOOGLE] = &gw_wire_google,
    [GW_WIRE_VERTEX] = &gw_wire_vertex, [GW_WIRE_OLLAMA] = &gw_wire_ollama,
};

const gw_wire_ops *gw_wire_get(gw_wire w)
{
    return w >= 0 && w < GW_WIRE_COUNT ? gw_wires[w] : gw_wires[GW_WIRE_OPENAI];
}

const gw_wire_ops *gw_wire_of(const gw_vendor *v)
{
    if (v == NULL || v->wire_format == NULL)
        return NULL;
    for (int i = 0; i < GW_WIRE_COUNT; i++)
        if (strcmp(v->wire_format, gw_wires[i]->name) == 0)
            return gw_wires[i];
    return NULL;
}

int gw_vendor_supported(const gw_vendor *v)
{
    return gw_wire_of(v) != NULL;
}

int gw_vendor_openai_errors(const gw_vendor *v)
{
    const gw_wire_ops *w = gw_wire_of(v);
    return w != NULL && w->openai_errors;
}
