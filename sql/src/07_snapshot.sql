-------------------------------------------------------------------------------
-- SECTION snapshot (src/snapshot.c)
-------------------------------------------------------------------------------
-- aistudio.snapshot(namespace): the protobuf aistudio.v1.Snapshot of a
-- namespace plus the global objects; aistudio.snapshot_checksum(namespace):
-- SHA-256 hex of the same without apps and sealed values.  Both are called
-- by gateways without an acting user; EXECUTE is the permission.
CREATE FUNCTION aistudio.snapshot(namespace text DEFAULT '') RETURNS bytea
	LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_snapshot';
COMMENT ON FUNCTION aistudio.snapshot(text) IS 'Configuration snapshot of a namespace (protobuf aistudio.v1.Snapshot)';

CREATE FUNCTION aistudio.snapshot_checksum(namespace text DEFAULT '') RETURNS text
	LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_snapshot_checksum';
COMMENT ON FUNCTION aistudio.snapshot_checksum(text) IS 'SHA-256 (hex) of the snapshot of a namespace without apps and sealed values';

-- aistudio.snapshot_checksum_of(snapshot): the checksum of snapshot bytes by
-- the same rule; how a gateway or an edge verifies what it received.
CREATE FUNCTION aistudio.snapshot_checksum_of(snapshot bytea) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'aistudio_snapshot_checksum_of';
COMMENT ON FUNCTION aistudio.snapshot_checksum_of(bytea) IS 'SHA-256 (hex) of serialized snapshot bytes without apps and sealed values (the snapshot_checksum rule); 22023 for bytes that are not a snapshot';

-- Edge sync status: in_sync (checksums equal, heartbeat younger than 90 s),
-- pending (checksums differ, heartbeat fresh), stale (heartbeat older than
-- 90 s), unknown (never heartbeated).  One checksum per namespace.
CREATE VIEW aistudio.edge_status AS
	WITH expected AS MATERIALIZED (
		SELECT n.namespace, aistudio.snapshot_checksum(n.namespace) AS checksum
		  FROM (SELECT DISTINCT e.namespace FROM aistudio.edges e) n
	)
	SELECT e.edge_id, e.namespace, e.loaded_checksum, x.checksum AS expected_checksum, e.last_heartbeat,
		   CASE WHEN e.last_heartbeat IS NULL THEN 'unknown'
				WHEN e.last_heartbeat < now() - interval '90 seconds' THEN 'stale'
				WHEN e.loaded_checksum IS NOT DISTINCT FROM x.checksum THEN 'in_sync'
				ELSE 'pending' END AS status,
		   e.version, e.registered_at, e.last_push_at
	  FROM aistudio.edges e
	  JOIN expected x ON x.namespace = e.namespace;
COMMENT ON VIEW aistudio.edge_status IS 'Edges with their expected checksum and sync status';

GRANT EXECUTE ON FUNCTION aistudio.snapshot(text), aistudio.snapshot_checksum(text),
	aistudio.snapshot_checksum_of(bytea) TO aistudio_gateway;
GRANT SELECT ON aistudio.edge_status TO aistudio_gateway;

