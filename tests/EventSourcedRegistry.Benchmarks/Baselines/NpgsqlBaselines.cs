using System.Diagnostics;
using System.Text;
using EventSourcedRegistry.Benchmarks.Data;
using EventSourcedRegistry.Benchmarks.Infrastructure;
using EventSourcedRegistry.Benchmarks.Scenarios;
using EventSourcedRegistry.Store;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedRegistry.Benchmarks.Baselines;

/// <summary>What this machine's PostgreSQL does with plain Npgsql, measured in the same run as the scenarios.</summary>
public sealed record BaselineResults(
    LoadResult InsertCommit1,
    LoadResult InsertCommit8,
    LoadResult MartenShaped1,
    LoadResult MartenShaped8,
    LoadResult PointRead,
    CopyResult CopyOut)
{
    public LoadResult MartenShaped(int clients) => clients == 1 ? MartenShaped1 : MartenShaped8;
}

public sealed record CopyResult(long Events, long Bytes, TimeSpan Elapsed)
{
    public double EventsPerSecond => Events / Elapsed.TotalSeconds;
    public double MegabytesPerSecond => Bytes / 1e6 / Elapsed.TotalSeconds;
}

/// <summary>
/// The floors the API is compared with. Each worker keeps one open connection (the best case for plain
/// Npgsql); every write commits on its own, so with fsync on each one waits for the WAL flush.
/// </summary>
public static class NpgsqlBaselines
{
    private const string Setup = """
        create schema if not exists bench;
        create table if not exists bench.rows (
            id bigint generated always as identity primary key, client int not null, payload text not null,
            created timestamptz not null default now());
        create table if not exists bench.streams (id uuid primary key, version bigint not null, timestamp timestamptz not null default now());
        create table if not exists bench.events (
            seq_id bigint generated always as identity primary key, id uuid not null, stream_id uuid not null references bench.streams(id),
            version bigint not null, type varchar not null, data jsonb not null, timestamp timestamptz not null default now(),
            unique (stream_id, version));
        """;

    public static async Task<BaselineResults> RunAsync(NpgsqlDataSource db, Dataset dataset, BenchSizes sizes, byte[] eventJson,
        CpuMeter cpu, List<CpuRow> cpuRows, Action<string> log, CancellationToken ct)
    {
        // Warm-up runs inside each measurement; CPU is attributed to the whole warm-up + measured run here.
        async Task<T> Metered<T>(string phase, int operations, Func<Task<T>> run)
        {
            var before = cpu.Take();
            var result = await run();
            if (CpuMeter.Between(before, cpu.Take(), operations + BenchSizes.WarmupFor(operations)) is { } usage)
                cpuRows.Add(new CpuRow(phase, usage));
            return result;
        }

        await using (var setup = db.CreateCommand(Setup)) await setup.ExecuteNonQueryAsync(ct);
        var payload = Encoding.UTF8.GetString(eventJson);

        var insert1 = await Metered("baseline: insert + commit, 1 client", sizes.BaselineWrites1, () => InsertCommitAsync(db, 1, sizes.BaselineWrites1, payload, ct));
        log($"baseline insert+commit, 1 client: {LoadResult.Rate(insert1.PerSecond, "tx/s")}");
        var insert8 = await Metered("baseline: insert + commit, 8 clients", sizes.BaselineWrites8, () => InsertCommitAsync(db, Dataset.Clients, sizes.BaselineWrites8, payload, ct));
        log($"baseline insert+commit, 8 clients: {LoadResult.Rate(insert8.PerSecond, "tx/s")}");
        var shaped1 = await Metered("baseline: Marten-shaped, 1 client", sizes.BaselineWrites1, () => MartenShapedAsync(db, 1, sizes.BaselineWrites1, payload, ct));
        log($"baseline Marten-shaped transaction, 1 client: {LoadResult.Rate(shaped1.PerSecond, "tx/s")}");
        var shaped8 = await Metered("baseline: Marten-shaped, 8 clients", sizes.BaselineWrites8, () => MartenShapedAsync(db, Dataset.Clients, sizes.BaselineWrites8, payload, ct));
        log($"baseline Marten-shaped transaction, 8 clients: {LoadResult.Rate(shaped8.PerSecond, "tx/s")}");
        var point = await Metered("baseline: primary-key point read", sizes.PointReads, () => PointReadAsync(db, dataset.ShortHistory.Id, sizes.PointReads, ct));
        log($"baseline primary-key point read: {point.Latency.Describe()}");
        var copy = await CopyOutAsync(db, ct);
        log($"baseline COPY out of the events: {LoadResult.Rate(copy.EventsPerSecond, "events/s")}");
        return new BaselineResults(insert1, insert8, shaped1, shaped8, point, copy);
    }

    /// <summary>One row, one implicit transaction, one round trip.</summary>
    private static async Task<LoadResult> InsertCommitAsync(NpgsqlDataSource db, int clients, int count, string payload, CancellationToken ct)
    {
        var connections = await OpenAsync(db, clients, ct);
        try
        {
            return await Load.WarmThenRunAsync(clients, count, async (worker, _, token) =>
            {
                await using var command = new NpgsqlCommand("insert into bench.rows (client, payload) values ($1, $2)", connections[worker]);
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = worker });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payload });
                return await command.ExecuteNonQueryAsync(token) == 1;
            }, ct);
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    /// <summary>
    /// What an event store must do at least to append one event under optimistic concurrency: in one transaction,
    /// lock the stream's version row, bump it, and insert the event (jsonb); then commit. Three round trips
    /// (BEGIN travels with the SELECT, the UPDATE and INSERT go as one batch, then COMMIT). Each client has its own stream.
    /// </summary>
    private static async Task<LoadResult> MartenShapedAsync(NpgsqlDataSource db, int clients, int count, string payload, CancellationToken ct)
    {
        var streams = Enumerable.Range(0, clients).Select(_ => Guid.CreateVersion7()).ToArray();
        await using (var create = db.CreateCommand("insert into bench.streams (id, version) select unnest($1::uuid[]), 0"))
        {
            create.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = streams });
            await create.ExecuteNonQueryAsync(ct);
        }

        var connections = await OpenAsync(db, clients, ct);
        try
        {
            return await Load.WarmThenRunAsync(clients, count, async (worker, _, token) =>
            {
                var connection = connections[worker];
                var stream = streams[worker];
                await using var transaction = await connection.BeginTransactionAsync(token);
                long version;
                await using (var select = new NpgsqlCommand("select version from bench.streams where id = $1 for update", connection, transaction))
                {
                    select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = stream });
                    version = (long)(await select.ExecuteScalarAsync(token))!;
                }

                await using (var batch = new NpgsqlBatch(connection, transaction))
                {
                    var bump = new NpgsqlBatchCommand("update bench.streams set version = $2, timestamp = now() where id = $1");
                    bump.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = stream });
                    bump.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version + 1 });
                    var append = new NpgsqlBatchCommand("insert into bench.events (id, stream_id, version, type, data) values ($1, $2, $3, $4, $5)");
                    append.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
                    append.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = stream });
                    append.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version + 1 });
                    append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "model_version_registered" });
                    append.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payload, NpgsqlDbType = NpgsqlDbType.Jsonb });
                    batch.BatchCommands.Add(bump);
                    batch.BatchCommands.Add(append);
                    await batch.ExecuteNonQueryAsync(token);
                }
                await transaction.CommitAsync(token);
                return true;
            }, ct);
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    /// <summary>The model view document the read scenario fetches over HTTP, fetched by primary key.</summary>
    public static async Task<LoadResult> PointReadAsync(NpgsqlDataSource db, Guid modelId, int count, CancellationToken ct)
    {
        var connections = await OpenAsync(db, 1, ct);
        try
        {
            return await Load.WarmThenRunAsync(1, count, (_, _, token) => PointReadOnceAsync(connections[0], modelId, token), ct);
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    public static async ValueTask<bool> PointReadOnceAsync(NpgsqlConnection connection, Guid modelId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select data from {RegistryStore.Schema}.mt_doc_modelview where tenant_id = $2 and id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = modelId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = WorkspaceId.Default.TenantId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) && reader.GetString(0).Length > 0;
    }

    /// <summary>Every stored event as CSV through COPY: the floor for an audit export. Median of three passes.</summary>
    private static async Task<CopyResult> CopyOutAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var passes = new List<CopyResult>();
        for (var pass = 0; pass < 3; pass++)
        {
            long rows = 0, chars = 0;
            var buffer = new char[64 * 1024];
            var clock = Stopwatch.StartNew();
            using (var reader = await connection.BeginTextExportAsync(
                       $"copy (select seq_id, id, stream_id, version, type, timestamp, data from {RegistryStore.Schema}.mt_events where tenant_id = '{WorkspaceId.Default.TenantId}') to stdout (format csv)", ct))
            {
                int read;
                while ((read = await reader.ReadAsync(buffer, ct)) > 0)
                {
                    chars += read;
                    rows += buffer.AsSpan(0, read).Count('\n');
                }
            }
            clock.Stop();
            passes.Add(new CopyResult(rows, chars, clock.Elapsed));
        }
        return passes.OrderBy(p => p.Elapsed).ElementAt(1);
    }

    private static async Task<NpgsqlConnection[]> OpenAsync(NpgsqlDataSource db, int count, CancellationToken ct)
    {
        var connections = new NpgsqlConnection[count];
        for (var i = 0; i < count; i++) connections[i] = await db.OpenConnectionAsync(ct);
        return connections;
    }

    private static async Task CloseAsync(NpgsqlConnection[] connections)
    {
        foreach (var connection in connections) await connection.DisposeAsync();
    }
}
