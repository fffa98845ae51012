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

-- The rules of edge status (SECTION sync writes the columns they read).
-- pg_aistudio.edge_stale_after (default 15 min): how long an edge may stay
-- pending before it is stale.  (Read with a default, so that a session that
-- has not loaded the library yet gets the same answer.)
CREATE FUNCTION aistudio.edge_stale_after() RETURNS interval
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	AS $$ SELECT coalesce(nullif(current_setting('pg_aistudio.edge_stale_after', true), ''), '15min')::interval $$;

-- Connected: a hub holds the edge's stream and heard from it within three
-- heartbeat intervals.
CREATE FUNCTION aistudio.edge_is_connected(hub_id text, last_heartbeat timestamptz, connected_at timestamptz,
										   heartbeat_interval_s integer) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	AS $$ SELECT coalesce($1 IS NOT NULL AND greatest($2, $3) > now() - 3 * $4 * interval '1 second', false) $$;

-- The pending_since of an edge that now runs loaded while expected is the
-- namespace's checksum: NULL when it runs the expected snapshot (or
-- nothing yet), else the time it has been pending since (kept when it
-- already was, now otherwise).
CREATE FUNCTION aistudio.edge_pending_since(loaded text, expected text, pending_since timestamptz)
	RETURNS timestamptz
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	AS $$ SELECT CASE WHEN $1 IS NULL OR $1 = $2 THEN NULL ELSE coalesce($3, now()) END $$;

-- Edge status: unknown (no checksum reported yet), in_sync (the loaded
-- checksum is the namespace's expected one), pending (it differs), stale
-- (pending for longer than pg_aistudio.edge_stale_after); connected as
-- above.  The expected checksum is computed once per namespace.
CREATE VIEW aistudio.edge_status AS
	WITH expected AS MATERIALIZED (
		SELECT n.namespace, aistudio.snapshot_checksum(n.namespace) AS checksum
		  FROM (SELECT DISTINCT e.namespace FROM aistudio.edges e) n
	), knobs AS MATERIALIZED (
		SELECT aistudio.edge_stale_after() AS stale_after
	)
	SELECT e.edge_id, e.namespace, e.loaded_checksum, x.checksum AS expected_checksum, e.last_heartbeat,
		   CASE WHEN e.loaded_checksum IS NULL THEN 'unknown'
				WHEN e.loaded_checksum = x.checksum THEN 'in_sync'
				WHEN coalesce(e.pending_since, now()) <= now() - k.stale_after THEN 'stale'
				ELSE 'pending' END AS status,
		   e.version, e.registered_at, e.last_push_at,
		   aistudio.edge_is_connected(e.hub_id, e.last_heartbeat, e.connected_at, e.heartbeat_interval_s)
			 AS connected,
		   e.hub_id, e.last_metrics,
		   CASE WHEN e.loaded_checksum <> x.checksum THEN coalesce(e.pending_since, now()) END AS pending_since,
		   e.token_sha256 IS NOT NULL AS token_enrolled,
		   e.revoked_at IS NOT NULL AS revoked,
		   e.heartbeat_interval_s, e.connected_at, e.disconnected_at, e.enrolled_at, e.revoked_at
	  FROM aistudio.edges e
	  JOIN expected x ON x.namespace = e.namespace
	 CROSS JOIN knobs k;
COMMENT ON VIEW aistudio.edge_status IS 'Edges with their expected checksum, sync status and connection';

GRANT EXECUTE ON FUNCTION aistudio.snapshot(text), aistudio.snapshot_checksum(text),
	aistudio.snapshot_checksum_of(bytea) TO aistudio_gateway;
GRANT SELECT ON aistudio.edge_status TO aistudio_gateway;
-- (what the view calls runs with the caller's privileges)
GRANT EXECUTE ON FUNCTION aistudio.edge_stale_after(),
	aistudio.edge_is_connected(text, timestamptz, timestamptz, integer) TO aistudio_gateway;

