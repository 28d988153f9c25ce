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
                var variable = $"ConnectionStrings__{RegistryDatabase.ConnectionStringName}";
                var shared = Environment.GetEnvironmentVariable(variable);
                // Program reads the connection string before it builds the host; point it at this database meanwhile.
                Environment.SetEnvironmentVariable(variable, _connectionString);
                try
                {
                    _host = await AlbaHost.For<Program>(builder => settings(builder
                        .UseSetting("Logging:LogLevel:Default", "Warning")
                        .UseSetting("Registry:Artifacts:Directory", ArtifactsDirectory)
                        .UseSetting("Registry:Audit:SigningKeyPath", SigningKeyPath)
                        .UseSetting("Registry:BootstrapAdminKey", AppFixture.AdminKey)
                        .UseSetting("Registry:Auth:Jwt:SigningKey", AppFixture.JwtSigningKey)
                        .UseSetting("Registry:Auth:Jwt:Issuer", AppFixture.JwtIssuer)
                        .UseSetting("Registry:Auth:Jwt:Audience", AppFixture.JwtAudience)));
                }
                finally
                {
                    Environment.SetEnvironmentVariable(variable, shared);
                }
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
        await host.ResetAllMartenDataAsync();
        var store = host.Services.GetRequiredService<Marten.IDocumentStore>();
        await WorkspacePartitions.AddAsync(store, WorkspaceId.Default, CancellationToken.None);
        await WorkspacePartitions.AddAsync(store, WorkspaceId.Platform, CancellationToken.None);
        await TruncateViews(connectionString);
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
            .Prepend(RegistryStates.QualifiedTable(RegistryStore.Schema));
        await using var truncate = new NpgsqlCommand($"truncate table {string.Join(", ", tables)}", connection);
        await truncate.ExecuteNonQueryAsync();
        // Marten's reset restarts only the store-wide sequence; every workspace numbers its events in one of its own.
        await using var restart = new NpgsqlCommand(
            $"""
             do $$ declare s record; begin
               for s in select sequence_name from information_schema.sequences
                        where sequence_schema = '{RegistryStore.Schema}' and sequence_name like 'mt\_events\_sequence\_%' loop
                 execute format('alter sequence %I.%I restart with 1', '{RegistryStore.Schema}', s.sequence_name);
               end loop;
             end $$
             """, connection);
        await restart.ExecuteNonQueryAsync();
    }

    private static async Task<string> CreateDatabase(string clusterConnectionString, string database)
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
