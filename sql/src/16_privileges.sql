-------------------------------------------------------------------------------
-- SECTION privileges (keep last)
-------------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA aistudio FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA aistudio FROM PUBLIC;
GRANT USAGE ON SCHEMA aistudio TO aistudio_gateway, aistudio_analyst;
