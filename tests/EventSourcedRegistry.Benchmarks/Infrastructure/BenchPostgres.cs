using EventSourcedRegistry.Api.Hosting;
using Npgsql;

namespace EventSourcedRegistry.Benchmarks.Infrastructure;

public sealed record ServerFacts(string Version, string Fsync, string SynchronousCommit, string FullPageWrites, string WalSyncMethod, string SharedBuffers)
{
    public bool Durable => Fsync == "on" && SynchronousCommit == "on" && FullPageWrites == "on";

    public string Describe() =>
        $"PostgreSQL {Version} (fsync={Fsync}, synchronous_commit={SynchronousCommit}, full_page_writes={FullPageWrites}, " +
        $"wal_sync_method={WalSyncMethod}, shared_buffers={SharedBuffers})";
}

/// <summary>
/// The harness's own PostgreSQL: the product's embedded cluster with its durable settings, in a temporary data
/// directory that is removed afterwards, so numbers never come from a cluster that skips fsync.
/// </summary>
public sealed class BenchPostgres : IAsyncDisposable
{
    private readonly string _directory;
    private readonly EmbeddedPostgres _server;

    private BenchPostgres(string directory, EmbeddedPostgres server)
    {
        _directory = directory;
        _server = server;
    }

    public string ConnectionString => _server.ConnectionString;
    public int ServerProcessId => _server.ServerProcessId;

    public static async Task<BenchPostgres> StartAsync(CancellationToken ct)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"esr-bench-{Guid.NewGuid():N}");
        try
        {
            var server = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = directory, Durable = true }, ct: ct);
            return new BenchPostgres(directory, server);
        }
        catch
        {
            DeleteDirectory(directory);
            throw;
        }
    }

    public async Task<ServerFacts> ReadFactsAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        async Task<string> Show(string setting)
        {
            await using var command = new NpgsqlCommand($"show {setting}", connection);
            return (string)(await command.ExecuteScalarAsync(ct))!;
        }
        var facts = new ServerFacts(await Show("server_version"), await Show("fsync"), await Show("synchronous_commit"),
            await Show("full_page_writes"), await Show("wal_sync_method"), await Show("shared_buffers"));
        return facts.Durable
            ? facts
            : throw new InvalidOperationException($"The benchmark cluster is not durable: {facts.Describe()}.");
    }

    /// <summary>After a bulk load: fresh planner statistics and a checkpoint, so a measurement is not billed for the load's writes.</summary>
    public async Task SettleAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        foreach (var sql in new[] { "vacuum analyze", "checkpoint" })
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await _server.DisposeAsync();
        DeleteDirectory(_directory);
    }

    private static void DeleteDirectory(string directory)
    {
        for (var attempt = 1; attempt <= 3 && Directory.Exists(directory); attempt++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Thread.Sleep(500);
            }
        }
        if (Directory.Exists(directory))
            Console.Error.WriteLine($"warning: could not remove the benchmark cluster's directory {directory}");
    }
}
