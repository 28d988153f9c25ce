namespace EventSourcedRegistry.Models;

/// <summary>
/// Indexes the model list needs that Marten does not model, kept by PostgreSQL itself.
/// <para>
/// <b>Tags:</b> one row per (model, tag) in <c>model_tags</c>, indexed by the hash of the key/value pair and then the
/// normalized name, so <c>?tag=team:fraud</c> reads the first page of matching models in name order straight off the
/// index whatever the share of models that match (a GIN index on the view's tags finds every match and sorts them;
/// walking the name index finds the first match only after every non-matching name before it). Triggers on the
/// <see cref="ModelView"/> table keep it: every write of a view (the inline projection, a rebuild, a direct store)
/// updates it in the same transaction, and only when the view's tags or name changed. Each row carries its view's workspace
/// (<c>tenant_id</c>, leading the key and the index), so a tag filter reads one workspace's range of the index.
/// </para>
/// <para>
/// <b>Prefixes:</b> a <c>varchar_pattern_ops</c> index on the normalized name, which <c>like 'prefix%'</c> can use
/// under any database collation (the plain name index only under the C collation).
/// </para>
/// <para>
/// <b>Pages in name order:</b> a plain index on (workspace, normalized name), so an unfiltered page, a page after a cursor
/// and a prefix read one workspace's range of names in order and stop after the page. Marten's unique index on the name
/// (per workspace) puts the workspace last, so a walk in name order passes every workspace's names, and without this
/// index the planner reads all of the workspace's models and sorts them, or walks the shared index: the cost of a page
/// then grows with the workspace's size or with the number of workspaces (issue 20's 1,000-workspace benchmark).
/// </para>
/// </summary>
public static class ModelTagIndex
{
    public const string Table = "model_tags";
    public const string NamePatternIndex = "ix_mt_doc_modelview_name_pattern";
    public const string TenantNameIndex = "ix_mt_doc_modelview_tenant_name";

    public static string QualifiedTable(string schema) => $"{schema}.{Table}";

    /// <summary>The value stored in and compared with <c>pair_hash</c>: md5 of key, unit separator, value, as a uuid.</summary>
    public const string PairHashSql = "md5({0} || chr(31) || {1})::uuid";

    /// <summary>
    /// Idempotent: creates the table, the triggers and the pattern index when missing, and fills the table from the
    /// views when it is new. Run after Marten's own migration; serialized among nodes by an advisory lock.
    /// </summary>
    public static string EnsureSql(string schema)
    {
        var views = $"{schema}.mt_doc_modelview";
        var table = QualifiedTable(schema);
        var hash = string.Format(PairHashSql, "t.key", "t.value");
        var insert = $"insert into {table} (tenant_id, model_id, tag_key, tag_value, pair_hash, normalized_name) " +
                     $"select v.tenant_id, v.id, t.key, t.value, {hash}, v.normalized_name from {{0}} v, jsonb_each_text(coalesce(v.data -> 'tags', '{{{{}}}}'::jsonb)) t";
        return $"""
            select pg_advisory_xact_lock(hashtext('{table}'));
            do $ensure$
            begin
              if to_regclass('{table}') is null then
                create table {table} (
                  tenant_id text not null,
                  model_id uuid not null,
                  tag_key text not null,
                  tag_value text not null,
                  pair_hash uuid not null,
                  normalized_name varchar not null,
                  primary key (tenant_id, model_id, tag_key));
                create index ix_{Table}_pair_name on {table} (tenant_id, pair_hash, normalized_name);
                {string.Format(insert, views)};
                analyze {table};
              end if;
            end
            $ensure$;

            create or replace function {schema}.{Table}_sync() returns trigger language plpgsql as $sync$
            begin
              if tg_op in ('UPDATE', 'DELETE') then
                delete from {table} where tenant_id = old.tenant_id and model_id = old.id;
              end if;
              if tg_op in ('INSERT', 'UPDATE') then
                {string.Format(insert, "(select new.tenant_id as tenant_id, new.id as id, new.data as data, new.normalized_name as normalized_name) as")};
              end if;
              return null;
            end
            $sync$;

            create or replace function {schema}.{Table}_clear() returns trigger language plpgsql as $clear$
            begin
              truncate {table};
              return null;
            end
            $clear$;

            drop trigger if exists {Table}_on_insert on {views};
            drop trigger if exists {Table}_on_update on {views};
            drop trigger if exists {Table}_on_delete on {views};
            drop trigger if exists {Table}_on_truncate on {views};
            create trigger {Table}_on_insert after insert on {views} for each row execute function {schema}.{Table}_sync();
            create trigger {Table}_on_update after update on {views} for each row
              when (old.data -> 'tags' is distinct from new.data -> 'tags' or old.normalized_name is distinct from new.normalized_name
                    or old.tenant_id is distinct from new.tenant_id)
              execute function {schema}.{Table}_sync();
            create trigger {Table}_on_delete after delete on {views} for each row execute function {schema}.{Table}_sync();
            create trigger {Table}_on_truncate after truncate on {views} for each statement execute function {schema}.{Table}_clear();

            create index if not exists {NamePatternIndex} on {views} (tenant_id, normalized_name varchar_pattern_ops);
            create index if not exists {TenantNameIndex} on {views} (tenant_id, normalized_name);
            """;
    }
}
