using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Rebuild;
using EventSourcedRegistry.Store;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedRegistry.Api.Tests.Admin;

/// <summary>
/// A rebuild skips the row-by-row comparison of a model's audit rows when the fold's digest equals the live rows' digest,
/// computed by PostgreSQL. Both sides must encode the same rows identically (or every model is compared the slow way),
/// and rows that differ in any field must never share a digest (or a damaged row is left as it is).
/// </summary>
public sealed class when_digesting_audit_rows_for_a_rebuild(AppFixture app) : ApiTest(app)
{
    private static readonly string[] Texts =
        ["", "-", ":", "1:a", "|", "a|b", "é", "🚀 to prod", "line\nbreak\ttab", "\uE000", "😀", "quote \" and \\ backslash", "日本語"];

    private static List<AuditEntry> Rows(Guid model)
    {
        var random = new Random(17);
        string? Pick(bool nullable = true) => nullable && random.Next(4) == 0 ? null : Texts[random.Next(Texts.Length)];
        return Enumerable.Range(0, 40).Select(i => new AuditEntry(
            900_001 + i * 3,
            // Microseconds, before and after 1970.
            new DateTimeOffset(i % 2 == 0 ? 1969 : 2026, 3, 3, 14, 0, 0, TimeSpan.Zero).AddTicks(random.Next(0, 100_000_000) * 10L),
            model, Pick(), random.Next(3) == 0 ? null : random.Next(-5, 1_000_000), Pick(nullable: false)!, Pick(), Pick(), Pick(), Pick(),
            Pick(nullable: false)!)).ToList();
    }

    private static readonly string[] Names = ["b", "a", "é", "z", "\uE000", "😀", "a"];

    /// <summary>A registered model whose audit rows and name keys are replaced by <see cref="Rows"/> and <see cref="Names"/>.</summary>
    private async Task<(Guid Id, List<AuditEntry> Rows)> ModelWithHostileRows()
    {
        await Host.RegisterModel("digested");
        await App.Store.WaitForAuditTrail();
        var id = (await App.SqlList<Guid>($"select id from {RegistryStore.Schema}.mt_doc_modelview where data ->> 'name' = 'digested'")).Single();
        var rows = Rows(id);
        await App.Sql($"delete from {AuditTrail.AuditLogTable} where model_id = $1", id);
        await App.Sql($"delete from {AuditTrail.ModelNamesTable} where model_id = $1", id);
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using (var copy = await connection.BeginBinaryImportAsync(
                         $"copy {AuditTrail.AuditLogTable} (tenant_id, seq_id, timestamp, model_id, model_name, version, event_type, actor, reason, " +
                         "correlation_id, causation_id, summary) from stdin (format binary)"))
        {
            foreach (var row in rows)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(WorkspaceId.Default.TenantId, NpgsqlDbType.Text);
                await copy.WriteAsync(row.Sequence, NpgsqlDbType.Bigint);
                await copy.WriteAsync(row.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(row.ModelId, NpgsqlDbType.Uuid);
                foreach (var text in new[] { row.ModelName })
                    if (text is null) await copy.WriteNullAsync(); else await copy.WriteAsync(text, NpgsqlDbType.Text);
                if (row.Version is { } version) await copy.WriteAsync(version, NpgsqlDbType.Integer); else await copy.WriteNullAsync();
                foreach (var text in new[] { row.EventType, row.Actor, row.Reason, row.CorrelationId, row.CausationId, row.Summary })
                    if (text is null) await copy.WriteNullAsync(); else await copy.WriteAsync(text, NpgsqlDbType.Text);
            }
            await copy.CompleteAsync();
        }
        foreach (var (name, i) in Names.Distinct().Select((n, i) => (n, i)))
            await App.Sql($"insert into {AuditTrail.ModelNamesTable} (tenant_id, name_key, model_id, seq_id) values ($1, $2, $3, $4)",
                WorkspaceId.Default.TenantId, name, id, 900_001L + i);
        return (id, rows);
    }

    private async Task<string> LiveDigest(Guid id)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(AuditDigest.LiveSql($"{RegistryStore.Schema}.mt_streams"), connection);
        command.Parameters.Add(new NpgsqlParameter { Value = new[] { id } });
        command.Parameters.Add(new NpgsqlParameter { Value = WorkspaceId.Default.TenantId });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return reader.GetString(2);
    }

    [Fact]
    public async Task postgresql_and_the_fold_digest_the_same_hostile_rows_alike()
    {
        var (id, rows) = await ModelWithHostileRows();

        Assert.Equal(AuditDigest.Of(rows, Names), await LiveDigest(id));
        // The order of the fold's rows and names does not matter: both sides order them.
        Assert.Equal(AuditDigest.Of(rows.AsEnumerable().Reverse(), Names.Reverse()), await LiveDigest(id));
    }

    [Theory]
    [InlineData("update {log} set actor = case when actor is null then 'x' end where seq_id = 900001")]
    [InlineData("update {log} set actor = case when actor = '-' then '--' else '-' end where seq_id = 900004")]
    [InlineData("update {log} set summary = summary || ' ' where seq_id = 900007")]
    [InlineData("update {log} set timestamp = timestamp + interval '1 microsecond' where seq_id = 900010")]
    [InlineData("update {log} set version = coalesce(version, 0) + 1 where seq_id = 900013")]
    [InlineData("delete from {log} where seq_id = 900016")]
    [InlineData("update {log} set reason = coalesce(reason, '') || 'x' where seq_id = 900019")]
    [InlineData("update {log} set model_name = case when model_name is null then '' end where seq_id = 900022")]
    [InlineData("delete from {names} where name_key = 'é'")]
    [InlineData("update {names} set name_key = 'ab' where name_key = 'a'")]
    public async Task a_change_to_any_field_or_name_changes_the_live_digest(string damage)
    {
        var (id, rows) = await ModelWithHostileRows();
        var before = AuditDigest.Of(rows, Names);
        Assert.Equal(before, await LiveDigest(id));

        Assert.Equal(1, await App.Sql(damage.Replace("{log}", AuditTrail.AuditLogTable).Replace("{names}", AuditTrail.ModelNamesTable) + " and model_id = $1", id));

        Assert.NotEqual(before, await LiveDigest(id));
    }

    [Fact]
    public async Task fields_that_run_into_each_other_do_not_share_a_digest()
    {
        var row = Rows(Guid.NewGuid())[0];
        Assert.NotEqual(AuditDigest.Of([row with { Actor = "ab", Reason = "c" }], []), AuditDigest.Of([row with { Actor = "a", Reason = "bc" }], []));
        Assert.NotEqual(AuditDigest.Of([row with { Actor = null }], []), AuditDigest.Of([row with { Actor = "-" }], []));
        Assert.NotEqual(AuditDigest.Of([row with { Actor = null }], []), AuditDigest.Of([row with { Actor = "" }], []));
        Assert.NotEqual(AuditDigest.Of([], ["ab", "c"]), AuditDigest.Of([], ["a", "bc"]));
        Assert.NotEqual(AuditDigest.Of([row], []), AuditDigest.Of([], []));
    }
}
