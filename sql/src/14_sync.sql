-------------------------------------------------------------------------------
-- SECTION sync: the hub of hub and edge (src/sync.c, src/sealbox.c)
-------------------------------------------------------------------------------
-- Every decision of the control plane is here; the gRPC server and client
-- of gatewayd (gatewayd/src/sync) translate bytes and call these functions
-- (docs/sql-api/sync.md).
--
-- The hub (the database admins configure):
--   identity      enroll_edge, revoke_edge, edge_authenticate, edge_key
--   connection    edge_register, edge_heartbeats, edge_disconnected, edge_sweep
--   status        the view edge_status (SECTION snapshot), list_edges/get_edge
--                 (SECTION sessions), list_edge_events, edge_metrics
--   push          push_config, push_targets, push_progress, get_push, list_pushes
--   serving       edge_resolve_credential, ingest_edge_events, edge_lease
-- The edge side (what an edge keeps in its own database) is SECTION edge
-- (sql/src/15_edge.sql).
--
-- Expected checksum and status.  An edge runs the snapshot of its namespace
-- (its objects and the global ones); the namespace's expected checksum is
-- aistudio.snapshot_checksum(namespace).  namespace_checksums keeps the last
-- one seen per namespace that has edges: a statement trigger on the tables
-- the checksum covers (sync_config_changed, src/sync.c) recomputes it after
-- every change, and heartbeats check it too.  When it changes, the change
-- is recorded (event config_changed) and the edges that ran the previous
-- snapshot become pending from that moment (edges.pending_since); an edge
-- stays pending, however many changes follow, until it reports the expected
-- checksum.  Changes never push by themselves: an admin pushes
-- (push_config).
--
-- Lock order: a namespace_checksums row before edges rows, everywhere
-- (sync_expected runs before an edge's row is locked); the sweep skips
-- locked edges.  Leases of one app or LLM serialise on the advisory lock
-- (1095324501, hashtext(subject:id)).
--
-- Notifications (delivered at commit):
--   aistudio_push        '<push_id>'                       push_config
--   aistudio_edge        'enrolled:<id>', 'revoked:<id>', 'deleted:<id>'
--                        (a hub drops that edge's stream and its cached
--                        authentication)
--   aistudio_invalidate  'cred:<sha256 hex>', 'app:<id>'   a credential
--                        revoked or deleted; an app changed, deleted or
--                        its owner deactivated (hubs send Invalidate)

-------------------------------------------------------------------------------
-- Tables
-------------------------------------------------------------------------------
-- The expected checksum last seen of each namespace that has edges.
CREATE TABLE aistudio.namespace_checksums (
	namespace  text PRIMARY KEY REFERENCES aistudio.namespaces (name) ON DELETE CASCADE,
	checksum   text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
	changed_at timestamptz NOT NULL DEFAULT now()
);

-- The sync audit trail, readable by admins (list_edge_events); kept 30 days.
CREATE TABLE aistudio.edge_events (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL DEFAULT now(),
	edge_id   text,						-- NULL: a namespace's event, or an invalid edge id
	namespace text,
	event     text NOT NULL CHECK (event IN ('enrolled', 'revoked', 'deleted', 'connected', 'disconnected',
											 'config_changed', 'push', 'ack', 'push_failed', 'out_of_sync',
											 'stale', 'auth_failed')),
	detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX edge_events_at_idx ON aistudio.edge_events (at);
CREATE INDEX edge_events_edge_idx ON aistudio.edge_events (edge_id, id);

-- The metrics of each edge's last 60 heartbeats (a ring: slot = seq % 60,
-- seq = edges.metrics_seq when it was written).
CREATE TABLE aistudio.edge_metrics (
	edge_id text NOT NULL REFERENCES aistudio.edges (edge_id) ON DELETE CASCADE,
	slot    integer NOT NULL CHECK (slot BETWEEN 0 AND 59),
	seq     bigint NOT NULL,
	at      timestamptz NOT NULL,
	metrics jsonb NOT NULL,
	PRIMARY KEY (edge_id, slot)
);

-- Refused authentications of the last minutes, for the rate limit.
CREATE TABLE aistudio.edge_auth_failures (
	at      timestamptz NOT NULL DEFAULT now(),
	edge_id text NOT NULL,
	peer    text NOT NULL DEFAULT ''
);
CREATE INDEX edge_auth_failures_edge_idx ON aistudio.edge_auth_failures (edge_id, at);
CREATE INDEX edge_auth_failures_peer_idx ON aistudio.edge_auth_failures (peer, at);
CREATE INDEX edge_auth_failures_at_idx ON aistudio.edge_auth_failures (at);

-- Pushes (kept 30 days) and the progress of each edge they reached.
CREATE TABLE aistudio.pushes (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	namespace text REFERENCES aistudio.namespaces (name) ON DELETE CASCADE,	-- NULL = all
	pushed_by bigint,					-- the acting user; NULL = a DBA
	pushed_at timestamptz NOT NULL DEFAULT now(),
	targets   integer NOT NULL DEFAULT 0
);
CREATE INDEX pushes_at_idx ON aistudio.pushes (pushed_at);

CREATE TABLE aistudio.push_targets (
	push_id    bigint NOT NULL REFERENCES aistudio.pushes (id) ON DELETE CASCADE,
	edge_id    text NOT NULL REFERENCES aistudio.edges (edge_id) ON DELETE CASCADE,
	namespace  text NOT NULL,
	phase      text NOT NULL DEFAULT 'signalled' CHECK (phase IN ('signalled', 'pulling', 'applied', 'failed')),
	checksum   text,
	reason     text,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (push_id, edge_id)
);
CREATE INDEX push_targets_edge_idx ON aistudio.push_targets (edge_id);

-------------------------------------------------------------------------------
-- C helpers (src/sync.c); internal, not executable by the gateway
-------------------------------------------------------------------------------
-- A new token for an edge ('aie_' + 43 base64url characters of 32 random
-- bytes), its SHA-256 (hex) and its edge key sealed under the master key
-- with AAD 'edge:' || edge_id.  The token exists only in the result.
CREATE FUNCTION aistudio.edge_credentials_new(edge_id text, OUT token text, OUT token_sha256 text,
											  OUT key_id text, OUT nonce bytea, OUT ciphertext bytea)
	LANGUAGE C STRICT VOLATILE AS 'MODULE_PATHNAME', 'aistudio_edge_credentials_new';

-- Constant-time comparison of two token hashes (64 hex digits each).
CREATE FUNCTION aistudio.edge_token_matches(stored text, presented text) RETURNS boolean
	LANGUAGE C STRICT IMMUTABLE AS 'MODULE_PATHNAME', 'aistudio_edge_token_matches';

-- The edge key an edge derives from the token it authenticates with
-- (HKDF-SHA256, src/sealbox.c): how to check what enroll_edge sealed.
CREATE FUNCTION aistudio.derive_edge_key(token text, edge_id text) RETURNS bytea
	LANGUAGE C STRICT IMMUTABLE AS 'MODULE_PATHNAME', 'aistudio_derive_edge_key';

-- open_value for binary values (an edge key): the plaintext as bytea.
CREATE FUNCTION aistudio.open_bytes(aad text, key_id text, nonce bytea, ciphertext bytea) RETURNS bytea
	LANGUAGE C STRICT VOLATILE AS 'MODULE_PATHNAME', 'aistudio_open_bytes';

-- What an edge materialises from a snapshot: its namespace, vendors and
-- prices, as JSON (22023 for bytes that are not a snapshot).
CREATE FUNCTION aistudio.snapshot_decode(snapshot bytea) RETURNS jsonb
	LANGUAGE C STRICT IMMUTABLE AS 'MODULE_PATHNAME', 'aistudio_snapshot_decode';

-------------------------------------------------------------------------------
-- Checks and the sync state (internal)
-------------------------------------------------------------------------------
CREATE FUNCTION aistudio.check_checksum(checksum text, what text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF checksum IS NOT NULL AND checksum <> '' AND checksum !~ '^[0-9a-f]{64}$' THEN
		RAISE EXCEPTION 'invalid %', what
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A checksum is 64 lower-case hexadecimal digits, or empty when nothing is loaded.';
	END IF;
END
$$;

CREATE FUNCTION aistudio.check_hub_id(hub_id text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF hub_id IS NULL OR hub_id = '' OR length(hub_id) > 128 OR hub_id ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'invalid hub_id'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A hub id has 1 to 128 characters and no control characters.';
	END IF;
END
$$;

CREATE FUNCTION aistudio.check_edge_version(version text) RETURNS void
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF length(coalesce(version, '')) > 128 OR version ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'invalid edge version'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A version has at most 128 characters and no control characters.';
	END IF;
END
$$;

-- The metrics of a heartbeat as kept: the known keys with a number from 0
-- to 10^15; anything else is dropped.  NULL when none is left.
CREATE FUNCTION aistudio.edge_clean_metrics(metrics jsonb) RETURNS jsonb
	LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN jsonb_typeof($1) = 'object' THEN
		(SELECT jsonb_object_agg(k.key, k.value)
		   FROM jsonb_each($1) k
		  WHERE k.key IN ('requests', 'errors', 'p50_ms', 'p99_ms', 'prompt_tokens', 'response_tokens', 'since_ms')
		    AND CASE WHEN jsonb_typeof(k.value) = 'number' THEN k.value::numeric BETWEEN 0 AND 1e15 ELSE false END)
	END
$$;

CREATE FUNCTION aistudio.edge_event(edge_id text, namespace text, event text, detail jsonb DEFAULT '{}',
									at timestamptz DEFAULT NULL) RETURNS void
	LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO aistudio.edge_events (edge_id, namespace, event, detail, at)
	VALUES ($1, $2, $3, coalesce($4, '{}'), coalesce($5, now()))
$$;

-- Note the expected checksum of namespace ns.  A new one (another than the
-- one last seen) is a configuration change: recorded, and the edges that
-- ran the previous snapshot turn pending now (out_of_sync), those that run
-- the new one are in sync.  Locks the namespace's row only when it changes.
CREATE FUNCTION aistudio.sync_note_checksum(ns text, checksum text) RETURNS void
	LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_old text;
	v_n bigint;
BEGIN
	SELECT n.checksum INTO v_old FROM aistudio.namespace_checksums n WHERE n.namespace = ns;
	IF v_old = checksum THEN
		RETURN;
	END IF;
	INSERT INTO aistudio.namespace_checksums AS n (namespace, checksum) VALUES (ns, checksum)
	ON CONFLICT (namespace) DO NOTHING;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	IF v_n = 1 THEN
		RETURN;					-- the first edge of the namespace: the baseline
	END IF;
	SELECT n.checksum INTO v_old FROM aistudio.namespace_checksums n WHERE n.namespace = ns FOR UPDATE;
	IF v_old = checksum THEN
		RETURN;
	END IF;
	UPDATE aistudio.namespace_checksums n SET checksum = sync_note_checksum.checksum, changed_at = now()
	 WHERE n.namespace = ns;
	PERFORM aistudio.edge_event(NULL, ns, 'config_changed',
								jsonb_build_object('checksum', checksum, 'previous', v_old));
	WITH old AS (
		SELECT e.id, e.pending_since
		  FROM aistudio.edges e
		 WHERE e.namespace = ns AND e.loaded_checksum IS NOT NULL
		 ORDER BY e.id
		   FOR UPDATE
	), upd AS (
		UPDATE aistudio.edges e
		   SET pending_since = aistudio.edge_pending_since(e.loaded_checksum, sync_note_checksum.checksum, o.pending_since)
		  FROM old o
		 WHERE e.id = o.id
		   AND e.pending_since IS DISTINCT FROM aistudio.edge_pending_since(e.loaded_checksum, sync_note_checksum.checksum,
																			o.pending_since)
		RETURNING e.edge_id, e.loaded_checksum, o.pending_since AS was, e.pending_since AS since
	)
	INSERT INTO aistudio.edge_events (edge_id, namespace, event, detail)
	SELECT u.edge_id, ns, 'out_of_sync',
		   jsonb_build_object('loaded', u.loaded_checksum, 'expected', checksum, 'reason', 'configuration changed')
	  FROM upd u
	 WHERE u.was IS NULL AND u.since IS NOT NULL
	 ORDER BY u.edge_id;
END
$$;

-- The expected checksum of namespace ns, noted (call it before locking an
-- edge's row: lock order).
CREATE FUNCTION aistudio.sync_expected(ns text) RETURNS text
	LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_sum text := aistudio.snapshot_checksum(ns);
BEGIN
	PERFORM aistudio.sync_note_checksum(ns, v_sum);
	RETURN v_sum;
END
$$;

-- After a statement on a table the checksum covers (the trigger in
-- src/sync.c; nothing to do without edges): note every namespace's
-- expected checksum.
CREATE FUNCTION aistudio.sync_refresh_checksums() RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ns text;
BEGIN
	FOR v_ns IN SELECT DISTINCT e.namespace FROM aistudio.edges e ORDER BY 1 LOOP
		PERFORM aistudio.sync_expected(v_ns);
	END LOOP;
END
$$;

CREATE FUNCTION aistudio.sync_config_changed() RETURNS trigger
	LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'aistudio_sync_config_changed';
COMMENT ON FUNCTION aistudio.sync_config_changed() IS 'Notes the namespaces'' expected checksums after a configuration change (edges turn pending)';

-- The edge now runs loaded (NULL: nothing): record it with its
-- pending_since, and out_of_sync when it moved to another checksum than
-- the expected one.  Returns the expected checksum.  P0002 for an unknown
-- edge; the caller checks revocation.
CREATE FUNCTION aistudio.edge_note_loaded(edge_id text, loaded text) RETURNS text
	LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ns text;
	v_expected text;
	e record;
BEGIN
	SELECT x.namespace INTO v_ns FROM aistudio.edges x WHERE x.edge_id = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'edge "%" is not registered', coalesce($1, 'NULL')
			USING ERRCODE = 'no_data_found',
				  HINT = 'Enrol it with aistudio.enroll_edge() or register it with aistudio.register_edge() first.';
	END IF;
	v_expected := aistudio.sync_expected(v_ns);
	SELECT x.namespace, x.loaded_checksum, x.pending_since INTO e
	  FROM aistudio.edges x WHERE x.edge_id = $1 FOR UPDATE;
	IF e.namespace <> v_ns THEN
		v_expected := aistudio.snapshot_checksum(e.namespace);	-- moved meanwhile
	END IF;
	UPDATE aistudio.edges x
	   SET loaded_checksum = $2,
		   pending_since = aistudio.edge_pending_since($2, v_expected, e.pending_since)
	 WHERE x.edge_id = $1;
	IF $2 <> v_expected AND $2 IS DISTINCT FROM e.loaded_checksum THEN
		PERFORM aistudio.edge_event($1, e.namespace, 'out_of_sync',
									jsonb_build_object('loaded', $2, 'expected', v_expected));
	END IF;
	RETURN v_expected;
END
$$;

-------------------------------------------------------------------------------
-- Identity: enrolment, revocation, authentication
-------------------------------------------------------------------------------
-- aistudio.enroll_edge: creates the edge (or re-keys it: the old token
-- stops working) and returns its token, shown once.  Admins.
CREATE FUNCTION aistudio.enroll_edge(edge_id text, namespace text DEFAULT '') RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
	v_was boolean;
BEGIN
	PERFORM aistudio.require_role('admin', 'enroll edges');
	PERFORM aistudio.check_edge_id($1);
	PERFORM aistudio.check_namespace_exists($2);
	PERFORM aistudio.sync_expected($2);
	SELECT true INTO v_was FROM aistudio.edges e WHERE e.edge_id = $1 FOR UPDATE;
	SELECT * INTO c FROM aistudio.edge_credentials_new($1);
	INSERT INTO aistudio.edges AS e (edge_id, namespace, token_sha256, edge_key_id, edge_key_nonce, edge_key_cipher,
									 enrolled_at)
	VALUES ($1, $2, c.token_sha256, c.key_id, c.nonce, c.ciphertext, now())
	ON CONFLICT ON CONSTRAINT edges_edge_id_key DO UPDATE SET
		namespace = EXCLUDED.namespace,
		token_sha256 = EXCLUDED.token_sha256,
		edge_key_id = EXCLUDED.edge_key_id,
		edge_key_nonce = EXCLUDED.edge_key_nonce,
		edge_key_cipher = EXCLUDED.edge_key_cipher,
		enrolled_at = EXCLUDED.enrolled_at,
		revoked_at = NULL;
	PERFORM aistudio.edge_event($1, $2, 'enrolled',
								jsonb_build_object('namespace', $2, 're_enrolled', coalesce(v_was, false),
												   'by', aistudio.acting_user_id()));
	PERFORM pg_notify('aistudio_edge', 'enrolled:' || $1);
	RETURN c.token;
END
$$;
COMMENT ON FUNCTION aistudio.enroll_edge(text, text) IS 'Enrols (or re-keys) an edge of a namespace; returns its token, shown once (only its SHA-256 is stored)';

-- aistudio.revoke_edge: the edge's token (and the shared token for it) is
-- refused from now on; hubs drop its stream.  Admins.
CREATE FUNCTION aistudio.revoke_edge(edge_id text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e record;
BEGIN
	PERFORM aistudio.require_role('admin', 'revoke edges');
	SELECT x.namespace, x.revoked_at INTO e FROM aistudio.edges x WHERE x.edge_id = $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'edge "%" is not registered', coalesce($1, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	IF e.revoked_at IS NULL THEN
		UPDATE aistudio.edges x SET revoked_at = now() WHERE x.edge_id = $1;
		PERFORM aistudio.edge_event($1, e.namespace, 'revoked', jsonb_build_object('by', aistudio.acting_user_id()));
	END IF;
	PERFORM pg_notify('aistudio_edge', 'revoked:' || $1);
END
$$;
COMMENT ON FUNCTION aistudio.revoke_edge(text) IS 'Revokes an edge: its token and the shared token are refused for it from now on';

-- Internal: seconds until an authentication of this edge id from this peer
-- is checked again: 0, or after 10 refusals of the edge id (or of the
-- peer) within a minute, until the oldest of those is a minute old.
CREATE FUNCTION aistudio.edge_auth_retry_after(edge_id text, peer text) RETURNS integer
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_window constant interval := interval '1 minute';
	v_edge_at timestamptz;
	v_peer_at timestamptz;
	v_until timestamptz;
BEGIN
	SELECT a.at INTO v_edge_at FROM aistudio.edge_auth_failures a
	 WHERE a.edge_id = $1 AND a.at > now() - v_window
	 ORDER BY a.at DESC OFFSET 9 LIMIT 1;
	IF $2 <> '' THEN
		SELECT a.at INTO v_peer_at FROM aistudio.edge_auth_failures a
		 WHERE a.peer = $2 AND a.at > now() - v_window
		 ORDER BY a.at DESC OFFSET 9 LIMIT 1;
	END IF;
	v_until := greatest(v_edge_at, v_peer_at) + v_window;
	IF v_until IS NULL OR v_until <= now() THEN
		RETURN 0;
	END IF;
	RETURN greatest(1, ceil(extract(epoch FROM v_until - now())))::integer;
END
$$;

-- aistudio.edge_authenticate: may this call of an edge go on?  The hub
-- passes the SHA-256 (hex) of the token presented and whether that token is
-- the shared GRPC_AUTH_TOKEN (it compares in constant time); the token
-- itself never reaches the database.  A refusal is counted for the rate
-- limit and written to the audit log (action edge_auth_failed) and the sync
-- trail; reason says why (for the hub's log, not for the edge).
CREATE FUNCTION aistudio.edge_authenticate(edge_id text, namespace text, token_sha256 text, shared_token boolean,
										   peer text DEFAULT '')
	RETURNS TABLE (ok boolean, reason text, retry_after_s integer)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_edge text := left(coalesce($1, ''), 128);
	v_ns text := left(coalesce($2, ''), 128);
	v_peer text := left(coalesce($5, ''), 256);
	v_valid boolean;
	v_retry integer;
	v_reason text;
	v_n bigint;
	e record;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'authenticate edges');
	-- a call without these is the hub's mistake, not an authentication attempt
	IF $1 IS NULL OR $2 IS NULL OR $4 IS NULL THEN
		RAISE EXCEPTION 'edge_id, namespace and shared_token must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	v_retry := aistudio.edge_auth_retry_after(v_edge, v_peer);
	IF v_retry > 0 THEN
		RETURN QUERY SELECT false, 'rate_limited'::text, v_retry;
		RETURN;
	END IF;
	v_valid := v_edge ~ '^[A-Za-z0-9_.-]{1,128}$';
	IF NOT v_valid THEN
		v_reason := 'invalid_edge_id';
	ELSE
		SELECT x.namespace, x.token_sha256, x.revoked_at INTO e FROM aistudio.edges x WHERE x.edge_id = v_edge;
		IF $4 THEN
			IF NOT coalesce(nullif(current_setting('pg_aistudio.edge_shared_token', true), ''), 'on')::boolean THEN
				v_reason := 'shared_token_disabled';
			ELSIF e.namespace IS NULL THEN
				-- first contact with the shared token: the edge is registered in its namespace
				IF NOT EXISTS (SELECT 1 FROM aistudio.namespaces n WHERE n.name = v_ns) THEN
					v_reason := 'unknown_namespace';
				ELSE
					PERFORM aistudio.sync_expected(v_ns);
					INSERT INTO aistudio.edges AS x (edge_id, namespace) VALUES (v_edge, v_ns)
					ON CONFLICT ON CONSTRAINT edges_edge_id_key DO NOTHING;
					GET DIAGNOSTICS v_n = ROW_COUNT;
					IF v_n = 1 THEN
						PERFORM aistudio.edge_event(v_edge, v_ns, 'enrolled',
													jsonb_build_object('namespace', v_ns, 'shared_token', true,
																	   'peer', v_peer));
					ELSIF NOT EXISTS (SELECT 1 FROM aistudio.edges x
									   WHERE x.edge_id = v_edge AND x.namespace = v_ns AND x.revoked_at IS NULL) THEN
						v_reason := 'wrong_namespace';	-- registered meanwhile
					END IF;
				END IF;
			ELSIF e.revoked_at IS NOT NULL THEN
				v_reason := 'revoked';
			ELSIF e.namespace <> v_ns THEN
				v_reason := 'wrong_namespace';
			END IF;
		ELSIF $3 IS NULL OR $3 !~ '^[0-9a-f]{64}$' THEN
			v_reason := 'malformed_token_hash';
		ELSIF e.namespace IS NULL THEN
			v_reason := 'unknown_edge';
		ELSIF e.token_sha256 IS NULL THEN
			v_reason := 'not_enrolled';
		ELSIF NOT aistudio.edge_token_matches(e.token_sha256, $3) THEN
			v_reason := 'bad_token';
		ELSIF e.revoked_at IS NOT NULL THEN
			v_reason := 'revoked';
		ELSIF e.namespace <> v_ns THEN
			v_reason := 'wrong_namespace';
		END IF;
	END IF;
	IF v_reason IS NULL THEN
		RETURN QUERY SELECT true, NULL::text, 0;
		RETURN;
	END IF;
	INSERT INTO aistudio.edge_auth_failures (edge_id, peer) VALUES (v_edge, v_peer);
	-- the hub asks as the gateway, without an acting user: no actor then
	INSERT INTO aistudio.audit_log (actor_id, actor_role, action, object_type, object_id, changes)
	VALUES (CASE WHEN nullif(current_setting('pg_aistudio.acting_user', true), '') IS NOT NULL
				 THEN aistudio.acting_user_id() END,
			session_user, 'edge_auth_failed', 'edges', CASE WHEN v_valid THEN v_edge END,
			jsonb_build_object('namespace', v_ns, 'peer', v_peer, 'reason', v_reason, 'shared_token', $4)
			|| CASE WHEN v_valid THEN '{}'::jsonb ELSE jsonb_build_object('edge_id', v_edge) END);
	PERFORM aistudio.edge_event(CASE WHEN v_valid THEN v_edge END, v_ns, 'auth_failed',
								jsonb_build_object('edge_id', v_edge, 'peer', v_peer, 'reason', v_reason));
	RETURN QUERY SELECT false, v_reason, 0;
END
$$;
COMMENT ON FUNCTION aistudio.edge_authenticate(text, text, text, boolean, text) IS 'Whether an edge''s call is authentic (token hash, or the shared token), with the reason and a retry-after when rate-limited';

-- aistudio.edge_key: the edge key of an enrolled edge, sealed under the
-- master key (AAD 'edge:' || edge_id); no row for a shared-token edge, an
-- unknown or a revoked one.
CREATE FUNCTION aistudio.edge_key(edge_id text)
	RETURNS TABLE (key_id text, nonce bytea, ciphertext bytea)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 1
AS $$
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'read edge keys');
	RETURN QUERY
		SELECT e.edge_key_id, e.edge_key_nonce, e.edge_key_cipher
		  FROM aistudio.edges e
		 WHERE e.edge_id = $1 AND e.edge_key_cipher IS NOT NULL AND e.revoked_at IS NULL;
END
$$;

-- aistudio.register_edge: creates or updates an edge without a token (it
-- authenticates with the shared token).  The gateway or admins.
CREATE FUNCTION aistudio.register_edge(edge_id text, namespace text DEFAULT '', version text DEFAULT '')
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id bigint;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'register edges');
	PERFORM aistudio.check_edge_id(edge_id);
	PERFORM aistudio.check_namespace_exists(namespace);
	PERFORM aistudio.check_edge_version(version);
	PERFORM aistudio.sync_expected(namespace);
	INSERT INTO aistudio.edges AS e (edge_id, namespace, version)
	VALUES (register_edge.edge_id, register_edge.namespace, coalesce(register_edge.version, ''))
	ON CONFLICT ON CONSTRAINT edges_edge_id_key DO UPDATE SET
		namespace = EXCLUDED.namespace,
		version = EXCLUDED.version,
		registered_at = now()
	RETURNING e.id INTO v_id;
	RETURN v_id;
END
$$;

-- aistudio.delete_edge: the edge and its state (leases, metrics, push
-- progress) go; its events stay in the trail.  Admins.
CREATE FUNCTION aistudio.delete_edge(edge_id text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ns text;
BEGIN
	PERFORM aistudio.require_role('admin', 'delete edges');
	DELETE FROM aistudio.edges e WHERE e.edge_id = delete_edge.edge_id RETURNING e.namespace INTO v_ns;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'edge "%" is not registered', coalesce(edge_id, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	PERFORM aistudio.edge_event(delete_edge.edge_id, v_ns, 'deleted', jsonb_build_object('by', aistudio.acting_user_id()));
	PERFORM pg_notify('aistudio_edge', 'deleted:' || delete_edge.edge_id);
END
$$;

-------------------------------------------------------------------------------
-- Connection: register, heartbeats, disconnect, sweep
-------------------------------------------------------------------------------
-- aistudio.edge_register: an authenticated edge opened its stream on hub
-- hub_id.  Returns the checksum it should run and the heartbeat interval
-- (its requested_interval_s, 1 to 3600; 30 by default).
CREATE FUNCTION aistudio.edge_register(edge_id text, namespace text, version text, loaded_checksum text,
									   hub_id text, requested_interval_s integer DEFAULT NULL)
	RETURNS TABLE (expected_checksum text, heartbeat_interval_s integer)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e record;
	v_interval integer := coalesce($6, 30);
	v_expected text;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'register edge connections');
	PERFORM aistudio.check_edge_id($1);
	PERFORM aistudio.check_edge_version($3);
	PERFORM aistudio.check_checksum($4, 'loaded_checksum');
	PERFORM aistudio.check_hub_id($5);
	IF v_interval NOT BETWEEN 1 AND 3600 THEN
		RAISE EXCEPTION 'invalid heartbeat interval'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The interval given is %s seconds; it must be 1 to 3600.', v_interval);
	END IF;
	SELECT x.namespace, x.revoked_at, x.hub_id,
		   aistudio.edge_is_connected(x.hub_id, x.last_heartbeat, x.connected_at, x.heartbeat_interval_s) AS connected
	  INTO e FROM aistudio.edges x WHERE x.edge_id = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'edge "%" is not enrolled', $1
			USING ERRCODE = 'no_data_found',
				  HINT = 'Enrol it with aistudio.enroll_edge(), or let it authenticate with the shared token first.';
	END IF;
	IF e.revoked_at IS NOT NULL THEN
		RAISE EXCEPTION 'edge "%" is revoked', $1 USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF e.namespace IS DISTINCT FROM $2 THEN
		RAISE EXCEPTION 'edge "%" belongs to namespace "%"', $1, e.namespace
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('It connected for namespace "%s".', coalesce($2, 'NULL'));
	END IF;
	PERFORM aistudio.edge_event($1, e.namespace, 'connected',
								jsonb_build_object('hub_id', $5, 'version', coalesce($3, ''),
												   'loaded_checksum', nullif($4, ''),
												   'previous_hub', CASE WHEN e.connected THEN e.hub_id END));
	v_expected := aistudio.edge_note_loaded($1, nullif($4, ''));
	UPDATE aistudio.edges x
	   SET version = coalesce($3, x.version), hub_id = $5, connected_at = now(), disconnected_at = NULL,
		   last_heartbeat = now(), heartbeat_interval_s = v_interval
	 WHERE x.edge_id = $1;
	RETURN QUERY SELECT v_expected, v_interval;
END
$$;
COMMENT ON FUNCTION aistudio.edge_register(text, text, text, text, text, integer) IS 'An edge connected to a hub: records it; returns the expected checksum and the heartbeat interval';

-- aistudio.edge_heartbeats: the heartbeats a hub received (buffered, one
-- call for many edges).  One row per distinct edge id: the expected
-- checksum and whether the edge runs it; expected_checksum NULL means the
-- edge is unknown or revoked (the hub drops its stream).  The last element
-- of an edge counts.  Then the sweep runs (edge_sweep).
CREATE FUNCTION aistudio.edge_heartbeats(edge_ids text[], loaded_checksums text[], versions text[], metrics jsonb[],
										 hub_id text)
	RETURNS TABLE (edge_id text, expected_checksum text, in_sync boolean)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	v_hub text := $5;
	v_n integer := cardinality($1);
	v_bad text;
	v_ns text[] := '{}';
	v_sums text[] := '{}';
	v_one text;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'record edge heartbeats');
	PERFORM aistudio.check_hub_id(v_hub);
	IF $1 IS NULL OR $2 IS NULL OR $3 IS NULL OR $4 IS NULL
	   OR cardinality($2) <> v_n OR cardinality($3) <> v_n OR cardinality($4) <> v_n THEN
		RAISE EXCEPTION 'edge_ids, loaded_checksums, versions and metrics must be arrays of the same length'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF v_n > 10000 THEN
		RAISE EXCEPTION 'too many heartbeats in one call'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The call has %s; the limit is 10000.', v_n);
	END IF;
	SELECT coalesce(t.id, 'NULL') INTO v_bad FROM unnest($1, $2) AS t(id, sum)
	 WHERE t.sum <> '' AND t.sum !~ '^[0-9a-f]{64}$' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'invalid loaded_checksum'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The heartbeat of edge "%s" has a checksum that is not 64 lower-case hexadecimal digits.', v_bad);
	END IF;
	SELECT coalesce(t.id, 'NULL') INTO v_bad FROM unnest($1, $3) AS t(id, ver)
	 WHERE length(t.ver) > 128 OR t.ver ~ '[[:cntrl:]]' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'invalid edge version'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('The heartbeat of edge "%s" has a version of more than 128 characters or with control characters.', v_bad);
	END IF;
	-- the expected checksum of every namespace concerned, noted before the
	-- edges' rows are locked
	FOR v_one IN SELECT DISTINCT e.namespace FROM aistudio.edges e
				  WHERE e.edge_id = ANY ($1) AND e.revoked_at IS NULL ORDER BY 1 LOOP
		v_ns := v_ns || v_one;
		v_sums := v_sums || aistudio.sync_expected(v_one);
	END LOOP;

	RETURN QUERY
	WITH input AS (
		SELECT DISTINCT ON (t.id) t.id, nullif(t.sum, '') AS loaded, t.ver, aistudio.edge_clean_metrics(t.met) AS met
		  FROM unnest($1, $2, $3, $4) WITH ORDINALITY AS t(id, sum, ver, met, i)
		 WHERE t.id IS NOT NULL
		 ORDER BY t.id, t.i DESC
	), expected AS (
		SELECT x.ns, x.sum FROM unnest(v_ns, v_sums) AS x(ns, sum)
	), old AS (
		SELECT e.id, e.edge_id, e.namespace, e.loaded_checksum, e.hub_id,
			   aistudio.edge_is_connected(e.hub_id, e.last_heartbeat, e.connected_at, e.heartbeat_interval_s)
				 AS was_connected
		  FROM aistudio.edges e
		 WHERE e.edge_id IN (SELECT i.id FROM input i) AND e.revoked_at IS NULL
		 ORDER BY e.id
		   FOR UPDATE
	), upd AS (
		UPDATE aistudio.edges e SET
			loaded_checksum = i.loaded,
			version = coalesce(i.ver, e.version),
			last_heartbeat = now(),
			last_metrics = coalesce(i.met, e.last_metrics),
			metrics_seq = e.metrics_seq + CASE WHEN i.met IS NULL THEN 0 ELSE 1 END,
			hub_id = v_hub,
			connected_at = CASE WHEN o.was_connected AND o.hub_id = v_hub THEN e.connected_at ELSE now() END,
			disconnected_at = NULL,
			pending_since = aistudio.edge_pending_since(i.loaded, x.sum, e.pending_since)
		  FROM old o
		  JOIN input i ON i.id = o.edge_id
		  JOIN expected x ON x.ns = o.namespace
		 WHERE e.id = o.id
		RETURNING e.edge_id, e.namespace, o.loaded_checksum AS old_loaded, e.loaded_checksum AS loaded,
				  x.sum AS expected, o.was_connected, o.hub_id AS old_hub, i.met, e.metrics_seq
	), met AS (
		INSERT INTO aistudio.edge_metrics AS m (edge_id, slot, seq, at, metrics)
		SELECT u.edge_id, (u.metrics_seq % 60)::integer, u.metrics_seq, now(), u.met FROM upd u WHERE u.met IS NOT NULL
		ON CONFLICT (edge_id, slot) DO UPDATE SET seq = excluded.seq, at = excluded.at, metrics = excluded.metrics
	), ev AS (
		INSERT INTO aistudio.edge_events (edge_id, namespace, event, detail)
		SELECT u.edge_id, u.namespace, 'connected', jsonb_build_object('hub_id', v_hub, 'reason', 'heartbeat')
		  FROM upd u WHERE NOT u.was_connected OR u.old_hub IS DISTINCT FROM v_hub
		UNION ALL
		SELECT u.edge_id, u.namespace, 'out_of_sync', jsonb_build_object('loaded', u.loaded, 'expected', u.expected)
		  FROM upd u WHERE u.loaded <> u.expected AND u.loaded IS DISTINCT FROM u.old_loaded
	)
	SELECT i.id, u.expected, coalesce(u.loaded = u.expected, false)
	  FROM input i LEFT JOIN upd u ON u.edge_id = i.id
	 ORDER BY i.id;

	PERFORM aistudio.edge_sweep();
END
$$;
COMMENT ON FUNCTION aistudio.edge_heartbeats(text[], text[], text[], jsonb[], text) IS 'Records a batch of edge heartbeats received by a hub; returns each edge''s expected checksum and whether it is in sync';

-- aistudio.edge_heartbeat: one heartbeat outside a hub's stream (kept for
-- scripts and tests; hubs call edge_heartbeats).  Returns the expected
-- checksum.
CREATE FUNCTION aistudio.edge_heartbeat(edge_id text, loaded_checksum text) RETURNS text
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_expected text;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'record edge heartbeats');
	PERFORM aistudio.check_checksum(loaded_checksum, 'loaded_checksum');
	v_expected := aistudio.edge_note_loaded(edge_heartbeat.edge_id, nullif(edge_heartbeat.loaded_checksum, ''));
	UPDATE aistudio.edges e SET last_heartbeat = now() WHERE e.edge_id = edge_heartbeat.edge_id;
	RETURN v_expected;
END
$$;

-- aistudio.edge_disconnected: the edge's stream on hub hub_id ended (no-op
-- when another hub holds the edge meanwhile).
CREATE FUNCTION aistudio.edge_disconnected(edge_id text, hub_id text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ns text;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'record edge connections');
	PERFORM aistudio.check_edge_id($1);
	PERFORM aistudio.check_hub_id($2);
	UPDATE aistudio.edges e SET hub_id = NULL, disconnected_at = now()
	 WHERE e.edge_id = $1 AND e.hub_id = $2
	RETURNING e.namespace INTO v_ns;
	IF FOUND THEN
		PERFORM aistudio.edge_event($1, v_ns, 'disconnected', jsonb_build_object('hub_id', $2, 'reason', 'stream ended'));
	END IF;
END
$$;

-- aistudio.edge_sweep: records what time alone changes: connections whose
-- heartbeats stopped (3 intervals) end (disconnected, at the moment they
-- ended), edges pending for longer than pg_aistudio.edge_stale_after are
-- stale (once per pending episode, at the moment they became stale); and
-- drops sync events older than 30 days.  Runs after every edge_heartbeats;
-- a hub may call it on its own.  Returns the events recorded.
CREATE FUNCTION aistudio.edge_sweep() RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_stale constant interval := aistudio.edge_stale_after();
	v_gone bigint;
	v_staled bigint;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'sweep edge connections');
	WITH gone AS (
		SELECT e.id, e.hub_id FROM aistudio.edges e
		 WHERE e.hub_id IS NOT NULL
		   AND NOT aistudio.edge_is_connected(e.hub_id, e.last_heartbeat, e.connected_at, e.heartbeat_interval_s)
		 ORDER BY e.id
		   FOR UPDATE SKIP LOCKED
	), upd AS (
		UPDATE aistudio.edges e
		   SET hub_id = NULL,
			   disconnected_at = greatest(e.last_heartbeat, e.connected_at) + 3 * e.heartbeat_interval_s * interval '1 second'
		  FROM gone g
		 WHERE e.id = g.id
		RETURNING e.edge_id, e.namespace, e.disconnected_at, g.hub_id
	)
	INSERT INTO aistudio.edge_events (edge_id, namespace, event, detail, at)
	SELECT u.edge_id, u.namespace, 'disconnected', jsonb_build_object('hub_id', u.hub_id, 'reason', 'missed heartbeats'),
		   u.disconnected_at
	  FROM upd u ORDER BY u.edge_id;
	GET DIAGNOSTICS v_gone = ROW_COUNT;

	WITH st AS (
		SELECT e.id FROM aistudio.edges e
		 WHERE e.pending_since <= now() - v_stale AND e.stale_event_for IS DISTINCT FROM e.pending_since
		 ORDER BY e.id
		   FOR UPDATE SKIP LOCKED
	), upd AS (
		UPDATE aistudio.edges e SET stale_event_for = e.pending_since
		  FROM st WHERE e.id = st.id
		RETURNING e.edge_id, e.namespace, e.pending_since, e.loaded_checksum
	)
	INSERT INTO aistudio.edge_events (edge_id, namespace, event, detail, at)
	SELECT u.edge_id, u.namespace, 'stale', jsonb_build_object('pending_since', u.pending_since, 'loaded', u.loaded_checksum),
		   u.pending_since + v_stale
	  FROM upd u ORDER BY u.edge_id;
	GET DIAGNOSTICS v_staled = ROW_COUNT;

	DELETE FROM aistudio.edge_events v WHERE v.at < now() - interval '30 days';
	DELETE FROM aistudio.edge_auth_failures a WHERE a.at < now() - interval '10 minutes';
	RETURN v_gone + v_staled;
END
$$;

-------------------------------------------------------------------------------
-- Push
-------------------------------------------------------------------------------
-- aistudio.push_config: asks every connected edge of namespace (NULL =
-- all) to pull its snapshot now.  Records the push with one target row per
-- edge reached (phase signalled) and notifies aistudio_push; each hub
-- signals the edges connected to it (push_targets).  Returns the push id.
-- Admins.
CREATE FUNCTION aistudio.push_config(namespace text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	v_id bigint;
	v_n integer;
BEGIN
	PERFORM aistudio.require_role('admin', 'push configuration to edges');
	IF $1 IS NOT NULL THEN
		PERFORM aistudio.check_namespace_exists($1);
	END IF;
	INSERT INTO aistudio.pushes AS p (namespace, pushed_by) VALUES ($1, aistudio.acting_user_id())
	RETURNING p.id INTO v_id;
	WITH t AS (
		INSERT INTO aistudio.push_targets AS pt (push_id, edge_id, namespace)
		SELECT v_id, e.edge_id, e.namespace
		  FROM aistudio.edges e
		 WHERE ($1 IS NULL OR e.namespace = $1) AND e.revoked_at IS NULL
		   AND aistudio.edge_is_connected(e.hub_id, e.last_heartbeat, e.connected_at, e.heartbeat_interval_s)
		 ORDER BY e.edge_id
		RETURNING pt.edge_id, pt.namespace
	), ev AS (
		INSERT INTO aistudio.edge_events (edge_id, namespace, event, detail)
		SELECT t.edge_id, t.namespace, 'push', jsonb_build_object('push_id', v_id) FROM t
	), stamp AS (
		UPDATE aistudio.edges e SET last_push_at = now() FROM t WHERE e.edge_id = t.edge_id
	)
	SELECT count(*) INTO v_n FROM t;
	UPDATE aistudio.pushes p SET targets = v_n WHERE p.id = v_id;
	DELETE FROM aistudio.pushes p WHERE p.pushed_at < now() - interval '30 days';
	PERFORM pg_notify('aistudio_push', v_id::text);
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION aistudio.push_config(text) IS 'Asks the connected edges of a namespace (NULL: all) to reload now; returns the push id';

-- aistudio.mark_edges_pushed: deprecated (use push_config): pushes and
-- stamps last_push_at on every edge of the namespace, connected or not;
-- returns how many.
CREATE FUNCTION aistudio.mark_edges_pushed(namespace text DEFAULT NULL) RETURNS integer
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n integer;
BEGIN
	PERFORM aistudio.require_role('admin', 'push configuration to edges');
	PERFORM aistudio.push_config(mark_edges_pushed.namespace);
	UPDATE aistudio.edges e SET last_push_at = now()
	 WHERE mark_edges_pushed.namespace IS NULL OR e.namespace = mark_edges_pushed.namespace;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;

-- aistudio.push_targets: the edges of a push that hub hub_id holds and that
-- have not answered yet (phase signalled), with the checksum they should
-- reach.
CREATE FUNCTION aistudio.push_targets(push_id bigint, hub_id text)
	RETURNS TABLE (edge_id text, namespace text, expected_checksum text)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'read push targets');
	PERFORM aistudio.check_hub_id($2);
	IF NOT EXISTS (SELECT 1 FROM aistudio.pushes p WHERE p.id = $1) THEN
		RAISE EXCEPTION 'push % does not exist', coalesce($1::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	RETURN QUERY
		WITH t AS (
			SELECT t.edge_id, e.namespace
			  FROM aistudio.push_targets t JOIN aistudio.edges e ON e.edge_id = t.edge_id
			 WHERE t.push_id = $1 AND t.phase = 'signalled' AND e.hub_id = $2 AND e.revoked_at IS NULL
		), x AS MATERIALIZED (
			SELECT n.namespace, aistudio.snapshot_checksum(n.namespace) AS checksum
			  FROM (SELECT DISTINCT t.namespace FROM t) n
		)
		SELECT t.edge_id, t.namespace, x.checksum FROM t JOIN x ON x.namespace = t.namespace ORDER BY t.edge_id;
END
$$;

-- aistudio.push_progress: an edge reports a phase of a push: pulling,
-- applied (with the checksum it now runs) or failed (with a reason).
-- Phases only move forward (signalled, pulling, then applied or failed);
-- a late or repeated report changes nothing.
CREATE FUNCTION aistudio.push_progress(push_id bigint, edge_id text, phase text, checksum text, reason text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cur text;
	v_ns text;
	v_reason text := left(nullif($5, ''), 1000);
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'record push progress');
	IF $3 IS NULL OR $3 NOT IN ('pulling', 'applied', 'failed') THEN
		RAISE EXCEPTION 'unknown push phase "%"', coalesce($3, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Phases are pulling, applied and failed.';
	END IF;
	PERFORM aistudio.check_checksum($4, 'checksum');
	IF $3 = 'applied' AND coalesce($4, '') = '' THEN
		RAISE EXCEPTION 'an applied push needs the checksum the edge now runs'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT t.phase, t.namespace INTO v_cur, v_ns FROM aistudio.push_targets t
	 WHERE t.push_id = $1 AND t.edge_id = $2;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'edge "%" is not a target of push %', coalesce($2, 'NULL'), coalesce($1::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	IF v_cur IN ('applied', 'failed') OR v_cur = $3 THEN
		RETURN;
	END IF;
	IF $3 = 'applied' THEN
		PERFORM aistudio.edge_note_loaded($2, $4);	-- (locks the edge's row after its namespace's)
	END IF;
	UPDATE aistudio.push_targets t
	   SET phase = $3, checksum = coalesce(nullif($4, ''), t.checksum), reason = v_reason, updated_at = now()
	 WHERE t.push_id = $1 AND t.edge_id = $2 AND t.phase NOT IN ('applied', 'failed');
	IF $3 = 'applied' THEN
		PERFORM aistudio.edge_event($2, v_ns, 'ack', jsonb_build_object('push_id', $1, 'checksum', $4));
	ELSIF $3 = 'failed' THEN
		PERFORM aistudio.edge_event($2, v_ns, 'push_failed', jsonb_build_object('push_id', $1, 'reason', v_reason));
	END IF;
END
$$;

-- aistudio.get_push: the progress of each edge a push reached.  Admins.
CREATE FUNCTION aistudio.get_push(push_id bigint)
	RETURNS TABLE (edge_id text, namespace text, phase text, checksum text, reason text, updated_at timestamptz)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'see pushes');
	IF NOT EXISTS (SELECT 1 FROM aistudio.pushes p WHERE p.id = $1) THEN
		RAISE EXCEPTION 'push % does not exist', coalesce($1::text, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	RETURN QUERY
		SELECT t.edge_id, t.namespace, t.phase, t.checksum, t.reason, t.updated_at
		  FROM aistudio.push_targets t WHERE t.push_id = $1 ORDER BY t.edge_id;
END
$$;

-- aistudio.list_pushes: pushes, newest first, with their progress counts.  Admins.
CREATE FUNCTION aistudio.list_pushes(limit_rows int DEFAULT 100, offset_rows int DEFAULT 0)
	RETURNS TABLE (push_id bigint, namespace text, pushed_by bigint, pushed_at timestamptz, targets integer,
				   signalled bigint, pulling bigint, applied bigint, failed bigint, total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'see pushes');
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	RETURN QUERY
		SELECT p.id, p.namespace, p.pushed_by, p.pushed_at, p.targets,
			   (SELECT count(*) FROM aistudio.push_targets t WHERE t.push_id = p.id AND t.phase = 'signalled'),
			   (SELECT count(*) FROM aistudio.push_targets t WHERE t.push_id = p.id AND t.phase = 'pulling'),
			   (SELECT count(*) FROM aistudio.push_targets t WHERE t.push_id = p.id AND t.phase = 'applied'),
			   (SELECT count(*) FROM aistudio.push_targets t WHERE t.push_id = p.id AND t.phase = 'failed'),
			   count(*) OVER ()
		  FROM aistudio.pushes p
		 ORDER BY p.id DESC LIMIT limit_rows OFFSET offset_rows;
END
$$;

-------------------------------------------------------------------------------
-- Serving edges: credentials, analytics, budget leases
-------------------------------------------------------------------------------
-- Internal: the namespace of an edge that may be served (P0002 unknown,
-- 42501 revoked unless allow_revoked).
CREATE FUNCTION aistudio.edge_namespace(edge_id text, allow_revoked boolean DEFAULT false) RETURNS text
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e record;
BEGIN
	SELECT x.namespace, x.revoked_at INTO e FROM aistudio.edges x WHERE x.edge_id = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'edge "%" is not enrolled', coalesce($1, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	IF e.revoked_at IS NOT NULL AND NOT $2 THEN
		RAISE EXCEPTION 'edge "%" is revoked', $1 USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN e.namespace;
END
$$;

-- aistudio.edge_resolve_credential: the hub's answer to an edge's pull on
-- miss, by the SHA-256 (hex) of the key: the columns of resolve_credential
-- (the app's budget_start_date, the key's expires_at), only for an active key of an app that
-- is global or in the edge's namespace (its LLM ids limited likewise).  No
-- row otherwise, or for a malformed hash.
CREATE FUNCTION aistudio.edge_resolve_credential(edge_id text, key_sha256 text)
	RETURNS TABLE (credential_id bigint, app_id bigint, app_name text, owner_id bigint,
				   app_active boolean, owner_active boolean, namespace text,
				   llm_ids bigint[], monthly_budget numeric, budget_start_date date,
				   expires_at timestamptz)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 1
AS $$
DECLARE
	v_ns text;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'resolve credentials for edges');
	v_ns := aistudio.edge_namespace($1);
	IF $2 IS NULL OR $2 !~ '^[0-9a-f]{64}$' THEN
		RETURN;
	END IF;
	RETURN QUERY
		SELECT c.id, a.id, a.name, a.owner_id, a.active, u.active, a.namespace,
			   coalesce((SELECT array_agg(l.llm_id ORDER BY l.llm_id)
						   FROM aistudio.app_llms l JOIN aistudio.llms m ON m.id = l.llm_id
						  WHERE l.app_id = a.id AND m.namespace IN ('', v_ns)), '{}'::bigint[]),
			   a.monthly_budget, a.budget_start_date, c.expires_at
		  FROM aistudio.credentials c
		  JOIN aistudio.apps a ON a.id = c.app_id
		  JOIN aistudio.users u ON u.id = a.owner_id
		 WHERE c.key_hash = decode($2, 'hex') AND c.active AND a.namespace IN ('', v_ns);
END
$$;
COMMENT ON FUNCTION aistudio.edge_resolve_credential(text, text) IS 'The app of an active key (by its SHA-256) if the edge''s namespace may see it';

-- Invalidations for the edges' credential caches (row triggers below).
CREATE FUNCTION aistudio.sync_invalidate() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_TABLE_NAME = 'credentials' THEN
		IF TG_OP = 'DELETE' OR (OLD.active AND NOT NEW.active) OR (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
		   OR OLD.expires_at IS DISTINCT FROM NEW.expires_at THEN
			PERFORM pg_notify('aistudio_invalidate', 'cred:' || encode(OLD.key_hash, 'hex'));
		END IF;
	ELSIF TG_TABLE_NAME = 'apps' THEN
		PERFORM pg_notify('aistudio_invalidate', 'app:' || OLD.id);
	ELSIF TG_TABLE_NAME = 'app_llms' THEN
		PERFORM pg_notify('aistudio_invalidate', 'app:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.app_id ELSE NEW.app_id END);
	ELSIF TG_TABLE_NAME = 'users' THEN
		PERFORM pg_notify('aistudio_invalidate', 'app:' || a.id)
		   FROM aistudio.apps a WHERE a.owner_id = OLD.id;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER sync_invalidate AFTER UPDATE OF active, revoked_at, expires_at OR DELETE ON aistudio.credentials
	FOR EACH ROW EXECUTE FUNCTION aistudio.sync_invalidate();
CREATE TRIGGER sync_invalidate AFTER UPDATE OF name, owner_id, monthly_budget, budget_start_date, namespace, active
	OR DELETE ON aistudio.apps
	FOR EACH ROW EXECUTE FUNCTION aistudio.sync_invalidate();
CREATE TRIGGER sync_invalidate AFTER INSERT OR DELETE ON aistudio.app_llms
	FOR EACH ROW EXECUTE FUNCTION aistudio.sync_invalidate();
CREATE TRIGGER sync_invalidate AFTER UPDATE OF active ON aistudio.users
	FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION aistudio.sync_invalidate();

-- aistudio.ingest_edge_events: an edge's analytics batch (a JSON array of
-- events with the columns of interaction_staging; cost and currency from
-- the edge are ignored): ingested like ingest_events, idempotently by
-- request_id, priced with the hub's prices, with edge_id and namespace set
-- from the edge's row whatever the events say.
CREATE FUNCTION aistudio.ingest_edge_events(edge_id text, events jsonb)
	RETURNS TABLE (inserted bigint, duplicates bigint, rejected bigint)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp SET timezone = 'UTC'
AS $$
DECLARE
	v_edge text := $1;
	v_ns text;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'ingest edge analytics');
	v_ns := aistudio.edge_namespace(v_edge, true);	-- what a revoked edge spent counts too
	PERFORM aistudio.check_event_array(events);
	INSERT INTO aistudio.interaction_staging
		   ("timestamp", request_id, user_id, app_id, credential_id, llm_id, vendor, model_name,
			prompt_tokens, response_tokens, cache_write_tokens, cache_read_tokens, latency_ms,
			interaction_type, status_code, namespace, edge_id, error)
	SELECT r."timestamp", r.request_id, r.user_id, r.app_id, r.credential_id, r.llm_id, r.vendor, r.model_name,
		   r.prompt_tokens, r.response_tokens, r.cache_write_tokens, r.cache_read_tokens, r.latency_ms,
		   r.interaction_type, r.status_code, v_ns, v_edge, r.error
	  FROM jsonb_populate_recordset(NULL::aistudio.interaction_staging, events) r;
	RETURN QUERY SELECT * FROM aistudio.ingest_staged();
END
$$;
COMMENT ON FUNCTION aistudio.ingest_edge_events(text, jsonb) IS 'Ingests an edge''s analytics batch (idempotent by request_id; edge_id and namespace from the edge)';

-- aistudio.edge_lease: budget leases (docs/sql-api/sync.md#budget-leases).
-- An edge's grant of a period is its allowance for the whole period: it
-- may spend up to granted, its own spend of the period included.  op
-- acquire or renew: the edge asks for want_nanos of headroom (grant minus
-- its spend: spent_nanos, its own figure, or what the hub has seen of it if
-- more); it gets the missing part, at most available / (1 + other edges
-- holding a lease), available = budget - spent - what edges hold; op
-- return: the grant is cut to what the edge says it spent, never below
-- what the hub has seen of it.  Returns the whole grant (granted_nanos:
-- the edge's limit), NULL when the app or LLM has no budget.
CREATE FUNCTION aistudio.edge_lease(edge_id text, op text, subject text, subject_id bigint, want_nanos bigint,
									spent_nanos bigint)
	RETURNS TABLE (granted_nanos bigint, period_start date, period_end date)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp SET timezone = 'UTC'
AS $$
#variable_conflict use_column
DECLARE
	v_edge text := $1;
	v_op text := $2;
	v_subject text := $3;
	v_id bigint := $4;
	v_want numeric := coalesce($5, 0);
	v_edge_spent numeric := trunc(coalesce($6, 0) / 1e9, 9);	-- exact: whole 10^-9 units
	v_ns text;
	v_budget numeric;
	v_start date;
	v_subject_ns text;
	v_found boolean;
	v_period daterange;
	v_mine numeric;
	v_seen numeric;
	v_others integer;
	v_avail numeric;
	v_grant numeric;
BEGIN
	PERFORM aistudio.require_gateway_or_role('admin', 'lease budgets to edges');
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'edge leases need the read committed isolation level'
			USING ERRCODE = 'invalid_transaction_state',
				  DETAIL = 'Each statement must see the leases other transactions granted.';
	END IF;
	IF v_op IS NULL OR v_op NOT IN ('acquire', 'renew', 'return') THEN
		RAISE EXCEPTION 'unknown lease operation "%"', coalesce(v_op, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Operations are acquire, renew and return.';
	END IF;
	IF v_subject IS NULL OR v_subject NOT IN ('app', 'llm') THEN
		RAISE EXCEPTION 'unknown lease subject "%"', coalesce(v_subject, 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Subjects are app and llm.';
	END IF;
	IF v_id IS NULL THEN
		RAISE EXCEPTION 'subject_id must not be null' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF v_want < 0 OR v_edge_spent < 0 THEN
		RAISE EXCEPTION 'want_nanos and spent_nanos must not be negative' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_ns := aistudio.edge_namespace(v_edge, v_op = 'return');
	IF v_subject = 'app' THEN
		SELECT a.monthly_budget, a.budget_start_date, a.namespace, true INTO v_budget, v_start, v_subject_ns, v_found
		  FROM aistudio.apps a WHERE a.id = v_id;
	ELSE
		SELECT l.monthly_budget, l.budget_start_date, l.namespace, true INTO v_budget, v_start, v_subject_ns, v_found
		  FROM aistudio.llms l WHERE l.id = v_id;
	END IF;
	IF v_found IS NULL OR v_subject_ns NOT IN ('', v_ns) THEN
		RAISE EXCEPTION '% % does not exist', CASE WHEN v_subject = 'app' THEN 'app' ELSE 'LLM' END, v_id
			USING ERRCODE = 'no_data_found',
				  DETAIL = CASE WHEN v_found THEN format('Edge "%s" serves namespace "%s" and the global one.', v_edge, v_ns) END;
	END IF;
	v_period := aistudio.budget_period(v_start, current_date);
	period_start := lower(v_period);
	period_end := upper(v_period) - 1;
	IF v_budget IS NULL THEN
		granted_nanos := NULL;			-- no budget: nothing to lease
		RETURN NEXT;
		RETURN;
	END IF;

	-- one grant at a time per app or LLM; each statement below sees the
	-- leases and spend committed before it
	PERFORM pg_advisory_xact_lock(1095324501, hashtext(v_subject || ':' || v_id));
	SELECT l.granted INTO v_mine FROM aistudio.edge_leases l
	 WHERE l.subject = v_subject AND l.subject_id = v_id AND l.period_start = lower(v_period) AND l.edge_id = v_edge
	   FOR UPDATE;
	v_mine := coalesce(v_mine, 0);
	SELECT coalesce(sum(s.cost), 0) INTO v_seen FROM aistudio.edge_spend s
	 WHERE s.subject = v_subject AND s.subject_id = v_id AND s.edge_id = v_edge
	   AND s.day >= lower(v_period) AND s.day < upper(v_period);

	IF v_op = 'return' THEN
		v_mine := least(v_mine, greatest(v_edge_spent, v_seen));
	ELSIF v_want > (v_mine - greatest(v_edge_spent, v_seen)) * 1e9 THEN
		-- the edge wants more headroom (grant minus its spend) than it has
		SELECT count(*) INTO v_others FROM aistudio.edge_leases l
		 WHERE l.subject = v_subject AND l.subject_id = v_id AND l.period_start = lower(v_period)
		   AND l.edge_id <> v_edge
		   AND l.granted > (SELECT coalesce(sum(s.cost), 0) FROM aistudio.edge_spend s
							 WHERE s.subject = l.subject AND s.subject_id = l.subject_id AND s.edge_id = l.edge_id
							   AND s.day >= lower(v_period) AND s.day < upper(v_period));
		v_avail := v_budget - aistudio.subject_spend(v_subject, v_id, v_period)
				 - aistudio.subject_leased(v_subject, v_id, v_period);
		v_grant := least(ceil(v_want - (v_mine - greatest(v_edge_spent, v_seen)) * 1e9),
						 floor(greatest(v_avail, 0) * 1e9 / (1 + v_others)));
		v_mine := v_mine + trunc(v_grant / 1e9, 9);
	END IF;
	INSERT INTO aistudio.edge_leases AS l (subject, subject_id, period_start, edge_id, period_end, granted, edge_spent)
	VALUES (v_subject, v_id, lower(v_period), v_edge, upper(v_period) - 1, v_mine, v_edge_spent)
	ON CONFLICT (subject, subject_id, period_start, edge_id) DO UPDATE SET
		granted = EXCLUDED.granted, edge_spent = EXCLUDED.edge_spent, updated_at = now();
	granted_nanos := floor(v_mine * 1e9)::bigint;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION aistudio.edge_lease(text, text, text, bigint, bigint, bigint) IS 'Grants, renews or takes back an edge''s lease of an app''s or LLM''s budget; returns its whole grant of the period';

-------------------------------------------------------------------------------
-- What admins read
-------------------------------------------------------------------------------
-- aistudio.list_edge_events: the sync trail, newest first (by_edge: one edge's).
CREATE FUNCTION aistudio.list_edge_events(by_edge text DEFAULT NULL, limit_rows int DEFAULT 100,
										  offset_rows int DEFAULT 0)
	RETURNS TABLE (id bigint, at timestamptz, edge_id text, namespace text, event text, detail jsonb,
				   total_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'read the sync trail');
	PERFORM aistudio.check_page(limit_rows, offset_rows);
	RETURN QUERY
		SELECT v.id, v.at, v.edge_id, v.namespace, v.event, v.detail, count(*) OVER ()
		  FROM aistudio.edge_events v
		 WHERE by_edge IS NULL OR v.edge_id = by_edge
		 ORDER BY v.id DESC LIMIT limit_rows OFFSET offset_rows;
END
$$;

-- aistudio.edge_metrics: the metrics of an edge's last heartbeats (at most
-- limit_rows of the last 60), oldest first, for a chart.
CREATE FUNCTION aistudio.edge_metrics(edge_id text, limit_rows int DEFAULT 60)
	RETURNS TABLE (at timestamptz, requests bigint, errors bigint, p50_ms numeric, p99_ms numeric,
				   prompt_tokens bigint, response_tokens bigint, since_ms bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM aistudio.require_role('admin', 'see edges');
	IF limit_rows IS NULL OR limit_rows NOT BETWEEN 1 AND 60 THEN
		RAISE EXCEPTION 'invalid limit_rows: %', limit_rows
			USING ERRCODE = 'invalid_parameter_value', HINT = 'An edge keeps the metrics of its last 60 heartbeats.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM aistudio.edges e WHERE e.edge_id = $1) THEN
		RAISE EXCEPTION 'edge "%" is not registered', coalesce($1, 'NULL') USING ERRCODE = 'no_data_found';
	END IF;
	RETURN QUERY
		SELECT m.at, (m.metrics ->> 'requests')::numeric::bigint, (m.metrics ->> 'errors')::numeric::bigint,
			   (m.metrics ->> 'p50_ms')::numeric, (m.metrics ->> 'p99_ms')::numeric,
			   (m.metrics ->> 'prompt_tokens')::numeric::bigint, (m.metrics ->> 'response_tokens')::numeric::bigint,
			   (m.metrics ->> 'since_ms')::numeric::bigint
		  FROM (SELECT x.seq, x.at, x.metrics FROM aistudio.edge_metrics x WHERE x.edge_id = $1
				 ORDER BY x.seq DESC LIMIT limit_rows) m
		 ORDER BY m.seq;
END
$$;

-------------------------------------------------------------------------------
-- Triggers, pg_dump, grants
-------------------------------------------------------------------------------
-- What the checksum covers (src/snapshot.c): a change notes every
-- namespace's expected checksum (edges turn pending).
CREATE TRIGGER sync_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.llms
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.sync_config_changed();
CREATE TRIGGER sync_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.vendors
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.sync_config_changed();
CREATE TRIGGER sync_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.model_prices
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.sync_config_changed();
CREATE TRIGGER sync_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.filters
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.sync_config_changed();
CREATE TRIGGER sync_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.plugins
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.sync_config_changed();
CREATE TRIGGER sync_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.llm_filters
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.sync_config_changed();
CREATE TRIGGER sync_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.llm_plugins
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.sync_config_changed();
CREATE TRIGGER sync_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aistudio.secrets
	FOR EACH STATEMENT EXECUTE FUNCTION aistudio.sync_config_changed();

-- pg_dump: the sync state that belongs to the user (the trail, pushes,
-- baselines).  Not dumped: heartbeat metrics and the rate limit's refusals
-- (short-lived).
SELECT pg_catalog.pg_extension_config_dump('aistudio.namespace_checksums', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.edge_events', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.edge_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.pushes', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.pushes_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('aistudio.push_targets', '');

-- The hub's gateway connection (no acting user); the admin API (acting
-- user) for the admin functions.
GRANT EXECUTE ON FUNCTION
	aistudio.enroll_edge(text, text),
	aistudio.revoke_edge(text),
	aistudio.edge_authenticate(text, text, text, boolean, text),
	aistudio.edge_key(text),
	aistudio.register_edge(text, text, text),
	aistudio.delete_edge(text),
	aistudio.edge_register(text, text, text, text, text, integer),
	aistudio.edge_heartbeats(text[], text[], text[], jsonb[], text),
	aistudio.edge_heartbeat(text, text),
	aistudio.edge_disconnected(text, text),
	aistudio.edge_sweep(),
	aistudio.push_config(text),
	aistudio.mark_edges_pushed(text),
	aistudio.push_targets(bigint, text),
	aistudio.push_progress(bigint, text, text, text, text),
	aistudio.get_push(bigint),
	aistudio.list_pushes(int, int),
	aistudio.edge_resolve_credential(text, text),
	aistudio.ingest_edge_events(text, jsonb),
	aistudio.edge_lease(text, text, text, bigint, bigint, bigint),
	aistudio.list_edge_events(text, int, int),
	aistudio.edge_metrics(text, int)
	TO aistudio_gateway;

