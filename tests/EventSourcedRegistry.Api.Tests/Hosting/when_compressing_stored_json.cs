using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Tests.Workspaces;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Tests.Hosting;

/// <summary>
/// The store's jsonb columns compress with lz4 (WorkspacePartitions.CompressJsonWithLz4Sql): at start for the tables and
/// partitions Marten made, and when a workspace is made for every table of the schema, its new partitions included, and so for the values a command writes.
/// </summary>
public sealed class when_compressing_stored_json(AppFixture app) : ApiTest(app)
{
    private const string Columns = $"""
        select c.relname || '.' || a.attname || '=' || coalesce(nullif(a.attcompression::text, ''), 'default')
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = '{RegistryStore.Schema}' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
          and a.atttypid = 'jsonb'::regtype
        order by 1
        """;

    [Fact]
    public async Task every_jsonb_column_of_the_store_and_of_a_new_workspace_uses_lz4_and_a_large_view_is_stored_so()
    {
        // The PostgreSQL the tests start is Debian's, built with lz4; the registry leaves pglz in place on one without it.
        Assert.Equal([true], await App.SqlList<bool>("select 'lz4' = any(enumvals) from pg_settings where name = 'default_toast_compression'"));
        var before = await App.SqlList<string>(Columns);
        Assert.Contains(before, c => c.StartsWith("mt_doc_modelview", StringComparison.Ordinal));
        Assert.Contains(before, c => c.StartsWith("mt_events", StringComparison.Ordinal));
        // At start, the tables Marten made (the host's own tables, made after it, are taken at the next workspace).
        Assert.All(before.Where(c => c.StartsWith("mt_", StringComparison.Ordinal)), c => Assert.EndsWith("=l", c));

        await App.NewWorkspace();
        var after = await App.SqlList<string>(Columns);
        Assert.True(after.Count > before.Count, "a workspace adds partitions");
        Assert.All(after, c => Assert.EndsWith("=l", c));

        // A view past PostgreSQL's TOAST threshold (2 KB) is compressed, and with lz4.
        await Host.RegisterModel("long-description");
        await Host.Patch("/api/v1/models/long-description", new { description = string.Concat(Enumerable.Repeat("A model described at length. ", 150)) }).Ok();
        Assert.Equal(["lz4"], await App.SqlList<string>(
            "select pg_column_compression(data) from registry.mt_doc_modelview where tenant_id = $1 and normalized_name = 'long-description'",
            WorkspaceId.Default.TenantId));
    }
}
