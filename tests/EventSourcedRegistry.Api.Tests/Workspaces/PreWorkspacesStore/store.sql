SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
CREATE SCHEMA registry;
CREATE FUNCTION registry.esr_event_gaps() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  sequence_state record;
begin
  if not isfinite(new.timestamp) then
    new.timestamp := now();
  end if;
  if new.type = 'tombstone' then
    select last_value, is_called into sequence_state from registry.mt_events_sequence;
    -- Racy against a concurrent nextval only in the window after a crash, and a collision it lets through is
    -- refused by the primary key and repaired (RepairSequenceAsync), never kept.
    if sequence_state.last_value < new.seq_id or (sequence_state.last_value = new.seq_id and not sequence_state.is_called) then
      perform setval('registry.mt_events_sequence', new.seq_id);
    end if;
  end if;
  return new;
end
$$;
CREATE FUNCTION registry.model_tags_clear() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  truncate registry.model_tags;
  return null;
end
$$;
CREATE FUNCTION registry.model_tags_sync() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    delete from registry.model_tags where model_id = old.id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    insert into registry.model_tags (model_id, tag_key, tag_value, pair_hash, normalized_name) select v.id, t.key, t.value, md5(t.key || chr(31) || t.value)::uuid, v.normalized_name from (select new.id as id, new.data as data, new.normalized_name as normalized_name) as v, jsonb_each_text(coalesce(v.data -> 'tags', '{}'::jsonb)) t;
  end if;
  return null;
end
$$;
CREATE FUNCTION registry.mt_archive_stream(streamid uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
  update registry.mt_streams set is_archived = TRUE where id = streamid ;
  update registry.mt_events set is_archived = TRUE where stream_id = streamid ;
END;
$$;
CREATE FUNCTION registry.mt_get_next_hi(entity character varying) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
current_value bigint;
    next_value
bigint;
BEGIN
select hi_value
into current_value
from registry.mt_hilo
where entity_name = entity;
IF
current_value is null THEN
        insert into registry.mt_hilo (entity_name, hi_value) values (entity, 0);
        next_value
:= 0;
ELSE
        next_value := current_value + 1;
update registry.mt_hilo
set hi_value = next_value
where entity_name = entity and hi_value = current_value;
IF
NOT FOUND THEN
            next_value := -1;
END IF;
END IF;
return next_value;
END
$$;
CREATE FUNCTION registry.mt_grams_array(words text, use_unaccent boolean DEFAULT false) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $$
        DECLARE
result text[];
        DECLARE
word text;
        DECLARE
clean_word text;
BEGIN
                FOREACH
word IN ARRAY string_to_array(words, ' ')
                LOOP
                     clean_word = regexp_replace(registry.mt_safe_unaccent(use_unaccent, word), '[^a-zA-Z0-9]+', '','g');
FOR i IN 1 .. length(clean_word)
                     LOOP
                         result := result || quote_literal(substr(lower(clean_word), i, 1));
                         result
:= result || quote_literal(substr(lower(clean_word), i, 2));
                         result
:= result || quote_literal(substr(lower(clean_word), i, 3));
END LOOP;
END LOOP;
RETURN ARRAY(SELECT DISTINCT e FROM unnest(result) AS a(e) ORDER BY e);
END;
$$;
CREATE FUNCTION registry.mt_grams_query(text, use_unaccent boolean DEFAULT false) RETURNS tsquery
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $_$
BEGIN
RETURN (SELECT array_to_string(registry.mt_grams_array($1, use_unaccent), ' & ') ::tsquery);
END
$_$;
CREATE FUNCTION registry.mt_grams_vector(text, use_unaccent boolean DEFAULT false) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $_$
BEGIN
RETURN (SELECT array_to_string(registry.mt_grams_array($1, use_unaccent), ' ') ::tsvector);
END
$_$;
CREATE FUNCTION registry.mt_immutable_date(value text) RETURNS date
    LANGUAGE sql IMMUTABLE
    AS $$
select value::date
$$;
CREATE FUNCTION registry.mt_immutable_time(value text) RETURNS time without time zone
    LANGUAGE sql IMMUTABLE
    AS $$
select value::time
$$;
CREATE FUNCTION registry.mt_immutable_timestamp(value text) RETURNS timestamp without time zone
    LANGUAGE sql IMMUTABLE
    AS $$
select value::timestamp
$$;
CREATE FUNCTION registry.mt_immutable_timestamptz(value text) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE
    AS $$
select value::timestamptz
$$;
CREATE FUNCTION registry.mt_jsonb_append(jsonb, text[], jsonb, boolean, jsonb DEFAULT NULL::jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    location ALIAS FOR $2;
    val ALIAS FOR $3;
    if_not_exists ALIAS FOR $4;
    patch_expression ALIAS FOR $5;
    tmp_value jsonb;
BEGIN
    tmp_value = retval #> location;
    IF tmp_value IS NOT NULL AND jsonb_typeof(tmp_value) = 'array' THEN
        CASE
            WHEN NOT if_not_exists THEN
                retval = jsonb_set(retval, location, tmp_value || val, FALSE);
            WHEN patch_expression IS NULL AND jsonb_typeof(val) = 'object' AND NOT tmp_value @> jsonb_build_array(val) THEN
                retval = jsonb_set(retval, location, tmp_value || val, FALSE);
            WHEN patch_expression IS NULL AND jsonb_typeof(val) <> 'object' AND NOT tmp_value @> val THEN
                retval = jsonb_set(retval, location, tmp_value || val, FALSE);
            WHEN patch_expression IS NOT NULL AND jsonb_typeof(patch_expression) = 'array' AND jsonb_array_length(patch_expression) = 0 THEN
                retval = jsonb_set(retval, location, tmp_value || val, FALSE);
            ELSE NULL;
            END CASE;
    END IF;
    RETURN retval;
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_append_key_value(jsonb, text[], jsonb, boolean) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    location ALIAS FOR $2;
    val ALIAS FOR $3;
    if_not_exists ALIAS FOR $4;
    tmp_value jsonb;
    _key text;
BEGIN
    tmp_value = retval #> location;
    IF tmp_value IS NOT NULL AND jsonb_typeof(tmp_value) = 'object' THEN
        CASE
            WHEN NOT if_not_exists THEN
                retval = jsonb_set(retval, location, tmp_value || val, FALSE);
            WHEN NOT tmp_value ?| ARRAY(SELECT jsonb_object_keys(val)) THEN
                retval = jsonb_set(retval, location, tmp_value || val, FALSE);
            ELSE NULL;
        END CASE;
    END IF;
    RETURN retval;
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_copy(jsonb, text[], text[]) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    src_path ALIAS FOR $2;
    dst_path ALIAS FOR $3;
    tmp_value jsonb;
BEGIN
    tmp_value = retval #> src_path;
    retval = registry.mt_jsonb_fix_null_parent(retval, dst_path);
    RETURN jsonb_set(retval, dst_path, tmp_value::jsonb, TRUE);
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_duplicate(jsonb, text[], jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    location ALIAS FOR $2;
    targets ALIAS FOR $3;
    tmp_value jsonb;
    target_path text[];
    target text;
BEGIN
    FOR target IN SELECT jsonb_array_elements_text(targets)
    LOOP
        target_path = registry.mt_jsonb_path_to_array(target, '\.');
        retval = registry.mt_jsonb_copy(retval, location, target_path);
    END LOOP;
    RETURN retval;
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_fix_null_parent(jsonb, text[]) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
retval ALIAS FOR $1;
    dst_path ALIAS FOR $2;
    dst_path_segment text[] = ARRAY[]::text[];
    dst_path_array_length integer;
    i integer = 1;
BEGIN
    dst_path_array_length = array_length(dst_path, 1);
    WHILE i <=(dst_path_array_length - 1)
    LOOP
        dst_path_segment = dst_path_segment || ARRAY[dst_path[i]];
        IF retval #> dst_path_segment IS NULL OR retval #> dst_path_segment = 'null'::jsonb THEN
            retval = jsonb_set(retval, dst_path_segment, '{}'::jsonb, TRUE);
        END IF;
        i = i + 1;
    END LOOP;
    RETURN retval;
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_increment(jsonb, text[], numeric) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
retval ALIAS FOR $1;
    location ALIAS FOR $2;
    increment_value ALIAS FOR $3;
    tmp_value jsonb;
BEGIN
    tmp_value = retval #> location;
    IF tmp_value IS NULL THEN
        tmp_value = to_jsonb(0);
END IF;
RETURN jsonb_set(retval, location, to_jsonb(tmp_value::numeric + increment_value), TRUE);
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_insert(jsonb, text[], jsonb, integer, boolean, jsonb DEFAULT NULL::jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    location ALIAS FOR $2;
    val ALIAS FOR $3;
    elm_index ALIAS FOR $4;
    if_not_exists ALIAS FOR $5;
    patch_expression ALIAS FOR $6;
    tmp_value jsonb;
BEGIN
    tmp_value = retval #> location;
    IF tmp_value IS NOT NULL AND jsonb_typeof(tmp_value) = 'array' THEN
        IF elm_index IS NULL THEN
            elm_index = jsonb_array_length(tmp_value) + 1;
        END IF;
        CASE
            WHEN NOT if_not_exists THEN
                retval = jsonb_insert(retval, location || elm_index::text, val);
            WHEN patch_expression IS NULL AND jsonb_typeof(val) = 'object' AND NOT tmp_value @> jsonb_build_array(val) THEN
                retval = jsonb_insert(retval, location || elm_index::text, val);
            WHEN patch_expression IS NULL AND jsonb_typeof(val) <> 'object' AND NOT tmp_value @> val THEN
                retval = jsonb_insert(retval, location || elm_index::text, val);
            WHEN patch_expression IS NOT NULL AND jsonb_typeof(patch_expression) = 'array' AND jsonb_array_length(patch_expression) = 0 THEN
                retval = jsonb_insert(retval, location || elm_index::text, val);
            ELSE NULL;
        END CASE;
    END IF;
    RETURN retval;
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_move(jsonb, text[], text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    src_path ALIAS FOR $2;
    dst_name ALIAS FOR $3;
    dst_path text[];
    tmp_value jsonb;
BEGIN
    tmp_value = retval #> src_path;
    retval = retval #- src_path;
    dst_path = src_path;
    dst_path[array_length(dst_path, 1)] = dst_name;
    retval = registry.mt_jsonb_fix_null_parent(retval, dst_path);
    RETURN jsonb_set(retval, dst_path, tmp_value, TRUE);
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_patch(jsonb, jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    patchset ALIAS FOR $2;
    patch jsonb;
    patch_path text[];
    patch_expression jsonb;
    value jsonb;
BEGIN
    FOR patch IN SELECT * from jsonb_array_elements(patchset)
    LOOP
        patch_path = registry.mt_jsonb_path_to_array((patch->>'path')::text, '\.');
        patch_expression = null;
        IF (patch->>'type') IN ('remove', 'append_if_not_exists', 'insert_if_not_exists') AND (patch->>'expression') IS NOT NULL THEN
            patch_expression = jsonb_path_query_array(retval #> patch_path, (patch->>'expression')::jsonpath);
        END IF;
        CASE patch->>'type'
            WHEN 'set' THEN
                retval = jsonb_set(retval, patch_path, (patch->'value')::jsonb, TRUE);
            WHEN 'delete' THEN
                retval = retval#-patch_path;
            WHEN 'append' THEN
                retval = registry.mt_jsonb_append(retval, patch_path, (patch->'value')::jsonb, FALSE);
            WHEN 'append_if_not_exists' THEN
                retval = registry.mt_jsonb_append(retval, patch_path, (patch->'value')::jsonb, TRUE, patch_expression);
            WHEN 'append_key_value' THEN
                retval = registry.mt_jsonb_append_key_value(retval, patch_path, (patch->'key_value')::jsonb, FALSE);
            WHEN 'append_key_value_if_not_exists' THEN
                retval = registry.mt_jsonb_append_key_value(retval, patch_path, (patch->'key_value')::jsonb, TRUE);
            WHEN 'insert' THEN
                retval = registry.mt_jsonb_insert(retval, patch_path, (patch->'value')::jsonb, (patch->>'index')::integer, FALSE);
            WHEN 'insert_if_not_exists' THEN
                retval = registry.mt_jsonb_insert(retval, patch_path, (patch->'value')::jsonb, (patch->>'index')::integer, TRUE, patch_expression);
            WHEN 'remove' THEN
                retval = registry.mt_jsonb_remove(retval, patch_path, COALESCE(patch_expression, (patch->'value')::jsonb));
            WHEN 'remove_key' THEN
                retval = registry.mt_jsonb_remove_key(retval, patch_path, (patch->>'key'));
            WHEN 'duplicate' THEN
                retval = registry.mt_jsonb_duplicate(retval, patch_path, (patch->'targets')::jsonb);
            WHEN 'rename' THEN
                retval = registry.mt_jsonb_move(retval, patch_path, (patch->>'to')::text);
            WHEN 'increment' THEN
                retval = registry.mt_jsonb_increment(retval, patch_path, (patch->>'increment')::numeric);
            WHEN 'increment_float' THEN
                retval = registry.mt_jsonb_increment(retval, patch_path, (patch->>'increment')::numeric);
            ELSE NULL;
        END CASE;
    END LOOP;
    RETURN retval;
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_path_to_array(text, character) RETURNS text[]
    LANGUAGE plpgsql
    AS $_$
DECLARE
    location ALIAS FOR $1;
    regex_pattern ALIAS FOR $2;
BEGIN
RETURN regexp_split_to_array(location, regex_pattern)::text[];
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_remove(jsonb, text[], jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    location ALIAS FOR $2;
    val ALIAS FOR $3;
    tmp_value jsonb;
    tmp_remove jsonb;
    patch_remove jsonb;
BEGIN
    tmp_value = retval #> location;
    IF tmp_value IS NOT NULL AND jsonb_typeof(tmp_value) = 'array' THEN
        IF jsonb_typeof(val) = 'array' THEN
            tmp_remove = val;
        ELSE
            tmp_remove = jsonb_build_array(val);
        END IF;
        FOR patch_remove IN SELECT * FROM jsonb_array_elements(tmp_remove)
        LOOP
            tmp_value =(SELECT jsonb_agg(elem)
            FROM jsonb_array_elements(tmp_value) AS elem
            WHERE elem <> patch_remove);
        END LOOP;
        IF tmp_value IS NULL THEN
            tmp_value = '[]'::jsonb;
        END IF;
    END IF;
    RETURN jsonb_set(retval, location, tmp_value, FALSE);
END;
$_$;
CREATE FUNCTION registry.mt_jsonb_remove_key(jsonb, text[], text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
DECLARE
    retval ALIAS FOR $1;
    location ALIAS FOR $2;
    _key ALIAS FOR $3;
    tmp_value jsonb;
    tmp_remove jsonb;
    patch_remove jsonb;
BEGIN
    tmp_value = retval #> location;
    IF tmp_value IS NOT NULL AND jsonb_typeof(tmp_value) = 'object' THEN
        RETURN jsonb_set(retval, location, tmp_value - _key, FALSE);
    END IF;
    RETURN retval;
END;
$_$;
CREATE FUNCTION registry.mt_mark_event_progression(name character varying, last_encountered bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
INSERT INTO registry.mt_event_progression (name, last_seq_id, last_updated)
VALUES (name, last_encountered, transaction_timestamp())
ON CONFLICT ON CONSTRAINT pk_mt_event_progression
    DO
UPDATE SET last_seq_id = last_encountered, last_updated = transaction_timestamp();
END;
$$;
CREATE FUNCTION registry.mt_mark_progression_with_skip(shard_name character varying, ending_sequence bigint, starting_sequence bigint) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    current_value bigint;
BEGIN
    select last_seq_id into current_value from registry.mt_event_progression where name = shard_name;
    IF current_value is null then
        -- Bootstrap the high-water row on first invocation. Previously this branch
        -- returned 0, which left HighWaterAgent.CheckNowAsync polling forever because
        -- statistics.CurrentMark never advanced. Issue #4425.
        INSERT INTO registry.mt_event_progression (name, last_seq_id, last_updated)
        VALUES (shard_name, ending_sequence, transaction_timestamp())
        ON CONFLICT ON CONSTRAINT pk_mt_event_progression
            DO UPDATE SET last_seq_id = ending_sequence, last_updated = transaction_timestamp();
        IF ending_sequence > starting_sequence THEN
            -- Idempotent: a rebuild/replay re-marks the same skip (ending_sequence is the
            -- PK). Re-recording an existing gap is a no-op. Conflict target is the PK
            -- constraint (the bare column name collides with the function parameter). #4530.
            insert into registry.mt_high_water_skips (ending_sequence, starting_sequence) values (ending_sequence, starting_sequence)
                on conflict on constraint pkey_mt_high_water_skips_ending_sequence do nothing;
        END IF;
        return ending_sequence;
    ELSIF current_value = starting_sequence THEN
        update registry.mt_event_progression SET last_seq_id = ending_sequence, last_updated = transaction_timestamp() where shard_name = name;
        insert into registry.mt_high_water_skips (ending_sequence, starting_sequence) values (ending_sequence, starting_sequence)
            on conflict on constraint pkey_mt_high_water_skips_ending_sequence do nothing;
        return ending_sequence;
    ELSE
        return current_value;
    END IF;
END
$$;
CREATE FUNCTION registry.mt_quick_append_events(stream uuid, stream_type character varying, tenantid character varying, event_ids uuid[], event_types character varying[], dotnet_types character varying[], bodies jsonb[], bdatas bytea[], causation_ids character varying[], correlation_ids character varying[], headers jsonb[], user_names character varying[], expected_version bigint DEFAULT NULL::bigint) RETURNS bigint[]
    LANGUAGE plpgsql
    AS $$
DECLARE
	event_version bigint;
	stream_is_archived boolean;
	event_type varchar;
	event_id uuid;
	body jsonb;
	index int;
	seq bigint;
    actual_tenant varchar;
    is_new_stream boolean := false;
	return_value bigint[];
BEGIN
    if expected_version IS NOT NULL then
        -- COALESCE turns the NULL we get for a brand-new stream into 0, so a
        -- FetchForWriting against a non-existent stream (which sets
        -- ExpectedVersionOnServer = 0) and a StartStream(id, version: 0) both
        -- land on the new-stream branch instead of mis-firing the guard.
        select version, is_archived into event_version, stream_is_archived from registry.mt_streams where id = stream;
        if COALESCE(event_version, 0) != expected_version then
            RAISE EXCEPTION 'Stream version mismatch on ''%'': expected %, actual %', stream, expected_version, COALESCE(event_version, 0) USING ERRCODE = 'MT003';
        end if;
    else
        select version, is_archived into event_version, stream_is_archived from registry.mt_streams where id = stream;
    end if;
	if event_version IS NULL then
		event_version = 0;
		is_new_stream := true;
		-- #5456 follow-up: insert the FINAL version straight away rather than 0 plus a
		-- trailing UPDATE of the row we just wrote in this same transaction. That UPDATE
		-- is a second heap tuple + WAL record per stream creation for no observable gain
		-- -- nothing outside this transaction can see the intermediate 0. The trailing
		-- UPDATE below is skipped for this branch via is_new_stream.
		insert into registry.mt_streams (id, type, version, timestamp, tenant_id) values (stream, stream_type, COALESCE(array_length(event_ids, 1), 0), now(), tenantid);
    else
        if stream_is_archived then
            RAISE EXCEPTION 'Attempted to append event to archived stream with Id ''%''.', stream USING ERRCODE = 'MT001';
        end if;
        if tenantid IS NOT NULL then
            select tenant_id into actual_tenant from registry.mt_streams where id = stream;
            if actual_tenant != tenantid then
                RAISE EXCEPTION 'The tenantid does not match the existing stream';
            end if;
        end if;
	end if;
	index := 1;
	-- #5062: array_length('{}', 1) is NULL in PostgreSQL, not 0, so a call with an
	-- empty event array used to return ARRAY[NULL] -- a bigint[] whose only element
	-- is NULL, which Npgsql cannot read into long[] ('Cannot read a non-nullable
	-- collection of elements because the returned array contains nulls'). COALESCE
	-- makes the empty case mean what it says: zero events appended, so the final
	-- version is the stream's current version.
	return_value := ARRAY[event_version + COALESCE(array_length(event_ids, 1), 0)];
	foreach event_id in ARRAY event_ids
	loop
        seq := nextval('registry.mt_events_sequence');
		return_value := array_append(return_value, seq);
	    event_version := event_version + 1;
		event_type = event_types[index];
		body = bodies[index];
		-- #4515 / #4578 / Phase 2: bdatas[index] carries the binary payload
		-- for events opted in to binary serialization (NULL otherwise).
		-- bodies[index] is the {} JSON placeholder for those events so the
		-- existing data jsonb NOT NULL constraint stays intact.
		insert into registry.mt_events
			(seq_id, id, stream_id, version, data, bdata, type, tenant_id, timestamp, mt_dotnet_type, is_archived, causation_id, correlation_id, headers, user_name)
		values
			(seq, event_id, stream, event_version, body, bdatas[index], event_type, tenantid, (now() at time zone 'utc'), dotnet_types[index], FALSE, causation_ids[index], correlation_ids[index], headers[index], user_names[index]);
		index := index + 1;
	end loop;
	-- A brand-new stream already carries its final version from the insert above, so the
	-- UPDATE is only needed when we appended onto a stream that already existed.
	--
	-- #5539: and only when we actually appended something. With ZERO events this was a BLIND write-back
	-- of the version read at the top of the function, and under READ COMMITTED that is a lost update: the
	-- UPDATE waits on a concurrent appender's row lock, the winner commits, the WHERE clause is
	-- re-evaluated against the new row, and `set version = <the stale value>` lands -- leaving
	-- mt_streams.version BELOW the stream's own events. Every later append then computes a version that
	-- already exists and dies on pk_mt_events_stream_and_version, forever, until the row is repaired by
	-- hand. A non-empty call cannot do this: its first INSERT collides with the winner on that same
	-- primary key and rolls the whole thing back, which is why only the empty case was exposed.
	--
	-- Two independent guards, because either alone would have been enough and the cost of both is nil:
	--   * the append count -- appending nothing has nothing to write, so the correct number of statements
	--     is zero rather than one that happens to be harmless;
	--   * greatest(), so the write-back can never LOWER a stream's version whoever calls it. An append
	--     only ever moves a version forward, so this is a no-op on every correct path and a backstop on
	--     any future caller that reads the version and then writes it back.
	if not is_new_stream and COALESCE(array_length(event_ids, 1), 0) > 0 then
		update registry.mt_streams set version = greatest(version, event_version), timestamp = now() where id = stream;
	end if;
	return return_value;
END
$$;
CREATE FUNCTION registry.mt_safe_unaccent(use_unaccent boolean, word text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $$
BEGIN
IF use_unaccent THEN
    RETURN public.unaccent(word);
ELSE
    RETURN word;
END IF;
END;
$$;
SET default_tablespace = '';
SET default_table_access_method = heap;
CREATE TABLE registry.api_keys (
    id text NOT NULL,
    name text NOT NULL,
    owner text NOT NULL,
    issuers text[] DEFAULT ARRAY[]::text[] NOT NULL,
    secret_sha256 bytea NOT NULL,
    grants jsonb NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    revoked_by text
);
CREATE TABLE registry.audit_chain (
    seq_id bigint NOT NULL,
    prev_seq bigint NOT NULL,
    hash bytea NOT NULL
);
CREATE TABLE registry.audit_log (
    seq_id bigint NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    model_id uuid NOT NULL,
    model_name text,
    version integer,
    event_type text NOT NULL,
    actor text,
    reason text,
    correlation_id text,
    causation_id text,
    summary text NOT NULL
);
CREATE TABLE registry.audit_model_names (
    name_key text NOT NULL,
    model_id uuid NOT NULL,
    seq_id bigint NOT NULL
);
CREATE SEQUENCE registry.deployment_history_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
CREATE TABLE registry.deployment_history (
    id bigint DEFAULT nextval('registry.deployment_history_id_seq'::regclass) NOT NULL,
    model_id uuid NOT NULL,
    kind character varying NOT NULL,
    subject character varying NOT NULL,
    target character varying,
    version integer,
    entered_seq bigint NOT NULL,
    entered_at timestamp with time zone NOT NULL,
    entered_by character varying,
    entered_reason character varying,
    left_seq bigint,
    left_at timestamp with time zone,
    left_by character varying,
    left_reason character varying
);
CREATE TABLE registry.model_snapshots (
    model_id uuid NOT NULL,
    version bigint NOT NULL,
    seq_id bigint NOT NULL,
    data jsonb NOT NULL
);
CREATE TABLE registry.model_tags (
    model_id uuid NOT NULL,
    tag_key text NOT NULL,
    tag_value text NOT NULL,
    pair_hash uuid NOT NULL,
    normalized_name character varying NOT NULL
);
CREATE TABLE registry.mt_doc_artifactupload (
    id character varying NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_version uuid DEFAULT (md5(((random())::text || (clock_timestamp())::text)))::uuid NOT NULL,
    mt_dotnet_type character varying,
    sha_256 character varying
);
CREATE TABLE registry.mt_doc_auditcheckpoint (
    id bigint NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_version uuid DEFAULT (md5(((random())::text || (clock_timestamp())::text)))::uuid NOT NULL,
    mt_dotnet_type character varying
);
CREATE TABLE registry.mt_doc_deadletterevent (
    id uuid NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_version uuid DEFAULT (md5(((random())::text || (clock_timestamp())::text)))::uuid NOT NULL,
    mt_dotnet_type character varying
);
CREATE TABLE registry.mt_doc_idempotencyrecord (
    id character varying NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_version uuid DEFAULT (md5(((random())::text || (clock_timestamp())::text)))::uuid NOT NULL,
    mt_dotnet_type character varying,
    stored_at timestamp with time zone
);
CREATE TABLE registry.mt_doc_modelnameindex (
    id character varying NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_version uuid DEFAULT (md5(((random())::text || (clock_timestamp())::text)))::uuid NOT NULL,
    mt_dotnet_type character varying
);
CREATE TABLE registry.mt_doc_modelversionview (
    id character varying NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_dotnet_type character varying,
    mt_version bigint DEFAULT 0 NOT NULL,
    model_id uuid
);
CREATE TABLE registry.mt_doc_modelview (
    id uuid NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_dotnet_type character varying,
    mt_version bigint DEFAULT 0 NOT NULL,
    normalized_name character varying
);
CREATE TABLE registry.mt_doc_registrysettings (
    id uuid NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_dotnet_type character varying,
    mt_version bigint DEFAULT 0 NOT NULL
);
CREATE TABLE registry.mt_doc_transitionrequestsview (
    id uuid NOT NULL,
    data jsonb NOT NULL,
    mt_last_modified timestamp with time zone DEFAULT transaction_timestamp(),
    mt_dotnet_type character varying,
    mt_version bigint DEFAULT 0 NOT NULL
);
CREATE TABLE registry.mt_event_progression (
    name character varying NOT NULL,
    last_seq_id bigint,
    last_updated timestamp with time zone DEFAULT transaction_timestamp(),
    mode character varying DEFAULT 'none'::character varying,
    rebuild_threshold integer DEFAULT 0,
    assigned_node integer DEFAULT 0,
    heartbeat timestamp with time zone,
    agent_status character varying(20),
    pause_reason text,
    running_on_node integer,
    warning_behind_threshold bigint,
    critical_behind_threshold bigint,
    failure_category character varying(50),
    failure_event_sequence bigint,
    failure_event_type character varying(500),
    failure_event_tenant_id character varying(500)
);
CREATE TABLE registry.mt_event_projection_floors (
    name character varying NOT NULL,
    tenant_id character varying NOT NULL,
    floor bigint NOT NULL,
    last_updated timestamp with time zone DEFAULT transaction_timestamp()
);
CREATE TABLE registry.mt_events (
    seq_id bigint NOT NULL,
    id uuid NOT NULL,
    stream_id uuid,
    version bigint NOT NULL,
    data jsonb NOT NULL,
    bdata bytea,
    type character varying(500) NOT NULL,
    "timestamp" timestamp with time zone DEFAULT '2026-12-05 16:21:20.266436+00'::timestamp with time zone NOT NULL,
    tenant_id character varying DEFAULT '*DEFAULT*'::character varying,
    mt_dotnet_type character varying,
    correlation_id character varying,
    causation_id character varying,
    headers jsonb,
    user_name character varying,
    is_archived boolean DEFAULT false
);
CREATE SEQUENCE registry.mt_events_sequence
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE registry.mt_events_sequence OWNED BY registry.mt_events.seq_id;
CREATE TABLE registry.mt_high_water_skips (
    ending_sequence bigint NOT NULL,
    starting_sequence bigint NOT NULL,
    "timestamp" timestamp with time zone DEFAULT transaction_timestamp()
);
CREATE TABLE registry.mt_hilo (
    entity_name character varying NOT NULL,
    hi_value bigint DEFAULT 0
);
CREATE TABLE registry.mt_streams (
    id uuid NOT NULL,
    type character varying,
    version bigint,
    "timestamp" timestamp with time zone DEFAULT now() NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    tenant_id character varying DEFAULT '*DEFAULT*'::character varying,
    compacted_version bigint DEFAULT 0 NOT NULL,
    is_archived boolean DEFAULT false
);
CREATE TABLE registry.registry_states (
    model_id uuid NOT NULL,
    entered_seq bigint NOT NULL,
    state text NOT NULL
);
INSERT INTO registry.api_keys VALUES
	('bootstrap', 'bootstrap-admin', 'key:bootstrap-admin', '{}', '\x7a41eb3450cb2b36d1e7e898646e20559582f825d8b069c9e1de10ce9ab47050', '[{"role": "admin"}]', 'bootstrap', '2026-12-05 16:21:21.5869+00', NULL, NULL),
	('51c6b5bc689680c3', 'dev', 'dev@example.com', '{key:bootstrap-admin}', '\xb28d556a512e36702255e41352c5a07c0286198841865562809537fcd2df3bcc', '[{"role": "contributor", "registryWide": true}]', 'key:bootstrap-admin', '2026-12-05 16:21:31.169472+00', NULL, NULL),
	('dfd8fdbf12b814ac', 'reviewer', 'reviewer@example.com', '{key:bootstrap-admin}', '\xc48a82e7501183a006b524e227dcf1d24359766cb907610a84b37405c83fd351', '[{"role": "approver", "registryWide": true}]', 'key:bootstrap-admin', '2026-12-05 16:21:31.566811+00', NULL, NULL),
	('b191d52145a269ad', 'auditor', 'audit@example.com', '{key:bootstrap-admin}', '\x914e514aec4a758affc8029fdadfc98738e115ad7876bff9cfa5a24d73c7fe61', '[{"role": "auditor", "registryWide": true}]', 'key:bootstrap-admin', '2026-12-05 16:21:31.867643+00', NULL, NULL),
	('42e9137fd94bbfb8', 'temp', 'temp@example.com', '{key:bootstrap-admin}', '\x92502349731d622a40d77f65a2e35c1a51fe8cd8ad950e352a9165f64ccd4c7d', '[{"role": "reader", "registryWide": true}]', 'key:bootstrap-admin', '2026-12-05 16:21:32.008388+00', '2026-12-05 16:21:33.112213+00', 'key:bootstrap-admin'),
	('f719f27572301c17', 'churn-reader', 'pipeline@example.com', '{key:bootstrap-admin}', '\x1f51f57e8be3f7a78cb8047ec90f537c915417fd6e44a9410ea301fae500c174', '[{"role": "reader", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "modelName": "churn", "registryWide": false}]', 'key:bootstrap-admin', '2026-12-05 16:21:34.12191+00', NULL, NULL);
INSERT INTO registry.audit_chain VALUES
	(1, 0, '\xdbaace0eecd9ebb41ad00e60dc1e348ed17dad50c2deacf096fbeca1a1e42a21'),
	(2, 1, '\x5f6d3175940208050d5ebad6e5af0a9bbb3c11dd7fb6040530a30f666ddc577e'),
	(3, 2, '\x65c36e09be890f7726da5f54856f0e1a47bde0309b5cf5c98c1e9e838692c0fe'),
	(4, 3, '\xe22a7d37645a55f748784748a8aac9953a6f1d0ce3d9e8f817bebb2cdb45014d'),
	(5, 4, '\x2889a386159cc5b784c61f89efd037d8f69e52a456e8464af362fd5f2f32882a'),
	(6, 5, '\x45301eb4408a413ca0b9706a27d1052ba8242a335cdabaa60194f54e1df2ddd6'),
	(7, 6, '\xa742d4232d0e3994a1b935908b60ac28c6287311bf877a12bed803e4cd8249f1'),
	(8, 7, '\xe11755224935cd938f1e7b1c1da605783b2795ec2344ec4ebdf7231075823d47'),
	(9, 8, '\xc7777204e26784fa017ac679d6e2a729c264473acbf7e0311d9498b1cb93e404'),
	(10, 9, '\x01d29d9ff258125d19aff114d23283b1c8827dad2970f1b1be2203c8c2316a05'),
	(11, 10, '\x3a6bb3c5876e402e40653271bf117d8beeeff3c018db4e1c63560348858b7e0e'),
	(12, 11, '\x75a2a69db47c0ab4376010d9765d0fdb8bfa936968e278b398cf980d305250ee'),
	(13, 12, '\xa6d156ef2c107db339db7fdf54090cb6799a53a0f73ccbea054ded589bb46810'),
	(14, 13, '\xf87648b233eed08ec7cf2ec3791ce3392869693354ed933f82e28151f175c941'),
	(15, 14, '\xcdc3465f7d668369d8ec3fa27e366f9adef0b65471761e4eeeff146639370880'),
	(16, 15, '\x816206ae93c89fa674c52cf12cf58063b8b2ce20ad70ca3e7e2e315085a5e9e7'),
	(17, 16, '\xc6c7541c595021b960d17b0c2a13ab5e40c4fb62629f69aec9632a6c205ec432'),
	(18, 17, '\x641bb6c15de85140e83d861ec9f704ac7c821c759e7c167adf73eb9ce5057e4c'),
	(19, 18, '\xdd64cca99de68744d4ab8eed155b1c9ada8d208dce24d42e53d30120618ec9cb'),
	(20, 19, '\xf2886398d0bff2032aa922abe752100072d063276ed1daa577ab525b91ea20e6'),
	(21, 20, '\x21ce2d0eeef99e82b6f53b9d789dbfe651488d401c9caa9c1365b3e3bd4f3315'),
	(22, 21, '\x1fca98a6d7d2aa8474557c15f68efb40d7734eb11e54d4d161a370aa6e3fce07'),
	(23, 22, '\xda1338a7a43fa4a5004e0c81156241dba8a49b16e566272ac2ee6be40eb173b8'),
	(24, 23, '\xf041303dcee362e559cd5769f1e1270d398457d5addad69d810aa2b214421710'),
	(25, 24, '\x4087514a7ef3abce2af3af2e83c0da425a376e2f20adcc029da29019f1423315'),
	(26, 25, '\xe3bcb7e3e09ed843853d1b1e93b16d0ae6ab9815eedc18fa50a08a94df9a21e6'),
	(27, 26, '\xfd08779f6bead0caf188d33c8c33478365934e49900450a925e8adadbaaea3ec'),
	(28, 27, '\x865944d4a2788e46bb2a1b59776633ed92eee38044517d5bd71da9f4bfda85df'),
	(29, 28, '\x84ae5ba661168c25438f5da5ab9899fd4d26ee5030c01171ec640f8bbbd4fea5'),
	(30, 29, '\xe1b908b800570a886bf11e0a7eac3cfa97ba0a44ceaec0a2f5afaa43f22d14de'),
	(31, 30, '\xb06ac670e27257f0cea3b5d6ee4c1e765192b4b0a6542b85fbfcd33bfe580c67'),
	(32, 31, '\xc3ebff95efa3a7ec7ba01feda295610542cf6ee805aafa250d03376f680770b7'),
	(33, 32, '\x6628fa65d9b1db76fa4a8567e99f3259a41768a6c5db51107f6fbeffc2cc4eff'),
	(34, 33, '\xd5f5232641dfbd39a8bede3987f92e01054251caa3373058034c9cda26543d3b'),
	(35, 34, '\x2926a450065a9b3c6c75d5ee2154ef110a87f200ba66a840de67cf86a6bcba8c'),
	(36, 35, '\x1008879d06eb6446d0e13124173658a5d928b9adf498e1d342a19a1e0a944198'),
	(37, 36, '\xbc930b0d82f8effb5de43be0c26d8d9b72c6738a6c28c94ca34a1303def41aae'),
	(38, 37, '\x88c829e4341fd734472010b49fbbeb1a33e89afae32d9d1e7a921ed777386c7b'),
	(39, 38, '\xcb5744c7314edb0ff81bb7f3369a2af679b199410ed34a7b7f8ec413360905ea'),
	(40, 39, '\xe1b98c8bd5c328326aa5a7e4574cac39233699e1e879e2343e334162b1fbbc45'),
	(41, 40, '\xdc3a4f9065637acd90e084c90da099cda4acc9821b4a3eec6a68712bbb199878'),
	(42, 41, '\x7f9eeee71eac0add3cc2a60591939a06e82fffd2777dac7bac43c7029b91ba28'),
	(43, 42, '\x537c174345db847ded0fe29d3b2e5c2740deb6195d733f6271a165b0c548f2b4'),
	(44, 43, '\x532b80b19f5661b2db87178bdc62d9940dc11fb555ea98d05efb8676913e9300'),
	(45, 44, '\x8d7d902c8690798ba4aac66ee45ba29a4ea6d75c90b2aaaae58754f8abb591d2');
INSERT INTO registry.audit_log VALUES
	(1, '2026-12-05 16:21:21.5869+00', 'e5f0c1a2-0000-4000-8000-000000000002', NULL, NULL, 'ApiKeyCreated', 'bootstrap', NULL, '68513a810bc649a6bab44ebeefafdb9f', 'e90965e79a054f108572b3b4661eb9e0', 'API key "bootstrap-admin" (id bootstrap) created for key:bootstrap-admin: admin'),
	(2, '2026-12-05 16:21:31.169472+00', 'e5f0c1a2-0000-4000-8000-000000000002', NULL, NULL, 'ApiKeyCreated', 'key:bootstrap-admin', NULL, '178cf336041f30a72fc777989fabd00c', '0HNQITF77P1UB:00000001', 'API key "dev" (id 51c6b5bc689680c3) created for dev@example.com: contributor'),
	(3, '2026-12-05 16:21:31.566811+00', 'e5f0c1a2-0000-4000-8000-000000000002', NULL, NULL, 'ApiKeyCreated', 'key:bootstrap-admin', NULL, '11bd4373e281318ec22a167465a58be6', '0HNQITF77P1UC:00000001', 'API key "reviewer" (id dfd8fdbf12b814ac) created for reviewer@example.com: approver'),
	(4, '2026-12-05 16:21:31.867643+00', 'e5f0c1a2-0000-4000-8000-000000000002', NULL, NULL, 'ApiKeyCreated', 'key:bootstrap-admin', NULL, 'c19cca3828ad2b6b5639f6688307005f', '0HNQITF77P1UD:00000001', 'API key "auditor" (id b191d52145a269ad) created for audit@example.com: auditor'),
	(5, '2026-12-05 16:21:32.008388+00', 'e5f0c1a2-0000-4000-8000-000000000002', NULL, NULL, 'ApiKeyCreated', 'key:bootstrap-admin', NULL, '1dfcaee604426b41914bc0ce2a26deb7', '0HNQITF77P1UE:00000001', 'API key "temp" (id 42e9137fd94bbfb8) created for temp@example.com: reader'),
	(6, '2026-12-05 16:21:33.112213+00', 'e5f0c1a2-0000-4000-8000-000000000002', NULL, NULL, 'ApiKeyRevoked', 'key:bootstrap-admin', 'no longer needed', 'a170d13a12837466ba8a6e386d46ba83', '0HNQITF77P1UH:00000001', 'API key "temp" (id 42e9137fd94bbfb8) of temp@example.com revoked'),
	(7, '2026-12-05 16:21:33.436168+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', NULL, 'ModelRegistered', 'key:dev', NULL, 'fe0a2ce02e00d28425fd45f3153277b8', '0HNQITF77P1UI:00000001', 'model "churn" registered'),
	(8, '2026-12-05 16:21:33.696242+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', NULL, 'ModelRegistered', 'key:dev', NULL, 'be4a5a97e887696a582d40826417a103', '0HNQITF77P1UJ:00000001', 'model "fraud" registered'),
	(9, '2026-12-05 16:21:33.83143+00', '01a24702-c607-739f-a3a0-b71cd8c6b102', 'demand', NULL, 'ModelRegistered', 'key:dev', NULL, '2ac1fb082af2485f755744f804944194', '0HNQITF77P1UK:00000001', 'model "demand" registered'),
	(10, '2026-12-05 16:21:34.12191+00', 'e5f0c1a2-0000-4000-8000-000000000002', NULL, NULL, 'ApiKeyCreated', 'key:bootstrap-admin', NULL, 'd4075dabefa2da90ac6539ea84f9b91a', '0HNQITF77P1UL:00000001', 'API key "churn-reader" (id f719f27572301c17) created for pipeline@example.com: reader on churn'),
	(11, '2026-12-05 16:21:34.526492+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', NULL, 'ModelMetadataSchemaSet', 'key:bootstrap-admin', 'owners on every version', 'fc8023d957682da3fa010aeeb6a28521', '0HNQITF77P1UM:00000001', 'metadata schema set (requires owner)'),
	(12, '2026-12-05 16:21:34.914555+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 1, 'ModelVersionRegistered', 'key:dev', NULL, '9c4286fdee2d8be54cfa396672ef7387', '0HNQITF77P1UO:00000001', 'version 1 registered in None (sha256 103c353948b1…)'),
	(13, '2026-12-05 16:21:35.183227+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 2, 'ModelVersionRegistered', 'key:dev', NULL, '5fde34788b6735915fc880b1880c19cc', '0HNQITF77P1UP:00000001', 'version 2 registered in None (sha256 cccccccccccc…)'),
	(14, '2026-12-05 16:21:35.326579+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 1, 'ModelVersionRegistered', 'key:dev', NULL, '56bcca187e8aa146e84f01fb215f4430', '0HNQITF77P1UQ:00000001', 'version 1 registered in None (sha256 111111111111…)'),
	(15, '2026-12-05 16:21:35.492553+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 2, 'ModelVersionRegistered', 'key:dev', NULL, 'ccd3d26c2939de8c6e24673b9c9d3f74', '0HNQITF77P1UR:00000001', 'version 2 registered in None (sha256 222222222222…)'),
	(16, '2026-12-05 16:21:35.66955+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 3, 'ModelVersionRegistered', 'key:dev', NULL, '9a4d361b7cc6d2af123904a3a06c65ff', '0HNQITF77P1US:00000001', 'version 3 registered in None (sha256 333333333333…)'),
	(17, '2026-12-05 16:21:35.837461+00', '01a24702-c607-739f-a3a0-b71cd8c6b102', 'demand', 1, 'ModelVersionRegistered', 'key:dev', NULL, '6e5753674859963dba7425a5c9f0e8ac', '0HNQITF77P1UT:00000001', 'version 1 registered in None (sha256 dddddddddddd…)'),
	(18, '2026-12-05 16:21:36.141004+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 1, 'ModelVersionStageTransitioned', 'key:dev', 'first candidate', 'e500f525046526854a44e4f81e2dcb20', '0HNQITF77P1UU:00000001', 'version 1: None → Staging'),
	(19, '2026-12-05 16:21:36.513399+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 1, 'ModelVersionMetadataEdited', 'key:dev', NULL, 'f2e1fc4a363883ad1262970925922178', '0HNQITF77P1UV:00000001', 'version 1 edited: description set; tags set: dataset; metadata replaced'),
	(20, '2026-12-05 16:21:36.664948+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', NULL, 'ModelMetadataEdited', 'key:dev', NULL, '7cf7925f765a6b774a3757795880ce34', '0HNQITF77P1V0:00000001', 'model edited: tags set: slack'),
	(21, '2026-12-05 16:21:36.812379+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 1, 'TransitionRequested', 'key:dev', 'beats the rules', '4668272f5b4d1ccf138e93c2c414ef53', '0HNQITF77P1V1:00000001', 'requested version 1 → Production, archiving the others there (sha256 103c353948b1…; request 01a24702-d1ab-70af-b45d-95ef03c15bfe; owner dev@example.com, key 51c6b5bc689680c3)'),
	(22, '2026-12-05 16:21:37.053967+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', NULL, 'TransitionApproved', 'key:reviewer', 'eval report checked', '6e0473bb15382f3ff961975c187b4111', '0HNQITF77P1V2:00000001', 'key:reviewer approved request 01a24702-d1ab-70af-b45d-95ef03c15bfe (sha256 103c353948b1…; owner reviewer@example.com, key dfd8fdbf12b814ac); the last approval needed, the transition follows'),
	(23, '2026-12-05 16:21:37.053967+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 1, 'ModelVersionStageTransitioned', 'key:reviewer', 'beats the rules', '6e0473bb15382f3ff961975c187b4111', '0HNQITF77P1V2:00000001', 'version 1: Staging → Production'),
	(24, '2026-12-05 16:21:37.455226+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 1, 'TransitionRequested', 'key:dev', NULL, 'dd3dd57e4b148b173ed8a3cd7aa14288', '0HNQITF77P1V3:00000001', 'requested alias champion → version 1 (sha256 103c353948b1…; request 01a24702-d42e-7bad-900d-ab307826a6ce; owner dev@example.com, key 51c6b5bc689680c3)'),
	(25, '2026-12-05 16:21:37.578815+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', NULL, 'TransitionApproved', 'key:reviewer', 'same as production', 'bde52d47e2478c77f7186031ffcdfc38', '0HNQITF77P1V4:00000001', 'key:reviewer approved request 01a24702-d42e-7bad-900d-ab307826a6ce (sha256 103c353948b1…; owner reviewer@example.com, key dfd8fdbf12b814ac); the last approval needed, the transition follows'),
	(26, '2026-12-05 16:21:37.578815+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 1, 'ModelAliasAssigned', 'key:reviewer', 'same as production', 'bde52d47e2478c77f7186031ffcdfc38', '0HNQITF77P1V4:00000001', 'alias champion → version 1'),
	(27, '2026-12-05 16:21:37.784415+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 2, 'TransitionRequested', 'key:dev', 'slightly better', '1a05193bd4a538f4e5ca3e2f53e20125', '0HNQITF77P1V5:00000001', 'requested version 2 → Production (sha256 cccccccccccc…; request 01a24702-d577-751a-bd2e-8107a8f8ed46; owner dev@example.com, key 51c6b5bc689680c3)'),
	(28, '2026-12-05 16:21:38.377528+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', NULL, 'TransitionRejected', 'key:reviewer', 'needs a bias review', 'cd3587fa47341c5525f198231305c77b', '0HNQITF77P1V6:00000001', 'key:reviewer rejected request 01a24702-d577-751a-bd2e-8107a8f8ed46'),
	(29, '2026-12-05 16:21:38.621675+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 1, 'ModelVersionDeployed', 'key:dev', 'release 12', 'f8fecc0809bd63bf971712b7ce42aa3b', '0HNQITF77P1V7:00000001', 'version 1 deployed to prod (k8s/eu-west)'),
	(30, '2026-12-05 16:21:38.749156+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 1, 'ModelVersionStageTransitioned', 'key:dev', NULL, '1ff7caf98bcc12293e8e8dafaf9ed52f', '0HNQITF77P1V8:00000001', 'version 1: None → Staging'),
	(31, '2026-12-05 16:21:38.837106+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 1, 'ModelAliasAssigned', 'key:dev', NULL, '3483d9587c1339d618f7f38bbb6e1912', '0HNQITF77P1V9:00000001', 'alias candidate → version 1'),
	(32, '2026-12-05 16:21:39.230672+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 2, 'ModelVersionStageTransitioned', 'key:dev', 'v2 looks better', 'd73df0c22883a8f0d6e467f5e5e2d0ce', '0HNQITF77P1VB:00000001', 'version 2: None → Staging'),
	(33, '2026-12-05 16:21:39.230672+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 1, 'ModelVersionStageTransitioned', 'key:dev', 'Archived because version 2 entered Staging.', 'd73df0c22883a8f0d6e467f5e5e2d0ce', '0HNQITF77P1VB:00000001', 'version 1: Staging → Archived'),
	(34, '2026-12-05 16:21:39.342248+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 2, 'ModelAliasAssigned', 'key:dev', NULL, '9d1a865f6ca2e674b010f97ed5a2634c', '0HNQITF77P1VC:00000001', 'alias candidate → version 2 (was version 1)'),
	(35, '2026-12-05 16:21:39.455353+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 2, 'ModelVersionDeployed', 'key:dev', NULL, '8491531109a673d1e45fd372fbbfdca4', '0HNQITF77P1VD:00000001', 'version 2 deployed to staging'),
	(36, '2026-12-05 16:21:41.021398+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', NULL, 'RollbackPerformed', 'key:dev', 'v2 regressed', '059a56078ec651e20d28df2fc2254622', '0HNQITF77P1VF:00000001', 'rolled back to sequence 31 (3 changes)'),
	(37, '2026-12-05 16:21:41.021398+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 1, 'ModelVersionStageTransitioned', 'key:dev', 'Rollback to sequence 31: v2 regressed', '059a56078ec651e20d28df2fc2254622', '0HNQITF77P1VF:00000001', 'version 1: Archived → Staging'),
	(38, '2026-12-05 16:21:41.021398+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 2, 'ModelVersionStageTransitioned', 'key:dev', 'Rollback to sequence 31: v2 regressed', '059a56078ec651e20d28df2fc2254622', '0HNQITF77P1VF:00000001', 'version 2: Staging → None'),
	(39, '2026-12-05 16:21:41.021398+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud', 1, 'ModelAliasAssigned', 'key:dev', 'v2 regressed', '059a56078ec651e20d28df2fc2254622', '0HNQITF77P1VF:00000001', 'alias candidate → version 1 (was version 2)'),
	(40, '2026-12-05 16:21:41.293177+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud-detector', NULL, 'ModelRenamed', 'key:dev', 'clearer', '83f4edac85d5cd28b094768983e72ae9', '0HNQITF77P1VG:00000001', 'renamed "fraud" → "fraud-detector"'),
	(41, '2026-12-05 16:21:41.432797+00', '01a24702-c57f-7290-8fe3-74483617ac03', 'fraud-detector', 3, 'ModelVersionStageTransitioned', 'key:dev', 'never used', '9b6b6195fb3632c13385191066a8b95b', '0HNQITF77P1VH:00000001', 'version 3: None → Archived'),
	(42, '2026-12-05 16:21:41.654239+00', '01a24702-c607-739f-a3a0-b71cd8c6b102', 'demand', NULL, 'ModelArchived', 'key:dev', 'replaced by the forecast service', 'd606700b51bf3278f20750d88152774d', '0HNQITF77P1VI:00000001', 'model archived'),
	(43, '2026-12-05 16:21:41.744455+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 2, 'ModelAliasAssigned', 'key:dev', 'unprotected alias', 'f8790be86a4a936f2116b2bd0373384b', '0HNQITF77P1VJ:00000001', 'alias latest-good → version 2'),
	(44, '2026-12-05 16:21:42.022102+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 2, 'ModelAliasRemoved', 'key:dev', 'not yet', '91dbd94c6b85d517678bfe3a1b5d6582', '0HNQITF77P1VK:00000001', 'alias latest-good removed (was version 2)'),
	(45, '2026-12-05 16:21:42.274568+00', '01a24702-c475-77e2-a8cb-49b967d143f3', 'churn', 2, 'TransitionRequested', 'key:dev', 'bias review done', '225d059cb764ef51fa9a234b55d0598d', '0HNQITF77P1VL:00000001', 'requested version 2 → Production (sha256 cccccccccccc…; request 01a24702-e700-7a04-9b9e-bde35dbbf1f9; owner dev@example.com, key 51c6b5bc689680c3)');
INSERT INTO registry.audit_model_names VALUES
	('churn', '01a24702-c475-77e2-a8cb-49b967d143f3', 7),
	('fraud', '01a24702-c57f-7290-8fe3-74483617ac03', 8),
	('demand', '01a24702-c607-739f-a3a0-b71cd8c6b102', 9),
	('fraud-detector', '01a24702-c57f-7290-8fe3-74483617ac03', 40);
INSERT INTO registry.deployment_history VALUES
	(1, '01a24702-c475-77e2-a8cb-49b967d143f3', 'name', 'churn', NULL, NULL, 7, '2026-12-05 16:21:33.436168+00', 'key:dev', NULL, NULL, NULL, NULL, NULL),
	(3, '01a24702-c607-739f-a3a0-b71cd8c6b102', 'name', 'demand', NULL, NULL, 9, '2026-12-05 16:21:33.83143+00', 'key:dev', NULL, NULL, NULL, NULL, NULL),
	(5, '01a24702-c475-77e2-a8cb-49b967d143f3', 'stage', 'None', NULL, 2, 13, '2026-12-05 16:21:35.183227+00', 'key:dev', NULL, NULL, NULL, NULL, NULL),
	(9, '01a24702-c607-739f-a3a0-b71cd8c6b102', 'stage', 'None', NULL, 1, 17, '2026-12-05 16:21:35.837461+00', 'key:dev', NULL, NULL, NULL, NULL, NULL),
	(4, '01a24702-c475-77e2-a8cb-49b967d143f3', 'stage', 'None', NULL, 1, 12, '2026-12-05 16:21:34.914555+00', 'key:dev', NULL, 18, '2026-12-05 16:21:36.141004+00', 'key:dev', 'first candidate'),
	(11, '01a24702-c475-77e2-a8cb-49b967d143f3', 'stage', 'Production', NULL, 1, 23, '2026-12-05 16:21:37.053967+00', 'key:reviewer', 'beats the rules', NULL, NULL, NULL, NULL),
	(10, '01a24702-c475-77e2-a8cb-49b967d143f3', 'stage', 'Staging', NULL, 1, 18, '2026-12-05 16:21:36.141004+00', 'key:dev', 'first candidate', 23, '2026-12-05 16:21:37.053967+00', 'key:reviewer', 'beats the rules'),
	(12, '01a24702-c475-77e2-a8cb-49b967d143f3', 'alias', 'champion', NULL, 1, 26, '2026-12-05 16:21:37.578815+00', 'key:reviewer', 'same as production', NULL, NULL, NULL, NULL),
	(13, '01a24702-c475-77e2-a8cb-49b967d143f3', 'deployment', 'prod', 'k8s/eu-west', 1, 29, '2026-12-05 16:21:38.621675+00', 'key:dev', 'release 12', NULL, NULL, NULL, NULL),
	(6, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'None', NULL, 1, 14, '2026-12-05 16:21:35.326579+00', 'key:dev', NULL, 30, '2026-12-05 16:21:38.749156+00', 'key:dev', NULL),
	(7, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'None', NULL, 2, 15, '2026-12-05 16:21:35.492553+00', 'key:dev', NULL, 32, '2026-12-05 16:21:39.230672+00', 'key:dev', 'v2 looks better'),
	(14, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'Staging', NULL, 1, 30, '2026-12-05 16:21:38.749156+00', 'key:dev', NULL, 33, '2026-12-05 16:21:39.230672+00', 'key:dev', 'Archived because version 2 entered Staging.'),
	(15, '01a24702-c57f-7290-8fe3-74483617ac03', 'alias', 'candidate', NULL, 1, 31, '2026-12-05 16:21:38.837106+00', 'key:dev', NULL, 34, '2026-12-05 16:21:39.342248+00', 'key:dev', NULL),
	(19, '01a24702-c57f-7290-8fe3-74483617ac03', 'deployment', 'staging', NULL, 2, 35, '2026-12-05 16:21:39.455353+00', 'key:dev', NULL, NULL, NULL, NULL, NULL),
	(20, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'Staging', NULL, 1, 37, '2026-12-05 16:21:41.021398+00', 'key:dev', 'Rollback to sequence 31: v2 regressed', NULL, NULL, NULL, NULL),
	(17, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'Archived', NULL, 1, 33, '2026-12-05 16:21:39.230672+00', 'key:dev', 'Archived because version 2 entered Staging.', 37, '2026-12-05 16:21:41.021398+00', 'key:dev', 'Rollback to sequence 31: v2 regressed'),
	(21, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'None', NULL, 2, 38, '2026-12-05 16:21:41.021398+00', 'key:dev', 'Rollback to sequence 31: v2 regressed', NULL, NULL, NULL, NULL),
	(16, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'Staging', NULL, 2, 32, '2026-12-05 16:21:39.230672+00', 'key:dev', 'v2 looks better', 38, '2026-12-05 16:21:41.021398+00', 'key:dev', 'Rollback to sequence 31: v2 regressed'),
	(22, '01a24702-c57f-7290-8fe3-74483617ac03', 'alias', 'candidate', NULL, 1, 39, '2026-12-05 16:21:41.021398+00', 'key:dev', 'v2 regressed', NULL, NULL, NULL, NULL),
	(18, '01a24702-c57f-7290-8fe3-74483617ac03', 'alias', 'candidate', NULL, 2, 34, '2026-12-05 16:21:39.342248+00', 'key:dev', NULL, 39, '2026-12-05 16:21:41.021398+00', 'key:dev', 'v2 regressed'),
	(23, '01a24702-c57f-7290-8fe3-74483617ac03', 'name', 'fraud-detector', NULL, NULL, 40, '2026-12-05 16:21:41.293177+00', 'key:dev', 'clearer', NULL, NULL, NULL, NULL),
	(2, '01a24702-c57f-7290-8fe3-74483617ac03', 'name', 'fraud', NULL, NULL, 8, '2026-12-05 16:21:33.696242+00', 'key:dev', NULL, 40, '2026-12-05 16:21:41.293177+00', 'key:dev', 'clearer'),
	(24, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'Archived', NULL, 3, 41, '2026-12-05 16:21:41.432797+00', 'key:dev', 'never used', NULL, NULL, NULL, NULL),
	(8, '01a24702-c57f-7290-8fe3-74483617ac03', 'stage', 'None', NULL, 3, 16, '2026-12-05 16:21:35.66955+00', 'key:dev', NULL, 41, '2026-12-05 16:21:41.432797+00', 'key:dev', 'never used'),
	(25, '01a24702-c607-739f-a3a0-b71cd8c6b102', 'archived', 'archived', NULL, NULL, 42, '2026-12-05 16:21:41.654239+00', 'key:dev', 'replaced by the forecast service', NULL, NULL, NULL, NULL),
	(26, '01a24702-c475-77e2-a8cb-49b967d143f3', 'alias', 'latest-good', NULL, 2, 43, '2026-12-05 16:21:41.744455+00', 'key:dev', 'unprotected alias', 44, '2026-12-05 16:21:42.022102+00', 'key:dev', 'not yet');
INSERT INTO registry.model_snapshots VALUES
	('01a24702-c475-77e2-a8cb-49b967d143f3', 5, 18, '{"id": "01a24702-c475-77e2-a8cb-49b967d143f3", "name": "churn", "tags": {"team": "growth"}, "aliases": {}, "archived": false, "revision": 5, "deployments": {}, "description": "who leaves", "latestVersion": 2, "metadataSchema": {"type": "object", "required": ["owner"], "properties": {"owner": {"type": "string"}}}, "normalizedName": "churn", "pendingRequests": [], "versionsByStage": {"None": [2], "Staging": [1]}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 10, 23, '{"id": "01a24702-c475-77e2-a8cb-49b967d143f3", "name": "churn", "tags": {"team": "growth", "slack": "#churn"}, "aliases": {}, "archived": false, "revision": 10, "deployments": {}, "description": "who leaves", "latestVersion": 2, "metadataSchema": {"type": "object", "required": ["owner"], "properties": {"owner": {"type": "string"}}}, "normalizedName": "churn", "pendingRequests": [], "versionsByStage": {"None": [2], "Production": [1]}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 15, 28, '{"id": "01a24702-c475-77e2-a8cb-49b967d143f3", "name": "churn", "tags": {"team": "growth", "slack": "#churn"}, "aliases": {"champion": 1}, "archived": false, "revision": 15, "deployments": {}, "description": "who leaves", "latestVersion": 2, "metadataSchema": {"type": "object", "required": ["owner"], "properties": {"owner": {"type": "string"}}}, "normalizedName": "churn", "pendingRequests": [], "versionsByStage": {"None": [2], "Production": [1]}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 5, 30, '{"id": "01a24702-c57f-7290-8fe3-74483617ac03", "name": "fraud", "tags": {"team": "risk"}, "aliases": {}, "archived": false, "revision": 5, "deployments": {}, "description": null, "latestVersion": 3, "metadataSchema": null, "normalizedName": "fraud", "pendingRequests": [], "versionsByStage": {"None": [2, 3], "Staging": [1]}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 10, 35, '{"id": "01a24702-c57f-7290-8fe3-74483617ac03", "name": "fraud", "tags": {"team": "risk"}, "aliases": {"candidate": 2}, "archived": false, "revision": 10, "deployments": {"staging": 2}, "description": null, "latestVersion": 3, "metadataSchema": null, "normalizedName": "fraud", "pendingRequests": [], "versionsByStage": {"None": [3], "Staging": [2], "Archived": [1]}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 15, 40, '{"id": "01a24702-c57f-7290-8fe3-74483617ac03", "name": "fraud-detector", "tags": {"team": "risk"}, "aliases": {"candidate": 1}, "archived": false, "revision": 15, "deployments": {"staging": 2}, "description": null, "latestVersion": 3, "metadataSchema": null, "normalizedName": "fraud-detector", "pendingRequests": [], "versionsByStage": {"None": [2, 3], "Staging": [1]}}');
INSERT INTO registry.model_tags VALUES
	('01a24702-c607-739f-a3a0-b71cd8c6b102', 'team', 'supply', '7bc07ef8-9915-dc1a-23f6-c3f999c539ea', 'demand'),
	('01a24702-c607-739f-a3a0-b71cd8c6b102', 'tier', '2', 'cd9620c8-5a7e-0b40-a28f-ed63d58a9116', 'demand'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 'team', 'growth', '5d85bd0b-46ec-54bf-16da-676b02e33f10', 'churn'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 'slack', '#churn', '4883e2b5-81a4-9006-7a22-c3481d378838', 'churn'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 'team', 'risk', 'a2420e33-3fe3-925d-8cf9-16351191cb3c', 'fraud-detector');
INSERT INTO registry.mt_doc_artifactupload VALUES
	('103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322:key-id:51c6b5bc689680c3', '{"id": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322:key-id:51c6b5bc689680c3", "caller": "key-id:51c6b5bc689680c3", "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "uploadedAt": "2026-12-05T16:21:34.7455937+00:00"}', '2026-12-05 16:21:34.758917+00', '01a24702-c9a6-49d4-84d2-ac3b2a642e9b', 'EventSourcedRegistry.Artifacts.ArtifactUpload', '103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322');
INSERT INTO registry.mt_doc_modelnameindex VALUES
	('churn', '{"id": "churn", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3"}', '2026-12-05 16:21:33.505498+00', '01a24702-c49e-429f-adba-2767fe7ae4d7', 'EventSourcedRegistry.Models.ModelNameIndex'),
	('demand', '{"id": "demand", "modelId": "01a24702-c607-739f-a3a0-b71cd8c6b102"}', '2026-12-05 16:21:33.832941+00', '01a24702-c608-435f-bf7c-787cbafe4800', 'EventSourcedRegistry.Models.ModelNameIndex'),
	('fraud-detector', '{"id": "fraud-detector", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03"}', '2026-12-05 16:21:41.293177+00', '01a24702-e34c-4332-9c8e-02be68b905a7', 'EventSourcedRegistry.Models.ModelNameIndex');
INSERT INTO registry.mt_doc_modelversionview VALUES
	('01a24702c607739fa3a0b71cd8c6b102:1', '{"id": "01a24702c607739fa3a0b71cd8c6b102:1", "tags": {}, "stage": "None", "params": {}, "aliases": [], "lineage": null, "metrics": {}, "modelId": "01a24702-c607-739f-a3a0-b71cd8c6b102", "artifact": {"uri": "s3://models/demand/1.onnx", "sha256": "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "sizeBytes": 77}, "metadata": null, "deployments": [], "description": null, "versionNumber": 1}', '2026-12-05 16:21:35.837461+00', 'EventSourcedRegistry.Models.ModelVersionView', 1, '01a24702-c607-739f-a3a0-b71cd8c6b102'),
	('01a24702c47577e2a8cb49b967d143f3:1', '{"id": "01a24702c47577e2a8cb49b967d143f3:1", "tags": {"dataset": "2026-11"}, "stage": "Production", "params": {}, "aliases": ["champion"], "lineage": {"runId": "41", "datasets": null, "sourceCommit": "abc123", "sourceRepository": null}, "metrics": {"auc": 0.89}, "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "artifact": {"uri": null, "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "sizeBytes": 48}, "metadata": {"notes": "checked", "owner": "ana"}, "deployments": ["prod/k8s/eu-west"], "description": "baseline", "versionNumber": 1}', '2026-12-05 16:21:38.621675+00', 'EventSourcedRegistry.Models.ModelVersionView', 6, '01a24702-c475-77e2-a8cb-49b967d143f3'),
	('01a24702c57f72908fe374483617ac03:1', '{"id": "01a24702c57f72908fe374483617ac03:1", "tags": {}, "stage": "Staging", "params": {"depth": "1"}, "aliases": ["candidate"], "lineage": null, "metrics": {}, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "artifact": {"uri": "s3://models/fraud/1.onnx", "sha256": "1111111111111111111111111111111111111111111111111111111111111111", "sizeBytes": 100}, "metadata": null, "deployments": [], "description": null, "versionNumber": 1}', '2026-12-05 16:21:41.021398+00', 'EventSourcedRegistry.Models.ModelVersionView', 6, '01a24702-c57f-7290-8fe3-74483617ac03'),
	('01a24702c57f72908fe374483617ac03:2', '{"id": "01a24702c57f72908fe374483617ac03:2", "tags": {}, "stage": "None", "params": {"depth": "2"}, "aliases": [], "lineage": null, "metrics": {}, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "artifact": {"uri": "s3://models/fraud/2.onnx", "sha256": "2222222222222222222222222222222222222222222222222222222222222222", "sizeBytes": 200}, "metadata": null, "deployments": ["staging"], "description": null, "versionNumber": 2}', '2026-12-05 16:21:41.021398+00', 'EventSourcedRegistry.Models.ModelVersionView', 5, '01a24702-c57f-7290-8fe3-74483617ac03'),
	('01a24702c57f72908fe374483617ac03:3', '{"id": "01a24702c57f72908fe374483617ac03:3", "tags": {}, "stage": "Archived", "params": {"depth": "3"}, "aliases": [], "lineage": null, "metrics": {}, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "artifact": {"uri": "s3://models/fraud/3.onnx", "sha256": "3333333333333333333333333333333333333333333333333333333333333333", "sizeBytes": 300}, "metadata": null, "deployments": [], "description": null, "versionNumber": 3}', '2026-12-05 16:21:41.432797+00', 'EventSourcedRegistry.Models.ModelVersionView', 2, '01a24702-c57f-7290-8fe3-74483617ac03'),
	('01a24702c47577e2a8cb49b967d143f3:2', '{"id": "01a24702c47577e2a8cb49b967d143f3:2", "tags": {}, "stage": "None", "params": {}, "aliases": [], "lineage": null, "metrics": {"auc": 0.91}, "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "artifact": {"uri": "s3://models/churn/2.onnx", "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "sizeBytes": 2048}, "metadata": {"owner": "ana"}, "deployments": [], "description": null, "versionNumber": 2}', '2026-12-05 16:21:42.022102+00', 'EventSourcedRegistry.Models.ModelVersionView', 3, '01a24702-c475-77e2-a8cb-49b967d143f3');
INSERT INTO registry.mt_doc_modelview VALUES
	('01a24702-c57f-7290-8fe3-74483617ac03', '{"id": "01a24702-c57f-7290-8fe3-74483617ac03", "name": "fraud-detector", "tags": {"team": "risk"}, "aliases": {"candidate": 1}, "archived": false, "revision": 16, "deployments": {"staging": 2}, "description": null, "latestVersion": 3, "metadataSchema": null, "normalizedName": "fraud-detector", "pendingRequests": [], "versionsByStage": {"None": [2], "Staging": [1], "Archived": [3]}}', '2026-12-05 16:21:41.432797+00', 'EventSourcedRegistry.Models.ModelView', 16, 'fraud-detector'),
	('01a24702-c607-739f-a3a0-b71cd8c6b102', '{"id": "01a24702-c607-739f-a3a0-b71cd8c6b102", "name": "demand", "tags": {"team": "supply", "tier": "2"}, "aliases": {}, "archived": true, "revision": 3, "deployments": {}, "description": null, "latestVersion": 1, "metadataSchema": null, "normalizedName": "demand", "pendingRequests": [], "versionsByStage": {"None": [1]}}', '2026-12-05 16:21:41.654239+00', 'EventSourcedRegistry.Models.ModelView', 3, 'demand'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', '{"id": "01a24702-c475-77e2-a8cb-49b967d143f3", "name": "churn", "tags": {"team": "growth", "slack": "#churn"}, "aliases": {"champion": 1}, "archived": false, "revision": 19, "deployments": {"prod/k8s/eu-west": 1}, "description": "who leaves", "latestVersion": 2, "metadataSchema": {"type": "object", "required": ["owner"], "properties": {"owner": {"type": "string"}}}, "normalizedName": "churn", "pendingRequests": [{"id": "01a24702-e700-7a04-9b9e-bde35dbbf1f9", "kind": "stage", "state": "pending", "reason": "bias review done", "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "target": "Production", "closedAt": null, "closedBy": null, "approvals": [], "isPending": true, "requestedAt": "2026-12-05T16:21:42.283132+00:00", "requestedBy": "key:dev", "closedReason": null, "supersededBy": null, "versionNumber": 2, "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": false, "requesterKeyIssuers": ["key:bootstrap-admin"]}], "versionsByStage": {"None": [2], "Production": [1]}}', '2026-12-05 16:21:42.274568+00', 'EventSourcedRegistry.Models.ModelView', 19, 'churn');
INSERT INTO registry.mt_doc_transitionrequestsview VALUES
	('01a24702-c475-77e2-a8cb-49b967d143f3', '{"id": "01a24702-c475-77e2-a8cb-49b967d143f3", "requests": [{"id": "01a24702-d1ab-70af-b45d-95ef03c15bfe", "kind": "stage", "state": "approved", "reason": "beats the rules", "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "target": "Production", "closedAt": "2026-12-05T16:21:37.0791508+00:00", "closedBy": "key:reviewer", "approvals": [{"keyId": "dfd8fdbf12b814ac", "owner": "reviewer@example.com", "reason": "eval report checked", "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "issuers": ["key:bootstrap-admin"], "approver": "key:reviewer", "approvedAt": "2026-12-05T16:21:37.0791508+00:00"}], "isPending": false, "requestedAt": "2026-12-05T16:21:36.814174+00:00", "requestedBy": "key:dev", "closedReason": null, "supersededBy": null, "versionNumber": 1, "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": true, "requesterKeyIssuers": ["key:bootstrap-admin"]}, {"id": "01a24702-d42e-7bad-900d-ab307826a6ce", "kind": "alias", "state": "approved", "reason": null, "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "target": "champion", "closedAt": "2026-12-05T16:21:37.5822807+00:00", "closedBy": "key:reviewer", "approvals": [{"keyId": "dfd8fdbf12b814ac", "owner": "reviewer@example.com", "reason": "same as production", "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "issuers": ["key:bootstrap-admin"], "approver": "key:reviewer", "approvedAt": "2026-12-05T16:21:37.5822807+00:00"}], "isPending": false, "requestedAt": "2026-12-05T16:21:37.4583083+00:00", "requestedBy": "key:dev", "closedReason": null, "supersededBy": null, "versionNumber": 1, "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": false, "requesterKeyIssuers": ["key:bootstrap-admin"]}, {"id": "01a24702-d577-751a-bd2e-8107a8f8ed46", "kind": "stage", "state": "rejected", "reason": "slightly better", "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "target": "Production", "closedAt": "2026-12-05T16:21:38.384219+00:00", "closedBy": "key:reviewer", "approvals": [], "isPending": false, "requestedAt": "2026-12-05T16:21:37.7868646+00:00", "requestedBy": "key:dev", "closedReason": "needs a bias review", "supersededBy": null, "versionNumber": 2, "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": false, "requesterKeyIssuers": ["key:bootstrap-admin"]}, {"id": "01a24702-e700-7a04-9b9e-bde35dbbf1f9", "kind": "stage", "state": "pending", "reason": "bias review done", "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "target": "Production", "closedAt": null, "closedBy": null, "approvals": [], "isPending": true, "requestedAt": "2026-12-05T16:21:42.283132+00:00", "requestedBy": "key:dev", "closedReason": null, "supersededBy": null, "versionNumber": 2, "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": false, "requesterKeyIssuers": ["key:bootstrap-admin"]}]}', '2026-12-05 16:21:42.274568+00', 'EventSourcedRegistry.Approvals.TransitionRequestsView', 19);
INSERT INTO registry.mt_event_progression VALUES
	('AuditLog:All', 45, '2026-12-05 16:21:42.481089+00', 'none', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	('AuditChain:All', 45, '2026-12-05 16:21:42.486835+00', 'none', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	('HighWaterAllocationFence', 45, '2026-12-05 16:21:56.59786+00', 'none', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	('HighWaterMark', 45, '2026-12-05 16:21:56.599295+00', 'none', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO registry.mt_events VALUES
	(1, 'd9731222-98d2-4869-8d28-b1d299bba53f', 'e5f0c1a2-0000-4000-8000-000000000002', 1, '{"name": "bootstrap-admin", "keyId": "bootstrap", "owner": "key:bootstrap-admin", "grants": [{"role": "admin", "model": null, "modelId": null}], "issuers": []}', NULL, 'api_key_created', '2026-12-05 16:21:21.5869+00', '*DEFAULT*', 'EventSourcedRegistry.Access.ApiKeyCreated, EventSourcedRegistry', '68513a810bc649a6bab44ebeefafdb9f', 'e90965e79a054f108572b3b4661eb9e0', 'null', 'bootstrap', false),
	(2, 'faa6a272-6282-4ff1-98e9-d4965ef48031', 'e5f0c1a2-0000-4000-8000-000000000002', 2, '{"name": "dev", "keyId": "51c6b5bc689680c3", "owner": "dev@example.com", "grants": [{"role": "contributor", "model": null, "modelId": null}], "issuers": ["key:bootstrap-admin"]}', NULL, 'api_key_created', '2026-12-05 16:21:31.169472+00', '*DEFAULT*', 'EventSourcedRegistry.Access.ApiKeyCreated, EventSourcedRegistry', '178cf336041f30a72fc777989fabd00c', '0HNQITF77P1UB:00000001', 'null', 'key:bootstrap-admin', false),
	(3, '467ca950-5fa4-4653-a8b5-ce8c09f7fce7', 'e5f0c1a2-0000-4000-8000-000000000002', 3, '{"name": "reviewer", "keyId": "dfd8fdbf12b814ac", "owner": "reviewer@example.com", "grants": [{"role": "approver", "model": null, "modelId": null}], "issuers": ["key:bootstrap-admin"]}', NULL, 'api_key_created', '2026-12-05 16:21:31.566811+00', '*DEFAULT*', 'EventSourcedRegistry.Access.ApiKeyCreated, EventSourcedRegistry', '11bd4373e281318ec22a167465a58be6', '0HNQITF77P1UC:00000001', 'null', 'key:bootstrap-admin', false),
	(4, 'd822ab50-e006-417e-8179-1fd8e757173a', 'e5f0c1a2-0000-4000-8000-000000000002', 4, '{"name": "auditor", "keyId": "b191d52145a269ad", "owner": "audit@example.com", "grants": [{"role": "auditor", "model": null, "modelId": null}], "issuers": ["key:bootstrap-admin"]}', NULL, 'api_key_created', '2026-12-05 16:21:31.867643+00', '*DEFAULT*', 'EventSourcedRegistry.Access.ApiKeyCreated, EventSourcedRegistry', 'c19cca3828ad2b6b5639f6688307005f', '0HNQITF77P1UD:00000001', 'null', 'key:bootstrap-admin', false),
	(5, 'a25fd22d-a7d9-4ce2-80ab-83e687500cce', 'e5f0c1a2-0000-4000-8000-000000000002', 5, '{"name": "temp", "keyId": "42e9137fd94bbfb8", "owner": "temp@example.com", "grants": [{"role": "reader", "model": null, "modelId": null}], "issuers": ["key:bootstrap-admin"]}', NULL, 'api_key_created', '2026-12-05 16:21:32.008388+00', '*DEFAULT*', 'EventSourcedRegistry.Access.ApiKeyCreated, EventSourcedRegistry', '1dfcaee604426b41914bc0ce2a26deb7', '0HNQITF77P1UE:00000001', 'null', 'key:bootstrap-admin', false),
	(6, 'd2dd88a7-8cf3-4ea6-87a4-4a6bf4d9bb6d', 'e5f0c1a2-0000-4000-8000-000000000002', 6, '{"name": "temp", "keyId": "42e9137fd94bbfb8", "owner": "temp@example.com"}', NULL, 'api_key_revoked', '2026-12-05 16:21:33.112213+00', '*DEFAULT*', 'EventSourcedRegistry.Access.ApiKeyRevoked, EventSourcedRegistry', 'a170d13a12837466ba8a6e386d46ba83', '0HNQITF77P1UH:00000001', '{"reason": "no longer needed"}', 'key:bootstrap-admin', false),
	(7, '86063494-3164-44aa-98b1-2b3f4c0ca005', '01a24702-c475-77e2-a8cb-49b967d143f3', 1, '{"name": "churn", "tags": {"team": "growth"}, "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "description": "who leaves"}', NULL, 'model_registered', '2026-12-05 16:21:33.436168+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelRegistered, EventSourcedRegistry', 'fe0a2ce02e00d28425fd45f3153277b8', '0HNQITF77P1UI:00000001', NULL, 'key:dev', false),
	(8, 'b0225e72-2e1f-416c-9116-5b8d6a31f2e7', '01a24702-c57f-7290-8fe3-74483617ac03', 1, '{"name": "fraud", "tags": {"team": "risk"}, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "description": null}', NULL, 'model_registered', '2026-12-05 16:21:33.696242+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelRegistered, EventSourcedRegistry', 'be4a5a97e887696a582d40826417a103', '0HNQITF77P1UJ:00000001', NULL, 'key:dev', false),
	(9, '8e770361-96b8-4e5b-be16-e0f13e4959a4', '01a24702-c607-739f-a3a0-b71cd8c6b102', 1, '{"name": "demand", "tags": {"team": "supply", "tier": "2"}, "modelId": "01a24702-c607-739f-a3a0-b71cd8c6b102", "description": null}', NULL, 'model_registered', '2026-12-05 16:21:33.83143+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelRegistered, EventSourcedRegistry', '2ac1fb082af2485f755744f804944194', '0HNQITF77P1UK:00000001', NULL, 'key:dev', false),
	(10, 'd14dfdf7-2e92-4db7-80d9-94b9a998ebdf', 'e5f0c1a2-0000-4000-8000-000000000002', 7, '{"name": "churn-reader", "keyId": "f719f27572301c17", "owner": "pipeline@example.com", "grants": [{"role": "reader", "model": "churn", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3"}], "issuers": ["key:bootstrap-admin"]}', NULL, 'api_key_created', '2026-12-05 16:21:34.12191+00', '*DEFAULT*', 'EventSourcedRegistry.Access.ApiKeyCreated, EventSourcedRegistry', 'd4075dabefa2da90ac6539ea84f9b91a', '0HNQITF77P1UL:00000001', 'null', 'key:bootstrap-admin', false),
	(11, 'e341635e-c64d-4092-bc84-7da5351b7e26', '01a24702-c475-77e2-a8cb-49b967d143f3', 2, '{"schema": {"type": "object", "required": ["owner"], "properties": {"owner": {"type": "string"}}}, "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3"}', NULL, 'model_metadata_schema_set', '2026-12-05 16:21:34.526492+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelMetadataSchemaSet, EventSourcedRegistry', 'fc8023d957682da3fa010aeeb6a28521', '0HNQITF77P1UM:00000001', '{"reason": "owners on every version"}', 'key:bootstrap-admin', false),
	(12, 'c5e8aba3-a46b-4fad-82c4-b6da0c56feb6', '01a24702-c475-77e2-a8cb-49b967d143f3', 3, '{"tags": {}, "stage": "None", "params": {}, "lineage": {"runId": "41", "datasets": null, "sourceCommit": "abc123", "sourceRepository": null}, "metrics": {"auc": 0.89}, "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 1, "artifact": {"uri": null, "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "sizeBytes": 48}, "metadata": {"owner": "ana"}, "description": null}', NULL, 'model_version_registered', '2026-12-05 16:21:34.914555+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionRegistered, EventSourcedRegistry', '9c4286fdee2d8be54cfa396672ef7387', '0HNQITF77P1UO:00000001', 'null', 'key:dev', false),
	(13, 'd5a407d9-3661-48bc-912d-9d36b9bd3772', '01a24702-c475-77e2-a8cb-49b967d143f3', 4, '{"tags": {}, "stage": "None", "params": {}, "lineage": null, "metrics": {"auc": 0.91}, "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 2, "artifact": {"uri": "s3://models/churn/2.onnx", "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "sizeBytes": 2048}, "metadata": {"owner": "ana"}, "description": null}', NULL, 'model_version_registered', '2026-12-05 16:21:35.183227+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionRegistered, EventSourcedRegistry', '5fde34788b6735915fc880b1880c19cc', '0HNQITF77P1UP:00000001', 'null', 'key:dev', false),
	(14, 'd181f80b-d723-4c3b-bbc5-dcfdbcac97e4', '01a24702-c57f-7290-8fe3-74483617ac03', 2, '{"tags": {}, "stage": "None", "params": {"depth": "1"}, "lineage": null, "metrics": {}, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "version": 1, "artifact": {"uri": "s3://models/fraud/1.onnx", "sha256": "1111111111111111111111111111111111111111111111111111111111111111", "sizeBytes": 100}, "metadata": null, "description": null}', NULL, 'model_version_registered', '2026-12-05 16:21:35.326579+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionRegistered, EventSourcedRegistry', '56bcca187e8aa146e84f01fb215f4430', '0HNQITF77P1UQ:00000001', 'null', 'key:dev', false),
	(15, 'e40f4852-a2a4-494f-8df5-6738379144e7', '01a24702-c57f-7290-8fe3-74483617ac03', 3, '{"tags": {}, "stage": "None", "params": {"depth": "2"}, "lineage": null, "metrics": {}, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "version": 2, "artifact": {"uri": "s3://models/fraud/2.onnx", "sha256": "2222222222222222222222222222222222222222222222222222222222222222", "sizeBytes": 200}, "metadata": null, "description": null}', NULL, 'model_version_registered', '2026-12-05 16:21:35.492553+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionRegistered, EventSourcedRegistry', 'ccd3d26c2939de8c6e24673b9c9d3f74', '0HNQITF77P1UR:00000001', 'null', 'key:dev', false),
	(29, 'c96596c1-12c2-455b-9c01-e484d128ac5c', '01a24702-c475-77e2-a8cb-49b967d143f3', 16, '{"target": "k8s/eu-west", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 1, "environment": "prod", "previousVersion": null}', NULL, 'model_version_deployed', '2026-12-05 16:21:38.621675+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionDeployed, EventSourcedRegistry', 'f8fecc0809bd63bf971712b7ce42aa3b', '0HNQITF77P1V7:00000001', '{"reason": "release 12"}', 'key:dev', false),
	(16, 'dcf13d9e-8615-46b6-953c-f47ddb360876', '01a24702-c57f-7290-8fe3-74483617ac03', 4, '{"tags": {}, "stage": "None", "params": {"depth": "3"}, "lineage": null, "metrics": {}, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "version": 3, "artifact": {"uri": "s3://models/fraud/3.onnx", "sha256": "3333333333333333333333333333333333333333333333333333333333333333", "sizeBytes": 300}, "metadata": null, "description": null}', NULL, 'model_version_registered', '2026-12-05 16:21:35.66955+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionRegistered, EventSourcedRegistry', '9a4d361b7cc6d2af123904a3a06c65ff', '0HNQITF77P1US:00000001', 'null', 'key:dev', false),
	(17, '21da6490-ee74-4d0e-95dc-4ff531f15b60', '01a24702-c607-739f-a3a0-b71cd8c6b102', 2, '{"tags": {}, "stage": "None", "params": {}, "lineage": null, "metrics": {}, "modelId": "01a24702-c607-739f-a3a0-b71cd8c6b102", "version": 1, "artifact": {"uri": "s3://models/demand/1.onnx", "sha256": "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "sizeBytes": 77}, "metadata": null, "description": null}', NULL, 'model_version_registered', '2026-12-05 16:21:35.837461+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionRegistered, EventSourcedRegistry', '6e5753674859963dba7425a5c9f0e8ac', '0HNQITF77P1UT:00000001', 'null', 'key:dev', false),
	(18, 'faf190e3-ea10-44df-aebe-1546408285e9', '01a24702-c475-77e2-a8cb-49b967d143f3', 5, '{"reason": "first candidate", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "toStage": "Staging", "version": 1, "fromStage": "None"}', NULL, 'model_version_stage_transitioned', '2026-12-05 16:21:36.141004+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionStageTransitioned, EventSourcedRegistry', 'e500f525046526854a44e4f81e2dcb20', '0HNQITF77P1UU:00000001', '{"reason": "first candidate"}', 'key:dev', false),
	(19, '0a733626-dcc0-4e60-9b35-462770d7dfcf', '01a24702-c475-77e2-a8cb-49b967d143f3', 6, '{"modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "setTags": {"dataset": "2026-11"}, "version": 1, "metadata": {"notes": "checked", "owner": "ana"}, "description": "baseline", "removedTags": []}', NULL, 'model_version_metadata_edited', '2026-12-05 16:21:36.513399+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionMetadataEdited, EventSourcedRegistry', 'f2e1fc4a363883ad1262970925922178', '0HNQITF77P1UV:00000001', 'null', 'key:dev', false),
	(20, 'bfcb538a-8065-4f8b-a14a-173706a2250e', '01a24702-c475-77e2-a8cb-49b967d143f3', 7, '{"modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "setTags": {"slack": "#churn"}, "description": null, "removedTags": []}', NULL, 'model_metadata_edited', '2026-12-05 16:21:36.664948+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelMetadataEdited, EventSourcedRegistry', '7cf7925f765a6b774a3757795880ce34', '0HNQITF77P1V0:00000001', 'null', 'key:dev', false),
	(21, '532fc575-b16e-4617-8079-669f7e2280de', '01a24702-c475-77e2-a8cb-49b967d143f3', 8, '{"kind": "stage", "reason": "beats the rules", "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "target": "Production", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 1, "requestId": "01a24702-d1ab-70af-b45d-95ef03c15bfe", "requestedAt": "2026-12-05T16:21:36.814174+00:00", "requestedBy": "key:dev", "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": true, "requesterKeyIssuers": ["key:bootstrap-admin"]}', NULL, 'transition_requested', '2026-12-05 16:21:36.812379+00', '*DEFAULT*', 'EventSourcedRegistry.Approvals.TransitionRequested, EventSourcedRegistry', '4668272f5b4d1ccf138e93c2c414ef53', '0HNQITF77P1V1:00000001', '{"reason": "beats the rules"}', 'key:dev', false),
	(22, '07c0f14e-37c0-476b-93bd-65ea522fe8c9', '01a24702-c475-77e2-a8cb-49b967d143f3', 9, '{"reason": "eval report checked", "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "approver": "key:reviewer", "completes": true, "requestId": "01a24702-d1ab-70af-b45d-95ef03c15bfe", "approvedAt": "2026-12-05T16:21:37.0791508+00:00", "approverKeyId": "dfd8fdbf12b814ac", "approverOwner": "reviewer@example.com", "approverKeyIssuers": ["key:bootstrap-admin"]}', NULL, 'transition_approved', '2026-12-05 16:21:37.053967+00', '*DEFAULT*', 'EventSourcedRegistry.Approvals.TransitionApproved, EventSourcedRegistry', '6e0473bb15382f3ff961975c187b4111', '0HNQITF77P1V2:00000001', '{"reason": "eval report checked"}', 'key:reviewer', false),
	(23, '278bd1fc-c368-4f59-a1df-ae0631e8709a', '01a24702-c475-77e2-a8cb-49b967d143f3', 10, '{"reason": "beats the rules", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "toStage": "Production", "version": 1, "fromStage": "Staging"}', NULL, 'model_version_stage_transitioned', '2026-12-05 16:21:37.053967+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionStageTransitioned, EventSourcedRegistry', '6e0473bb15382f3ff961975c187b4111', '0HNQITF77P1V2:00000001', '{"reason": "eval report checked"}', 'key:reviewer', false),
	(24, '060f9e3b-2d54-498c-8323-36004b3b8377', '01a24702-c475-77e2-a8cb-49b967d143f3', 11, '{"kind": "alias", "reason": null, "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "target": "champion", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 1, "requestId": "01a24702-d42e-7bad-900d-ab307826a6ce", "requestedAt": "2026-12-05T16:21:37.4583083+00:00", "requestedBy": "key:dev", "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": false, "requesterKeyIssuers": ["key:bootstrap-admin"]}', NULL, 'transition_requested', '2026-12-05 16:21:37.455226+00', '*DEFAULT*', 'EventSourcedRegistry.Approvals.TransitionRequested, EventSourcedRegistry', 'dd3dd57e4b148b173ed8a3cd7aa14288', '0HNQITF77P1V3:00000001', 'null', 'key:dev', false),
	(25, 'd0193e03-5021-4b48-824f-64e4149a497c', '01a24702-c475-77e2-a8cb-49b967d143f3', 12, '{"reason": "same as production", "sha256": "103c353948b1144a38fdf35ff8c2709f12ea062fd17c71a4c62b48f1ccfe4322", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "approver": "key:reviewer", "completes": true, "requestId": "01a24702-d42e-7bad-900d-ab307826a6ce", "approvedAt": "2026-12-05T16:21:37.5822807+00:00", "approverKeyId": "dfd8fdbf12b814ac", "approverOwner": "reviewer@example.com", "approverKeyIssuers": ["key:bootstrap-admin"]}', NULL, 'transition_approved', '2026-12-05 16:21:37.578815+00', '*DEFAULT*', 'EventSourcedRegistry.Approvals.TransitionApproved, EventSourcedRegistry', 'bde52d47e2478c77f7186031ffcdfc38', '0HNQITF77P1V4:00000001', '{"reason": "same as production"}', 'key:reviewer', false),
	(26, '37c13c03-57c5-41f2-adac-dfcee815557f', '01a24702-c475-77e2-a8cb-49b967d143f3', 13, '{"alias": "champion", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 1, "previousVersion": null}', NULL, 'model_alias_assigned', '2026-12-05 16:21:37.578815+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelAliasAssigned, EventSourcedRegistry', 'bde52d47e2478c77f7186031ffcdfc38', '0HNQITF77P1V4:00000001', '{"reason": "same as production"}', 'key:reviewer', false),
	(27, 'f7feb03e-a3f1-4e63-9039-b0a7124b7859', '01a24702-c475-77e2-a8cb-49b967d143f3', 14, '{"kind": "stage", "reason": "slightly better", "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "target": "Production", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 2, "requestId": "01a24702-d577-751a-bd2e-8107a8f8ed46", "requestedAt": "2026-12-05T16:21:37.7868646+00:00", "requestedBy": "key:dev", "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": false, "requesterKeyIssuers": ["key:bootstrap-admin"]}', NULL, 'transition_requested', '2026-12-05 16:21:37.784415+00', '*DEFAULT*', 'EventSourcedRegistry.Approvals.TransitionRequested, EventSourcedRegistry', '1a05193bd4a538f4e5ca3e2f53e20125', '0HNQITF77P1V5:00000001', '{"reason": "slightly better"}', 'key:dev', false),
	(28, 'a0620871-6d86-4ee9-8b72-30b6d8036469', '01a24702-c475-77e2-a8cb-49b967d143f3', 15, '{"reason": "needs a bias review", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "requestId": "01a24702-d577-751a-bd2e-8107a8f8ed46", "rejectedAt": "2026-12-05T16:21:38.384219+00:00", "rejectedBy": "key:reviewer"}', NULL, 'transition_rejected', '2026-12-05 16:21:38.377528+00', '*DEFAULT*', 'EventSourcedRegistry.Approvals.TransitionRejected, EventSourcedRegistry', 'cd3587fa47341c5525f198231305c77b', '0HNQITF77P1V6:00000001', '{"reason": "needs a bias review"}', 'key:reviewer', false),
	(30, '48e7c1a7-5fa2-4724-bbea-050be63df137', '01a24702-c57f-7290-8fe3-74483617ac03', 5, '{"reason": null, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "toStage": "Staging", "version": 1, "fromStage": "None"}', NULL, 'model_version_stage_transitioned', '2026-12-05 16:21:38.749156+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionStageTransitioned, EventSourcedRegistry', '1ff7caf98bcc12293e8e8dafaf9ed52f', '0HNQITF77P1V8:00000001', 'null', 'key:dev', false),
	(31, '3e0d45f9-9edd-425d-a365-bf48e924f491', '01a24702-c57f-7290-8fe3-74483617ac03', 6, '{"alias": "candidate", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "version": 1, "previousVersion": null}', NULL, 'model_alias_assigned', '2026-12-05 16:21:38.837106+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelAliasAssigned, EventSourcedRegistry', '3483d9587c1339d618f7f38bbb6e1912', '0HNQITF77P1V9:00000001', 'null', 'key:dev', false),
	(32, '06d71307-92a1-42d8-a508-63dd6ad3d1a8', '01a24702-c57f-7290-8fe3-74483617ac03', 7, '{"reason": "v2 looks better", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "toStage": "Staging", "version": 2, "fromStage": "None"}', NULL, 'model_version_stage_transitioned', '2026-12-05 16:21:39.230672+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionStageTransitioned, EventSourcedRegistry', 'd73df0c22883a8f0d6e467f5e5e2d0ce', '0HNQITF77P1VB:00000001', '{"reason": "v2 looks better"}', 'key:dev', false),
	(33, 'e91e3865-2a13-4869-99e6-8c29629fd631', '01a24702-c57f-7290-8fe3-74483617ac03', 8, '{"reason": "Archived because version 2 entered Staging.", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "toStage": "Archived", "version": 1, "fromStage": "Staging"}', NULL, 'model_version_stage_transitioned', '2026-12-05 16:21:39.230672+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionStageTransitioned, EventSourcedRegistry', 'd73df0c22883a8f0d6e467f5e5e2d0ce', '0HNQITF77P1VB:00000001', '{"reason": "v2 looks better"}', 'key:dev', false),
	(34, '2173a0f8-f632-4fc1-8308-89c4f6a5e278', '01a24702-c57f-7290-8fe3-74483617ac03', 9, '{"alias": "candidate", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "version": 2, "previousVersion": 1}', NULL, 'model_alias_assigned', '2026-12-05 16:21:39.342248+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelAliasAssigned, EventSourcedRegistry', '9d1a865f6ca2e674b010f97ed5a2634c', '0HNQITF77P1VC:00000001', 'null', 'key:dev', false),
	(35, 'b4610fc7-4dae-4612-af0b-1d3c541d1b6d', '01a24702-c57f-7290-8fe3-74483617ac03', 10, '{"target": null, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "version": 2, "environment": "staging", "previousVersion": null}', NULL, 'model_version_deployed', '2026-12-05 16:21:39.455353+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionDeployed, EventSourcedRegistry', '8491531109a673d1e45fd372fbbfdca4', '0HNQITF77P1VD:00000001', 'null', 'key:dev', false),
	(36, 'd7af24ab-5a10-4eae-b7b6-46ae06e26d5e', '01a24702-c57f-7290-8fe3-74483617ac03', 11, '{"reason": "v2 regressed", "changes": 3, "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "targetInstant": null, "targetSequence": 31}', NULL, 'rollback_performed', '2026-12-05 16:21:41.021398+00', '*DEFAULT*', 'EventSourcedRegistry.Models.RollbackPerformed, EventSourcedRegistry', '059a56078ec651e20d28df2fc2254622', '0HNQITF77P1VF:00000001', '{"reason": "v2 regressed"}', 'key:dev', false),
	(37, 'f9956894-791f-4b99-8e4a-67312a272887', '01a24702-c57f-7290-8fe3-74483617ac03', 12, '{"reason": "Rollback to sequence 31: v2 regressed", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "toStage": "Staging", "version": 1, "fromStage": "Archived"}', NULL, 'model_version_stage_transitioned', '2026-12-05 16:21:41.021398+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionStageTransitioned, EventSourcedRegistry', '059a56078ec651e20d28df2fc2254622', '0HNQITF77P1VF:00000001', '{"reason": "v2 regressed"}', 'key:dev', false),
	(38, '23a859ad-5cc5-4020-a4a4-9d1383522fd0', '01a24702-c57f-7290-8fe3-74483617ac03', 13, '{"reason": "Rollback to sequence 31: v2 regressed", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "toStage": "None", "version": 2, "fromStage": "Staging"}', NULL, 'model_version_stage_transitioned', '2026-12-05 16:21:41.021398+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionStageTransitioned, EventSourcedRegistry', '059a56078ec651e20d28df2fc2254622', '0HNQITF77P1VF:00000001', '{"reason": "v2 regressed"}', 'key:dev', false),
	(39, '16514052-82ea-4df0-8247-6632e48b987f', '01a24702-c57f-7290-8fe3-74483617ac03', 14, '{"alias": "candidate", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "version": 1, "previousVersion": 2}', NULL, 'model_alias_assigned', '2026-12-05 16:21:41.021398+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelAliasAssigned, EventSourcedRegistry', '059a56078ec651e20d28df2fc2254622', '0HNQITF77P1VF:00000001', '{"reason": "v2 regressed"}', 'key:dev', false),
	(40, 'c0196ec3-932d-446c-beca-2295cbba2efb', '01a24702-c57f-7290-8fe3-74483617ac03', 15, '{"modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "newName": "fraud-detector", "oldName": "fraud"}', NULL, 'model_renamed', '2026-12-05 16:21:41.293177+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelRenamed, EventSourcedRegistry', '83f4edac85d5cd28b094768983e72ae9', '0HNQITF77P1VG:00000001', '{"reason": "clearer"}', 'key:dev', false),
	(41, '56b7f641-074e-424a-9cac-959e324981cd', '01a24702-c57f-7290-8fe3-74483617ac03', 16, '{"reason": "never used", "modelId": "01a24702-c57f-7290-8fe3-74483617ac03", "toStage": "Archived", "version": 3, "fromStage": "None"}', NULL, 'model_version_stage_transitioned', '2026-12-05 16:21:41.432797+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelVersionStageTransitioned, EventSourcedRegistry', '9b6b6195fb3632c13385191066a8b95b', '0HNQITF77P1VH:00000001', '{"reason": "never used"}', 'key:dev', false),
	(42, '88f6cde0-a788-4a3f-aa8c-c161e263bfa9', '01a24702-c607-739f-a3a0-b71cd8c6b102', 3, '{"modelId": "01a24702-c607-739f-a3a0-b71cd8c6b102"}', NULL, 'model_archived', '2026-12-05 16:21:41.654239+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelArchived, EventSourcedRegistry', 'd606700b51bf3278f20750d88152774d', '0HNQITF77P1VI:00000001', '{"reason": "replaced by the forecast service"}', 'key:dev', false),
	(43, 'eb50489d-70ce-4a0f-be5f-3fe95d108780', '01a24702-c475-77e2-a8cb-49b967d143f3', 17, '{"alias": "latest-good", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 2, "previousVersion": null}', NULL, 'model_alias_assigned', '2026-12-05 16:21:41.744455+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelAliasAssigned, EventSourcedRegistry', 'f8790be86a4a936f2116b2bd0373384b', '0HNQITF77P1VJ:00000001', '{"reason": "unprotected alias"}', 'key:dev', false),
	(44, 'cded7f70-e841-4224-9d22-9ccde3058666', '01a24702-c475-77e2-a8cb-49b967d143f3', 18, '{"alias": "latest-good", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 2}', NULL, 'model_alias_removed', '2026-12-05 16:21:42.022102+00', '*DEFAULT*', 'EventSourcedRegistry.Models.ModelAliasRemoved, EventSourcedRegistry', '91dbd94c6b85d517678bfe3a1b5d6582', '0HNQITF77P1VK:00000001', '{"reason": "not yet"}', 'key:dev', false),
	(45, 'bb6c6c61-b3da-4970-9aa6-d2f710c0bea0', '01a24702-c475-77e2-a8cb-49b967d143f3', 19, '{"kind": "stage", "reason": "bias review done", "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "target": "Production", "modelId": "01a24702-c475-77e2-a8cb-49b967d143f3", "version": 2, "requestId": "01a24702-e700-7a04-9b9e-bde35dbbf1f9", "requestedAt": "2026-12-05T16:21:42.283132+00:00", "requestedBy": "key:dev", "requesterKeyId": "51c6b5bc689680c3", "requesterOwner": "dev@example.com", "archiveExisting": false, "requesterKeyIssuers": ["key:bootstrap-admin"]}', NULL, 'transition_requested', '2026-12-05 16:21:42.274568+00', '*DEFAULT*', 'EventSourcedRegistry.Approvals.TransitionRequested, EventSourcedRegistry', '225d059cb764ef51fa9a234b55d0598d', '0HNQITF77P1VL:00000001', '{"reason": "bias review done"}', 'key:dev', false);
INSERT INTO registry.mt_streams VALUES
	('e5f0c1a2-0000-4000-8000-000000000002', NULL, 7, '2026-12-05 16:21:34.12191+00', '2026-12-05 16:21:21.5869+00', '*DEFAULT*', 0, false),
	('01a24702-c57f-7290-8fe3-74483617ac03', 'model_view', 16, '2026-12-05 16:21:41.432797+00', '2026-12-05 16:21:33.698931+00', '*DEFAULT*', 0, false),
	('01a24702-c607-739f-a3a0-b71cd8c6b102', 'model_view', 3, '2026-12-05 16:21:41.654239+00', '2026-12-05 16:21:33.832941+00', '*DEFAULT*', 0, false),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 'model_view', 19, '2026-12-05 16:21:42.274568+00', '2026-12-05 16:21:33.505498+00', '*DEFAULT*', 0, false);
INSERT INTO registry.registry_states VALUES
	('01a24702-c475-77e2-a8cb-49b967d143f3', 12, '{"archived":false,"versionsByStage":{"None":[1]},"aliases":{},"deployments":{}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 13, '{"archived":false,"versionsByStage":{"None":[[1,2]]},"aliases":{},"deployments":{}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 14, '{"archived":false,"versionsByStage":{"None":[1]},"aliases":{},"deployments":{}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 15, '{"archived":false,"versionsByStage":{"None":[[1,2]]},"aliases":{},"deployments":{}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 16, '{"archived":false,"versionsByStage":{"None":[[1,3]]},"aliases":{},"deployments":{}}'),
	('01a24702-c607-739f-a3a0-b71cd8c6b102', 17, '{"archived":false,"versionsByStage":{"None":[1]},"aliases":{},"deployments":{}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 18, '{"archived":false,"versionsByStage":{"None":[2],"Staging":[1]},"aliases":{},"deployments":{}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 23, '{"archived":false,"versionsByStage":{"None":[2],"Production":[1]},"aliases":{},"deployments":{}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 26, '{"archived":false,"versionsByStage":{"None":[2],"Production":[1]},"aliases":{"champion":1},"deployments":{}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 29, '{"archived":false,"versionsByStage":{"None":[2],"Production":[1]},"aliases":{"champion":1},"deployments":{"prod/k8s/eu-west":1}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 30, '{"archived":false,"versionsByStage":{"None":[[2,3]],"Staging":[1]},"aliases":{},"deployments":{}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 31, '{"archived":false,"versionsByStage":{"None":[[2,3]],"Staging":[1]},"aliases":{"candidate":1},"deployments":{}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 32, '{"archived":false,"versionsByStage":{"None":[3],"Staging":[[1,2]]},"aliases":{"candidate":1},"deployments":{}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 33, '{"archived":false,"versionsByStage":{"Archived":[1],"None":[3],"Staging":[2]},"aliases":{"candidate":1},"deployments":{}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 34, '{"archived":false,"versionsByStage":{"Archived":[1],"None":[3],"Staging":[2]},"aliases":{"candidate":2},"deployments":{}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 35, '{"archived":false,"versionsByStage":{"Archived":[1],"None":[3],"Staging":[2]},"aliases":{"candidate":2},"deployments":{"staging":2}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 37, '{"archived":false,"versionsByStage":{"None":[3],"Staging":[[1,2]]},"aliases":{"candidate":2},"deployments":{"staging":2}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 38, '{"archived":false,"versionsByStage":{"None":[[2,3]],"Staging":[1]},"aliases":{"candidate":2},"deployments":{"staging":2}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 39, '{"archived":false,"versionsByStage":{"None":[[2,3]],"Staging":[1]},"aliases":{"candidate":1},"deployments":{"staging":2}}'),
	('01a24702-c57f-7290-8fe3-74483617ac03', 41, '{"archived":false,"versionsByStage":{"Archived":[3],"None":[2],"Staging":[1]},"aliases":{"candidate":1},"deployments":{"staging":2}}'),
	('01a24702-c607-739f-a3a0-b71cd8c6b102', 42, '{"archived":true,"versionsByStage":{"None":[1]},"aliases":{},"deployments":{}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 43, '{"archived":false,"versionsByStage":{"None":[2],"Production":[1]},"aliases":{"champion":1,"latest-good":2},"deployments":{"prod/k8s/eu-west":1}}'),
	('01a24702-c475-77e2-a8cb-49b967d143f3', 44, '{"archived":false,"versionsByStage":{"None":[2],"Production":[1]},"aliases":{"champion":1},"deployments":{"prod/k8s/eu-west":1}}');
SELECT pg_catalog.setval('registry.deployment_history_id_seq', 26, true);
SELECT pg_catalog.setval('registry.mt_events_sequence', 45, true);
ALTER TABLE ONLY registry.api_keys
    ADD CONSTRAINT api_keys_name_key UNIQUE (name);
ALTER TABLE ONLY registry.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);
ALTER TABLE ONLY registry.model_tags
    ADD CONSTRAINT model_tags_pkey PRIMARY KEY (model_id, tag_key);
ALTER TABLE ONLY registry.mt_event_progression
    ADD CONSTRAINT pk_mt_event_progression PRIMARY KEY (name);
ALTER TABLE ONLY registry.audit_chain
    ADD CONSTRAINT pkey_audit_chain_seq_id PRIMARY KEY (seq_id);
ALTER TABLE ONLY registry.audit_log
    ADD CONSTRAINT pkey_audit_log_seq_id PRIMARY KEY (seq_id);
ALTER TABLE ONLY registry.audit_model_names
    ADD CONSTRAINT pkey_audit_model_names_name_key_model_id PRIMARY KEY (name_key, model_id);
ALTER TABLE ONLY registry.deployment_history
    ADD CONSTRAINT pkey_deployment_history_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.model_snapshots
    ADD CONSTRAINT pkey_model_snapshots_model_id_version PRIMARY KEY (model_id, version);
ALTER TABLE ONLY registry.mt_doc_artifactupload
    ADD CONSTRAINT pkey_mt_doc_artifactupload_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_doc_auditcheckpoint
    ADD CONSTRAINT pkey_mt_doc_auditcheckpoint_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_doc_deadletterevent
    ADD CONSTRAINT pkey_mt_doc_deadletterevent_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_doc_idempotencyrecord
    ADD CONSTRAINT pkey_mt_doc_idempotencyrecord_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_doc_modelnameindex
    ADD CONSTRAINT pkey_mt_doc_modelnameindex_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_doc_modelversionview
    ADD CONSTRAINT pkey_mt_doc_modelversionview_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_doc_modelview
    ADD CONSTRAINT pkey_mt_doc_modelview_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_doc_registrysettings
    ADD CONSTRAINT pkey_mt_doc_registrysettings_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_doc_transitionrequestsview
    ADD CONSTRAINT pkey_mt_doc_transitionrequestsview_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.mt_event_projection_floors
    ADD CONSTRAINT pkey_mt_event_projection_floors_name_tenant_id PRIMARY KEY (name, tenant_id);
ALTER TABLE ONLY registry.mt_events
    ADD CONSTRAINT pkey_mt_events_seq_id PRIMARY KEY (seq_id);
ALTER TABLE ONLY registry.mt_high_water_skips
    ADD CONSTRAINT pkey_mt_high_water_skips_ending_sequence PRIMARY KEY (ending_sequence);
ALTER TABLE ONLY registry.mt_hilo
    ADD CONSTRAINT pkey_mt_hilo_entity_name PRIMARY KEY (entity_name);
ALTER TABLE ONLY registry.mt_streams
    ADD CONSTRAINT pkey_mt_streams_id PRIMARY KEY (id);
ALTER TABLE ONLY registry.registry_states
    ADD CONSTRAINT pkey_registry_states_model_id_entered_seq PRIMARY KEY (model_id, entered_seq);
CREATE INDEX idx_deployment_history_id ON registry.deployment_history USING btree (id);
CREATE UNIQUE INDEX idx_mt_events_event_id ON registry.mt_events USING btree (id);
CREATE INDEX idx_mt_events_event_type_seq_id ON registry.mt_events USING btree (type, seq_id);
CREATE INDEX ix_audit_log_actor ON registry.audit_log USING btree (actor, seq_id);
CREATE INDEX ix_audit_log_model ON registry.audit_log USING btree (model_id, seq_id);
CREATE INDEX ix_audit_log_timestamp ON registry.audit_log USING btree ("timestamp");
CREATE INDEX ix_audit_log_type ON registry.audit_log USING btree (event_type, seq_id);
CREATE INDEX ix_deployment_history_model ON registry.deployment_history USING btree (model_id, kind, entered_seq);
CREATE INDEX ix_deployment_history_names ON registry.deployment_history USING btree (kind, lower((subject)::text), model_id) INCLUDE (subject, entered_seq, left_seq);
CREATE INDEX ix_deployment_history_open ON registry.deployment_history USING btree (model_id, kind, subject) WHERE (left_seq IS NULL);
CREATE INDEX ix_model_tags_pair_name ON registry.model_tags USING btree (pair_hash, normalized_name);
CREATE INDEX ix_mt_doc_modelview_name_pattern ON registry.mt_doc_modelview USING btree (normalized_name varchar_pattern_ops);
CREATE INDEX ix_mt_events_timestamp ON registry.mt_events USING btree ("timestamp", seq_id);
CREATE INDEX mt_doc_artifactupload_idx_sha_256 ON registry.mt_doc_artifactupload USING btree (sha_256);
CREATE INDEX mt_doc_idempotencyrecord_idx_stored_at ON registry.mt_doc_idempotencyrecord USING btree (stored_at);
CREATE INDEX mt_doc_modelversionview_idx_artifact_sha_256 ON registry.mt_doc_modelversionview USING btree ((((data -> 'artifact'::text) ->> 'sha256'::text)));
CREATE INDEX mt_doc_modelversionview_idx_model_id ON registry.mt_doc_modelversionview USING btree (model_id);
CREATE UNIQUE INDEX mt_doc_modelview_idx_normalized_name ON registry.mt_doc_modelview USING btree (normalized_name);
CREATE UNIQUE INDEX pk_mt_events_stream_and_version ON registry.mt_events USING btree (stream_id, version);
CREATE UNIQUE INDEX ux_audit_chain_prev_seq ON registry.audit_chain USING btree (prev_seq);
CREATE TRIGGER esr_event_gaps BEFORE INSERT ON registry.mt_events FOR EACH ROW WHEN ((((new.type)::text = 'tombstone'::text) OR (NOT isfinite(new."timestamp")))) EXECUTE FUNCTION registry.esr_event_gaps();
CREATE TRIGGER model_tags_on_delete AFTER DELETE ON registry.mt_doc_modelview FOR EACH ROW EXECUTE FUNCTION registry.model_tags_sync();
CREATE TRIGGER model_tags_on_insert AFTER INSERT ON registry.mt_doc_modelview FOR EACH ROW EXECUTE FUNCTION registry.model_tags_sync();
CREATE TRIGGER model_tags_on_truncate AFTER TRUNCATE ON registry.mt_doc_modelview FOR EACH STATEMENT EXECUTE FUNCTION registry.model_tags_clear();
CREATE TRIGGER model_tags_on_update AFTER UPDATE ON registry.mt_doc_modelview FOR EACH ROW WHEN ((((old.data -> 'tags'::text) IS DISTINCT FROM (new.data -> 'tags'::text)) OR ((old.normalized_name)::text IS DISTINCT FROM (new.normalized_name)::text))) EXECUTE FUNCTION registry.model_tags_sync();
ALTER TABLE ONLY registry.mt_events
    ADD CONSTRAINT fkey_mt_events_stream_id FOREIGN KEY (stream_id) REFERENCES registry.mt_streams(id) ON DELETE CASCADE;
