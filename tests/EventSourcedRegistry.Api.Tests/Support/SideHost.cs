using Alba;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// A host with settings of its own, on a database of its own in the shared cluster (so resets and the async daemon of
/// one host never touch another's data): started on first use, its data and artifacts reset at every use.
/// </summary>
public sealed class SideHost(string database, string name, Func<IWebHostBuilder, IWebHostBuilder> settings) : IAsyncDisposable
{
    private readonly SemaphoreSlim _start = new(1, 1);
    private IAlbaHost? _host;
    private string? _connectionString;

    public string ArtifactsDirectory { get; } = Path.Combine(Path.GetTempPath(), $"esr-artifacts-{name}-{Guid.NewGuid():N}");
    private string SigningKeyPath { get; } = Path.Combine(Path.GetTempPath(), $"esr-audit-key-{name}-{Guid.NewGuid():N}", "audit-signing-key.pem");

    /// <summary>The host's database (valid once <see cref="Use"/> was called).</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException($"The {name} host has not started.");

    public async Task<IAlbaHost> Use(AppFixture fixture)
    {
        await _start.WaitAsync();
        try
        {
            if (_host is null)
            {
                _connectionString = await CreateDatabase(fixture.ConnectionString, database);
                // Program reads the connection string before it builds the host; point it at this database meanwhile.
                _host = await HostStarts.On(_connectionString, () => AlbaHost.For<Program>(builder => settings(builder
                        .UseSetting("Logging:LogLevel:Default", "Warning")
                        .UseSetting("Registry:Artifacts:Directory", ArtifactsDirectory)
                        .UseSetting("Registry:Audit:SigningKeyPath", SigningKeyPath)
                        .UseSetting("Registry:BootstrapAdminKey", AppFixture.AdminKey)
                        .UseSetting("Registry:Auth:Jwt:SigningKey", AppFixture.JwtSigningKey)
                        .UseSetting("Registry:Auth:Jwt:Issuer", AppFixture.JwtIssuer)
                        .UseSetting("Registry:Auth:Jwt:Audience", AppFixture.JwtAudience))));
            }
        }
        finally
        {
            _start.Release();
        }

        await ResetStore(_host, _connectionString!);
        if (Directory.Exists(ArtifactsDirectory)) Directory.Delete(ArtifactsDirectory, recursive: true);
        return _host;
    }

    /// <summary>
    /// Empties the store: Marten's data (which also empties Marten's registry of workspace partitions, so the workspaces
    /// every store has are registered again, as at start) and the relational views.
    /// </summary>
    public static async Task ResetStore(IAlbaHost host, string connectionString)
    {
        // With the audit worker on (Registry:Audit:Worker) no poll may run into the reset; Marten's helper pauses only its daemon.
        await using var paused = host.Services.GetService<EventSourcedRegistry.Api.Audit.AuditWorker>() is { } worker
            ? await worker.PauseAsync()
            : null;
        if (await TryTruncateStore(host, connectionString)) return;
        await host.ResetAllMartenDataAsync();
        var store = host.Services.GetRequiredService<Marten.IDocumentStore>();
        await WorkspacePartitions.AddAsync(store, WorkspaceId.Default, CancellationToken.None);
        await WorkspacePartitions.AddAsync(store, WorkspaceId.Platform, CancellationToken.None);
        await TruncateViews(connectionString);
    }

    /// <summary>PL/pgSQL (a record <c>s</c> declared): every event sequence, the store-wide one and each workspace's, starts at 1 again.</summary>
    private static readonly string RestartEventSequences =
        $"""
         for s in select sequence_name from information_schema.sequences
                  where sequence_schema = '{RegistryStore.Schema}' and sequence_name like 'mt\_events\_sequence%' loop
           execute format('alter sequence %I.%I restart with 1', '{RegistryStore.Schema}', s.sequence_name);
         end loop;
         """;

    /// <summary>
    /// The reset every test pays for, in one round trip, when the store has only the partitions every store has (default and
    /// the platform; most tests create no workspace). Marten's reset deletes each document table and the event tables one
    /// statement at a time and drops the workspaces' partitions, which then have to be created again: 0.3–1 s a test, more
    /// than many tests take themselves. Emptying every table the registry writes leaves the same empty store; the async
    /// daemon is paused around it as Marten's own reset pauses it. The API keys stay, as they do through Marten's reset (the
    /// bootstrap key is made once at start); Marten's partition registry and id blocks stay with the partitions they describe.
    /// A store that has more partitions takes Marten's reset, which removes them.
    /// </summary>
    private static async Task<bool> TryTruncateStore(IAlbaHost host, string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var partitions = new NpgsqlCommand(
            $"select (select count(*) from pg_inherits where inhparent = '{RegistryStore.Schema}.mt_events'::regclass) = 2 " +
            $"and (select count(*) from {RegistryStore.Schema}.mt_tenant_partitions) = 2", connection))
        {
            if (await partitions.ExecuteScalarAsync() is not true) return false;
        }

        var coordinator = host.Services.GetService<JasperFx.Events.Daemon.IProjectionCoordinator>();
        if (coordinator is not null) await coordinator.PauseAsync();
        try
        {
            await using var truncate = new NpgsqlCommand(
                $"""
                 do $$ declare t record; s record; big boolean; begin
                   -- No append may commit while the store is emptied: a late write of an earlier test (a request still
                   -- running, Marten's gap-filling events after a failed commit) that committed after the delete had read the
                   -- event table kept its row at a sequence the restart below hands out again, and a later append there
                   -- failed with 503 "Event sequence repaired". Appends under way finish first; later ones wait for this
                   -- reset. Streams before events, the order in which Marten's appends take them.
                   lock table {RegistryStore.Schema}.mt_streams, {RegistryStore.Schema}.mt_events in exclusive mode;
                   for t in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                            where n.nspname = '{RegistryStore.Schema}' and c.relkind in ('r', 'p') and not c.relispartition
                              and c.relname not in ('api_keys', 'mt_tenant_partitions', 'mt_hilo') loop
                     -- A DELETE of the few rows most tests leave is ten times quicker than a TRUNCATE (which makes new files
                     -- for the table and its indexes); a large table is truncated. One table at a time: emptying a view table
                     -- fires the triggers that empty the tables derived from it (model_tags).
                     execute format('select exists (select 1 from %I.%I offset 5000)', '{RegistryStore.Schema}', t.relname) into big;
                     if big then
                       execute format('truncate table %I.%I', '{RegistryStore.Schema}', t.relname);
                     else
                       execute format('delete from %I.%I', '{RegistryStore.Schema}', t.relname);
                     end if;
                   end loop;
                   {RestartEventSequences}
                 end $$
                 """, connection);
            // A late write holding a row this reset deletes while it waits for the tables locked above is a deadlock, which
            // PostgreSQL ends by failing one side: when it fails the reset, the late write has gone and the reset runs again.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await truncate.ExecuteNonQueryAsync();
                    break;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 5)
                {
                }
            }
        }
        finally
        {
            if (coordinator is not null) await coordinator.ResumeAsync();
        }
        return true;
    }

    /// <summary>
    /// Empties the relational views Marten does not know as documents (deployment history, registry states, snapshots, audit
    /// trail) and restarts every workspace's event sequence.
    /// </summary>
    public static async Task TruncateViews(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = AuditTrail.Tables
            .Prepend(DeploymentHistory.QualifiedTable(RegistryStore.Schema))
            .Prepend(ModelSnapshots.QualifiedTable(RegistryStore.Schema))
            .Prepend(RegistryStates.QualifiedTable(RegistryStore.Schema))
            .Append(EventSourcedRegistry.Api.Webhooks.WebhookSubscriptions.Table)
            .Append(EventSourcedRegistry.Api.Webhooks.WebhookSubscriptions.DeadLetterTable);
        await using var truncate = new NpgsqlCommand($"truncate table {string.Join(", ", tables)}", connection);
        await truncate.ExecuteNonQueryAsync();
        // Marten's reset restarts only the store-wide sequence; every workspace numbers its events in one of its own.
        await using var restart = new NpgsqlCommand(
            $"""
             do $$ declare s record; begin {RestartEventSequences} end $$
             """, connection);
        await restart.ExecuteNonQueryAsync();
    }

    public static async Task<string> CreateDatabase(string clusterConnectionString, string database)
    {
        await using (var connection = new NpgsqlConnection(clusterConnectionString))
        {
            await connection.OpenAsync();
            await using var exists = new NpgsqlCommand($"select 1 from pg_database where datname = '{database}'", connection);
            if (await exists.ExecuteScalarAsync() is null)
            {
                await using var create = new NpgsqlCommand($"create database {database}", connection);
                await create.ExecuteNonQueryAsync();
            }
        }
        return new NpgsqlConnectionStringBuilder(clusterConnectionString) { Database = database }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null) await _host.DisposeAsync();
        if (Directory.Exists(ArtifactsDirectory)) Directory.Delete(ArtifactsDirectory, recursive: true);
        if (Path.GetDirectoryName(SigningKeyPath) is { } keyDirectory && Directory.Exists(keyDirectory)) Directory.Delete(keyDirectory, recursive: true);
    }
}
